//! Outbound masquerade and the host firewall, end to end: a fake host namespace with an "uplink"
//! veth to an "outside" namespace that plays both the internet (192.0.2.2) and another node's pod
//! (10.42.1.1). Counters in the outside namespace show which source address arrived.

mod net;

use net::Netns;
use onebin::net::{PodNetwork, PodNetworkConfig};

/// Host and outside joined by a veth with MTU 1400; the host's default route goes outside, and
/// the outside routes this node's pod CIDR back through the host, as another node would.
fn host_with_outside() -> (Netns, Netns) {
    let host = Netns::new("host");
    let outside = Netns::new("out");
    host.ok(&[
        "ip",
        "link",
        "add",
        "uplink",
        "mtu",
        "1400",
        "type",
        "veth",
        "peer",
        "name",
        "wan",
        "netns",
        &outside.name,
    ]);
    host.ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", "uplink"]);
    host.ok(&["ip", "link", "set", "uplink", "up"]);
    host.ok(&["ip", "route", "add", "default", "via", "192.0.2.2"]);
    host.ok(&["ip", "route", "add", "10.42.1.0/24", "via", "192.0.2.2"]);
    outside.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "wan"]);
    outside.ok(&["ip", "link", "set", "wan", "up"]);
    outside.ok(&["ip", "addr", "add", "10.42.1.1/32", "dev", "lo"]);
    outside.ok(&["ip", "route", "add", "10.42.0.0/24", "via", "192.0.2.1"]);
    outside.ok(&["nft", "add table ip seen; add chain ip seen input { type filter hook input priority 0; }"]);
    outside.ok(&["nft", "add rule ip seen input ip saddr 192.0.2.1 icmp type echo-request counter comment \"node\""]);
    outside.ok(&["nft", "add rule ip seen input ip saddr 10.42.0.0/24 icmp type echo-request counter comment \"pod\""]);
    (host, outside)
}

/// Packets counted by the outside's rule with `comment`.
fn seen(outside: &Netns, comment: &str) -> u64 {
    let ruleset = outside.ok(&["nft", "list", "chain", "ip", "seen", "input"]);
    let line = ruleset.lines().find(|line| line.contains(&format!("comment \"{comment}\""))).expect("counter rule");
    line.split_whitespace().skip_while(|word| *word != "packets").nth(1).unwrap().parse().unwrap()
}

fn drop_forwarding_by_default(host: &Netns) {
    host.ok(&[
        "nft",
        "add table inet filter; add chain inet filter forward { type filter hook forward priority 0; policy drop; }",
    ]);
}

#[test]
fn traffic_leaving_the_cluster_is_masqueraded_and_pod_traffic_is_not() {
    let (host, outside) = host_with_outside();
    drop_forwarding_by_default(&host);
    let pod = Netns::new("pod");
    let state = tempfile::tempdir().unwrap();
    let status = host.run(|| async {
        let network =
            PodNetwork::new(PodNetworkConfig::new("10.42.0.0/24".parse().unwrap(), state.path())).await.unwrap();
        assert_eq!(network.mtu(), 1400, "the MTU follows the default route's interface");
        network.setup("sandbox-m", &pod.path(), "default", "m").await.unwrap()
    });
    assert!(pod.ok(&["ip", "link", "show", "eth0"]).contains("mtu 1400"));

    // The outside has no route to 10.42.0.0/24 from 192.0.2.0/24's point of view other than
    // via the host, so a reply proves the path; the counters prove the source address.
    assert!(pod.pings("192.0.2.2"), "the pod cannot reach outside the cluster");
    assert_eq!(seen(&outside, "node"), 1, "traffic leaving the cluster was not masqueraded");
    assert_eq!(seen(&outside, "pod"), 0);
    assert!(pod.pings("10.42.1.1"), "the pod cannot reach another node's pod");
    assert_eq!(seen(&outside, "pod"), 1, "pod-to-pod traffic was masqueraded");
    assert_eq!(seen(&outside, "node"), 1);

    let ruleset = host.ok(&["nft", "list", "ruleset"]);
    assert!(ruleset.contains("table ip onebin-nat-onebin0"), "{ruleset}");
    assert!(ruleset.contains("type nat hook postrouting priority srcnat; policy accept;"), "{ruleset}");
    assert!(ruleset.contains("ip saddr 10.42.0.0/24 ip daddr != 10.42.0.0/16 masquerade"), "{ruleset}");
    assert!(
        ruleset.contains("iifname \"onebin0\" accept comment \"onebin: accept forwarding from onebin0\""),
        "{ruleset}"
    );
    assert!(
        ruleset.contains("oifname \"onebin0\" accept comment \"onebin: accept forwarding to onebin0\""),
        "{ruleset}"
    );
    assert!(!status.mac.is_empty());
}

#[test]
fn host_upkeep_is_idempotent_and_cleanup_removes_everything_it_added() {
    let (host, _outside) = host_with_outside();
    drop_forwarding_by_default(&host);
    host.ok(&["nft", "add chain inet filter open_forward { type filter hook forward priority 10; policy accept; }"]);
    let state = tempfile::tempdir().unwrap();
    host.run(|| async {
        let network =
            PodNetwork::new(PodNetworkConfig::new("10.42.0.0/24".parse().unwrap(), state.path())).await.unwrap();
        for _ in 0..3 {
            network.ensure_host().await.unwrap();
        }
        let ruleset = host.ok(&["nft", "list", "ruleset"]);
        assert_eq!(ruleset.matches("10.42.0.0/16 masquerade").count(), 1, "{ruleset}");
        assert_eq!(ruleset.matches("onebin: accept forwarding").count(), 2, "{ruleset}");
        let open = host.ok(&["nft", "list", "chain", "inet", "filter", "open_forward"]);
        assert!(!open.contains("onebin"), "a chain that accepts by default was changed: {open}");

        network.cleanup().await.unwrap();
        let ruleset = host.ok(&["nft", "list", "ruleset"]);
        assert!(!ruleset.contains("onebin"), "{ruleset}");
        assert!(ruleset.contains("policy drop"), "the host's own chain must stay: {ruleset}");
        assert!(!net::has_link(&host, "onebin0"));
        network.cleanup().await.unwrap();
    });
}
