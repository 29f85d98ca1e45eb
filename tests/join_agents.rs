//! Agents join a server with its token: the CA pin is checked, wrong tokens are refused
//! with a clear message while the agent keeps retrying, rotation does not disturb joined
//! nodes, and a second agent cannot take over a running node's name.

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{eventually, Server};

fn node_exists(server: &Server, name: &str) -> bool {
    server.kubectl(&["get", "node", name]).status.success()
}

#[test]
fn an_agent_joins_and_runs_pods() {
    let server = Server::start_node();
    let agent = server.start_agent("joined-agent", &server.token(), &[]);
    server.wait_node_ready("joined-agent");
    let nodes = server.kubectl_ok(&["get", "nodes"]);
    let line = nodes.lines().find(|l| l.starts_with("joined-agent")).unwrap();
    assert!(line.contains("Ready") && line.contains("<none>"), "{nodes}");
    let pod = "apiVersion: v1
kind: Pod
metadata: {name: on-agent}
spec:
  nodeSelector: {kubernetes.io/hostname: joined-agent}
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, 'sleep 3600']}
";
    let out = server.kubectl_stdin(&["apply", "-f", "-"], pod);
    assert!(out.status.success(), "{}", harness::text(&out.stderr));
    eventually(Duration::from_secs(40), "the pod to run on the agent", || {
        let out = server.kubectl(&["get", "pod", "on-agent", "-o", "jsonpath={.spec.nodeName}/{.status.phase}"]);
        (harness::text(&out.stdout) == "joined-agent/Running").then_some(())
    });
    drop(agent);
}

#[test]
fn bad_tokens_are_refused_clearly_and_retried() {
    let server = Server::start();
    let token = server.token();
    let secret_only = token.rsplit(':').next().unwrap();
    let mut wrong_secret = server.start_agent("wrong-secret", &token.replace(secret_only, "nope"), &[]);
    let other_cluster = format!("K10{}::server:{secret_only}", "a".repeat(64));
    let mut wrong_cluster = server.start_agent("wrong-cluster", &other_cluster, &[]);
    eventually(Duration::from_secs(20), "refusal messages", || {
        (wrong_secret.log().contains("rejected the join token")
            && wrong_cluster.log().contains("does not match the hash"))
        .then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(wrong_secret.running() && wrong_cluster.running(), "agents keep retrying instead of crashing");
    assert!(wrong_secret.log().matches("rejected the join token").count() >= 2, "{}", wrong_secret.log());
    assert!(!node_exists(&server, "wrong-secret") && !node_exists(&server, "wrong-cluster"));
}

#[test]
fn rotating_the_token_keeps_joined_nodes_and_refuses_the_old_token() {
    let server = Server::start();
    let old = server.token();
    let mut first = server.start_agent("first", &old, &[]);
    server.wait_node_ready("first");
    let out = Command::new(env!("CARGO_BIN_EXE_onebin"))
        .args(["token", "rotate", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", harness::text(&out.stderr));
    let new = harness::text(&out.stdout).trim().to_string();
    assert_ne!(new, old);
    assert_eq!(server.token(), new);
    first.restart();
    std::thread::sleep(Duration::from_secs(2));
    server.wait_node_ready("first");
    assert!(first.running(), "{}", first.log());
    let stale = server.start_agent("stale", &old, &[]);
    eventually(Duration::from_secs(20), "the old token to be refused", || {
        stale.log().contains("rejected the join token").then_some(())
    });
    let _fresh = server.start_agent("fresh", &new, &[]);
    server.wait_node_ready("fresh");
}

#[test]
fn a_second_agent_cannot_take_a_running_nodes_name() {
    let server = Server::start();
    let token = server.token();
    let _first = server.start_agent("twin", &token, &[]);
    server.wait_node_ready("twin");
    let uid = server.kubectl_ok(&["get", "node", "twin", "-o", "jsonpath={.metadata.uid}"]);
    let mut second = server.start_agent("twin", &token, &[]);
    eventually(Duration::from_secs(20), "the impostor to stop", || (!second.running()).then_some(()));
    assert!(second.log().contains("already registered by another running agent"), "{}", second.log());
    assert_eq!(server.kubectl_ok(&["get", "node", "twin", "-o", "jsonpath={.metadata.uid}"]), uid);
    server.wait_node_ready("twin");
}
