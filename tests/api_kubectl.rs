//! The API server driven by the real kubectl: apply/create, get in every output format,
//! selectors, watch, describe, edit, label, annotate, patch, delete, discovery, explain.

mod harness;

use std::time::Duration;

use harness::Server;

const MANIFEST: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: my-nginx-pod
  labels: {app: web}
spec:
  containers:
  - name: my-nginx-container
    image: nginx:latest
    ports:
    - containerPort: 80
      protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hostname-deployment
spec:
  replicas: 3
  selector:
    matchLabels: {app: webserver}
  template:
    metadata:
      labels: {app: webserver}
    spec:
      containers:
      - name: my-webserver
        image: alicek106/rr-test:echo-hostname
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: hostname-service
spec:
  ports:
  - name: web-port
    port: 8080
    targetPort: 80
  selector:
    app: webserver
  type: NodePort
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {password: aHVudGVyMg==}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress-example
spec:
  rules:
  - host: alicek106.example.com
    http:
      paths:
      - path: /echo-hostname
        pathType: Prefix
        backend:
          service:
            name: hostname-service
            port:
              number: 80
"#;

fn write(server: &Server, name: &str, contents: &str) -> String {
    let path = server.dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn apply_creates_then_leaves_unchanged_then_configures() {
    let server = Server::start();
    let file = write(&server, "app.yaml", MANIFEST);
    let created = server.kubectl_ok(&["apply", "-f", &file]);
    for line in [
        "pod/my-nginx-pod created",
        "deployment.apps/hostname-deployment created",
        "service/hostname-service created",
        "configmap/cfg created",
        "secret/sec created",
        "ingress.networking.k8s.io/ingress-example created",
    ] {
        assert!(created.contains(line), "{line} missing in:\n{created}");
    }
    let again = server.kubectl_ok(&["apply", "-f", &file]);
    assert_eq!(again.matches("unchanged").count(), 6, "{again}");
    let edited =
        write(&server, "app2.yaml", &MANIFEST.replace("replicas: 3", "replicas: 5").replace("{a: b}", "{a: c}"));
    let configured = server.kubectl_ok(&["apply", "-f", &edited]);
    assert!(configured.contains("deployment.apps/hostname-deployment configured"), "{configured}");
    assert!(configured.contains("configmap/cfg configured"), "{configured}");
    assert!(configured.contains("pod/my-nginx-pod unchanged"), "{configured}");
    assert_eq!(server.kubectl_ok(&["get", "deploy", "hostname-deployment", "-o", "jsonpath={.spec.replicas}"]), "5");
    // A container removed from the manifest is removed from the object (strategic merge by name).
    let two = MANIFEST.replace(
        "      - name: my-webserver\n        image: alicek106/rr-test:echo-hostname\n",
        "      - name: my-webserver\n        image: alicek106/rr-test:echo-hostname\n      - name: sidecar\n        image: busybox\n",
    );
    server.kubectl_ok(&["apply", "-f", &write(&server, "two.yaml", &two)]);
    assert_eq!(
        server.kubectl_ok(&[
            "get",
            "deploy",
            "hostname-deployment",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}"
        ]),
        "my-webserver sidecar"
    );
    server.kubectl_ok(&["apply", "-f", &file]);
    assert_eq!(
        server.kubectl_ok(&[
            "get",
            "deploy",
            "hostname-deployment",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}"
        ]),
        "my-webserver"
    );

    let err = server.kubectl_err(&["create", "-f", &file]);
    assert!(err.contains("Error from server (AlreadyExists)"), "{err}");
    assert!(err.contains("pods \"my-nginx-pod\" already exists"), "{err}");
}

