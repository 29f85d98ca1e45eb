//! The pod network end to end inside throwaway namespaces: a fake host namespace per test, pod
//! namespaces wired to it, checked with iproute2 and ping.

mod net;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;
use net::{has_link, ipv4_of, Netns};
use onebin::net::{PodNetwork, PodNetworkConfig};

const POD_CIDR: &str = "10.42.0.0/24";

fn config(state: &Path) -> PodNetworkConfig {
    PodNetworkConfig::new(POD_CIDR.parse().unwrap(), state.join("ipam"))
}

#[test]
fn pods_on_one_node_reach_each_other_and_the_gateway() {
    let host = Netns::new("host");
    let (pod1, pod2) = (Netns::new("pod"), Netns::new("pod"));
    let state = tempfile::tempdir().unwrap();
    let (first, second) = host.run(|| async {
        let network = PodNetwork::new(config(state.path())).await.unwrap();
        let first = network.setup("sandbox-1", &pod1.path(), "default", "one").await.unwrap();
        let second = network.setup("sandbox-2", &pod2.path(), "default", "two").await.unwrap();
        (first, second)
    });

    let cidr: Ipv4Net = POD_CIDR.parse().unwrap();
    for (status, pod) in [(&first, &pod1), (&second, &pod2)] {
        assert!(cidr.contains(&status.ip) && status.ip != Ipv4Addr::new(10, 42, 0, 1), "{status:?}");
        assert_eq!(status.gateway, Ipv4Addr::new(10, 42, 0, 1));
        assert_eq!(status.interface, "eth0");
        assert_eq!(ipv4_of(pod, "eth0"), Some(format!("{}/24", status.ip)));
        assert!(pod.ok(&["ip", "link", "show", "eth0"]).contains(&status.mac), "{status:?}");
        assert!(pod.ok(&["ip", "route", "show", "default"]).contains("via 10.42.0.1 dev eth0"));
        let host_side = host.ok(&["ip", "-d", "link", "show", &status.host_interface]);
        assert!(host_side.contains("master onebin0") && host_side.contains("state UP"), "{host_side}");
        assert!(host_side.contains("hairpin on"), "{host_side}");
    }
    assert_ne!(first.ip, second.ip);
    assert_eq!(ipv4_of(&host, "onebin0").as_deref(), Some("10.42.0.1/24"));
    assert_eq!(host.ok(&["cat", "/proc/sys/net/ipv4/ip_forward"]).trim(), "1");

    assert!(pod1.pings(&second.ip.to_string()), "pod1 cannot reach pod2");
    assert!(pod2.pings(&first.ip.to_string()), "pod2 cannot reach pod1");
    assert!(pod1.pings("10.42.0.1"), "pod1 cannot reach its gateway");
    assert!(host.pings(&first.ip.to_string()), "the host cannot reach pod1");
}

#[test]
fn setup_again_returns_the_same_address_and_repairs_what_is_missing() {
    let host = Netns::new("host");
    let pod = Netns::new("pod");
    let state = tempfile::tempdir().unwrap();
    host.run(|| async {
        let network = PodNetwork::new(config(state.path())).await.unwrap();
        let first = network.setup("sandbox-a", &pod.path(), "default", "a").await.unwrap();
        let again = network.setup("sandbox-a", &pod.path(), "default", "a").await.unwrap();
        assert_eq!(first, again);

        // Lose the pod's route and the host end of the pair (which takes eth0 with it).
        pod.ok(&["ip", "route", "del", "default"]);
        host.ok(&["ip", "link", "del", &first.host_interface]);
        assert!(!has_link(&pod, "eth0"));
        let repaired = network.setup("sandbox-a", &pod.path(), "default", "a").await.unwrap();
        assert_eq!(repaired.ip, first.ip);
        assert!(has_link(&pod, "eth0"));
        assert!(pod.ok(&["ip", "route", "show", "default"]).contains("via 10.42.0.1"));

        // A lost bridge comes back too, and the veth is attached to the new one.
        host.ok(&["ip", "link", "del", "onebin0"]);
        network.setup("sandbox-a", &pod.path(), "default", "a").await.unwrap();
        assert!(host.ok(&["ip", "link", "show", &first.host_interface]).contains("master onebin0"));
        assert!(pod.pings("10.42.0.1"));
    });
}

#[test]
fn teardown_removes_the_link_and_frees_the_address_even_without_the_namespace() {
    let host = Netns::new("host");
    let pod = Netns::new("pod");
    let doomed = Netns::new("pod");
    let state = tempfile::tempdir().unwrap();
    let ipam_dir = state.path().join("ipam");
    host.run(|| async {
        let network = PodNetwork::new(config(state.path())).await.unwrap();
        let status = network.setup("sandbox-t", &pod.path(), "default", "t").await.unwrap();
        assert!(ipam_dir.join(status.ip.to_string()).exists());

        network.teardown("sandbox-t", Some(&pod.path())).await.unwrap();
        assert!(!has_link(&host, &status.host_interface));
        assert!(!has_link(&pod, "eth0"));
        assert!(!ipam_dir.join(status.ip.to_string()).exists());
        network.teardown("sandbox-t", Some(&pod.path())).await.unwrap();

        // The runtime removed the namespace first: the address must still be freed.
        let gone = network.setup("sandbox-gone", &doomed.path(), "default", "gone").await.unwrap();
        let doomed_path = doomed.path();
        drop(doomed);
        network.teardown("sandbox-gone", Some(&doomed_path)).await.unwrap();
        let leftover_mount_point = tempfile::NamedTempFile::new().unwrap();
        network.teardown("sandbox-gone", Some(leftover_mount_point.path())).await.unwrap();
        network.teardown("sandbox-gone", None).await.unwrap();
        assert!(!ipam_dir.join(gone.ip.to_string()).exists());
        assert!(!has_link(&host, &gone.host_interface));
    });
}

