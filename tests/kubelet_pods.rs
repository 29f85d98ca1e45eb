//! A single-node cluster really running pods: the embedded agent's kubelet starts nginx and
//! busybox containers from the test images, restarts them per policy, probes them, and
//! reports their status; workloads reach Running and serve HTTP.

mod harness;

use std::time::Duration;

use harness::{eventually, Manifests, Server};

fn wait_for(server: &Server, what: &[&str], path: &str, want: &str, timeout: Duration) {
    eventually(timeout, &format!("{what:?} {path} == {want}"), || (server.jsonpath(what, path) == want).then_some(()));
}

const NGINX_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: my-nginx-pod
spec:
  containers:
  - name: my-nginx-container
    image: nginx:latest
    imagePullPolicy: IfNotPresent
    ports:
    - containerPort: 80
      protocol: TCP
";

#[test]
fn an_nginx_pod_runs_and_serves_its_welcome_page() {
    let server = Server::start_node();
    server.apply_file("pod.yaml", NGINX_POD);
    wait_for(&server, &["pod", "my-nginx-pod"], "{.status.phase}", "Running", Duration::from_secs(30));
    wait_for(
        &server,
        &["pod", "my-nginx-pod"],
        "{.status.conditions[?(@.type==\"Ready\")].status}",
        "True",
        Duration::from_secs(30),
    );
    let ip = server.jsonpath(&["pod", "my-nginx-pod"], "{.status.podIP}");
    let page = eventually(Duration::from_secs(10), "nginx to answer", || {
        let out = std::process::Command::new("curl").args(["-s", "-m", "2", &format!("http://{ip}/")]).output().ok()?;
        let body = harness::text(&out.stdout);
        body.contains("Welcome to nginx!").then_some(body)
    });
    assert!(page.contains("Welcome to nginx!"));
    let wide = server.kubectl_ok(&["get", "pods", "-o", "wide"]);
    assert!(
        wide.contains("1/1") && wide.contains("Running") && wide.contains(&ip) && wide.contains(server.node_name()),
        "{wide}"
    );
    let described = server.kubectl_ok(&["describe", "pod", "my-nginx-pod"]);
    for event in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(described.contains(event), "{event} missing:\n{described}");
    }
    server.kubectl_ok(&["delete", "pod", "my-nginx-pod", "--timeout=60s"]);
    assert_eq!(server.kubectl_ok(&["get", "pods", "-o", "name"]), "");
}

#[test]
fn a_deployment_keeps_its_replicas_running() {
    let server = Server::start_node();
    server.apply_file(
        "deploy.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        imagePullPolicy: IfNotPresent
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 1
",
    );
    wait_for(&server, &["deploy", "web"], "{.status.readyReplicas}", "3", Duration::from_secs(60));
    let pods = server.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "name"]);
    let victim = pods.lines().next().unwrap().to_string();
    server.kubectl_ok(&["delete", &victim, "--timeout=60s"]);
    wait_for(&server, &["deploy", "web"], "{.status.readyReplicas}", "3", Duration::from_secs(60));
    assert!(!server.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "name"]).contains(&victim));
    server.kubectl_ok(&["scale", "deploy", "web", "--replicas=5"]);
    wait_for(&server, &["deploy", "web"], "{.status.readyReplicas}", "5", Duration::from_secs(60));
    server.kubectl_ok(&["scale", "deploy", "web", "--replicas=2"]);
    eventually(Duration::from_secs(60), "scale down to 2 pods", || {
        (server.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "name"]).lines().count() == 2).then_some(())
    });
}

#[test]
fn crashing_containers_back_off_and_failing_probes_restart_or_unready_them() {
    let server = Server::start_node();
    server.apply_file(
        "pods.yaml",
        "apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo dying; exit 3']}
---
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 3600']
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {name: unready}
spec:
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 3600']
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, 'exit 0']}
",
    );
    wait_for(
        &server,
        &["pod", "crasher"],
        "{.status.containerStatuses[0].state.waiting.reason}",
        "CrashLoopBackOff",
        Duration::from_secs(30),
    );
    assert_eq!(
        server.jsonpath(&["pod", "crasher"], "{.status.containerStatuses[0].lastState.terminated.exitCode}"),
        "3"
    );
    let listed = server.kubectl_ok(&["get", "pod", "crasher"]);
    assert!(listed.contains("CrashLoopBackOff"), "{listed}");
    wait_for(&server, &["pod", "crasher"], "{.status.containerStatuses[0].restartCount}", "1", Duration::from_secs(40));

    eventually(Duration::from_secs(40), "the liveness probe to restart the container", || {
        let count: i32 =
            server.jsonpath(&["pod", "unhealthy"], "{.status.containerStatuses[0].restartCount}").parse().ok()?;
        (count >= 1).then_some(())
    });
    let described = server.kubectl_ok(&["describe", "pod", "unhealthy"]);
    assert!(described.contains("Liveness probe failed") && described.contains("Killing"), "{described}");

    wait_for(&server, &["pod", "unready"], "{.status.phase}", "Running", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.jsonpath(&["pod", "unready"], "{.status.containerStatuses[0].ready}"), "false");
    assert!(server.kubectl_ok(&["get", "pod", "unready"]).contains("0/1"));

    wait_for(&server, &["pod", "done"], "{.status.phase}", "Succeeded", Duration::from_secs(30));
    assert!(server.kubectl_ok(&["get", "pod", "done"]).contains("Completed"));
}

#[test]
fn a_missing_image_reports_pull_errors() {
    let server = Server::start_node();
    server.apply_file(
        "pod.yaml",
        "apiVersion: v1
kind: Pod
metadata: {name: ghost}
spec:
  containers:
  - {name: c, image: 127.0.0.1:9/nothing:here}
",
    );
    eventually(Duration::from_secs(30), "ErrImagePull or ImagePullBackOff", || {
        let reason = server.jsonpath(&["pod", "ghost"], "{.status.containerStatuses[0].state.waiting.reason}");
        matches!(reason.as_str(), "ErrImagePull" | "ImagePullBackOff").then_some(())
    });
    let described = server.kubectl_ok(&["describe", "pod", "ghost"]);
    assert!(described.contains("Failed to pull image"), "{described}");
}

#[test]
fn pods_keep_running_across_a_server_restart() {
    let mut server = Server::start_node();
    server.apply_file("pod.yaml", NGINX_POD);
    wait_for(&server, &["pod", "my-nginx-pod"], "{.status.phase}", "Running", Duration::from_secs(30));
    let before =
        server.jsonpath(&["pod", "my-nginx-pod"], "{.status.containerStatuses[0].containerID} {.status.podIP}");
    server.restart();
    std::thread::sleep(Duration::from_secs(3));
    let after = server.jsonpath(&["pod", "my-nginx-pod"], "{.status.containerStatuses[0].containerID} {.status.podIP}");
    assert_eq!(before, after, "the container and its address survive the restart");
    assert_eq!(server.jsonpath(&["pod", "my-nginx-pod"], "{.status.containerStatuses[0].restartCount}"), "0");
    let ip = server.jsonpath(&["pod", "my-nginx-pod"], "{.status.podIP}");
    let out = std::process::Command::new("curl").args(["-s", "-m", "3", &format!("http://{ip}/")]).output().unwrap();
    assert!(harness::text(&out.stdout).contains("Welcome to nginx!"));
}