#[test]
fn get_in_every_output_format_with_selectors() {
    let server = Server::start();
    server.kubectl_ok(&["apply", "-f", &write(&server, "app.yaml", MANIFEST)]);
    let pods = server.kubectl_ok(&["get", "pods"]);
    assert!(pods.starts_with("NAME"), "{pods}");
    for header in ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] {
        assert!(pods.lines().next().unwrap().contains(header), "{pods}");
    }
    assert!(pods.contains("my-nginx-pod") && pods.contains("0/1") && pods.contains("Pending"), "{pods}");
    let wide = server.kubectl_ok(&["get", "pods", "-o", "wide"]);
    for header in ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] {
        assert!(wide.lines().next().unwrap().contains(header), "{wide}");
    }
    let both = server.kubectl_ok(&["get", "pods,services"]);
    assert!(
        both.contains("pod/my-nginx-pod") && both.contains("service/hostname-service") && both.contains("NodePort"),
        "{both}"
    );
    let svc = server.kubectl_ok(&["get", "svc", "hostname-service"]);
    for header in ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"] {
        assert!(svc.contains(header), "{svc}");
    }
    assert!(svc.contains("8080:3"), "node port allocated: {svc}");
    let deploy = server.kubectl_ok(&["get", "deploy"]);
    assert!(deploy.contains("UP-TO-DATE") && deploy.contains("AVAILABLE"), "{deploy}");
    let ing = server.kubectl_ok(&["get", "ingress"]);
    assert!(ing.contains("CLASS") && ing.contains("alicek106.example.com") && ing.contains("<none>"), "{ing}");

    let yaml = server.kubectl_ok(&["get", "pod", "my-nginx-pod", "-o", "yaml"]);
    assert!(yaml.contains("kind: Pod") && yaml.contains("resourceVersion:") && yaml.contains("uid:"), "{yaml}");
    // The Deployment's pods are there too; look at the pod made by hand.
    let json: serde_json::Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "json"])).unwrap();
    assert_eq!(json["kind"], "List");
    assert_eq!(json["items"][0]["spec"]["containers"][0]["imagePullPolicy"], "Always");
    let columns = server.kubectl_ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image",
    ]);
    assert!(columns.contains("my-nginx-pod   nginx:latest"), "{columns}");
    let template = server.kubectl_ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "go-template={{range .items}}{{.metadata.name}};{{end}}",
    ]);
    assert_eq!(template, "my-nginx-pod;");
    let labels = server.kubectl_ok(&["get", "pods", "--show-labels"]);
    assert!(labels.contains("app=web"), "{labels}");
    assert!(server.kubectl_ok(&["get", "pods", "-l", "app=web"]).contains("my-nginx-pod"));
    assert!(server.kubectl_ok(&["get", "pods", "-l", "app in (web,other)"]).contains("my-nginx-pod"));
    assert!(!server.kubectl_ok(&["get", "pods", "-l", "app notin (web)", "-o", "name"]).contains("my-nginx-pod"));
    let all = server.kubectl_ok(&["get", "services", "-A"]);
    assert!(all.contains("NAMESPACE") && all.contains("default") && all.contains("kubernetes"), "{all}");
    let ns = server.kubectl_ok(&["get", "ns"]);
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(ns.contains(name), "{ns}");
    }
    let paged = server.kubectl_ok(&["get", "services", "-A", "--chunk-size=1", "-o", "name"]);
    assert_eq!(paged.lines().count(), 2, "{paged}");
}

#[test]
fn watch_prints_changes_as_they_happen() {
    let server = Server::start();
    let watch = server.kubectl_background(&["get", "pods", "-w", "--output-watch-events"]);
    std::thread::sleep(Duration::from_millis(500));
    server.kubectl_ok(&["apply", "-f", &write(&server, "pod.yaml", MANIFEST.split("---").next().unwrap())]);
    watch.wait_for("ADDED", Duration::from_secs(10));
    server.kubectl_ok(&["label", "pod", "my-nginx-pod", "tier=front"]);
    watch.wait_for("MODIFIED", Duration::from_secs(10));
    server.kubectl_ok(&["delete", "pod", "my-nginx-pod"]);
    let out = watch.wait_for("DELETED", Duration::from_secs(10));
    assert!(out.contains("my-nginx-pod"), "{out}");
}

