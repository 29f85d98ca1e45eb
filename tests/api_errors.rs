//! Authentication and bad input: every refusal is a Kubernetes Status with the right code,
//! reason and field causes, and the store is unchanged afterwards.

mod harness;

use std::process::Command;

use harness::Server;
use serde_json::Value;

fn status(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not a Status ({e}): {body}"))
}

fn post(server: &Server, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let file = server.dir.path().join("body");
    std::fs::write(&file, body).unwrap();
    let (code, text) = server.curl("POST", path, Some(content_type), Some(&file));
    (code, status(&text))
}

fn configmap_count(server: &Server) -> usize {
    server.kubectl_ok(&["get", "configmaps", "-A", "-o", "name"]).lines().count()
}

#[test]
fn requests_without_valid_credentials_are_refused() {
    let server = Server::start();
    let (code, body) = server.curl_anonymous("/api/v1/namespaces/default/pods");
    assert_eq!(code, 401, "{body}");
    let body = status(&body);
    assert_eq!((body["kind"].as_str(), body["reason"].as_str()), (Some("Status"), Some("Unauthorized")));
    // Health and version are public, as on Kubernetes.
    assert_eq!(server.curl_anonymous("/healthz").0, 200);
    assert_eq!(server.curl_anonymous("/version").0, 200);
    assert_eq!(server.curl_anonymous("/api").0, 401);

    // A client certificate from another CA is rejected during the TLS handshake.
    let dir = server.dir.path();
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/O=system:masters/CN=intruder",
        ])
        .arg("-keyout")
        .arg(dir.join("bad.key"))
        .arg("-out")
        .arg(dir.join("bad.crt"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", harness::text(&made.stderr));
    let (ca, _, _) = server.credentials();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&ca)
        .arg("--cert")
        .arg(dir.join("bad.crt"))
        .arg("--key")
        .arg(dir.join("bad.key"))
        .arg(format!("{}/api/v1/pods", server.url()))
        .output()
        .unwrap();
    assert!(
        !out.status.success() || harness::text(&out.stdout) == "401",
        "forged certificate accepted: {}",
        harness::text(&out.stdout)
    );
    assert_ne!(harness::text(&out.stdout), "200");
}

#[test]
fn malformed_and_invalid_objects_get_clear_status_errors() {
    let server = Server::start();
    let before = configmap_count(&server);
    let cms = "/api/v1/namespaces/default/configmaps";

    let (code, s) = post(&server, cms, "application/json", b"{\"apiVersion\": \"v1\", \"kind\": ");
    assert_eq!((code, s["reason"].as_str()), (400, Some("BadRequest")), "{s}");
    let (code, s) = post(&server, cms, "application/yaml", b"kind: [unclosed");
    assert_eq!((code, s["reason"].as_str()), (400, Some("BadRequest")), "{s}");
    let (code, s) =
        post(&server, cms, "application/json", br#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}"#);
    assert_eq!(code, 400, "wrong kind for the resource: {s}");
    let (code, s) = post(
        &server,
        cms,
        "application/json",
        br#"{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}"#,
    );
    assert_eq!(code, 400, "wrong apiVersion for the resource: {s}");
    let (code, s) = post(
        &server,
        cms,
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"UPPER_case"}}"#,
    );
    assert_eq!((code, s["reason"].as_str()), (422, Some("Invalid")), "{s}");
    assert_eq!(s["details"]["causes"][0]["field"], "metadata.name", "{s}");
    assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueInvalid", "{s}");
    let (code, s) = post(&server, cms, "application/json", br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#);
    assert_eq!((code, s["details"]["causes"][0]["reason"].as_str()), (422, Some("FieldValueRequired")), "{s}");
    let (code, s) = post(
        &server,
        "/api/v1/namespaces/default/pods",
        "application/json",
        br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}"#,
    );
    assert_eq!(code, 422, "{s}");
    assert_eq!(s["details"]["causes"][0]["field"], "spec.containers[0].image", "{s}");
    let (code, s) = post(
        &server,
        cms,
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":"text"}"#,
    );
    assert_eq!(code, 400, "wrong field type: {s}");
    let (code, s) = post(&server, cms, "application/vnd.kubernetes.protobuf-not-a-type", b"xx");
    assert_eq!(code, 415, "{s}");

    let mut huge = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"a":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    huge.extend(br#""}}"#);
    let (code, s) = post(&server, cms, "application/json", &huge);
    assert_eq!((code, s["reason"].as_str()), (413, Some("RequestEntityTooLarge")), "{s}");

    let (code, s) = {
        let (c, t) = server.curl("GET", "/api/v1/namespaces/default/configmaps/missing", None, None);
        (c, status(&t))
    };
    assert_eq!((code, s["reason"].as_str()), (404, Some("NotFound")), "{s}");
    assert_eq!(s["details"]["name"], "missing");
    let (code, _) = server.curl("GET", "/api/v1/nonsense", None, None);
    assert_eq!(code, 404);
    let (code, s) = server.curl("POST", "/api/v1/namespaces/default/configmaps/named", Some("application/json"), None);
    assert_eq!(code, 405, "{s}");
    let (code, s) = server.curl("GET", "/api/v1/pods?labelSelector=in%20valid%20(", None, None);
    assert_eq!((code, status(&s)["reason"].as_str()), (400, Some("BadRequest")), "{s}");

    // kubectl shows the same errors.
    let err = server.kubectl_err(&["create", "-f", "-"]);
    assert!(!err.is_empty());
    let out =
        server.kubectl_stdin(&["apply", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n");
    let err = harness::text(&out.stderr);
    assert!(err.contains("is invalid") && err.contains("metadata.name"), "{err}");
    let out = server.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict}\nbogus: field\n",
    );
    let err = harness::text(&out.stderr);
    assert!(err.contains("unknown field \"bogus\""), "{err}");
    let out = server.kubectl_stdin(&["apply", "-f", "-"], "apiVersion: v9\nkind: ConfigMap\nmetadata: {name: v9}\n");
    assert!(!out.status.success());

    assert_eq!(configmap_count(&server), before, "bad requests must not change the store");
}