#[test]
fn fifty_concurrent_setups_get_distinct_addresses() {
    let host = Netns::new("host");
    let pods: Vec<Netns> = (0..50).map(|_| Netns::new("pod")).collect();
    let state = tempfile::tempdir().unwrap();
    let statuses = host.run(|| async {
        let network = PodNetwork::new(config(state.path())).await.unwrap();
        let setups = pods.iter().enumerate().map(|(n, pod)| {
            let network = &network;
            async move { network.setup(&format!("sandbox-{n}"), &pod.path(), "load", &format!("pod-{n}")).await }
        });
        futures::future::join_all(setups).await.into_iter().collect::<Result<Vec<_>, _>>().unwrap()
    });
    let ips: HashSet<Ipv4Addr> = statuses.iter().map(|status| status.ip).collect();
    assert_eq!(ips.len(), 50);
    for (status, pod) in statuses.iter().zip(&pods) {
        assert_eq!(ipv4_of(pod, "eth0"), Some(format!("{}/24", status.ip)));
    }
    assert!(pods[0].pings(&statuses[49].ip.to_string()));
}

#[test]
fn reconcile_after_a_restart_frees_what_dead_sandboxes_held() {
    let host = Netns::new("host");
    let pods: Vec<Netns> = (0..3).map(|_| Netns::new("pod")).collect();
    let state = tempfile::tempdir().unwrap();
    host.run(|| async {
        let before = PodNetwork::new(config(state.path())).await.unwrap();
        let mut statuses = Vec::new();
        for (n, pod) in pods.iter().enumerate() {
            statuses.push(before.setup(&format!("sandbox-{n}"), &pod.path(), "default", "p").await.unwrap());
        }
        drop(before);

        // The agent restarts and only sandbox-0 survived.
        let after = PodNetwork::new(config(state.path())).await.unwrap();
        let live = HashSet::from(["sandbox-0".to_string()]);
        let report = after.reconcile(&live).await.unwrap();
        let mut freed: Vec<Ipv4Addr> = report.released.iter().map(|allocation| allocation.ip).collect();
        freed.sort();
        assert_eq!(freed, vec![statuses[1].ip, statuses[2].ip]);
        for status in &statuses[1..] {
            assert!(!has_link(&host, &status.host_interface));
        }
        assert!(has_link(&host, &statuses[0].host_interface));
        assert!(pods[0].pings("10.42.0.1"));
        assert!(after.reconcile(&live).await.unwrap().released.is_empty());
    });
}

#[test]
fn bad_input_is_refused_and_leaves_nothing_behind() {
    let host = Netns::new("host");
    let pod = Netns::new("pod");
    let state = tempfile::tempdir().unwrap();
    let ipam_dir = state.path().join("ipam");
    host.run(|| async {
        let outside = PodNetworkConfig { cluster_cidr: "10.99.0.0/16".parse().unwrap(), ..config(state.path()) };
        assert!(PodNetwork::new(outside).await.unwrap_err().to_string().contains("not inside the cluster CIDR"));
        let bad_bridge = PodNetworkConfig { bridge: "a/b".into(), ..config(state.path()) };
        assert!(PodNetwork::new(bad_bridge).await.is_err());
        let bad_mtu = PodNetworkConfig { mtu: Some(10), ..config(state.path()) };
        assert!(PodNetwork::new(bad_mtu).await.is_err());

        let network = PodNetwork::new(config(state.path())).await.unwrap();
        let missing = network.setup("sandbox-x", Path::new("/run/netns/does-not-exist"), "default", "x").await;
        assert!(format!("{:#}", missing.unwrap_err()).contains("does-not-exist"));
        let not_netns = network.setup("sandbox-x", Path::new("/etc/hostname"), "default", "x").await;
        assert!(format!("{:#}", not_netns.unwrap_err()).contains("not a network namespace"));
        assert!(network.setup("bad id", &pod.path(), "default", "x").await.is_err());
        assert!(network.teardown("", None).await.is_err());

        // A link with the bridge's name that is not a bridge.
        let squatted = PodNetworkConfig { bridge: "squat0".into(), ..config(state.path()) };
        host.ok(&["ip", "link", "add", "squat0", "type", "veth", "peer", "name", "squat0p"]);
        let squatted = PodNetwork::new(squatted).await.unwrap();
        let error = squatted.setup("sandbox-y", &pod.path(), "default", "y").await.unwrap_err();
        assert!(format!("{error:#}").contains("not a bridge"), "{error:#}");

        let leftovers: Vec<_> = std::fs::read_dir(&ipam_dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.parse::<Ipv4Addr>().is_ok())
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(!has_link(&pod, "eth0"));
    });
}

#[test]
fn bridge_name_and_mtu_are_configurable() {
    let host = Netns::new("host");
    let pod = Netns::new("pod");
    let state = tempfile::tempdir().unwrap();
    host.run(|| async {
        let custom = PodNetworkConfig {
            pod_cidr: "10.42.7.0/24".parse().unwrap(),
            bridge: "node7br".into(),
            mtu: Some(1380),
            ..config(state.path())
        };
        let network = PodNetwork::new(custom).await.unwrap();
        let status = network.setup("sandbox-7", &pod.path(), "default", "seven").await.unwrap();
        assert_eq!(status.gateway, Ipv4Addr::new(10, 42, 7, 1));
        assert!(host.ok(&["ip", "link", "show", "node7br"]).contains("mtu 1380"));
        assert!(pod.ok(&["ip", "link", "show", "eth0"]).contains("mtu 1380"));
        assert!(pod.pings("10.42.7.1"));
    });
}