#[test]
fn describe_edit_label_annotate_and_patch() {
    let server = Server::start();
    server.kubectl_ok(&["apply", "-f", &write(&server, "app.yaml", MANIFEST)]);
    let described = server.kubectl_ok(&["describe", "pod", "my-nginx-pod"]);
    assert!(
        described.contains("Name:") && described.contains("my-nginx-pod") && described.contains("nginx:latest"),
        "{described}"
    );
    assert!(server.kubectl_ok(&["describe", "svc", "hostname-service"]).contains("NodePort:"));

    // kubectl edit with an editor that changes the image.
    let editor = write(
        &server,
        "editor.sh",
        "#!/bin/sh\nsed -i 's/image: alicek106\\/rr-test:echo-hostname/image: nginx:1.27/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = server
        .kubectl_env(&["edit", "deployment", "hostname-deployment"], &[("EDITOR", &editor), ("KUBE_EDITOR", &editor)]);
    assert!(out.status.success(), "{}", harness::text(&out.stderr));
    assert_eq!(
        server.kubectl_ok(&[
            "get",
            "deploy",
            "hostname-deployment",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        ]),
        "nginx:1.27"
    );

    server.kubectl_ok(&["label", "pod", "my-nginx-pod", "tier=front"]);
    server.kubectl_ok(&["annotate", "pod", "my-nginx-pod", "note=hello"]);
    server.kubectl_ok(&["label", "pod", "my-nginx-pod", "app-"]);
    let err = server.kubectl_err(&["label", "pod", "my-nginx-pod", "tier=back"]);
    assert!(err.contains("already has a value"), "{err}");
    server.kubectl_ok(&["patch", "pod", "my-nginx-pod", "-p", r#"{"metadata":{"labels":{"s":"strategic"}}}"#]);
    server.kubectl_ok(&[
        "patch",
        "pod",
        "my-nginx-pod",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"m":"merge"}}}"#,
    ]);
    server.kubectl_ok(&[
        "patch",
        "pod",
        "my-nginx-pod",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/metadata/labels/j","value":"json"}]"#,
    ]);
    let labels = server.kubectl_ok(&["get", "pod", "my-nginx-pod", "-o", "jsonpath={.metadata.labels}"]);
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels, serde_json::json!({"tier": "front", "s": "strategic", "m": "merge", "j": "json"}));
    assert_eq!(
        server.kubectl_ok(&["get", "pod", "my-nginx-pod", "-o", "jsonpath={.metadata.annotations.note}"]),
        "hello"
    );
    // Strategic merge on a list keyed by name: only that container's image changes.
    server.kubectl_ok(&[
        "patch",
        "deploy",
        "hostname-deployment",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"my-webserver","image":"nginx:1.28"}]}}}}"#,
    ]);
    assert_eq!(
        server.kubectl_ok(&[
            "get",
            "deploy",
            "hostname-deployment",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}"
        ]),
        "80"
    );
    let err = server.kubectl_err(&[
        "patch",
        "pod",
        "my-nginx-pod",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/metadata/name","value":"other"}]"#,
    ]);
    assert!(err.contains("the patch could not be applied") && err.contains("/metadata/name"), "{err}");
}

#[test]
fn delete_by_file_and_all() {
    let server = Server::start();
    let file = write(&server, "app.yaml", MANIFEST);
    server.kubectl_ok(&["apply", "-f", &file]);
    let deleted = server.kubectl_ok(&["delete", "-f", &file]);
    assert!(
        deleted.contains("pod \"my-nginx-pod\" deleted")
            && deleted.contains("deployment.apps \"hostname-deployment\" deleted"),
        "{deleted}"
    );
    assert!(server.kubectl_ok(&["get", "all", "-o", "name"]).lines().all(|l| l == "service/kubernetes"));
    for i in 0..3 {
        let pod = MANIFEST.split("---").next().unwrap().replace("my-nginx-pod", &format!("p{i}"));
        server.kubectl_ok(&["apply", "-f", &write(&server, &format!("p{i}.yaml"), &pod)]);
    }
    let out = server.kubectl_ok(&["delete", "pods", "--all"]);
    assert_eq!(out.matches("deleted").count(), 3, "{out}");
    assert_eq!(server.kubectl_ok(&["get", "pods", "-o", "name"]), "");
    let err = server.kubectl_err(&["delete", "pod", "nope"]);
    assert!(err.contains("Error from server (NotFound): pods \"nope\" not found"), "{err}");
}

