//! `onebin agent --simulate N`: hollow nodes join with identities of their own, become Ready,
//! keep their Leases renewed, run a Deployment's pods as Running and Ready with IPs from their
//! pod subnets, and remove pods deleted from them.

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{eventually, text, Server};

const NODES: [&str; 3] = ["hollow-0", "hollow-1", "hollow-2"];

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: nginx:latest}
";

/// `name phase ready ip node` of every pod of the Deployment.
fn web_pods(server: &Server) -> Vec<Vec<String>> {
    let format = "jsonpath={range .items[*]}{.metadata.name} {.status.phase} \
                  {.status.conditions[?(@.type==\"Ready\")].status} {.status.podIP} {.spec.nodeName}{\"\\n\"}{end}";
    let out = server.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", format]);
    out.lines().map(|l| l.split_whitespace().map(String::from).collect()).collect()
}

fn lease_renew_time(server: &Server, node: &str) -> String {
    server.kubectl_ok(&["get", "lease", "-n", "kube-node-lease", node, "-o", "jsonpath={.spec.renewTime}"])
}

#[test]
fn simulated_nodes_run_a_deployment_and_keep_their_leases() {
    let server = Server::start();
    let _agent = server.start_agent("hollow", &server.token(), &["--simulate", "3"]);
    for node in NODES {
        server.wait_node_ready(node);
    }
    let labelled = server.kubectl_ok(&["get", "nodes", "-l", "node.onebin.io/simulated=true", "-o", "name"]);
    assert_eq!(labelled.lines().count(), 3, "{labelled}");

    let out = server.kubectl_stdin(&["apply", "-f", "-"], DEPLOYMENT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pods = eventually(Duration::from_secs(60), "six Running and Ready pods", || {
        let pods = web_pods(&server);
        (pods.len() == 6 && pods.iter().all(|p| p.len() == 5 && p[1] == "Running" && p[2] == "True")).then_some(pods)
    });
    for pod in &pods {
        let (ip, node) = (&pod[3], &pod[4]);
        assert!(NODES.contains(&node.as_str()), "{pod:?}");
        let cidr = server.kubectl_ok(&["get", "node", node, "-o", "jsonpath={.spec.podCIDR}"]);
        let cidr: ipnet::Ipv4Net = cidr.trim().parse().expect("podCIDR");
        assert!(cidr.contains(&ip.parse::<std::net::Ipv4Addr>().expect("pod IP")), "{ip} not in {cidr}");
    }
    let mut ips: Vec<&String> = pods.iter().map(|p| &p[3]).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 6, "every pod has an IP of its own: {pods:?}");
    eventually(Duration::from_secs(30), "the Deployment to count six ready replicas", || {
        (server.kubectl_ok(&["get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"]) == "6")
            .then_some(())
    });

    // Scaling down deletes pods; a hollow node removes them at once, as nothing runs.
    server.kubectl_ok(&["scale", "deployment", "web", "--replicas", "2"]);
    eventually(Duration::from_secs(30), "the deleted pods to be gone", || (web_pods(&server).len() == 2).then_some(()));

    // Leases are renewed every ten seconds, and the nodes stay Ready across renewals.
    let before = lease_renew_time(&server, NODES[0]);
    eventually(Duration::from_secs(40), "a lease renewal", || {
        (lease_renew_time(&server, NODES[0]) != before).then_some(())
    });
    for node in NODES {
        server.wait_node_ready(node);
    }
}

#[test]
fn a_simulated_node_count_out_of_range_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_onebin"))
        .args(["agent", "--server", "https://127.0.0.1:1", "--token", "x", "--simulate", "0"])
        .output()
        .expect("onebin agent");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--simulate"), "{}", text(&out.stderr));
}
