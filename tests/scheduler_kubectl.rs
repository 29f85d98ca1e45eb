//! The scheduler driven by the real kubectl against fake Node objects (no kubelet runs):
//! binding and the `Scheduled` event, even spreading, cordon, pending pods with upstream's
//! messages and their later scheduling, taints, resources, host ports, anti-affinity.

mod harness;

use std::collections::BTreeMap;
use std::time::Duration;

use harness::{eventually, text, Server};

const WAIT: Duration = Duration::from_secs(20);

/// Creates a Ready node with `cpu` cores, the labels `pool=<pool>` and its hostname.
fn add_node(server: &Server, name: &str, pool: &str, cpu: &str) {
    let manifest = format!(
        r#"
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{kubernetes.io/hostname: {name}, pool: {pool}}}
status:
  capacity: {{cpu: "{cpu}", memory: 8Gi, pods: "110"}}
  allocatable: {{cpu: "{cpu}", memory: 8Gi, pods: "110"}}
  conditions:
  - {{type: Ready, status: "True", reason: KubeletReady, message: kubelet is posting ready status}}
"#
    );
    apply(server, &manifest);
}

fn apply(server: &Server, manifest: &str) {
    let out = server.kubectl_stdin(&["apply", "-f", "-"], manifest);
    assert!(out.status.success(), "apply failed: {}\n{manifest}", text(&out.stderr));
}

/// A pod in `pool`; `extra` lines follow the container's image (indent container fields by
/// four spaces, pod spec fields by two).
fn pod(name: &str, labels: &str, pool: &str, extra: &str) -> String {
    format!(
        r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{{labels}}}
spec:
  nodeSelector: {{pool: {pool}}}
  containers:
  - name: main
    image: nginx
{extra}"#
    )
}

fn node_of(server: &Server, pod: &str) -> String {
    server.kubectl_ok(&["get", "pod", pod, "-o", "jsonpath={.spec.nodeName}"]).trim().to_string()
}

fn wait_bound(server: &Server, pod: &str) -> String {
    eventually(WAIT, &format!("{pod} to be bound"), || Some(node_of(server, pod)).filter(|n| !n.is_empty()))
}

/// Waits for the pod's PodScheduled=False condition and returns its message.
fn wait_unschedulable(server: &Server, pod: &str) -> String {
    let path = r#"jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}|{.status.conditions[?(@.type=="PodScheduled")].message}"#;
    eventually(WAIT, &format!("{pod} to be reported unschedulable"), || {
        let out = server.kubectl_ok(&["get", "pod", pod, "-o", path]);
        let (reason, message) = out.split_once('|')?;
        (reason == "Unschedulable").then(|| message.to_string())
    })
}

/// How many of the pods with `selector` each node holds.
fn placement(server: &Server, selector: &str) -> BTreeMap<String, usize> {
    let out = server.kubectl_ok(&[
        "get",
        "pods",
        "-l",
        selector,
        "-o",
        "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}",
    ]);
    let mut counts = BTreeMap::new();
    for node in out.lines().filter(|l| !l.is_empty()) {
        *counts.entry(node.to_string()).or_default() += 1;
    }
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

/// A ReplicaSet of `count` pods in `pool`: the controller creates them, so they share one owner
/// (a pod owned by a missing object would be collected by the garbage collector).
fn replicas(name: &str, count: usize, pool: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
spec:
  replicas: {count}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      nodeSelector: {{pool: {pool}}}
      containers: [{{name: main, image: nginx}}]
"#
    )
}

