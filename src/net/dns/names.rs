//! The shapes of names in the cluster domain (Kubernetes DNS-based service discovery spec):
//! which object a query name points at, read from its labels. Pure parsing; what exists is
//! the answering logic's business.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a name below the cluster domain refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterName<'a> {
    /// The cluster domain itself (SOA, NS).
    Apex,
    /// `svc.<domain>`, `pod.<domain>` or `dns.<domain>`: names that only have children.
    Branch,
    /// `ns.dns.<domain>`: the name server the NS record names.
    NameServer,
    /// `dns-version.<domain>`: the version of the DNS schema served.
    SchemaVersion,
    /// `<namespace>.svc.<domain>`.
    Namespace { namespace: &'a str },
    /// `<service>.<namespace>.svc.<domain>`.
    Service { namespace: &'a str, service: &'a str },
    /// `<endpoint>.<service>.<namespace>.svc.<domain>`: an endpoint's hostname or dashed IP.
    Endpoint { namespace: &'a str, service: &'a str, endpoint: &'a str },
    /// `_<port>._<protocol>.<service>.<namespace>.svc.<domain>`, without the underscores.
    Port { namespace: &'a str, service: &'a str, port: &'a str, protocol: &'a str },
    /// `<a-b-c-d>.<namespace>.pod.<domain>`.
    Pod { ip: IpAddr },
    /// Any other shape: nothing can exist there.
    Unknown,
}

/// Reads `labels`, the lowercase labels left of the cluster domain in query order
/// (`["web", "shop", "svc"]` for `web.shop.svc.cluster.local`).
pub fn parse<'a>(labels: &[&'a str]) -> ClusterName<'a> {
    match labels {
        [] => ClusterName::Apex,
        ["svc" | "pod" | "dns"] => ClusterName::Branch,
        ["ns", "dns"] => ClusterName::NameServer,
        ["dns-version"] => ClusterName::SchemaVersion,
        [namespace, "svc"] => ClusterName::Namespace { namespace },
        [service, namespace, "svc"] => ClusterName::Service { namespace, service },
        [port, protocol, service, namespace, "svc"] => match (port.strip_prefix('_'), protocol.strip_prefix('_')) {
            (Some(port), Some(protocol)) => ClusterName::Port { namespace, service, port, protocol },
            _ => ClusterName::Unknown,
        },
        [endpoint, service, namespace, "svc"] => ClusterName::Endpoint { namespace, service, endpoint },
        [dashed, _namespace, "pod"] => dashed_ip(dashed).map_or(ClusterName::Unknown, |ip| ClusterName::Pod { ip }),
        _ => ClusterName::Unknown,
    }
}

/// The address a dashed label spells: `10-42-0-5`, or `fd00--5` for IPv6.
pub fn dashed_ip(label: &str) -> Option<IpAddr> {
    let dotted = label.replace('-', ".");
    if let Ok(ip) = dotted.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(ip));
    }
    label.replace('-', ":").parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// The dashed label of an address, as endpoints without a hostname are named.
pub fn dashed_label(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string().replace('.', "-"),
        IpAddr::V6(ip) => ip.to_string().replace(':', "-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_shapes() {
        assert_eq!(parse(&[]), ClusterName::Apex);
        assert_eq!(parse(&["svc"]), ClusterName::Branch);
        assert_eq!(parse(&["shop", "svc"]), ClusterName::Namespace { namespace: "shop" });
        assert_eq!(parse(&["web", "shop", "svc"]), ClusterName::Service { namespace: "shop", service: "web" });
        assert_eq!(
            parse(&["web-0", "web", "shop", "svc"]),
            ClusterName::Endpoint { namespace: "shop", service: "web", endpoint: "web-0" }
        );
        assert_eq!(
            parse(&["_http", "_tcp", "web", "shop", "svc"]),
            ClusterName::Port { namespace: "shop", service: "web", port: "http", protocol: "tcp" }
        );
        assert_eq!(parse(&["http", "_tcp", "web", "shop", "svc"]), ClusterName::Unknown);
        assert_eq!(parse(&["a", "b", "c", "d", "e", "svc"]), ClusterName::Unknown);
        assert_eq!(parse(&["web", "shop", "svcx"]), ClusterName::Unknown);
    }

    #[test]
    fn pod_shapes() {
        assert_eq!(parse(&["10-42-0-5", "shop", "pod"]), ClusterName::Pod { ip: "10.42.0.5".parse().unwrap() });
        assert_eq!(parse(&["fd00--5", "shop", "pod"]), ClusterName::Pod { ip: "fd00::5".parse().unwrap() });
        assert_eq!(parse(&["10-42-0", "shop", "pod"]), ClusterName::Unknown);
        assert_eq!(parse(&["10-42-0-300", "shop", "pod"]), ClusterName::Unknown);
        assert_eq!(parse(&["10-42-0-5", "pod"]), ClusterName::Unknown);
    }

    #[test]
    fn dashed_labels_round_trip() {
        for ip in ["10.42.0.5", "fd00::5"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(dashed_ip(&dashed_label(ip)), Some(ip));
        }
    }
}
