//! The headline: one server and three agents, each in its own network namespace, made by
//! `onebin cluster create`. Workloads spread over the agents, pods reach each other across
//! nodes over VXLAN, cordon and drain move work, and a lost node's pods come back elsewhere.

mod harness;

use std::time::Duration;

use harness::{eventually, text, Cluster};

const TAINT: &str = "--server-arg=--node-taint=node-role.kubernetes.io/control-plane:NoSchedule";

fn deployment(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {{name: nginx, image: nginx:latest, imagePullPolicy: IfNotPresent}}
"
    )
}

fn apply(cluster: &Cluster, manifest: &str) {
    let path = cluster.dir.path().join("manifest.yaml");
    std::fs::write(&path, manifest).unwrap();
    cluster.kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
}

/// Running web pods per node.
fn spread(cluster: &Cluster) -> std::collections::BTreeMap<String, usize> {
    let out = cluster.kubectl_ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "--field-selector=status.phase=Running",
        "-o",
        "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}",
    ]);
    let mut counts = std::collections::BTreeMap::new();
    for node in out.lines().filter(|l| !l.is_empty()) {
        *counts.entry(node.to_string()).or_default() += 1;
    }
    counts
}

fn wait_spread(cluster: &Cluster, want: &[(&str, usize)]) {
    let want: std::collections::BTreeMap<String, usize> = want.iter().map(|(n, c)| (n.to_string(), *c)).collect();
    eventually(Duration::from_secs(60), &format!("spread {want:?}"), || (spread(cluster) == want).then_some(()));
}

#[test]
fn four_nodes_spread_cordon_drain_and_cross_node_traffic() {
    let cluster = Cluster::create("four", 4, &[TAINT]);
    let nodes = cluster.kubectl_ok(&["get", "nodes"]);
    assert_eq!(nodes.lines().filter(|l| l.contains(" Ready ")).count(), 4, "{nodes}");
    assert!(nodes.lines().any(|l| l.starts_with("four-server-0") && l.contains("control-plane")), "{nodes}");
    assert_eq!(nodes.lines().filter(|l| l.contains("<none>")).count(), 3, "{nodes}");

    apply(&cluster, &deployment(9));
    wait_spread(&cluster, &[("four-agent-0", 3), ("four-agent-1", 3), ("four-agent-2", 3)]);

    // Every node reaches every pod, and pods reach pods on other nodes, by pod IP.
    let ips = cluster.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"]);
    for node in ["four-server-0", "four-agent-0", "four-agent-1", "four-agent-2"] {
        for ip in ips.split_whitespace() {
            let out = cluster.on_node(node, &["curl", "-s", "-m", "3", &format!("http://{ip}/")]);
            assert!(text(&out.stdout).contains("Welcome to nginx!"), "{node} cannot reach {ip}");
        }
    }
    let target = cluster.kubectl_ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "--field-selector=spec.nodeName=four-agent-2",
        "-o",
        "jsonpath={.items[0].status.podIP}",
    ]);
    apply(&cluster, &format!("apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  restartPolicy: Never
  nodeName: four-agent-0
  containers:
  - {{name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, 'wget -qO- -T 5 http://{target}/ | grep -q \"Welcome to nginx\"']}}
"));
    eventually(Duration::from_secs(30), "the cross-node fetch", || {
        let phase = text(&cluster.kubectl(&["get", "pod", "client", "-o", "jsonpath={.status.phase}"]).stdout);
        assert_ne!(phase, "Failed", "a pod on agent-0 could not fetch from agent-2");
        (phase == "Succeeded").then_some(())
    });

    // Scale down keeps one per agent; a cordoned agent gets nothing new.
    cluster.kubectl_ok(&["scale", "deploy", "web", "--replicas=3"]);
    wait_spread(&cluster, &[("four-agent-0", 1), ("four-agent-1", 1), ("four-agent-2", 1)]);
    cluster.kubectl_ok(&["cordon", "four-agent-2"]);
    cluster.kubectl_ok(&["scale", "deploy", "web", "--replicas=9"]);
    wait_spread(&cluster, &[("four-agent-0", 4), ("four-agent-1", 4), ("four-agent-2", 1)]);
    cluster.kubectl_ok(&["uncordon", "four-agent-2"]);

    // Drain moves a node's pods elsewhere.
    let drained = cluster.kubectl(&[
        "drain",
        "four-agent-1",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=60s",
        "--force",
    ]);
    assert!(drained.status.success(), "{}\n{}", text(&drained.stdout), text(&drained.stderr));
    eventually(Duration::from_secs(60), "nine pods off the drained node", || {
        let counts = spread(&cluster);
        (!counts.contains_key("four-agent-1") && counts.values().sum::<usize>() == 9).then_some(())
    });
    let node = cluster.kubectl_ok(&["get", "node", "four-agent-1"]);
    assert!(node.contains("SchedulingDisabled"), "{node}");
    cluster.kubectl_ok(&["uncordon", "four-agent-1"]);
}

