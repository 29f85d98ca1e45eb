//! What a joined node may do with its credentials: its own Node, Lease and pods, and only
//! the secrets and config maps its pods use.

mod harness;

use std::process::Command;

use harness::Server;

/// A node identity for `name`, obtained through the join endpoint: (cert, key) paths.
fn join(server: &Server, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (ca, _, _) = server.credentials();
    let token = server.token();
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--cacert"])
        .arg(&ca)
        .args(["-u", &format!("node:{token}"), "-H", "Content-Type: application/json"])
        .args(["--data", &format!("{{\"nodeName\": \"{name}\"}}")])
        .arg(format!("{}/v1-onebin/join", server.url()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", harness::text(&out.stderr));
    let response: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = server.dir.path();
    let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    std::fs::write(&cert, response["nodeCert"].as_str().unwrap()).unwrap();
    std::fs::write(&key, response["nodeKey"].as_str().unwrap()).unwrap();
    (cert, key)
}

/// `curl` as the node: returns the HTTP status.
fn as_node(
    server: &Server,
    node: &(std::path::PathBuf, std::path::PathBuf),
    method: &str,
    path: &str,
    body: Option<&str>,
) -> u16 {
    let (ca, _, _) = server.credentials();
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "--cacert"])
        .arg(&ca)
        .arg("--cert")
        .arg(&node.0)
        .arg("--key")
        .arg(&node.1);
    if let Some(body) = body {
        let content_type = if method == "PATCH" { "application/merge-patch+json" } else { "application/json" };
        cmd.args(["-H", &format!("Content-Type: {content_type}"), "--data", body]);
    }
    let out = cmd.arg(format!("{}{path}", server.url())).output().unwrap();
    let code = harness::text(&out.stdout);
    code.parse().unwrap_or_else(|_| panic!("curl {method} {path}: {code:?} {}", harness::text(&out.stderr)))
}

#[test]
fn nodes_reach_only_what_their_pods_use() {
    let server = Server::start();
    let n1 = join(&server, "n1");
    let node = |name: &str| format!(r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"{name}"}}}}"#);
    assert_eq!(as_node(&server, &n1, "POST", "/api/v1/nodes", Some(&node("n1"))), 201);
    assert_eq!(
        as_node(&server, &n1, "POST", "/api/v1/nodes", Some(&node("n2"))),
        403,
        "a node may not register another"
    );
    let n2_manifest = node("n2");
    let out = server.kubectl_stdin(&["apply", "-f", "-"], &n2_manifest);
    assert!(out.status.success());
    assert_eq!(as_node(&server, &n1, "PATCH", "/api/v1/nodes/n1/status", Some(r#"{"status":{}}"#)), 200);
    assert_eq!(as_node(&server, &n1, "PATCH", "/api/v1/nodes/n2/status", Some(r#"{"status":{}}"#)), 403);

    let objects = r#"apiVersion: v1
kind: Secret
metadata: {name: used}
stringData: {k: v}
---
apiVersion: v1
kind: Secret
metadata: {name: unused}
stringData: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: mine}
spec:
  nodeName: n1
  containers:
  - name: c
    image: busybox
    envFrom: [{configMapRef: {name: settings}}]
  volumes: [{name: s, secret: {secretName: used}}]
---
apiVersion: v1
kind: Pod
metadata: {name: theirs}
spec:
  nodeName: n2
  containers: [{name: c, image: busybox}]
"#;
    let out = server.kubectl_stdin(&["apply", "-f", "-"], objects);
    assert!(out.status.success(), "{}", harness::text(&out.stderr));
    // The pod cache behind the authorizer follows the store closely; give it a moment.
    harness::eventually(std::time::Duration::from_secs(5), "the secret to become readable", || {
        (as_node(&server, &n1, "GET", "/api/v1/namespaces/default/secrets/used", None) == 200).then_some(())
    });
    assert_eq!(as_node(&server, &n1, "GET", "/api/v1/namespaces/default/secrets/unused", None), 403);
    assert_eq!(as_node(&server, &n1, "GET", "/api/v1/namespaces/default/secrets", None), 403, "no listing secrets");
    assert_eq!(as_node(&server, &n1, "GET", "/api/v1/namespaces/default/configmaps/settings", None), 200);
    let status = r#"{"status":{"phase":"Running"}}"#;
    assert_eq!(as_node(&server, &n1, "PATCH", "/api/v1/namespaces/default/pods/mine/status", Some(status)), 200);
    assert_eq!(as_node(&server, &n1, "PATCH", "/api/v1/namespaces/default/pods/theirs/status", Some(status)), 403);
    assert_eq!(as_node(&server, &n1, "DELETE", "/api/v1/namespaces/default/pods/theirs", None), 403);
    assert_eq!(as_node(&server, &n1, "POST", "/apis/apps/v1/namespaces/default/deployments", Some("{}")), 403);
    assert_eq!(as_node(&server, &n1, "GET", "/api/v1/pods", None), 200);
}
