//! Cases follow what the Kubernetes API server does with the same patches, including the
//! exact patches `kubectl apply` computes for everyday edits.

use serde_json::{json, Value};

use super::apply;

const POD: &str = "io.k8s.api.core.v1.Pod";
const SERVICE: &str = "io.k8s.api.core.v1.Service";
const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a/x", "b/y"]},
        "spec": {
            "containers": [{
                "name": "web",
                "image": "nginx:1.24",
                "args": ["-g", "daemon off;"],
                "env": [{"name": "A", "value": "1"}],
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "1"}}
            }, {
                "name": "sidecar",
                "image": "busybox"
            }],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "nodeName": "n1"
        }
    })
}

fn patched(original: &Value, patch: Value, definition: &str) -> Value {
    apply(original, &patch, definition).unwrap_or_else(|e| panic!("{patch}: {e}"))
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[test]
fn kubectl_apply_changing_an_image_keeps_everything_else() {
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
        "containers": [{"image": "nginx:1.25", "name": "web"}]}});
    let out = patched(&pod(), patch, POD);
    let web = &out["spec"]["containers"][0];
    assert_eq!(web["image"], "nginx:1.25");
    assert_eq!(web["resources"]["limits"]["cpu"], "1");
    assert_eq!(web["env"], json!([{"name": "A", "value": "1"}]));
    assert_eq!(names(&out["spec"]["containers"]), ["web", "sidecar"]);
    assert_eq!(out["spec"]["nodeName"], "n1");
}

#[test]
fn kubectl_apply_adding_a_container_places_it_where_the_manifest_does() {
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "metrics"}, {"name": "sidecar"}],
        "containers": [{"image": "exporter", "name": "metrics"}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(names(&out["spec"]["containers"]), ["web", "metrics", "sidecar"]);
    assert_eq!(out["spec"]["containers"][1]["image"], "exporter");
}

#[test]
fn kubectl_apply_removing_a_container_deletes_it_by_name() {
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"$patch": "delete", "name": "sidecar"}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(names(&out["spec"]["containers"]), ["web"]);
    assert_eq!(out["spec"]["containers"][0]["image"], "nginx:1.24");
}

#[test]
fn kubectl_apply_adding_an_env_var_merges_inside_the_container() {
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
        "containers": [{"$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
            "env": [{"name": "B", "value": "2"}], "name": "web"}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["spec"]["containers"][0]["env"], json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
    assert!(out["spec"]["containers"][0].get("$setElementOrder/env").is_none());
}

#[test]
fn kubectl_apply_removing_a_label_sends_null() {
    let patch = json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
        "labels": {"tier": null}}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"], "{}\n");
}

fn service() -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"clusterIP": "10.43.0.9", "selector": {"app": "web"}, "ports": [
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080}]}})
}

#[test]
fn kubectl_apply_changing_service_ports_merges_by_port() {
    let add = json!({"spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 443}],
        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]}});
    let out = patched(&service(), add, SERVICE);
    let ports = out["spec"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[0]["nodePort"], 30080, "server-set fields of kept ports survive");
    assert_eq!(ports[1]["targetPort"], 8443);

    let retarget = json!({"spec": {"$setElementOrder/ports": [{"port": 80}],
        "ports": [{"port": 80, "targetPort": "http-alt"}]}});
    let out = patched(&service(), retarget, SERVICE);
    assert_eq!(out["spec"]["ports"][0]["targetPort"], "http-alt");
    assert_eq!(out["spec"]["ports"][0]["nodePort"], 30080);

    let remove = json!({"spec": {"$setElementOrder/ports": [{"port": 443}],
        "ports": [{"$patch": "delete", "port": 80}, {"name": "https", "port": 443, "targetPort": 8443}]}});
    let out = patched(&service(), remove, SERVICE);
    assert_eq!(out["spec"]["ports"], json!([{"name": "https", "port": 443, "targetPort": 8443}]));
    assert_eq!(out["spec"]["clusterIP"], "10.43.0.9");
}