#[test]
fn pods_are_bound_and_the_scheduled_event_is_shown() {
    let server = Server::start();
    add_node(&server, "agent-1", "a", "4");
    apply(&server, &pod("web", "app: web", "a", ""));
    assert_eq!(wait_bound(&server, "web"), "agent-1");
    let describe = eventually(WAIT, "the Scheduled event", || {
        let out = server.kubectl_ok(&["describe", "pod", "web"]);
        out.contains("Successfully assigned default/web to agent-1").then_some(out)
    });
    assert!(describe.contains("Scheduled"), "{describe}");
    assert!(describe.contains("default-scheduler"), "{describe}");
    let condition = server.kubectl_ok(&[
        "get",
        "pod",
        "web",
        "-o",
        r#"jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}"#,
    ]);
    assert_eq!(condition, "True");
}

#[test]
fn replicas_spread_evenly_and_cordoned_nodes_are_avoided() {
    let server = Server::start();
    for name in ["agent-1", "agent-2", "agent-3"] {
        add_node(&server, name, "spread", "4");
    }
    let manifest = replicas("web", 9, "spread");
    apply(&server, &manifest);
    eventually(WAIT, "nine bound pods", || (placement(&server, "app=web").values().sum::<usize>() == 9).then_some(()));
    assert_eq!(placement(&server, "app=web"), counts(&[("agent-1", 3), ("agent-2", 3), ("agent-3", 3)]));

    server.kubectl_ok(&["cordon", "agent-2"]);
    apply(&server, &replicas("more", 4, "spread"));
    eventually(WAIT, "four more bound pods", || {
        (placement(&server, "app=more").values().sum::<usize>() == 4).then_some(())
    });
    let more = placement(&server, "app=more");
    assert!(!more.contains_key("agent-2"), "a cordoned node takes no new pods: {more:?}");
    assert_eq!(placement(&server, "app=web")["agent-2"], 3, "pods already on the cordoned node stay");
}

#[test]
fn a_pod_nothing_matches_waits_and_is_scheduled_once_a_node_matches() {
    let server = Server::start();
    for name in ["agent-1", "agent-2", "agent-3"] {
        add_node(&server, name, "general", "4");
    }
    apply(&server, &pod("picky", "app: picky", "gpu", ""));
    let message = wait_unschedulable(&server, "picky");
    assert_eq!(
        message,
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    );
    let events = server.kubectl_ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=picky",
        "-o",
        "jsonpath={.items[*].reason}|{.items[*].type}",
    ]);
    assert_eq!(events, "FailedScheduling|Warning");
    assert!(server.kubectl_ok(&["describe", "pod", "picky"]).contains("FailedScheduling"));
    assert_eq!(server.kubectl_ok(&["get", "pod", "picky", "-o", "jsonpath={.status.phase}"]), "Pending");

    add_node(&server, "gpu-1", "gpu", "4");
    assert_eq!(wait_bound(&server, "picky"), "gpu-1");
}

#[test]
fn taints_keep_out_pods_that_do_not_tolerate_them() {
    let server = Server::start();
    add_node(&server, "db-1", "t", "4");
    add_node(&server, "app-1", "t", "4");
    server.kubectl_ok(&["taint", "nodes", "db-1", "dedicated=db:NoSchedule"]);
    let tolerating = "  tolerations:\n  - {key: dedicated, operator: Equal, value: db, effect: NoSchedule}\n";
    let pinned = "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchFields: [{key: metadata.name, operator: In, values: [db-1]}]\n";
    let manifest = [
        pod("plain-1", "app: plain", "t", ""),
        pod("plain-2", "app: plain", "t", ""),
        pod("db", "app: db", "t", &format!("{tolerating}{pinned}")),
        pod("intruder", "app: intruder", "t", pinned),
    ]
    .concat();
    apply(&server, &manifest);
    assert_eq!(wait_bound(&server, "plain-1"), "app-1");
    assert_eq!(wait_bound(&server, "plain-2"), "app-1");
    assert_eq!(wait_bound(&server, "db"), "db-1");
    assert_eq!(
        wait_unschedulable(&server, "intruder"),
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s). \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    );
    server.kubectl_ok(&["taint", "nodes", "db-1", "dedicated=db:NoSchedule-"]);
    assert_eq!(wait_bound(&server, "intruder"), "db-1", "removing the taint lets the pod in");
}