#[test]
fn namespaces_are_deleted_with_their_content() {
    let server = Server::start();
    server.kubectl_ok(&[
        "create",
        "-f",
        &write(&server, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n"),
    ]);
    server.kubectl_ok(&["apply", "-n", "scratch", "-f", &write(&server, "app.yaml", MANIFEST)]);
    server.kubectl_ok(&["delete", "namespace", "scratch", "--wait=true", "--timeout=30s"]);
    let err = server.kubectl_err(&["get", "namespace", "scratch"]);
    assert!(err.contains("NotFound"), "{err}");
    let err = server.kubectl_err(&["get", "configmap", "cfg", "-n", "scratch"]);
    assert!(err.contains("NotFound"), "{err}");
    let err = server.kubectl_err(&[
        "apply",
        "-n",
        "missing",
        "-f",
        &write(&server, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
    ]);
    assert!(err.contains("namespaces \"missing\" not found"), "{err}");
}

#[test]
fn discovery_explain_and_version() {
    let server = Server::start();
    let resources = server.kubectl_ok(&["api-resources"]);
    for (name, short) in [
        ("pods", "po"),
        ("replicasets", "rs"),
        ("deployments", "deploy"),
        ("services", "svc"),
        ("endpoints", "ep"),
        ("namespaces", "ns"),
        ("configmaps", "cm"),
        ("nodes", "no"),
        ("serviceaccounts", "sa"),
        ("ingresses", "ing"),
        ("daemonsets", "ds"),
        ("statefulsets", "sts"),
        ("cronjobs", "cj"),
        ("events", "ev"),
    ] {
        assert!(
            resources.lines().any(|l| l.starts_with(name) && l.split_whitespace().nth(1) == Some(short)),
            "{name}/{short} in:\n{resources}"
        );
    }
    let versions = server.kubectl_ok(&["api-versions"]);
    for v in [
        "v1",
        "apps/v1",
        "batch/v1",
        "networking.k8s.io/v1",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "events.k8s.io/v1",
    ] {
        assert!(versions.lines().any(|l| l == v), "{v} in {versions}");
    }
    for short in ["po", "rs", "deploy", "svc", "ep", "ns", "cm", "no", "sa", "ing", "ds", "sts", "cj", "ev", "all"] {
        server.kubectl_ok(&["get", short]);
    }
    let explain = server.kubectl_ok(&["explain", "pod.spec.containers"]);
    assert!(
        explain.contains("KIND:")
            && explain.contains("Pod")
            && explain.contains("FIELDS:")
            && explain.contains("image"),
        "{explain}"
    );
    let version: serde_json::Value = serde_json::from_str(&server.kubectl_ok(&["version", "-o", "json"])).unwrap();
    assert_eq!(version["serverVersion"]["minor"], "33");
    assert!(version["serverVersion"]["gitVersion"].as_str().unwrap().contains("onebin"));
}

#[test]
fn concurrent_updates_from_one_version_conflict() {
    let server = Server::start();
    server.kubectl_ok(&[
        "apply",
        "-f",
        &write(&server, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {v: '0'}\n"),
    ]);
    let current = server.kubectl_ok(&["get", "cm", "c", "-o", "yaml"]);
    let first = write(&server, "first.yaml", &current.replace("v: \"0\"", "v: \"1\""));
    let second = write(&server, "second.yaml", &current.replace("v: \"0\"", "v: \"2\""));
    server.kubectl_ok(&["replace", "-f", &first]);
    let err = server.kubectl_err(&["replace", "-f", &second]);
    assert!(err.contains("Error from server (Conflict)") && err.contains("the object has been modified"), "{err}");
    assert_eq!(server.kubectl_ok(&["get", "cm", "c", "-o", "jsonpath={.data.v}"]), "1");
}

#[test]
fn scale_and_status_subresources() {
    let server = Server::start();
    server.kubectl_ok(&["apply", "-f", &write(&server, "app.yaml", MANIFEST)]);
    server.kubectl_ok(&["scale", "deploy", "hostname-deployment", "--replicas=6"]);
    assert_eq!(server.kubectl_ok(&["get", "deploy", "hostname-deployment", "-o", "jsonpath={.spec.replicas}"]), "6");
    let scale: serde_json::Value = serde_json::from_str(&server.kubectl_ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/default/deployments/hostname-deployment/scale",
    ]))
    .unwrap();
    assert_eq!(
        (scale["kind"].as_str(), scale["spec"]["replicas"].as_i64(), scale["status"]["selector"].as_str()),
        (Some("Scale"), Some(6), Some("app=webserver"))
    );
    let err = server.kubectl_err(&["scale", "pod", "my-nginx-pod", "--replicas=2"]);
    assert!(err.contains("NotFound") || err.contains("not found"), "{err}");
    // A status write leaves the spec alone, and a spec write leaves the status alone. The
    // deployment controller rewrites the status at any moment, so each write is judged by
    // what it returned, with a count no controller would report.
    let status_write = server.kubectl_ok(&[
        "patch",
        "deploy",
        "hostname-deployment",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":42},"spec":{"replicas":1}}"#,
        "-o",
        "jsonpath={.spec.replicas}/{.status.replicas}",
    ]);
    assert_eq!(status_write, "6/42");
    let spec_write = server.kubectl_ok(&[
        "patch",
        "deploy",
        "hostname-deployment",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":41},"spec":{"replicas":2}}"#,
        "-o",
        "jsonpath={.spec.replicas}/{.metadata.generation}/{.status.replicas}",
    ]);
    assert!(spec_write.starts_with("2/3/") && !spec_write.ends_with("/41"), "{spec_write}");
}
