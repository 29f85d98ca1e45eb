//! Controllers of pods (Deployment, ReplicaSet, DaemonSet, StatefulSet,
//! ReplicationController): defaults, selector/template rules, and status owned by the
//! controllers.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::defaults::set_default;
use super::pod_spec::{default_pod_spec, validate_pod_spec};
use super::Strategy;
use crate::server::api_error::Cause;
use crate::server::registry::label_selector::LabelSelector;

pub struct DeploymentStrategy;
pub struct ReplicaSetStrategy;
pub struct DaemonSetStrategy;
pub struct StatefulSetStrategy;
pub struct ReplicationControllerStrategy;

fn default_template(obj: &mut Value) {
    if let Some(spec) = obj.pointer_mut("/spec/template/spec") {
        default_pod_spec(spec);
    }
}

fn template_labels(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

/// The checks every pod controller shares: a selector that matches its template's labels,
/// a valid template, non-negative replicas.
fn validate_controller(obj: &Value, map_selector: bool, only_always: bool) -> Vec<Cause> {
    let mut causes = Vec::new();
    let selector = obj.pointer("/spec/selector");
    let parsed = match selector {
        None | Some(Value::Null) => {
            causes.push(Cause::required("spec.selector"));
            None
        }
        Some(sel) if map_selector => sel.as_object().map(LabelSelector::from_map),
        Some(sel) => match LabelSelector::from_object(sel) {
            Ok(s) if s.is_empty() => {
                causes.push(Cause::invalid("spec.selector", "{}", "empty selector is invalid for deployment"));
                None
            }
            Ok(s) => Some(s),
            Err(why) => {
                causes.push(Cause::invalid("spec.selector", sel, why));
                None
            }
        },
    };
    let labels = template_labels(obj);
    if let Some(sel) = parsed {
        if !sel.matches(&labels) {
            causes.push(Cause::invalid(
                "spec.template.metadata.labels",
                json!(labels),
                "`selector` does not match template `labels`",
            ));
        }
    }
    match obj.pointer("/spec/template/spec") {
        Some(spec) => {
            causes.extend(validate_pod_spec(spec, "spec.template.spec"));
            let restart = spec.get("restartPolicy").and_then(Value::as_str).unwrap_or_default();
            if only_always && restart != "Always" {
                causes.push(Cause::unsupported("spec.template.spec.restartPolicy", restart, &["Always"]));
            }
        }
        None => causes.push(Cause::required("spec.template")),
    }
    if let Some(replicas) = obj.pointer("/spec/replicas").and_then(Value::as_i64) {
        if replicas < 0 {
            causes.push(Cause::invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
        }
    }
    causes
}

fn selector_immutable(new: &Value, old: &Value) -> Vec<Cause> {
    let (a, b) = (new.pointer("/spec/selector"), old.pointer("/spec/selector"));
    if a != b {
        return vec![Cause::invalid("spec.selector", a.cloned().unwrap_or(Value::Null), "field is immutable")];
    }
    Vec::new()
}

fn reset_status(obj: &mut Value) {
    obj["status"] = json!({});
}

impl Strategy for DeploymentStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        set_default(obj, &["spec", "strategy", "type"], json!("RollingUpdate"));
        if obj.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
            set_default(obj, &["spec", "strategy", "rollingUpdate", "maxUnavailable"], json!("25%"));
            set_default(obj, &["spec", "strategy", "rollingUpdate", "maxSurge"], json!("25%"));
        }
        set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
        set_default(obj, &["spec", "progressDeadlineSeconds"], json!(600));
        default_template(obj);
    }
    fn prepare_create(&self, obj: &mut Value) {
        reset_status(obj);
    }
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        let mut causes = validate_controller(obj, false, true);
        let kind = obj.pointer("/spec/strategy/type").and_then(Value::as_str).unwrap_or_default();
        if !["RollingUpdate", "Recreate"].contains(&kind) {
            causes.push(Cause::unsupported("spec.strategy.type", kind, &["Recreate", "RollingUpdate"]));
        }
        if kind == "Recreate" && obj.pointer("/spec/strategy/rollingUpdate").is_some() {
            causes.push(Cause::forbidden(
                "spec.strategy.rollingUpdate",
                "may not be specified when strategy `type` is 'Recreate'",
            ));
        }
        causes
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        selector_immutable(new, old)
    }
}

impl Strategy for ReplicaSetStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        default_template(obj);
    }
    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({"replicas": 0});
    }
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        validate_controller(obj, false, true)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        selector_immutable(new, old)
    }
}

impl Strategy for ReplicationControllerStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        // An RC without a selector selects its template's labels.
        let labels = obj.pointer("/spec/template/metadata/labels").cloned();
        if let Some(labels) = labels {
            set_default(obj, &["spec", "selector"], labels);
        }
        default_template(obj);
    }
    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({"replicas": 0});
    }
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        validate_controller(obj, true, true)
    }
}

impl Strategy for DaemonSetStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "updateStrategy", "type"], json!("RollingUpdate"));
        if obj.pointer("/spec/updateStrategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
            set_default(obj, &["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"], json!(1));
            set_default(obj, &["spec", "updateStrategy", "rollingUpdate", "maxSurge"], json!(0));
        }
        set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
        default_template(obj);
    }
    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0});
    }
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        validate_controller(obj, false, true)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        selector_immutable(new, old)
    }
}

impl Strategy for StatefulSetStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        set_default(obj, &["spec", "podManagementPolicy"], json!("OrderedReady"));
        set_default(obj, &["spec", "updateStrategy", "type"], json!("RollingUpdate"));
        if obj.pointer("/spec/updateStrategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
            set_default(obj, &["spec", "updateStrategy", "rollingUpdate", "partition"], json!(0));
        }
        set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
        set_default(
            obj,
            &["spec", "persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
        );
        default_template(obj);
    }
    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({"replicas": 0, "availableReplicas": 0});
    }
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        validate_controller(obj, false, true)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        let mut causes = selector_immutable(new, old);
        // Only replicas, template, updateStrategy, ordinals, retention policy and minReadySeconds may change.
        for field in ["serviceName", "podManagementPolicy", "volumeClaimTemplates"] {
            if new.pointer(&format!("/spec/{field}")) != old.pointer(&format!("/spec/{field}")) {
                causes.push(Cause::forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
                break;
            }
        }
        causes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(selector: Value, labels: Value) -> Value {
        let mut d = json!({"metadata": {"name": "d"}, "spec": {"selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        DeploymentStrategy.default(&mut d);
        d
    }

    #[test]
    fn selector_must_match_template() {
        let ok = deployment(json!({"matchLabels": {"app": "a"}}), json!({"app": "a"}));
        assert!(DeploymentStrategy.validate(&ok).is_empty(), "{:?}", DeploymentStrategy.validate(&ok));
        assert_eq!(ok["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let bad = deployment(json!({"matchLabels": {"app": "a"}}), json!({"app": "b"}));
        assert_eq!(DeploymentStrategy.validate(&bad)[0].field, "spec.template.metadata.labels");
        let moved = deployment(json!({"matchLabels": {"app": "b"}}), json!({"app": "b"}));
        assert_eq!(DeploymentStrategy.validate_update(&moved, &ok)[0].field, "spec.selector");
    }

    #[test]
    fn rc_selector_defaults_to_template_labels() {
        let mut rc = json!({"spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        ReplicationControllerStrategy.default(&mut rc);
        assert_eq!(rc["spec"]["selector"], json!({"app": "x"}));
        assert!(ReplicationControllerStrategy.validate(&rc).is_empty());
    }
}