#[test]
fn a_lost_node_is_replaced_and_rejoins() {
    let cluster = Cluster::create(
        "loss",
        4,
        &[TAINT, "--server-arg=--node-monitor-grace-period=8", "--server-arg=--default-toleration-seconds=4"],
    );
    apply(&cluster, &deployment(6));
    wait_spread(&cluster, &[("loss-agent-0", 2), ("loss-agent-1", 2), ("loss-agent-2", 2)]);
    let stop = cluster.onebin(&["stop", "loss", "loss-agent-0"]);
    assert!(stop.status.success(), "{}", text(&stop.stderr));
    eventually(Duration::from_secs(40), "agent-0 NotReady", || {
        let out = cluster.kubectl_ok(&["get", "node", "loss-agent-0"]);
        out.contains("NotReady").then_some(())
    });
    // Its pods are evicted after their toleration and come back on the other agents.
    eventually(Duration::from_secs(60), "six pods on the remaining agents", || {
        let counts = spread(&cluster);
        let elsewhere: usize = counts.iter().filter(|(n, _)| *n != "loss-agent-0").map(|(_, c)| *c).sum();
        (elsewhere == 6).then_some(())
    });
    let terminating = cluster.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "wide"]);
    assert!(terminating.contains("Terminating"), "pods of the lost node wait for it: {terminating}");
    let start = cluster.onebin(&["start", "loss", "loss-agent-0"]);
    assert!(start.status.success(), "{}", text(&start.stderr));
    eventually(Duration::from_secs(40), "agent-0 Ready again with its old pods gone", || {
        let node = cluster.kubectl_ok(&["get", "node", "loss-agent-0"]);
        let pods = cluster.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "name"]);
        (node.contains(" Ready ") && pods.lines().count() == 6).then_some(())
    });
    let nodes = cluster.kubectl_ok(&["get", "nodes", "-o", "name"]);
    assert_eq!(nodes.lines().count(), 4, "no duplicate node: {nodes}");
}

#[test]
fn pods_keep_serving_while_the_server_restarts() {
    let cluster = Cluster::create("restart", 3, &[TAINT]);
    apply(&cluster, &deployment(2));
    wait_spread(&cluster, &[("restart-agent-0", 1), ("restart-agent-1", 1)]);
    let ips = cluster.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"]);
    let stop = cluster.onebin(&["stop", "restart", "restart-server-0"]);
    assert!(stop.status.success());
    for ip in ips.split_whitespace() {
        let out = cluster.on_node("restart-agent-0", &["curl", "-s", "-m", "3", &format!("http://{ip}/")]);
        assert!(text(&out.stdout).contains("Welcome to nginx!"), "pod {ip} stopped serving while the server was down");
    }
    let start = cluster.onebin(&["start", "restart", "restart-server-0"]);
    assert!(start.status.success(), "{}", text(&start.stderr));
    eventually(Duration::from_secs(30), "the API to answer again", || {
        cluster.kubectl(&["get", "nodes"]).status.success().then_some(())
    });
    eventually(Duration::from_secs(40), "agents to reconnect", || {
        let nodes = cluster.kubectl_ok(&["get", "nodes"]);
        (nodes.lines().filter(|l| l.contains(" Ready ")).count() == 3).then_some(())
    });
    assert_eq!(cluster.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"]), ips);
}
