//! Pods: PodSpec defaults, admission defaults (service account, tolerations), the initial
//! status, update rules and graceful deletion.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{json, Value};

use super::defaults::{set_default, str_at};
use super::pod_spec::{default_pod_spec, validate_pod_spec};
use super::Strategy;
use crate::server::api_error::Cause;

pub struct PodStrategy;

/// How long pods tolerate a not-ready or unreachable node before eviction, unless they say
/// (the server's `--default-toleration-seconds`; one per process like the flag).
static DEFAULT_TOLERATION_SECONDS: AtomicI64 = AtomicI64::new(300);

pub fn set_default_toleration_seconds(seconds: i64) {
    DEFAULT_TOLERATION_SECONDS.store(seconds.max(0), Ordering::Relaxed);
}

impl Strategy for PodStrategy {
    fn default(&self, obj: &mut Value) {
        let Some(spec) = obj.get_mut("spec") else { return };
        default_pod_spec(spec);
        set_default(spec, &["serviceAccountName"], json!("default"));
        let sa = spec["serviceAccountName"].clone();
        set_default(spec, &["serviceAccount"], sa);
        set_default(spec, &["priority"], json!(0));
        default_tolerations(spec);
    }

    fn prepare_create(&self, obj: &mut Value) {
        let qos = qos_class(obj.get("spec").unwrap_or(&Value::Null));
        obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        if let Some(spec) = obj.get_mut("spec") {
            mount_service_account_token(spec);
        }
    }

    fn validate(&self, obj: &Value) -> Vec<Cause> {
        match obj.get("spec") {
            Some(spec) => validate_pod_spec(spec, "spec"),
            None => vec![Cause::required("spec")],
        }
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        let (Some(new_spec), Some(old_spec)) = (new.get("spec"), old.get("spec")) else { return Vec::new() };
        // Only images, activeDeadlineSeconds, added tolerations and the grace period may change.
        let mut allowed = old_spec.clone();
        for list in ["containers", "initContainers"] {
            let new_images: Vec<Value> = new_spec
                .get(list)
                .and_then(Value::as_array)
                .map(|cs| cs.iter().map(|c| c.get("image").cloned().unwrap_or(Value::Null)).collect())
                .unwrap_or_default();
            if let Some(cs) = allowed.get_mut(list).and_then(Value::as_array_mut) {
                if cs.len() == new_images.len() {
                    for (c, image) in cs.iter_mut().zip(new_images) {
                        c["image"] = image;
                    }
                }
            }
        }
        for field in ["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"] {
            match new_spec.get(field) {
                Some(v) => allowed[field] = v.clone(),
                None => {
                    allowed.as_object_mut().map(|m| m.remove(field));
                }
            }
        }
        if &allowed != new_spec {
            return vec![Cause::forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            )];
        }
        Vec::new()
    }

    fn grace_period(&self, obj: &Value, requested: Option<i64>) -> Option<i64> {
        let scheduled = !str_at(obj, &["spec", "nodeName"]).is_empty();
        let finished = matches!(str_at(obj, &["status", "phase"]), "Succeeded" | "Failed");
        if !scheduled || finished {
            return Some(0);
        }
        let grace = requested
            .or_else(|| obj.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
            .unwrap_or(30);
        Some(grace.max(0))
    }
}

/// Where pods find their ServiceAccount credentials.
pub const SERVICE_ACCOUNT_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Lifetime the kubelet asks for when it requests the projected token (as upstream).
const TOKEN_SECONDS: i64 = 3607;

/// The ServiceAccount admission plugin's work: a projected `kube-api-access-*` volume with a
/// token, the cluster CA and the namespace, mounted into every container, unless the pod or
/// a container opts out.
fn mount_service_account_token(spec: &mut Value) {
    if spec.get("automountServiceAccountToken") == Some(&json!(false)) {
        return;
    }
    let already = |c: &Value| {
        c.get("volumeMounts")
            .and_then(Value::as_array)
            .is_some_and(|m| m.iter().any(|m| str_at(m, &["mountPath"]) == SERVICE_ACCOUNT_MOUNT))
    };
    let name = format!("kube-api-access-{}", crate::server::registry::object::random_suffix(5));
    let volume = json!({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_SECONDS, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}});
    let mut used = false;
    for list in ["initContainers", "containers"] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            if already(c) {
                continue;
            }
            let mounts = c.as_object_mut().expect("container").entry("volumeMounts").or_insert_with(|| json!([]));
            if let Some(mounts) = mounts.as_array_mut() {
                mounts.push(json!({"name": name, "readOnly": true, "mountPath": SERVICE_ACCOUNT_MOUNT}));
                used = true;
            }
        }
    }
    if used {
        let volumes = spec.as_object_mut().expect("spec").entry("volumes").or_insert_with(|| json!([]));
        if let Some(volumes) = volumes.as_array_mut() {
            volumes.push(volume);
        }
    }
}

/// Adds the NoExecute tolerations for not-ready and unreachable nodes (the
/// DefaultTolerationSeconds admission plugin), unless the pod has its own.
fn default_tolerations(spec: &mut Value) {
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        let tolerations =
            spec.as_object_mut().expect("spec is an object").entry("tolerations").or_insert_with(|| json!([]));
        let Some(list) = tolerations.as_array_mut() else { return };
        let covered = list.iter().any(|t| {
            let t_key = t.get("key").and_then(Value::as_str).unwrap_or_default();
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or_default();
            (t_key == key || (t_key.is_empty() && str_at(t, &["operator"]) == "Exists"))
                && (effect.is_empty() || effect == "NoExecute")
        });
        if !covered {
            let seconds = DEFAULT_TOLERATION_SECONDS.load(Ordering::Relaxed);
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}));
        }
    }
}

/// Guaranteed, Burstable or BestEffort, from the containers' requests and limits.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .flat_map(|l| spec.get(*l).and_then(Value::as_array).into_iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for resource in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(resource));
            let request = requests.and_then(|r| r.get(resource)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&json!({"containers": [{"name": "a"}]})), "BestEffort");
        let limited = json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(qos_class(&limited), "Guaranteed");
        let requested = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(qos_class(&requested), "Burstable");
    }

    #[test]
    fn only_images_may_change_in_place() {
        let old = json!({"spec": {"containers": [{"name": "a", "image": "nginx:1"}]}});
        let image = json!({"spec": {"containers": [{"name": "a", "image": "nginx:2"}]}});
        assert!(PodStrategy.validate_update(&image, &old).is_empty());
        let port =
            json!({"spec": {"containers": [{"name": "a", "image": "nginx:1", "ports": [{"containerPort": 80}]}]}});
        assert_eq!(PodStrategy.validate_update(&port, &old)[0].reason, "FieldValueForbidden");
    }

    #[test]
    fn unscheduled_pods_go_at_once() {
        let pending = json!({"spec": {"terminationGracePeriodSeconds": 30}});
        assert_eq!(PodStrategy.grace_period(&pending, None), Some(0));
        let running =
            json!({"spec": {"nodeName": "n", "terminationGracePeriodSeconds": 30}, "status": {"phase": "Running"}});
        assert_eq!(PodStrategy.grace_period(&running, None), Some(30));
        assert_eq!(PodStrategy.grace_period(&running, Some(0)), Some(0));
    }
}
