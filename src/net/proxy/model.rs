//! What the proxy reads from Services and EndpointSlices: per service port, the addresses that
//! capture traffic and the endpoints that may receive it, with upstream's rules for which
//! endpoints count (ready ones, else serving terminating ones; local ones for `Local` policies).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The label tying an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// `sessionAffinityConfig.clientIP.timeoutSeconds` when unset (three hours).
const DEFAULT_AFFINITY_TIMEOUT: Duration = Duration::from_secs(10_800);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    fn parse(name: Option<&str>) -> Option<Self> {
        match name.unwrap_or("TCP") {
            "TCP" => Some(Self::Tcp),
            "UDP" => Some(Self::Udp),
            "SCTP" => Some(Self::Sctp),
            _ => None,
        }
    }

    /// The IANA protocol number, as `meta l4proto` sees it.
    pub fn number(self) -> u8 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
            Self::Sctp => 132,
        }
    }

    /// The lower-case name nft and chain names use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }
}

/// A Service as the proxy handles it: only services with an IPv4 cluster IP get rules
/// (headless and ExternalName services are DNS-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub cluster_ip: Ipv4Addr,
    /// `spec.externalIPs` and the load balancer's ingress addresses: traffic to them is
    /// "external", like NodePort traffic.
    pub external_ips: BTreeSet<Ipv4Addr>,
    pub ports: Vec<ServicePort>,
    /// Set for `sessionAffinity: ClientIP`: how long a client sticks to its endpoint.
    pub affinity_timeout: Option<Duration>,
    /// `externalTrafficPolicy: Local`.
    pub external_policy_local: bool,
    /// `internalTrafficPolicy: Local`.
    pub internal_policy_local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    /// The port's name, by which EndpointSlices give its target port.
    pub name: String,
    pub protocol: Protocol,
    pub port: u16,
    pub node_port: Option<u16>,
}

/// One backend of a service port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
    /// On this node.
    pub local: bool,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
}

impl ServiceInfo {
    /// The proxy's view of `service`, or `None` when it gets no rules.
    pub fn from_service(service: &Service) -> Option<Self> {
        let spec = service.spec.as_ref()?;
        if spec.type_.as_deref() == Some("ExternalName") {
            return None;
        }
        let cluster_ip: Ipv4Addr = spec.cluster_ip.as_deref()?.parse().ok()?;
        let ports = spec
            .ports
            .iter()
            .flatten()
            .filter_map(|port| {
                Some(ServicePort {
                    name: port.name.clone().unwrap_or_default(),
                    protocol: Protocol::parse(port.protocol.as_deref())?,
                    port: u16::try_from(port.port).ok().filter(|port| *port != 0)?,
                    node_port: port.node_port.and_then(|port| u16::try_from(port).ok()).filter(|port| *port != 0),
                })
            })
            .collect();
        let mut external_ips: BTreeSet<Ipv4Addr> =
            spec.external_ips.iter().flatten().filter_map(|ip| ip.parse().ok()).collect();
        let ingress = service.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref());
        // `ipMode: Proxy` says the load balancer delivers to the nodes itself.
        external_ips.extend(
            ingress
                .into_iter()
                .flatten()
                .filter(|ingress| ingress.ip_mode.as_deref() != Some("Proxy"))
                .filter_map(|ingress| ingress.ip.as_deref()?.parse::<Ipv4Addr>().ok()),
        );
        let affinity_timeout = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|config| config.client_ip.as_ref())
                .and_then(|client_ip| client_ip.timeout_seconds)
                .and_then(|seconds| u64::try_from(seconds).ok())
                .filter(|seconds| *seconds > 0)
                .map_or(DEFAULT_AFFINITY_TIMEOUT, Duration::from_secs)
        });
        Some(Self {
            namespace: service.metadata.namespace.clone().unwrap_or_default(),
            name: service.metadata.name.clone().unwrap_or_default(),
            cluster_ip,
            external_ips,
            ports,
            affinity_timeout,
            external_policy_local: spec.external_traffic_policy.as_deref() == Some("Local"),
            internal_policy_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
        })
    }
}