#[test]
fn lists_without_a_strategy_are_replaced_whole() {
    let patch = json!({"spec": {"containers": [{"name": "web", "args": ["-v"]}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["spec"]["containers"][0]["args"], json!(["-v"]));
}

#[test]
fn new_elements_without_an_order_go_before_the_live_ones() {
    // Without $setElementOrder upstream puts elements the live list lacks first.
    let patch = json!({"spec": {"containers": [{"name": "extra", "image": "x"}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(names(&out["spec"]["containers"]), ["extra", "web", "sidecar"]);
}

#[test]
fn set_element_order_reorders_live_elements_and_keeps_server_only_ones_after() {
    let original = json!({"spec": {"containers": [
        {"name": "a", "image": "1"}, {"name": "c", "image": "3"}, {"name": "d", "image": "4"},
        {"name": "b", "image": "2"}, {"name": "server-only"}]}});
    let patch =
        json!({"spec": {"$setElementOrder/containers": [{"name": "d"}, {"name": "b"}, {"name": "c"}, {"name": "a"}]}});
    let out = patched(&original, patch, POD);
    assert_eq!(names(&out["spec"]["containers"]), ["d", "b", "c", "a", "server-only"]);
}

#[test]
fn set_element_order_interleaves_new_and_merged_elements() {
    let original = json!({"spec": {"containers": [{"name": "1", "tty": true}, {"name": "2", "image": "two"}]}});
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "4"}, {"name": "1"}, {"name": "2"}, {"name": "3"}],
        "containers": [{"name": "4", "image": "four"}, {"name": "3", "image": "three"}]}});
    let out = patched(&original, patch, POD);
    assert_eq!(names(&out["spec"]["containers"]), ["4", "1", "2", "3"]);
    assert_eq!(out["spec"]["containers"][1]["tty"], true);
}

#[test]
fn set_element_order_contradicting_the_patch_is_rejected() {
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"name": "other", "image": "x"}]}});
    let err = apply(&pod(), &patch, POD).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("doesn't match $setElementOrder list"), "{}", err.message);
}

#[test]
fn primitive_merge_lists_are_unions_in_upstream_order() {
    let patch = json!({"metadata": {"finalizers": ["c/z", "a/x"]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["metadata"]["finalizers"], json!(["c/z", "a/x", "b/y"]));

    let ordered = json!({"metadata": {"$setElementOrder/finalizers": ["b/y", "a/x", "c/z"], "finalizers": ["c/z"]}});
    let out = patched(&pod(), ordered, POD);
    assert_eq!(out["metadata"]["finalizers"], json!(["b/y", "a/x", "c/z"]));
}

#[test]
fn delete_from_primitive_list_removes_only_what_it_names() {
    let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x", "not/there"]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["metadata"]["finalizers"], json!(["b/y"]));

    // Deleting from a list the object lacks adds nothing.
    let patch = json!({"spec": {"$deleteFromPrimitiveList/podCIDRs": ["10.42.0.0/24"]}});
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": {}});
    let out = patched(&node, patch, "io.k8s.api.core.v1.Node");
    assert_eq!(out["spec"], json!({}));

    let malformed = json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a/x"]}});
    let err = apply(&pod(), &malformed, POD).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (400, "invalid patch format of primitive list"));
}

#[test]
fn retain_keys_clears_the_other_members_of_a_union() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 2, "strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    let out = patched(&deployment, patch, DEPLOYMENT);
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_eq!(out["spec"]["replicas"], 2);

    let unlisted = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}});
    let err = apply(&deployment, &unlisted, DEPLOYMENT).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (400, "invalid patch format of retainKeys"));
}

#[test]
fn retain_keys_on_volumes_switches_the_volume_source() {
    let patch = json!({"spec": {"$setElementOrder/volumes": [{"name": "data"}],
        "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cfg"}, "name": "data"}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["spec"]["volumes"], json!([{"name": "data", "configMap": {"name": "cfg"}}]));
}

#[test]
fn patch_directives_on_maps() {
    let replace = json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}});
    let out = patched(&pod(), replace, POD);
    assert_eq!(out["metadata"]["labels"], json!({"only": "this"}));

    let delete = json!({"metadata": {"labels": {"$patch": "delete"}}});
    let out = patched(&pod(), delete, POD);
    assert_eq!(out["metadata"]["labels"], json!({}));

    let unknown = json!({"metadata": {"labels": {"$patch": "shred"}}});
    assert_eq!(apply(&pod(), &unknown, POD).unwrap_err().code, 400);
}

#[test]
fn replace_directive_in_a_list_makes_the_patch_the_whole_list() {
    let patch = json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["spec"]["containers"], json!([{"name": "solo", "image": "x"}]));

    let merge = json!({"spec": {"containers": [{"$patch": "merge"}]}});
    assert_eq!(apply(&pod(), &merge, POD).unwrap_err().code, 400);
}

