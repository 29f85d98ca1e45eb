//! Bodies built field by field as kubectl's typed clients send them, and the JSON they must
//! become; then hostile input, which must give errors and never panic.

use serde_json::{json, Value};

use super::decode;
use super::encode::{document, Msg};

/// `ObjectMeta` as Go sends it: its zero `creationTimestamp` travels as an empty message.
fn meta(name: &str) -> Msg {
    Msg::new().str(1, name).msg(8, Msg::new())
}

const JAN_2_2026: i64 = 1_767_323_045; // 2026-01-02T03:04:05Z

#[test]
fn deployment_as_kubectl_create_sends_it() {
    let labels = |m: Msg| m.entry(11, "app", "x");
    let container = Msg::new().str(1, "nginx").str(2, "nginx").msg(8, Msg::new());
    let spec = Msg::new()
        .int(1, 1)
        .msg(2, Msg::new().entry(1, "app", "x"))
        .msg(3, Msg::new().msg(1, labels(Msg::new().msg(8, Msg::new()))).msg(2, Msg::new().msg(2, container)))
        .msg(
            4,
            Msg::new()
                .str(1, "")
                .msg(2, Msg::new().msg(1, Msg::new().int(1, 0).int(2, 25)).msg(2, Msg::new().int(1, 1).str(3, "25%"))),
        )
        .int(5, 0)
        .int(7, 0);
    let body = document("apps/v1", "Deployment", Msg::new().msg(1, labels(meta("x"))).msg(2, spec).msg(3, Msg::new()));
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "x", "creationTimestamp": null, "labels": {"app": "x"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "x"}},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {"app": "x"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {"rollingUpdate": {"maxUnavailable": 25, "maxSurge": "25%"}}
            },
            "status": {}
        })
    );
    // apiVersion and kind lead, as in what a JSON client sends.
    let decoded = decode(&body).unwrap();
    let keys: Vec<&String> = decoded.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec", "status"]);
}

#[test]
fn secret_bytes_become_base64() {
    let body = document(
        "v1",
        "Secret",
        Msg::new()
            .msg(1, meta("t").str(3, "default"))
            .msg(2, Msg::new().str(1, "tls.key").bytes(2, &[0x00, 0xff, 0x01]))
            .msg(2, Msg::new().str(1, "empty").bytes(2, b""))
            .msg(2, Msg::new().str(1, "absent"))
            .str(3, "kubernetes.io/tls")
            .entry(4, "plain", "text"),
    );
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "t", "namespace": "default", "creationTimestamp": null},
            "data": {"tls.key": "AP8B", "empty": "", "absent": ""},
            "type": "kubernetes.io/tls",
            "stringData": {"plain": "text"}
        })
    );
}

#[test]
fn config_map_with_text_and_binary_data() {
    let body = document(
        "v1",
        "ConfigMap",
        Msg::new()
            .msg(1, meta("c"))
            .entry(2, "a", "b")
            .entry(2, "c", "d")
            .msg(3, Msg::new().str(1, "bin").bytes(2, b"\x89PNG"))
            .int(4, 1),
    );
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "creationTimestamp": null},
            "data": {"a": "b", "c": "d"},
            "binaryData": {"bin": "iVBORw=="},
            "immutable": true
        })
    );
}

#[test]
fn service_ports_with_int_or_string_target_ports() {
    let port = |name: &str, port: i64, target: Msg| {
        Msg::new().str(1, name).str(2, "TCP").int(3, port).msg(4, target).int(5, 0)
    };
    let spec = Msg::new()
        .msg(1, port("80-8080", 80, Msg::new().int(1, 0).int(2, 8080)))
        .msg(1, port("web", 443, Msg::new().int(1, 1).str(3, "https")))
        // A port whose number never came: Go's JSON still writes `port: 0`.
        .msg(1, Msg::new().str(1, "bare"))
        .entry(2, "app", "s")
        .str(3, "")
        .str(4, "NodePort")
        .str(7, "")
        .int(12, 0)
        .int(13, 0);
    let body =
        document("v1", "Service", Msg::new().msg(1, meta("s")).msg(2, spec).msg(3, Msg::new().msg(1, Msg::new())));
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "creationTimestamp": null},
            "spec": {
                "ports": [
                    {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "web", "protocol": "TCP", "port": 443, "targetPort": "https"},
                    {"name": "bare", "port": 0}
                ],
                "selector": {"app": "s"},
                "type": "NodePort"
            },
            "status": {"loadBalancer": {}}
        })
    );
}

#[test]
fn eviction_with_delete_options_keeps_explicit_zeros() {
    let options = Msg::new().int(1, 0).msg(2, Msg::new().str(1, "uid-1")).str(4, "Foreground").str(5, "All");
    let body = document("policy/v1", "Eviction", Msg::new().msg(1, meta("p").str(3, "ns")).msg(2, options));
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": null},
            "deleteOptions": {
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "uid-1"},
                "propagationPolicy": "Foreground",
                "dryRun": ["All"]
            }
        })
    );
}

