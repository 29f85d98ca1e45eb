//! kubectl's typed `create` commands send their objects as Kubernetes protobuf; against a real
//! server they must succeed and store what a JSON client would have stored.

mod harness;

use harness::Server;
use serde_json::Value;

/// Shorthands over the shared harness for this file's checks.
trait Shorthand {
    fn ok(&self, args: &[&str]) -> String;
    fn get(&self, what: &str, namespace: &str) -> Value;
    fn path(&self, name: &str) -> std::path::PathBuf;
}

impl Shorthand for Server {
    fn ok(&self, args: &[&str]) -> String {
        self.kubectl_ok(args)
    }

    fn get(&self, what: &str, namespace: &str) -> Value {
        serde_json::from_str(&self.kubectl_ok(&["get", what, "-n", namespace, "-o", "json"]))
            .expect("kubectl prints JSON")
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn workloads_created_by_kubectl() {
    let server = Server::start();
    // Make sure the body really travels as protobuf, or this test proves nothing.
    let traced = server.kubectl(&["create", "deployment", "x", "--image=nginx", "-v=8"]);
    let trace = String::from_utf8_lossy(&traced.stderr);
    assert!(traced.status.success(), "{trace}");
    assert!(trace.contains("Content-Type: application/vnd.kubernetes.protobuf"), "{trace}");

    let deployment = server.get("deployment/x", "default");
    assert_eq!(deployment["metadata"]["labels"]["app"], "x");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["spec"]["selector"]["matchLabels"]["app"], "x");
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["name"], "nginx");
    assert_eq!(container["image"], "nginx");

    server.ok(&["create", "job", "j", "--image=busybox"]);
    let job = server.get("job/j", "default");
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["image"], "busybox");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");

    server.ok(&["create", "cronjob", "cj", "--image=busybox", "--schedule=*/1 * * * *"]);
    let cronjob = server.get("cronjob/cj", "default");
    assert_eq!(cronjob["spec"]["schedule"], "*/1 * * * *");
    assert_eq!(cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"], "OnFailure");

    server.ok(&["run", "p", "--image=nginx", "--port=80", "--env=A=1"]);
    let pod = server.get("pod/p", "default");
    assert_eq!(pod["metadata"]["labels"]["run"], "p");
    assert_eq!(pod["spec"]["containers"][0]["ports"][0]["containerPort"], 80);
    assert_eq!(pod["spec"]["containers"][0]["env"][0], serde_json::json!({"name": "A", "value": "1"}));
}

#[test]
fn config_and_secrets_created_by_kubectl() {
    let server = Server::start();
    server.ok(&["create", "configmap", "c", "--from-literal=a=b"]);
    assert_eq!(server.get("configmap/c", "default")["data"]["a"], "b");

    let binary: Vec<u8> = (0..=255).collect();
    std::fs::write(server.path("blob"), &binary).unwrap();
    let from_file = format!("--from-file={}", server.path("blob").display());
    server.ok(&["create", "configmap", "bin", &from_file]);
    let stored = server.get("configmap/bin", "default")["binaryData"]["blob"].as_str().map(str::to_string).unwrap();
    assert_eq!(decode_base64(&stored), binary);

    server.ok(&["create", "secret", "generic", "g", "--from-literal=x=y"]);
    let secret = server.get("secret/g", "default");
    assert_eq!(secret["data"]["x"], "eQ==");
    assert_eq!(secret["type"], "Opaque");

    let certified = rcgen::generate_simple_self_signed(vec!["foo.com".to_string()]).unwrap();
    std::fs::write(server.path("tls.crt"), certified.cert.pem()).unwrap();
    std::fs::write(server.path("tls.key"), certified.signing_key.serialize_pem()).unwrap();
    let cert = format!("--cert={}", server.path("tls.crt").display());
    let key = format!("--key={}", server.path("tls.key").display());
    server.ok(&["create", "secret", "tls", "t", &cert, &key]);
    let secret = server.get("secret/t", "default");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    assert_eq!(decode_base64(secret["data"]["tls.crt"].as_str().unwrap()), certified.cert.pem().into_bytes());
}

#[test]
fn services_ingresses_namespaces_and_accounts_created_by_kubectl() {
    let server = Server::start();
    server.ok(&["create", "service", "nodeport", "s", "--tcp=80:8080"]);
    let service = server.get("service/s", "default");
    assert_eq!(service["spec"]["type"], "NodePort");
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["port"], 80);
    assert_eq!(port["targetPort"], 8080);
    assert_eq!(port["protocol"], "TCP");
    assert!(port["nodePort"].as_i64().is_some_and(|p| (30000..=32767).contains(&p)), "{port}");

    server.ok(&["create", "ingress", "i", "--rule=foo.com/bar=svc:80"]);
    let rule = &server.get("ingress/i", "default")["spec"]["rules"][0];
    assert_eq!(rule["host"], "foo.com");
    let path = &rule["http"]["paths"][0];
    assert_eq!(path["path"], "/bar");
    assert_eq!(path["pathType"], "Exact");
    assert_eq!(path["backend"]["service"], serde_json::json!({"name": "svc", "port": {"number": 80}}));

    server.ok(&["create", "namespace", "n"]);
    assert_eq!(server.get("namespace/n", "default")["status"]["phase"], "Active");

    server.ok(&["create", "serviceaccount", "sa", "--namespace=n"]);
    assert_eq!(server.get("serviceaccount/sa", "n")["metadata"]["namespace"], "n");
}

fn decode_base64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}
