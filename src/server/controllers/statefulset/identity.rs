//! The stable identity of a StatefulSet's pods: the name `<set>-<ordinal>`, the pod-name and
//! pod-index labels, hostname and subdomain (the governing service), and volumes bound to
//! the claims `<template>-<set>-<ordinal>` made from the volume claim templates.

use serde_json::{json, Map, Value};

use crate::server::controllers::controller_ref::OwnerKind;
use crate::server::controllers::pod_control::pod_from_template;
use crate::server::registry::object;

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The label naming the revision (the ControllerRevision's name) a pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

pub const STATEFUL_SET: OwnerKind = OwnerKind { api_version: "apps/v1", kind: "StatefulSet" };

pub fn pod_name(set_name: &str, ordinal: i32) -> String {
    format!("{set_name}-{ordinal}")
}

/// The ordinal of a pod named `<set>-<ordinal>`, if it is named so.
pub fn ordinal_of(set_name: &str, pod: &Value) -> Option<i32> {
    let suffix = object::name(pod).strip_prefix(set_name)?.strip_prefix('-')?;
    // "-01" or "+1" are not names this controller makes.
    if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()) || (suffix.len() > 1 && suffix.starts_with('0'))
    {
        return None;
    }
    suffix.parse().ok()
}

pub fn start_ordinal(set: &Value) -> i32 {
    set.pointer("/spec/ordinals/start").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()).unwrap_or(0)
}

pub fn claim_name(template_name: &str, set_name: &str, ordinal: i32) -> String {
    format!("{template_name}-{set_name}-{ordinal}")
}

/// The pod with `ordinal` made from `template` (the template of its revision), labelled with
/// the revision name.
pub fn new_pod(set: &Value, template: &Value, revision: &str, ordinal: i32) -> Value {
    let set_name = object::name(set);
    let reference =
        crate::server::controllers::controller_ref::new_controller_ref(STATEFUL_SET, set_name, object::uid(set));
    let mut pod = pod_from_template(template, set_name, &reference);
    let name = pod_name(set_name, ordinal);
    let meta = object::metadata_mut(&mut pod);
    meta.remove("generateName");
    meta.insert("name".into(), json!(name));
    meta.insert("namespace".into(), json!(object::namespace(set)));
    let labels = object::object_field(&mut pod["metadata"], "labels");
    labels.insert(POD_NAME_LABEL.into(), json!(name));
    labels.insert(POD_INDEX_LABEL.into(), json!(ordinal.to_string()));
    labels.insert(REVISION_LABEL.into(), json!(revision));
    let spec = object::object_field(&mut pod, "spec");
    spec.insert("hostname".into(), json!(name));
    match set.pointer("/spec/serviceName").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(service) => spec.insert("subdomain".into(), json!(service)),
        None => spec.remove("subdomain"),
    };
    let claims = claim_volumes(set, ordinal);
    if !claims.is_empty() {
        let mut volumes: Vec<Value> = spec.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default();
        // A claim template replaces a template volume of the same name.
        volumes.retain(|v| !claims.iter().any(|c| c.get("name") == v.get("name")));
        volumes.extend(claims);
        spec.insert("volumes".into(), Value::Array(volumes));
    }
    pod
}

/// The pod volumes that mount the claims of `ordinal`.
fn claim_volumes(set: &Value, ordinal: i32) -> Vec<Value> {
    claim_templates(set)
        .iter()
        .map(|template| {
            let name = object::name(template);
            json!({"name": name, "persistentVolumeClaim": {"claimName": claim_name(name, object::name(set), ordinal)}})
        })
        .collect()
}

pub fn claim_templates(set: &Value) -> Vec<Value> {
    set.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The claims pod `ordinal` needs: the templates named for it, labelled with the set's
/// selector labels, and owned by the set when its retention policy deletes them with it.
pub fn claims_for(set: &Value, ordinal: i32) -> Vec<Value> {
    let selector_labels: Map<String, Value> =
        set.pointer("/spec/selector/matchLabels").and_then(Value::as_object).cloned().unwrap_or_default();
    let delete_with_set =
        set.pointer("/spec/persistentVolumeClaimRetentionPolicy/whenDeleted").and_then(Value::as_str) == Some("Delete");
    claim_templates(set)
        .into_iter()
        .map(|template| {
            let mut metadata = template.get("metadata").filter(|m| m.is_object()).cloned().unwrap_or_else(|| json!({}));
            let name = claim_name(object::name(&template), object::name(set), ordinal);
            let labels = object::object_field(&mut metadata, "labels");
            labels.extend(selector_labels.clone());
            let meta = metadata.as_object_mut().expect("made an object");
            for server_owned in ["uid", "resourceVersion", "creationTimestamp", "generateName", "ownerReferences"] {
                meta.remove(server_owned);
            }
            meta.insert("name".into(), json!(name));
            meta.insert("namespace".into(), json!(object::namespace(set)));
            if delete_with_set {
                let owner = crate::server::controllers::controller_ref::new_controller_ref(
                    STATEFUL_SET,
                    object::name(set),
                    object::uid(set),
                );
                meta.insert("ownerReferences".into(), json!([owner]));
            }
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata,
                   "spec": template.get("spec").cloned().unwrap_or_else(|| json!({}))})
        })
        .collect()
}