#[test]
fn delete_options_arrive_under_any_group_version() {
    for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
        let body = document(api_version, "DeleteOptions", Msg::new().int(1, -1).int(3, 1));
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": api_version, "kind": "DeleteOptions", "gracePeriodSeconds": -1, "orphanDependents": true})
        );
    }
}

#[test]
fn token_request_and_reviews() {
    let spec = Msg::new()
        .str(1, "https://kubernetes.default.svc")
        .int(4, 3600)
        .msg(3, Msg::new().str(1, "Pod").str(2, "v1").str(3, "p").str(4, ""));
    let body = document(
        "authentication.k8s.io/v1",
        "TokenRequest",
        Msg::new().msg(1, meta("sa")).msg(2, spec).msg(3, Msg::new().str(1, "").msg(2, Msg::new())),
    );
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"name": "sa", "creationTimestamp": null},
            "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600, "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}},
            "status": {"token": "", "expirationTimestamp": null}
        })
    );

    let attributes = Msg::new().str(1, "default").str(2, "get").str(3, "").str(5, "pods");
    let body = document(
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        Msg::new()
            .msg(1, Msg::new().msg(8, Msg::new()))
            .msg(2, Msg::new().msg(1, attributes))
            .msg(3, Msg::new().int(1, 0).int(4, 0)),
    );
    assert_eq!(
        decode(&body).unwrap(),
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {"creationTimestamp": null},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}},
            "status": {"allowed": false}
        })
    );

    // `extra` is a map of string lists, each list wrapped in an ExtraValue message.
    let extra = |key: &str, items: &[&str]| {
        let list = items.iter().fold(Msg::new(), |m, item| m.str(1, item));
        Msg::new().str(1, key).msg(2, list)
    };
    let spec = Msg::new().str(3, "jane").str(4, "dev").msg(5, extra("scopes", &["a", "b"])).msg(5, extra("none", &[]));
    let body = document("authorization.k8s.io/v1", "SubjectAccessReview", Msg::new().msg(2, spec));
    assert_eq!(
        decode(&body).unwrap()["spec"],
        json!({"user": "jane", "groups": ["dev"], "extra": {"scopes": ["a", "b"], "none": []}})
    );
}