#[test]
fn cpu_requests_must_fit() {
    let server = Server::start();
    add_node(&server, "small-1", "s", "2");
    add_node(&server, "small-2", "s", "2");
    let requests = |cpu: &str| format!("    resources: {{requests: {{cpu: \"{cpu}\"}}}}\n");
    apply(&server, &pod("huge", "app: huge", "s", &requests("3")));
    assert_eq!(
        wait_unschedulable(&server, "huge"),
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    );
    let manifest =
        [pod("big-1", "app: big", "s", &requests("1500m")), pod("big-2", "app: big", "s", &requests("1500m"))].concat();
    apply(&server, &manifest);
    let first = wait_bound(&server, "big-1");
    let second = wait_bound(&server, "big-2");
    assert_ne!(first, second, "1.5 + 1.5 CPUs do not fit on one 2-CPU node");
    apply(&server, &pod("big-3", "app: big", "s", &requests("1500m")));
    assert_eq!(
        wait_unschedulable(&server, "big-3"),
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.."
    );
    server.kubectl_ok(&["delete", "pod", "big-1", "--grace-period=0", "--force"]);
    assert_eq!(wait_bound(&server, "big-3"), first, "the freed node takes the waiting pod");
}

#[test]
fn host_ports_conflict() {
    let server = Server::start();
    add_node(&server, "edge-1", "e", "4");
    add_node(&server, "edge-2", "e", "4");
    let port = "    ports: [{containerPort: 80, hostPort: 8080}]\n";
    let manifest: String = (1..=3).map(|i| pod(&format!("proxy-{i}"), "app: proxy", "e", port)).collect();
    apply(&server, &manifest);
    let first = wait_bound(&server, "proxy-1");
    let second = wait_bound(&server, "proxy-2");
    assert_ne!(first, second);
    assert_eq!(
        wait_unschedulable(&server, "proxy-3"),
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. \
         preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.."
    );
    let udp = "    ports: [{containerPort: 80, hostPort: 8080, protocol: UDP}]\n";
    apply(&server, &pod("udp", "app: udp", "e", udp));
    wait_bound(&server, "udp");
}

#[test]
fn required_anti_affinity_keeps_replicas_apart() {
    let server = Server::start();
    for name in ["db-1", "db-2"] {
        add_node(&server, name, "d", "4");
    }
    let anti = "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {matchLabels: {app: db}}\n        topologyKey: kubernetes.io/hostname\n";
    let manifest: String = (1..=3).map(|i| pod(&format!("db-{i}"), "app: db", "d", anti)).collect();
    apply(&server, &manifest);
    let first = wait_bound(&server, "db-1");
    let second = wait_bound(&server, "db-2");
    assert_ne!(first, second);
    assert_eq!(
        wait_unschedulable(&server, "db-3"),
        "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. \
         preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.."
    );
    add_node(&server, "db-3", "d", "4");
    assert_eq!(wait_bound(&server, "db-3"), "db-3");
}

#[test]
fn pods_for_other_schedulers_are_left_alone_and_can_be_bound_by_hand() {
    let server = Server::start();
    add_node(&server, "agent-1", "a", "4");
    apply(&server, &pod("custom", "app: custom", "a", "  schedulerName: my-scheduler\n"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(node_of(&server, "custom"), "", "default-scheduler must not bind it");
    let binding = server.dir.path().join("binding.json");
    std::fs::write(
        &binding,
        r#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"custom"},"target":{"apiVersion":"v1","kind":"Node","name":"agent-1"}}"#,
    )
    .unwrap();
    let (status, body) =
        server.curl("POST", "/api/v1/namespaces/default/pods/custom/binding", Some("application/json"), Some(&binding));
    assert_eq!(status, 201, "{body}");
    assert_eq!(node_of(&server, "custom"), "agent-1");
}