#[test]
fn nulls_delete_keys_and_vanish_from_new_values() {
    let patch = json!({"spec": {"nodeName": null, "nodeSelector": {"disk": "ssd", "zone": null}}});
    let out = patched(&pod(), patch, POD);
    assert!(out["spec"].get("nodeName").is_none());
    assert_eq!(out["spec"]["nodeSelector"], json!({"disk": "ssd"}));
}

#[test]
fn a_value_of_another_kind_replaces_the_original() {
    let patch = json!({"metadata": {"labels": "oops"}, "spec": {"volumes": {"not": "a list"}}});
    let out = patched(&pod(), patch, POD);
    assert_eq!(out["metadata"]["labels"], "oops");
    assert_eq!(out["spec"]["volumes"], json!({"not": "a list"}));
}

#[test]
fn replace_strategy_maps_are_not_merged() {
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}});
    let patch = json!({"spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}});
    let out = patched(&pdb, patch, "io.k8s.api.policy.v1.PodDisruptionBudget");
    assert_eq!(out["spec"]["selector"], json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]}));
    assert_eq!(out["spec"]["minAvailable"], 1);
}

#[test]
fn status_conditions_merge_by_type() {
    let original = json!({"status": {"conditions": [
        {"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}});
    let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let out = patched(&original, patch, POD);
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}])
    );
}

#[test]
fn owner_references_merge_by_uid_and_maps_of_any_depth_merge() {
    let original = json!({"metadata": {"ownerReferences": [{"uid": "1", "kind": "ReplicaSet", "name": "rs"}],
        "annotations": {"a": "1"}}});
    let patch = json!({"metadata": {"ownerReferences": [{"uid": "1", "controller": true}],
        "annotations": {"b": "2"}}});
    let out = patched(&original, patch, POD);
    assert_eq!(
        out["metadata"]["ownerReferences"],
        json!([{"uid": "1", "kind": "ReplicaSet", "name": "rs", "controller": true}])
    );
    assert_eq!(out["metadata"]["annotations"], json!({"a": "1", "b": "2"}));
}

#[test]
fn malformed_patches_are_client_errors() {
    let no_key = json!({"spec": {"containers": [{"image": "x"}]}});
    let err = apply(&pod(), &no_key, POD).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("does not contain declared merge key: name"), "{}", err.message);

    let no_finalizers = json!({"metadata": {"name": "p", "finalizers": []}});
    let list_of_lists = json!({"metadata": {"finalizers": [["a"]]}});
    let err = apply(&no_finalizers, &list_of_lists, POD).unwrap_err();
    assert_eq!((err.code, err.reason), (422, "Invalid"));

    let mixed = json!({"metadata": {"finalizers": [1]}});
    assert_eq!(apply(&pod(), &mixed, POD).unwrap_err().code, 400);

    let bad_order = json!({"spec": {"$setElementOrder/containers": "web"}});
    assert_eq!(apply(&pod(), &bad_order, POD).unwrap_err().code, 400);

    let bad_retain = json!({"spec": {"$retainKeys": "containers"}});
    assert_eq!(apply(&pod(), &bad_retain, POD).unwrap_err().code, 400);

    let not_an_object = json!(["spec"]);
    assert_eq!(apply(&pod(), &not_an_object, POD).unwrap_err().code, 400);

    let unknown_type = apply(&pod(), &json!({}), "io.example.v1.Widget").unwrap_err();
    assert_eq!(unknown_type.code, 400);
}

#[test]
fn the_inputs_are_left_untouched() {
    let original = pod();
    let patch = json!({"spec": {"containers": [{"$patch": "delete", "name": "web"}]}});
    let before = (original.clone(), patch.clone());
    let out = patched(&original, patch.clone(), POD);
    assert_eq!(names(&out["spec"]["containers"]), ["sidecar"]);
    assert_eq!((original, patch), before);
}

#[test]
fn fields_the_schema_does_not_know_merge_like_json_merge_patch() {
    let original = json!({"spec": {"mystery": {"a": 1, "list": [1, 2]}}});
    let patch = json!({"spec": {"mystery": {"b": 2, "list": [3]}}});
    let out = patched(&original, patch, POD);
    assert_eq!(out["spec"]["mystery"], json!({"a": 1, "list": [3], "b": 2}));
}
