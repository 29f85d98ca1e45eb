//! ReplicaSet and ReplicationController behaviour through real kubectl: the seed scenarios
//! S9–S11 (keep 3 pods, self-healing, adoption, releasing a relabelled pod, set-based
//! selectors), scaling, status and events.

mod controllers_support;
mod harness;

use std::time::Duration;

use controllers_support::*;
use harness::{eventually, Server};

const REPLICASET_NGINX: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: replicaset-nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: my-nginx-pods-label
  template:
    metadata:
      name: my-nginx-pod
      labels:
        app: my-nginx-pods-label
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        ports:
        - containerPort: 80
"#;

const NGINX_POD_WITHOUT_RS: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: my-nginx-pod
  labels:
    app: my-nginx-pods-label
spec:
  containers:
  - name: my-nginx-container
    image: nginx:latest
    ports:
    - containerPort: 80
"#;

const LABEL: &str = "app=my-nginx-pods-label";

#[test]
fn replica_set_adopts_heals_and_releases() {
    let server = Server::start();
    let ns = "s10";
    create_namespace(&server, ns);

    // A matching pod made by hand first: the ReplicaSet counts it and makes only two more.
    apply(&server, ns, NGINX_POD_WITHOUT_RS);
    apply(&server, ns, REPLICASET_NGINX);
    let pods = wait_for_pods(&server, ns, LABEL, 3);
    let manual = pods.iter().find(|p| name(p) == "my-nginx-pod").expect("the manual pod is counted");
    let adopted = eventually(Duration::from_secs(10), "adoption of my-nginx-pod", || {
        let pod = get_json(&server, &["pod", "my-nginx-pod", "-n", ns]);
        (!owners(&pod).is_empty()).then_some(pod)
    });
    assert_eq!(owners(&adopted), [("ReplicaSet".into(), "replicaset-nginx".into(), true)], "{manual}");
    for pod in &pods {
        let pod_name = name(pod);
        assert!(pod_name == "my-nginx-pod" || pod_name.starts_with("replicaset-nginx-"), "{pod_name}");
        assert_eq!(pod_name.len(), if pod_name == "my-nginx-pod" { 12 } else { "replicaset-nginx-".len() + 5 });
    }
    let rs = eventually(Duration::from_secs(10), "status of 3 replicas", || {
        let rs = get_json(&server, &["rs", "replicaset-nginx", "-n", ns]);
        (rs["status"]["replicas"] == 3 && rs["status"]["observedGeneration"] == 1).then_some(rs)
    });
    assert_eq!(rs["status"]["fullyLabeledReplicas"], 3);
    let table = server.kubectl_ok(&["get", "rs", "-n", ns]);
    assert!(table.contains("replicaset-nginx   3         3         0"), "{table}");

    // Deleting the manual pod: the ReplicaSet makes a new one.
    server.kubectl_ok(&["delete", "pod", "my-nginx-pod", "-n", ns]);
    let healed = wait_for_pods(&server, ns, LABEL, 3);
    assert!(healed.iter().all(|p| name(p).starts_with("replicaset-nginx-")));

    // Removing the label: the pod is released and replaced.
    let released = name(&healed[0]);
    server.kubectl_ok(&["label", "pod", &released, "-n", ns, "app-"]);
    let managed = wait_for_pods(&server, ns, LABEL, 3);
    assert!(managed.iter().all(|p| name(p) != released));
    let orphan = eventually(Duration::from_secs(10), "release of the relabelled pod", || {
        let pod = get_json(&server, &["pod", &released, "-n", ns]);
        owners(&pod).is_empty().then_some(pod)
    });
    assert!(orphan["metadata"]["labels"].get("app").is_none());

    let events = server.kubectl_ok(&["get", "events", "-n", ns]);
    assert!(events.contains("SuccessfulCreate") && events.contains("Created pod: replicaset-nginx-"), "{events}");

    // Deleting the ReplicaSet takes its pods, but not the released one.
    server.kubectl_ok(&["delete", "rs", "replicaset-nginx", "-n", ns]);
    wait_for_pods(&server, ns, LABEL, 0);
    server.kubectl_ok(&["get", "pod", &released, "-n", ns]);
}