#[test]
fn inline_structs_flatten_and_numbers_keep_their_sign() {
    let volume = Msg::new().str(1, "certs").msg(2, Msg::new().msg(6, Msg::new().str(1, "tls").int(3, 0o644)));
    let probe = Msg::new()
        .msg(1, Msg::new().msg(2, Msg::new().str(1, "/healthz").msg(2, Msg::new().int(1, 1).str(3, "http"))))
        .int(4, 10);
    let container = Msg::new().str(1, "c").msg(6, Msg::new().int(2, -1).int(3, 80)).msg(10, probe);
    let packed_groups = Msg::new().int(2, -5).bytes(4, &[0x01, 0x02]).int(4, 3);
    let spec = Msg::new().msg(1, volume).msg(2, container).msg(14, packed_groups);
    let body = document("v1", "Pod", Msg::new().msg(1, meta("p")).msg(2, spec));
    assert_eq!(
        decode(&body).unwrap()["spec"],
        json!({
            "volumes": [{"name": "certs", "secret": {"secretName": "tls", "defaultMode": 420}}],
            "containers": [{
                "name": "c",
                "ports": [{"hostPort": -1, "containerPort": 80}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
            }],
            "securityContext": {"runAsUser": -5, "supplementalGroups": [1, 2, 3]}
        })
    );
}

#[test]
fn times_raw_extensions_and_managed_fields() {
    let event = Msg::new()
        .msg(1, meta("e").msg(9, Msg::new().int(1, JAN_2_2026)))
        .msg(2, Msg::new().int(1, JAN_2_2026).int(2, 123_456_789))
        .str(7, "Started");
    let decoded = decode(&document("events.k8s.io/v1", "Event", event)).unwrap();
    assert_eq!(decoded["metadata"]["deletionTimestamp"], "2026-01-02T03:04:05Z");
    assert_eq!(decoded["eventTime"], "2026-01-02T03:04:05.123456Z");
    assert_eq!(decoded["reason"], "Started");

    let managed = Msg::new()
        .str(1, "kubectl")
        .msg(4, Msg::new().int(1, JAN_2_2026))
        .str(6, "FieldsV1")
        .msg(7, Msg::new().bytes(1, br#"{"f:data":{}}"#));
    let revision =
        Msg::new().msg(1, meta("r").msg(17, managed)).msg(2, Msg::new().bytes(1, br#"{"spec":{"x":1}}"#)).int(3, 2);
    let decoded = decode(&document("apps/v1", "ControllerRevision", revision)).unwrap();
    assert_eq!(decoded["data"], json!({"spec": {"x": 1}}));
    assert_eq!(decoded["revision"], 2);
    assert_eq!(
        decoded["metadata"]["managedFields"],
        json!([{"manager": "kubectl", "time": "2026-01-02T03:04:05Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}])
    );

    // A RawExtension may itself hold a protobuf document.
    let inner = document("v1", "ConfigMap", Msg::new().msg(1, meta("inner")).entry(2, "k", "v"));
    let revision = Msg::new().msg(1, meta("r")).msg(2, Msg::new().bytes(1, &inner)).int(3, 1);
    let decoded = decode(&document("apps/v1", "ControllerRevision", revision)).unwrap();
    assert_eq!(decoded["data"]["kind"], "ConfigMap");
    assert_eq!(decoded["data"]["data"], json!({"k": "v"}));

    let revision = Msg::new().msg(1, meta("r")).msg(2, Msg::new().bytes(1, b"not json")).int(3, 1);
    assert_eq!(decode(&document("apps/v1", "ControllerRevision", revision)).unwrap_err().code, 400);
}

#[test]
fn protobuf_merge_rules_and_unknown_fields() {
    // Metadata in two parts merges; a repeated scalar value takes the last; fields from a
    // newer client are skipped whatever their wire type.
    let object = Msg::new()
        .msg(1, Msg::new().str(1, "first").entry(11, "a", "1"))
        .msg(1, Msg::new().str(1, "c").entry(11, "b", "2").str(99, "future").int(100, 7))
        .int(4, 0)
        .int(4, 1)
        .msg(50, Msg::new().int(1, 1));
    assert_eq!(
        decode(&document("v1", "ConfigMap", object)).unwrap(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}, "immutable": true})
    );
    // A later zero clears an omitempty member, as a Go struct would.
    let object = Msg::new().msg(1, Msg::new().str(1, "c").str(1, ""));
    assert_eq!(decode(&document("v1", "ConfigMap", object)).unwrap()["metadata"], json!({}));
}

#[test]
fn refusals_say_why() {
    let unknown_kind = decode(&document("apps/v1", "Gizmo", Msg::new())).unwrap_err();
    assert_eq!(unknown_kind.code, 400);
    assert!(unknown_kind.message.contains("Gizmo"), "{}", unknown_kind.message);

    assert_eq!(decode(br#"{"kind":"Pod"}"#).unwrap_err().code, 400);
    assert_eq!(decode(&document("", "", Msg::new())).unwrap_err().code, 400);

    let gzip =
        [&b"k8s\0"[..], &Msg::new().msg(1, Msg::new().str(1, "v1").str(2, "Pod")).str(3, "gzip").into_bytes()].concat();
    assert_eq!(decode(&gzip).unwrap_err().code, 415);

    let json_inside = [
        &b"k8s\0"[..],
        &Msg::new().msg(1, Msg::new().str(1, "v1").str(2, "Pod")).str(4, "application/json").into_bytes(),
    ]
    .concat();
    assert_eq!(decode(&json_inside).unwrap_err().code, 400);

    // A string where a number belongs names the member.
    let wrong = document("apps/v1", "Deployment", Msg::new().msg(2, Msg::new().str(1, "three")));
    let err = decode(&wrong).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("spec.replicas"), "{}", err.message);

    let bad_label =
        document("v1", "Pod", Msg::new().msg(1, Msg::new().msg(11, Msg::new().str(1, "app").bytes(2, &[0xff]))));
    let err = decode(&bad_label).unwrap_err();
    assert!(err.message.contains("metadata.labels[\"app\"]"), "{}", err.message);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut doc = document("v1", "ConfigMap", Msg::new());
    for _ in 0..200 {
        doc = document("apps/v1", "ControllerRevision", Msg::new().msg(2, Msg::new().bytes(1, &doc)));
    }
    let err = decode(&doc).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("nest"), "{}", err.message);
}

/// A small deterministic generator, so failures reproduce.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn truncated_and_corrupted_bodies_never_panic() {
    let container = Msg::new()
        .str(1, "nginx")
        .str(2, "nginx")
        .msg(6, Msg::new().int(3, 80))
        .msg(8, Msg::new().msg(1, Msg::new().str(1, "cpu").msg(2, Msg::new().str(1, "500m"))));
    let spec = Msg::new().int(1, 3).msg(3, Msg::new().msg(2, Msg::new().msg(2, container)));
    let valid = document("apps/v1", "Deployment", Msg::new().msg(1, meta("x").entry(11, "a", "b")).msg(2, spec));
    assert_eq!(
        decode(&valid).unwrap()["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
        "500m"
    );
    for len in 0..valid.len() {
        let _ = decode(&valid[..len]);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut corrupted = valid.clone();
        for _ in 0..1 + xorshift(&mut state) % 4 {
            let at = (xorshift(&mut state) as usize) % corrupted.len();
            corrupted[at] = xorshift(&mut state) as u8;
        }
        let _ = decode(&corrupted);
    }
    for _ in 0..2_000 {
        let len = (xorshift(&mut state) % 64) as usize;
        let mut garbage: Vec<u8> = b"k8s\0".to_vec();
        garbage.extend((0..len).map(|_| xorshift(&mut state) as u8));
        let result: Result<Value, _> = decode(&garbage);
        if let Err(err) = result {
            assert!(err.code == 400 || err.code == 415, "{}", err.code);
        }
    }
}
