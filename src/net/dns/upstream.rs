//! Which resolvers names outside the cluster go to: the node's own, from its resolv.conf.
//!
//! Like the kubelet (and k3s), a host that points at a loopback stub such as systemd-resolved's
//! 127.0.0.53 has its real upstreams read from resolved's own list instead, so cluster DNS
//! does not depend on the stub and cannot be handed back its own queries by one. The cluster
//! DNS addresses themselves are never upstreams: that would be a loop.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::net::pod_etc::ResolvConf;

pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";
/// The upstream list systemd-resolved keeps behind its stub.
pub const RESOLVED_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";
/// Resolvers use at most three name servers; so does forwarding.
const MAX_UPSTREAMS: usize = 3;

/// The servers to forward to, read from `resolv_conf` (and `resolved_conf` when the former
/// only offers loopback stubs), leaving out `own` addresses.
pub fn host_upstreams(resolv_conf: &Path, resolved_conf: &Path, own: &[IpAddr]) -> Vec<SocketAddr> {
    let host = nameservers(resolv_conf, own);
    let remote: Vec<IpAddr> = host.iter().copied().filter(|ip| !ip.is_loopback()).collect();
    let chosen = if host.iter().any(IpAddr::is_loopback) {
        let resolved: Vec<IpAddr> =
            nameservers(resolved_conf, own).into_iter().filter(|ip| !ip.is_loopback()).collect();
        match (resolved.is_empty(), remote.is_empty()) {
            (false, _) => resolved,
            (true, false) => remote,
            // Only a stub: unlike a pod's, this server lives in the node's network namespace,
            // where the stub answers.
            (true, true) => host,
        }
    } else {
        host
    };
    chosen.into_iter().take(MAX_UPSTREAMS).map(|ip| SocketAddr::new(ip, 53)).collect()
}

/// The name servers `path` lists (none when it is missing), without `own` ones.
fn nameservers(path: &Path, own: &[IpAddr]) -> Vec<IpAddr> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    ResolvConf::parse(&text)
        .nameservers
        .iter()
        // Scoped link-local addresses (`fe80::1%eth0`) do not parse and are skipped.
        .filter_map(|server| server.parse::<IpAddr>().ok())
        .filter(|ip| !own.contains(ip) && !ip.is_unspecified())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new(host: &str, resolved: Option<&str>) -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("host"), host).unwrap();
            if let Some(resolved) = resolved {
                std::fs::write(dir.path().join("resolved"), resolved).unwrap();
            }
            Self { dir }
        }

        fn upstreams(&self) -> Vec<String> {
            let own = ["10.43.0.10".parse().unwrap()];
            host_upstreams(&self.dir.path().join("host"), &self.dir.path().join("resolved"), &own)
                .iter()
                .map(ToString::to_string)
                .collect()
        }
    }

    #[test]
    fn plain_hosts_use_their_servers_but_never_cluster_dns() {
        let files =
            Files::new("search corp\nnameserver 192.0.2.53\nnameserver 10.43.0.10\nnameserver 2001:db8::53\n", None);
        assert_eq!(files.upstreams(), ["192.0.2.53:53", "[2001:db8::53]:53"]);
        let many = Files::new(
            "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n",
            None,
        );
        assert_eq!(many.upstreams().len(), 3);
    }

    #[test]
    fn a_resolved_stub_is_replaced_by_its_upstreams() {
        let files = Files::new("nameserver 127.0.0.53\noptions edns0 trust-ad\n", Some("nameserver 198.51.100.1\n"));
        assert_eq!(files.upstreams(), ["198.51.100.1:53"]);
        let mixed = Files::new("nameserver 127.0.0.53\nnameserver 192.0.2.53\n", None);
        assert_eq!(mixed.upstreams(), ["192.0.2.53:53"]);
        let only_stub = Files::new("nameserver 127.0.0.1\n", None);
        assert_eq!(only_stub.upstreams(), ["127.0.0.1:53"]);
    }

    #[test]
    fn no_file_means_no_upstreams() {
        let files = Files::new("", None);
        std::fs::remove_file(files.dir.path().join("host")).unwrap();
        assert!(files.upstreams().is_empty());
    }
}
