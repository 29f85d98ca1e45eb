//! Which resolvers names outside the cluster go to: the node's own, from its resolv.conf.
//!
//! Like k3s, a host whose resolv.conf only points at loopback stubs (systemd-resolved's
//! 127.0.0.53) has the stub's own upstream list used instead, when it exists: pods cannot reach
//! a stub on the node's loopback, and cluster DNS should not depend on it. The same file is
//! what pods with `dnsPolicy: Default` get. The cluster DNS addresses themselves are never
//! upstreams: that would be a loop.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::net::pod_etc::ResolvConf;

pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";
/// The upstream list systemd-resolved keeps behind its stub.
pub const RESOLVED_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";
/// Resolvers use at most three name servers; so does forwarding.
const MAX_UPSTREAMS: usize = 3;

/// The node's resolv.conf: `configured` (`--resolv-conf`) as given, else `host`, unless that
/// only lists loopback name servers and `resolved` lists others.
pub fn node_resolv_conf(configured: Option<&Path>, host: &Path, resolved: &Path) -> PathBuf {
    if let Some(configured) = configured {
        return configured.to_path_buf();
    }
    let only_loopback = |path: &Path| {
        let servers = nameservers(path, &[]);
        !servers.is_empty() && servers.iter().all(IpAddr::is_loopback)
    };
    if only_loopback(host) && !nameservers(resolved, &[]).is_empty() && !only_loopback(resolved) {
        return resolved.to_path_buf();
    }
    host.to_path_buf()
}

/// The servers to forward to: those `resolv_conf` lists, leaving out `own` addresses.
pub fn upstreams(resolv_conf: &Path, own: &[IpAddr]) -> Vec<SocketAddr> {
    nameservers(resolv_conf, own).into_iter().take(MAX_UPSTREAMS).map(|ip| SocketAddr::new(ip, 53)).collect()
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

        fn chosen(&self, configured: Option<&Path>) -> PathBuf {
            node_resolv_conf(configured, &self.dir.path().join("host"), &self.dir.path().join("resolved"))
        }

        fn upstreams(&self) -> Vec<String> {
            let own = ["10.43.0.10".parse().unwrap()];
            upstreams(&self.chosen(None), &own).iter().map(ToString::to_string).collect()
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
        assert_eq!(files.chosen(None), files.dir.path().join("resolved"));
        assert_eq!(files.upstreams(), ["198.51.100.1:53"]);
        // A stub next to a real server, or without an upstream list, stays.
        let mixed = Files::new("nameserver 127.0.0.53\nnameserver 192.0.2.53\n", Some("nameserver 198.51.100.1\n"));
        assert_eq!(mixed.upstreams(), ["127.0.0.53:53", "192.0.2.53:53"]);
        let only_stub = Files::new("nameserver 127.0.0.1\n", None);
        assert_eq!(only_stub.upstreams(), ["127.0.0.1:53"]);
    }

    #[test]
    fn a_configured_file_is_taken_as_given() {
        let files = Files::new("nameserver 127.0.0.53\n", Some("nameserver 198.51.100.1\n"));
        let configured = files.dir.path().join("host");
        assert_eq!(files.chosen(Some(&configured)), configured);
    }

    #[test]
    fn no_file_means_no_upstreams() {
        let files = Files::new("", None);
        std::fs::remove_file(files.dir.path().join("host")).unwrap();
        assert!(files.upstreams().is_empty());
    }
}
