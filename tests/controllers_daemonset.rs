//! DaemonSets through real kubectl on fake nodes (the server runs without an agent; the
//! test plays kubelet): one pod per fitting node pinned by node affinity, taints and labels
//! deciding placement, a rolling update with history and undo, and a drain that leaves
//! daemon pods alone.

mod controllers_support;
mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use controllers_support::*;
use harness::{eventually, text, Server};
use serde_json::{json, Value};

const NS: &str = "daemons";

/// A node that looks healthy and roomy to the scheduler.
fn add_node(server: &Server, name: &str, labels: Value, taints: Value) {
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
                      "spec": {"taints": taints}});
    apply(server, NS, &node.to_string());
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let status = json!({"status": {
        "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
        "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "lastHeartbeatTime": now, "lastTransitionTime": now}]}});
    server.kubectl_ok(&["patch", "node", name, "--subresource=status", "--type=merge", "-p", &status.to_string()]);
}

fn daemon_set(image: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels:
      app: agent
  updateStrategy:
    rollingUpdate:
      maxUnavailable: 2
  template:
    metadata:
      labels:
        app: agent
    spec:
      nodeSelector:
        role: worker
      containers:
      - name: c
        image: {image}
"#
    )
}

/// Node name → image of the live daemon pods.
fn placement(server: &Server) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = live_pods(server, NS, "app=agent")
        .iter()
        .map(|p| (affinity_node(p), p["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string()))
        .collect();
    out.sort();
    out
}

fn affinity_node(pod: &Value) -> String {
    let terms =
        &pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
    assert_eq!(terms.as_array().map(Vec::len), Some(1), "one term: {terms}");
    let field = &terms[0]["matchFields"][0];
    assert_eq!((field["key"].as_str(), field["operator"].as_str()), (Some("metadata.name"), Some("In")));
    field["values"][0].as_str().unwrap_or_default().to_string()
}

fn nodes_of(placement: &[(String, String)]) -> Vec<&str> {
    placement.iter().map(|(n, _)| n.as_str()).collect()
}

/// Plays kubelet for every node: pods bound to a node run and are ready, pods being deleted
/// are confirmed gone.
struct Kubelet<'a> {
    server: &'a Server,
    stop: AtomicBool,
}

impl Kubelet<'_> {
    fn run(&self) {
        while !self.stop.load(Ordering::Relaxed) {
            let out = self.server.kubectl(&["get", "pods", "-n", NS, "-o", "json"]);
            let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            for pod in items(&list) {
                let name = name(&pod);
                if !pod["metadata"]["deletionTimestamp"].is_null() {
                    let _ = self.server.kubectl(&["delete", "pod", &name, "-n", NS, "--grace-period=0", "--force"]);
                } else if pod["spec"]["nodeName"].is_string() && pod["status"]["phase"] != "Running" {
                    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                    let status = json!({"status": {"phase": "Running", "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
                    let _ = self.server.kubectl(&[
                        "patch",
                        "pod",
                        &name,
                        "-n",
                        NS,
                        "--subresource=status",
                        "--type=merge",
                        "-p",
                        &status.to_string(),
                    ]);
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn daemon_pods_follow_nodes_roll_out_and_survive_drains() {
    let server = Server::start_with(&["--disable-agent", "--node-monitor-grace-period", "900"]);
    create_namespace(&server, NS);
    let worker = json!({"role": "worker"});
    add_node(&server, "n1", worker.clone(), json!([]));
    add_node(&server, "n2", worker.clone(), json!([]));
    add_node(&server, "n3", worker.clone(), json!([]));
    add_node(&server, "tainted", worker.clone(), json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]));
    add_node(&server, "other", json!({"role": "db"}), json!([]));
    let kubelet = Kubelet { server: &server, stop: AtomicBool::new(false) };
    std::thread::scope(|scope| {
        scope.spawn(|| kubelet.run());
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&kubelet.stop);

        apply(&server, NS, &daemon_set("busybox:1"));
        let placed = eventually(Duration::from_secs(30), "a pod on each worker", || {
            let p = placement(&server);
            (nodes_of(&p) == ["n1", "n2", "n3"]).then_some(p)
        });
        assert!(placed.iter().all(|(_, image)| image == "busybox:1"));
        for pod in live_pods(&server, NS, "app=agent") {
            let tolerations = pod["spec"]["tolerations"].to_string();
            for key in ["not-ready", "unreachable", "unschedulable", "disk-pressure", "memory-pressure", "pid-pressure"]
            {
                assert!(tolerations.contains(&format!("node.kubernetes.io/{key}")), "{key} in {tolerations}");
            }
            assert_eq!(owners(&pod), [("DaemonSet".to_string(), "agent".to_string(), true)]);
        }
        // The scheduler binds each pod to the node its affinity names.
        eventually(Duration::from_secs(30), "pods bound to their nodes", || {
            live_pods(&server, NS, "app=agent")
                .iter()
                .all(|p| p["spec"]["nodeName"].as_str() == Some(affinity_node(p).as_str()))
                .then_some(())
        });
        let ready = "jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.numberAvailable} {.status.updatedNumberScheduled}";
        eventually(Duration::from_secs(30), "status counts 3 ready pods", || {
            (server.kubectl_ok(&["get", "ds", "agent", "-n", NS, "-o", ready]) == "3 3 3 3 3").then_some(())
        });

        // A new node gets a pod; a node that stops matching loses it.
        add_node(&server, "n4", worker.clone(), json!([]));
        eventually(Duration::from_secs(30), "a pod on the new node", || {
            (nodes_of(&placement(&server)) == ["n1", "n2", "n3", "n4"]).then_some(())
        });
        server.kubectl_ok(&["label", "node", "n1", "role-"]);
        eventually(Duration::from_secs(30), "the pod leaves the unlabelled node", || {
            (nodes_of(&placement(&server)) == ["n2", "n3", "n4"]).then_some(())
        });

        // A rolling update replaces every pod; history and undo work through kubectl.
        server.kubectl_ok(&["set", "image", "ds/agent", "-n", NS, "c=busybox:2"]);
        let status = server.kubectl_ok(&["rollout", "status", "ds/agent", "-n", NS, "--timeout=60s"]);
        assert!(status.contains("successfully rolled out"), "{status}");
        let placed = placement(&server);
        assert_eq!(nodes_of(&placed), ["n2", "n3", "n4"]);
        assert!(placed.iter().all(|(_, image)| image == "busybox:2"), "{placed:?}");
        let hashes: Vec<String> = live_pods(&server, NS, "app=agent")
            .iter()
            .map(|p| p["metadata"]["labels"]["controller-revision-hash"].as_str().unwrap_or_default().to_string())
            .collect();
        let revisions = items(&get_json(&server, &["controllerrevisions", "-n", NS, "-l", "app=agent"]));
        assert_eq!(revisions.len(), 2);
        let newest = revisions.iter().find(|r| r["revision"] == 2).expect("revision 2");
        assert!(hashes
            .iter()
            .all(|h| Some(h.as_str()) == newest["metadata"]["labels"]["controller-revision-hash"].as_str()));
        let history = server.kubectl_ok(&["rollout", "history", "ds/agent", "-n", NS]);
        assert!(history.contains('1') && history.contains('2'), "{history}");
        server.kubectl_ok(&["rollout", "undo", "ds/agent", "-n", NS]);
        server.kubectl_ok(&["rollout", "status", "ds/agent", "-n", NS, "--timeout=60s"]);
        eventually(Duration::from_secs(30), "the old image back everywhere", || {
            let placed = placement(&server);
            (placed.len() == 3 && placed.iter().all(|(_, image)| image == "busybox:1")).then_some(())
        });
        // The rollback renumbered the first revision instead of adding one.
        let revisions = items(&get_json(&server, &["controllerrevisions", "-n", NS, "-l", "app=agent"]));
        let mut numbers: Vec<i64> = revisions.iter().filter_map(|r| r["revision"].as_i64()).collect();
        numbers.sort();
        assert_eq!(numbers, [2, 3]);

        // A drain evicts the ordinary pod and leaves the daemon pod on the cordoned node.
        let plain = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain"},
            "spec": {"nodeName": "n2", "containers": [{"name": "c", "image": "busybox"}]}});
        apply(&server, NS, &plain.to_string());
        let out = server.kubectl(&["drain", "n2", "--ignore-daemonsets", "--force", "--timeout=60s"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "drain failed:\n{stdout}\n{stderr}");
        assert!(format!("{stdout}{stderr}").contains("ignoring DaemonSet-managed Pods"), "{stdout}\n{stderr}");
        assert!(server.kubectl(&["get", "pod", "plain", "-n", NS]).stdout.is_empty());
        assert_eq!(nodes_of(&placement(&server)), ["n2", "n3", "n4"]);
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(nodes_of(&placement(&server)), ["n2", "n3", "n4"], "the daemon pod stays on the drained node");
    });
}

#[test]
fn untolerated_no_execute_taints_evict_and_tolerations_admit() {
    let server = Server::start_with(&["--disable-agent", "--node-monitor-grace-period", "900"]);
    create_namespace(&server, NS);
    add_node(&server, "a", json!({"role": "worker"}), json!([]));
    add_node(&server, "b", json!({"role": "worker"}), json!([{"key": "gpu", "effect": "NoSchedule"}]));
    apply(&server, NS, &daemon_set("busybox:1"));
    eventually(Duration::from_secs(30), "one pod on the untainted node", || {
        (nodes_of(&placement(&server)) == ["a"]).then_some(())
    });
    // Tolerating the taint admits node b.
    let patch = json!({"spec": {"template": {"spec": {"tolerations": [{"key": "gpu", "operator": "Exists"}]}}}});
    server.kubectl_ok(&["patch", "ds", "agent", "-n", NS, "--type=merge", "-p", &patch.to_string()]);
    eventually(Duration::from_secs(30), "a pod on the tolerated node", || {
        placement(&server).iter().any(|(n, _)| n == "b").then_some(())
    });
    // A NoExecute taint nobody tolerates sends the pod away.
    server.kubectl_ok(&["taint", "node", "a", "maintenance=now:NoExecute"]);
    eventually(Duration::from_secs(30), "the pod leaves the NoExecute node", || {
        (!placement(&server).iter().any(|(n, _)| n == "a")).then_some(())
    });
    let ds = get_json(&server, &["ds", "agent", "-n", NS]);
    assert_eq!(ds["status"]["desiredNumberScheduled"], 1, "{}", ds["status"]);
}