#[test]
fn set_based_selectors_scaling_and_readiness() {
    let server = Server::start();
    let ns = "s11";
    create_namespace(&server, ns);
    // A pod with the other value of the set, made first, is adopted.
    apply(
        &server,
        ns,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: yours, labels: {app: your-nginx-pods-label}}
spec: {containers: [{name: c, image: nginx:latest}]}
"#,
    );
    apply(
        &server,
        ns,
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: set-based}
spec:
  replicas: 3
  minReadySeconds: 2
  selector:
    matchExpressions:
    - key: app
      values: [my-nginx-pods-label, your-nginx-pods-label]
      operator: In
    - {key: legacy, operator: DoesNotExist}
  template:
    metadata: {labels: {app: my-nginx-pods-label}}
    spec: {containers: [{name: c, image: nginx:latest}]}
"#,
    );
    let pods = wait_for_pods(&server, ns, "app in (my-nginx-pods-label,your-nginx-pods-label)", 3);
    assert_eq!(pods.iter().filter(|p| name(p) == "yours").count(), 1);
    eventually(Duration::from_secs(10), "adoption through matchExpressions", || {
        let pod = get_json(&server, &["pod", "yours", "-n", ns]);
        (owners(&pod) == [("ReplicaSet".to_string(), "set-based".to_string(), true)]).then_some(())
    });
    // A pod with the excluded label is none of its business.
    apply(
        &server,
        ns,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: legacy, labels: {app: my-nginx-pods-label, legacy: "yes"}}
spec: {containers: [{name: c, image: nginx:latest}]}
"#,
    );

    // Ready pods count as ready at once and as available after minReadySeconds.
    FakeKubelet::new(&server, ns).mark_ready_once();
    let rs = eventually(Duration::from_secs(15), "available replicas after minReadySeconds", || {
        let rs = get_json(&server, &["rs", "set-based", "-n", ns]);
        (rs["status"]["availableReplicas"] == 3).then_some(rs)
    });
    assert_eq!(rs["status"]["readyReplicas"], 3);
    assert_eq!(rs["status"]["replicas"], 3);
    assert!(owners(&get_json(&server, &["pod", "legacy", "-n", ns])).is_empty());

    // Scaling down removes pods; scaling up adds them.
    server.kubectl_ok(&["scale", "rs", "set-based", "-n", ns, "--replicas=1"]);
    wait_for_pods(&server, ns, "app in (my-nginx-pods-label,your-nginx-pods-label),!legacy", 1);
    server.kubectl_ok(&["scale", "rs", "set-based", "-n", ns, "--replicas=2"]);
    wait_for_pods(&server, ns, "app in (my-nginx-pods-label,your-nginx-pods-label),!legacy", 2);
    let events = server.kubectl_ok(&["get", "events", "-n", ns]);
    assert!(events.contains("SuccessfulDelete"), "{events}");
}

#[test]
fn replication_controller_uses_a_map_selector() {
    let server = Server::start();
    apply(
        &server,
        "default",
        r#"
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy-rc}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: rc}}
    spec: {containers: [{name: c, image: nginx:latest}]}
"#,
    );
    let pods = wait_for_pods(&server, "default", "app=rc", 2);
    for pod in &pods {
        assert_eq!(owners(pod), [("ReplicationController".to_string(), "legacy-rc".to_string(), true)]);
    }
    eventually(Duration::from_secs(10), "rc status", || {
        (get_json(&server, &["rc", "legacy-rc"])["status"]["replicas"] == 2).then_some(())
    });
    server.kubectl_ok(&["delete", "rc", "legacy-rc"]);
    wait_for_pods(&server, "default", "app=rc", 0);
}
