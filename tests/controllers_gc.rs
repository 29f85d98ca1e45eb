//! The garbage collector through kubectl's cascade options: background (the default),
//! orphan and foreground deletion, across Deployments, ReplicaSets, pods and a ConfigMap
//! owned by hand.

mod controllers_support;
mod harness;

use std::time::Duration;

use controllers_support::*;
use harness::{eventually, Server};

const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1}]}
"#;

fn replica_set(name: &str, pod_finalizer: Option<&str>) -> String {
    let finalizers = pod_finalizer.map(|f| format!("\n      finalizers: [{f}]")).unwrap_or_default();
    format!(
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}{finalizers}
    spec: {{containers: [{{name: c, image: nginx:1}}]}}
"#
    )
}

fn gone(server: &Server, args: &[&str]) -> bool {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.push("--ignore-not-found");
    server.kubectl_ok(&full).trim().is_empty()
}

#[test]
fn background_deletion_removes_replica_sets_and_pods() {
    let server = Server::start();
    apply(&server, "default", WEB);
    wait_for_pods(&server, "default", "app=web", 3);
    let rs = eventually(Duration::from_secs(10), "replica set", || {
        items(&get_json(&server, &["rs", "-l", "app=web"])).into_iter().next()
    });
    // Any kind can be owned: a ConfigMap owned by the ReplicaSet goes with it.
    let owned = format!(
        r#"{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "owned", "ownerReferences": [
            {{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "{}", "uid": {}}}]}}}}"#,
        name(&rs),
        rs["metadata"]["uid"]
    );
    apply(&server, "default", &owned);

    server.kubectl_ok(&["delete", "deployment", "web"]);
    eventually(Duration::from_secs(20), "replica sets, pods and the config map to go", || {
        (gone(&server, &["rs", "-l", "app=web"])
            && gone(&server, &["pods", "-l", "app=web"])
            && gone(&server, &["cm", "owned"]))
        .then_some(())
    });

    // A dependent whose owner never existed is collected too.
    apply(
        &server,
        "default",
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dangling", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "nobody", "uid": "00000000-0000-0000-0000-000000000000"}]}}"#,
    );
    eventually(Duration::from_secs(20), "dangling config map to go", || {
        gone(&server, &["cm", "dangling"]).then_some(())
    });
}

#[test]
fn orphan_deletion_leaves_pods_without_owner_references() {
    let server = Server::start();
    apply(&server, "default", &replica_set("keep", None));
    wait_for_pods(&server, "default", "app=keep", 2);
    server.kubectl_ok(&["delete", "rs", "keep", "--cascade=orphan"]);
    eventually(Duration::from_secs(20), "the replica set to go", || gone(&server, &["rs", "keep"]).then_some(()));
    let pods = eventually(Duration::from_secs(20), "owner references removed", || {
        let pods = live_pods(&server, "default", "app=keep");
        (pods.len() == 2 && pods.iter().all(|p| owners(p).is_empty())).then_some(pods)
    });
    // Still there a moment later: nothing collects them.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(live_pods(&server, "default", "app=keep").len(), pods.len());
    // A new ReplicaSet with the same selector adopts them instead of creating more.
    apply(&server, "default", &replica_set("keep", None));
    eventually(Duration::from_secs(20), "adoption by the new replica set", || {
        let pods = live_pods(&server, "default", "app=keep");
        (pods.len() == 2 && pods.iter().all(|p| owners(p).len() == 1)).then_some(())
    });
}

#[test]
fn foreground_deletion_waits_for_dependents() {
    let server = Server::start();
    // The pods carry a finalizer of their own, so they stay while being deleted.
    apply(&server, "default", &replica_set("fg", Some("example.com/hold")));
    let held = wait_for_pods(&server, "default", "app=fg", 2);
    server.kubectl_ok(&["delete", "rs", "fg", "--cascade=foreground", "--wait=false"]);
    eventually(Duration::from_secs(20), "pods to be deleted first", || {
        (live_pods(&server, "default", "app=fg").is_empty()).then_some(())
    });
    let rs = get_json(&server, &["rs", "fg"]);
    assert_eq!(rs["metadata"]["finalizers"], serde_json::json!(["foregroundDeletion"]));
    assert!(!rs["metadata"]["deletionTimestamp"].is_null());
    // The ReplicaSet creates no replacements while it is being deleted.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pods(&server, "default", "app=fg").len(), 2);

    for pod in &held {
        server.kubectl_ok(&[
            "patch",
            "pod",
            &name(pod),
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ]);
    }
    eventually(Duration::from_secs(20), "the replica set to go after its pods", || {
        gone(&server, &["rs", "fg"]).then_some(())
    });

    // kubectl waits for a foreground deletion to finish.
    apply(&server, "default", WEB);
    wait_for_pods(&server, "default", "app=web", 3);
    server.kubectl_ok(&["delete", "deployment", "web", "--cascade=foreground", "--timeout=30s"]);
    assert!(gone(&server, &["rs", "-l", "app=web"]) && gone(&server, &["pods", "-l", "app=web"]));
}