/// The identity labels a pod is missing or has wrong, as a merge of labels to set.
pub fn identity_fix(set_name: &str, pod: &Value) -> Option<Map<String, Value>> {
    let ordinal = ordinal_of(set_name, pod)?;
    let labels = pod.pointer("/metadata/labels");
    let mut fix = Map::new();
    for (key, wanted) in [(POD_NAME_LABEL, object::name(pod).to_string()), (POD_INDEX_LABEL, ordinal.to_string())] {
        if labels.and_then(|l| l.get(key)).and_then(Value::as_str) != Some(wanted.as_str()) {
            fix.insert(key.into(), json!(wanted));
        }
    }
    (!fix.is_empty()).then_some(fix)
}

pub fn pod_revision(pod: &Value) -> &str {
    pod.pointer("/metadata/labels").and_then(|l| l.get(REVISION_LABEL)).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Value {
        json!({"metadata": {"name": "web", "namespace": "ns", "uid": "u"},
               "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "web"}},
                        "volumeClaimTemplates": [{"metadata": {"name": "www", "labels": {"tier": "data"}},
                                                  "spec": {"accessModes": ["ReadWriteOnce"]}}]}})
    }

    #[test]
    fn ordinals_come_from_names() {
        let named = |n: &str| json!({"metadata": {"name": n}});
        assert_eq!(ordinal_of("web", &named("web-0")), Some(0));
        assert_eq!(ordinal_of("web", &named("web-12")), Some(12));
        for other in ["web-", "web-01", "web-x", "web-1-2", "webby-1", "web", "web--1"] {
            assert_eq!(ordinal_of("web", &named(other)), None, "{other}");
        }
        assert_eq!(ordinal_of("web-1", &named("web-1-2")), Some(2));
    }

    #[test]
    fn pods_get_name_labels_hostname_and_claims() {
        let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [],
            "volumes": [{"name": "www", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]}});
        let pod = new_pod(&set(), &template, "web-abc", 2);
        assert_eq!(pod["metadata"]["name"], "web-2");
        assert!(pod["metadata"].get("generateName").is_none());
        assert_eq!(
            pod["metadata"]["labels"],
            json!({"app": "web", POD_NAME_LABEL: "web-2", POD_INDEX_LABEL: "2", REVISION_LABEL: "web-abc"})
        );
        assert_eq!(
            (pod["spec"]["hostname"].as_str(), pod["spec"]["subdomain"].as_str()),
            (Some("web-2"), Some("nginx"))
        );
        assert_eq!(
            pod["spec"]["volumes"],
            json!([{"name": "cache", "emptyDir": {}}, {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}])
        );
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
        assert_eq!(identity_fix("web", &pod), None);
        assert_eq!(pod_revision(&pod), "web-abc");
    }

    #[test]
    fn claims_are_named_and_labelled() {
        let claims = claims_for(&set(), 1);
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0]["metadata"]["name"], "www-web-1");
        assert_eq!(claims[0]["metadata"]["labels"], json!({"tier": "data", "app": "web"}));
        assert!(claims[0]["metadata"].get("ownerReferences").is_none());
        let mut deleting = set();
        deleting["spec"]["persistentVolumeClaimRetentionPolicy"] = json!({"whenDeleted": "Delete"});
        assert_eq!(claims_for(&deleting, 1)[0]["metadata"]["ownerReferences"][0]["uid"], "u");
    }

    #[test]
    fn missing_identity_labels_are_found() {
        let pod = json!({"metadata": {"name": "web-3", "labels": {POD_NAME_LABEL: "web-3"}}});
        assert_eq!(identity_fix("web", &pod), Some(Map::from_iter([(POD_INDEX_LABEL.to_string(), json!("3"))])));
    }
}
