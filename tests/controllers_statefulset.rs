//! StatefulSets through real kubectl, with the test deciding when pods become ready (the
//! server runs without an agent): ordered creation, stable identities, claims from volume
//! claim templates, reverse-order scale-down, a rolling update with a partition and history,
//! and parallel pod management.

mod controllers_support;
mod harness;

use std::time::Duration;

use controllers_support::*;
use harness::{eventually, Server};
use serde_json::{json, Value};

const NS: &str = "stateful";

fn stateful_set(name: &str, replicas: u32, policy: &str, claims: bool) -> String {
    let templates = if claims {
        r#"
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi"#
    } else {
        ""
    };
    format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
spec:
  serviceName: {name}-svc
  replicas: {replicas}
  podManagementPolicy: {policy}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: c
        image: nginx:1{templates}
"#
    )
}

fn live_names(server: &Server, app: &str) -> Vec<String> {
    let mut names: Vec<String> = live_pods(server, NS, &format!("app={app}")).iter().map(name).collect();
    names.sort();
    names
}

/// Marks one pod running and ready, as its kubelet would.
fn make_ready(server: &Server, pod: &str) {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let status = json!({"status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
    server.kubectl_ok(&[
        "patch",
        "pod",
        pod,
        "-n",
        NS,
        "--subresource=status",
        "--type=merge",
        "-p",
        &status.to_string(),
    ]);
}

fn wait_for_names(server: &Server, app: &str, wanted: &[&str]) {
    eventually(Duration::from_secs(30), &format!("pods {wanted:?}"), || {
        (live_names(server, app) == wanted).then_some(())
    });
}

/// Waits a moment and checks nothing else appeared.
fn still(server: &Server, app: &str, wanted: &[&str]) {
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(live_names(server, app), wanted);
}

fn pod(server: &Server, name: &str) -> Value {
    get_json(server, &["pod", name, "-n", NS])
}

#[test]
fn ordered_pods_claims_scale_down_and_rolling_update() {
    let server = Server::start();
    create_namespace(&server, NS);
    apply(&server, NS, &stateful_set("web", 3, "OrderedReady", true));
    wait_for_names(&server, "web", &["web-0"]);
    still(&server, "web", &["web-0"]);
    make_ready(&server, "web-0");
    wait_for_names(&server, "web", &["web-0", "web-1"]);
    still(&server, "web", &["web-0", "web-1"]);
    make_ready(&server, "web-1");
    wait_for_names(&server, "web", &["web-0", "web-1", "web-2"]);
    make_ready(&server, "web-2");

    let web1 = pod(&server, "web-1");
    assert_eq!(web1["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"], "web-1");
    assert_eq!(web1["metadata"]["labels"]["apps.kubernetes.io/pod-index"], "1");
    assert_eq!(
        (web1["spec"]["hostname"].as_str(), web1["spec"]["subdomain"].as_str()),
        (Some("web-1"), Some("web-svc"))
    );
    assert_eq!(owners(&web1), [("StatefulSet".to_string(), "web".to_string(), true)]);
    let volumes = web1["spec"]["volumes"].to_string();
    assert!(volumes.contains(r#""claimName":"www-web-1""#), "{volumes}");
    let claims: Vec<String> = items(&get_json(&server, &["pvc", "-n", NS])).iter().map(name).collect();
    assert_eq!(claims, ["www-web-0", "www-web-1", "www-web-2"]);

    let ready = "jsonpath={.status.replicas} {.status.readyReplicas} {.status.availableReplicas} {.status.currentReplicas} {.status.updatedReplicas}";
    eventually(Duration::from_secs(30), "status counts 3 ready pods", || {
        (server.kubectl_ok(&["get", "sts", "web", "-n", NS, "-o", ready]) == "3 3 3 3 3").then_some(())
    });
    let status = server.kubectl_ok(&["rollout", "status", "sts/web", "-n", NS, "--timeout=30s"]);
    assert!(status.contains("partitioned roll out complete") || status.contains("rolling update complete"), "{status}");

    // A rolling update with a partition replaces only the pods at or above it, top first.
    server.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-n",
        NS,
        "--type=merge",
        "-p",
        r#"{"spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}}}}"#,
    ]);
    server.kubectl_ok(&["set", "image", "sts/web", "-n", NS, "c=nginx:2"]);
    let image = |p: &Value| p["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string();
    eventually(Duration::from_secs(30), "web-2 replaced", || {
        live_pods(&server, NS, "app=web").iter().any(|p| name(p) == "web-2" && image(p) == "nginx:2").then_some(())
    });
    assert_eq!(image(&pod(&server, "web-1")), "nginx:1", "web-1 waits for web-2 to be ready");
    make_ready(&server, "web-2");
    eventually(Duration::from_secs(30), "web-1 replaced", || {
        live_pods(&server, NS, "app=web").iter().any(|p| name(p) == "web-1" && image(p) == "nginx:2").then_some(())
    });
    make_ready(&server, "web-1");
    still(&server, "web", &["web-0", "web-1", "web-2"]);
    assert_eq!(image(&pod(&server, "web-0")), "nginx:1", "below the partition");
    let sts = get_json(&server, &["sts", "web", "-n", NS]);
    let (current, update) = (&sts["status"]["currentRevision"], &sts["status"]["updateRevision"]);
    assert_ne!(current, update);
    assert_eq!(pod(&server, "web-0")["metadata"]["labels"]["controller-revision-hash"], *current);
    assert_eq!(pod(&server, "web-2")["metadata"]["labels"]["controller-revision-hash"], *update);
    let revisions = items(&get_json(&server, &["controllerrevisions", "-n", NS, "-l", "app=web"]));
    assert_eq!(revisions.len(), 2);

    // Scaling down removes the highest ordinal first, one at a time.
    server.kubectl_ok(&["scale", "sts", "web", "-n", NS, "--replicas=1"]);
    wait_for_names(&server, "web", &["web-0"]);
    let events = get_json(&server, &["events", "-n", NS]);
    let deletions: Vec<String> = items(&events)
        .iter()
        .filter(|e| e["reason"] == "SuccessfulDelete" && e["involvedObject"]["name"] == "web")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(deletions.iter().any(|m| m == "delete Pod web-2 in StatefulSet web successful"), "{deletions:?}");
    // The claims stay (the retention policy keeps them).
    assert_eq!(items(&get_json(&server, &["pvc", "-n", NS])).len(), 3);
}

#[test]
fn parallel_pods_start_together() {
    let server = Server::start();
    create_namespace(&server, NS);
    apply(&server, NS, &stateful_set("cache", 3, "Parallel", false));
    wait_for_names(&server, "cache", &["cache-0", "cache-1", "cache-2"]);
    server.kubectl_ok(&["scale", "sts", "cache", "-n", NS, "--replicas=0"]);
    wait_for_names(&server, "cache", &[]);
}