/// The endpoints of `port` in `slices` (the service's EndpointSlices), once each, ordered by
/// address. `node` is this node's name, to tell local endpoints.
pub fn endpoints(port: &ServicePort, slices: &[&EndpointSlice], node: &str) -> Vec<Endpoint> {
    let mut found = BTreeSet::new();
    for slice in slices.iter().filter(|slice| slice.address_type == "IPv4") {
        let Some(number) = slice.ports.iter().flatten().find_map(|candidate| {
            let same_name = candidate.name.as_deref().unwrap_or_default() == port.name;
            let same_protocol = Protocol::parse(candidate.protocol.as_deref()) == Some(port.protocol);
            (same_name && same_protocol).then_some(candidate.port).flatten()
        }) else {
            continue;
        };
        let Ok(number) = u16::try_from(number) else { continue };
        for endpoint in &slice.endpoints {
            let conditions = endpoint.conditions.as_ref();
            // Unset conditions count as true, as the API documents.
            let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
            let serving = conditions.and_then(|c| c.serving).unwrap_or(ready);
            let terminating = conditions.and_then(|c| c.terminating).unwrap_or(false);
            let local = endpoint.node_name.as_deref() == Some(node);
            for ip in endpoint.addresses.iter().filter_map(|address| address.parse::<Ipv4Addr>().ok()) {
                found.insert(Endpoint { ip, port: number, local, ready, serving, terminating });
            }
        }
    }
    // An address listed twice (two slices during an update) counts once, readiness winning.
    let mut unique: Vec<Endpoint> = Vec::with_capacity(found.len());
    for endpoint in found.into_iter().rev() {
        if !unique.iter().any(|kept| kept.ip == endpoint.ip && kept.port == endpoint.port) {
            unique.push(endpoint);
        }
    }
    unique.reverse();
    unique
}

/// The endpoints that take traffic among `candidates`: the ready ones, or when none is ready,
/// those still serving while they terminate (so connections drain instead of failing).
pub fn usable(candidates: impl Iterator<Item = Endpoint> + Clone) -> Vec<Endpoint> {
    let ready: Vec<Endpoint> = candidates.clone().filter(|endpoint| endpoint.ready).collect();
    if !ready.is_empty() {
        return ready;
    }
    candidates.filter(|endpoint| endpoint.serving && endpoint.terminating).collect()
}

/// The service an EndpointSlice belongs to, as `namespace/name`.
pub fn slice_service_key(slice: &EndpointSlice) -> Option<String> {
    let service = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
    Some(format!("{}/{service}", slice.metadata.namespace.as_deref().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(spec: serde_json::Value, status: serde_json::Value) -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "ns", "name": "web"}, "spec": spec, "status": status,
        }))
        .unwrap()
    }

    fn slice(value: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn headless_and_external_name_services_get_no_rules() {
        assert!(ServiceInfo::from_service(&service(serde_json::json!({"clusterIP": "None"}), serde_json::json!({})))
            .is_none());
        let external = serde_json::json!({"type": "ExternalName", "externalName": "example.com"});
        assert!(ServiceInfo::from_service(&service(external, serde_json::json!({}))).is_none());
    }

    #[test]
    fn services_read_ports_affinity_policies_and_load_balancer_addresses() {
        let info = ServiceInfo::from_service(&service(
            serde_json::json!({
                "type": "LoadBalancer", "clusterIP": "10.43.0.20", "externalIPs": ["192.0.2.9"],
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 30053},
                          {"name": "web", "port": 80}],
                "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
                "externalTrafficPolicy": "Local",
            }),
            serde_json::json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}, {"ip": "192.0.2.11", "ipMode": "Proxy"}]}}),
        ))
        .unwrap();
        assert_eq!(info.cluster_ip, Ipv4Addr::new(10, 43, 0, 20));
        assert_eq!(
            info.ports[0],
            ServicePort { name: "dns".into(), protocol: Protocol::Udp, port: 53, node_port: Some(30053) }
        );
        assert_eq!(info.ports[1].protocol, Protocol::Tcp);
        assert_eq!(info.affinity_timeout, Some(Duration::from_secs(60)));
        assert!(info.external_policy_local && !info.internal_policy_local);
        let external: Vec<String> = info.external_ips.iter().map(ToString::to_string).collect();
        assert_eq!(external, ["192.0.2.9", "192.0.2.10"]);
    }

    #[test]
    fn endpoints_take_the_port_named_like_the_service_port() {
        let port = ServicePort { name: "web".into(), protocol: Protocol::Tcp, port: 80, node_port: None };
        let first = slice(serde_json::json!({
            "metadata": {"name": "a"}, "addressType": "IPv4",
            "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}, {"name": "metrics", "port": 9090}],
            "endpoints": [
                {"addresses": ["10.42.0.5"], "conditions": {"ready": true}, "nodeName": "me"},
                {"addresses": ["10.42.1.5"], "conditions": {"ready": false, "serving": true, "terminating": true}, "nodeName": "other"},
            ],
        }));
        let other_port = slice(serde_json::json!({
            "metadata": {"name": "b"}, "addressType": "IPv4",
            "ports": [{"name": "metrics", "port": 9090}],
            "endpoints": [{"addresses": ["10.42.0.9"]}],
        }));
        let found = endpoints(&port, &[&first, &other_port], "me");
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].ip, found[0].port, found[0].local, found[0].ready),
            (Ipv4Addr::new(10, 42, 0, 5), 8080, true, true)
        );
        assert!(!found[1].local && found[1].terminating);
        assert_eq!(usable(found.iter().cloned()).len(), 1);
        let draining: Vec<Endpoint> = found.into_iter().filter(|e| !e.ready).collect();
        assert_eq!(usable(draining.iter().cloned()).len(), 1, "terminating endpoints serve when none is ready");
    }
}
