//! The status a ReplicaSet (or ReplicationController) reports about the pods it owns.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::server::api_error::ApiError;
use crate::server::controllers::pods;
use crate::server::registry::label_selector::labels_of;
use crate::server::registry::object;

const REPLICA_FAILURE: &str = "ReplicaFailure";

pub fn desired_replicas(owner: &Value) -> i64 {
    owner.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

pub fn min_ready_seconds(owner: &Value) -> i64 {
    owner.pointer("/spec/minReadySeconds").and_then(Value::as_i64).unwrap_or(0)
}

/// The status for `owned` (the active pods the controller owns); `manage_error` is what went
/// wrong creating or deleting pods in this round, reported as the ReplicaFailure condition.
pub fn calculate(owner: &Value, owned: &[Arc<Value>], manage_error: Option<&ApiError>, now: Timestamp) -> Value {
    let template_labels: Vec<(&String, &str)> = owner
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k, v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    let min_ready = min_ready_seconds(owner);
    let mut fully_labeled = 0;
    let mut ready = 0;
    let mut available = 0;
    for pod in owned {
        let labels = labels_of(pod);
        if template_labels.iter().all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v)) {
            fully_labeled += 1;
        }
        if pods::is_ready(pod) {
            ready += 1;
            if pods::is_available(pod, min_ready, now) {
                available += 1;
            }
        }
    }
    let mut conditions: Vec<Value> =
        owner.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let failure = conditions.iter().position(|c| c.get("type").and_then(Value::as_str) == Some(REPLICA_FAILURE));
    match (manage_error, failure) {
        (Some(err), None) => {
            let wanted = desired_replicas(owner);
            let have = owned.len() as i64;
            let reason = match have.cmp(&wanted) {
                std::cmp::Ordering::Less => "FailedCreate",
                std::cmp::Ordering::Greater => "FailedDelete",
                std::cmp::Ordering::Equal => "",
            };
            conditions.push(json!({
                "type": REPLICA_FAILURE, "status": "True", "lastTransitionTime": object::format_time(now),
                "reason": reason, "message": err.message,
            }));
        }
        (None, Some(i)) => {
            conditions.remove(i);
        }
        _ => {}
    }
    let mut status = Map::new();
    status.insert("replicas".into(), json!(owned.len()));
    // Zero counts are left out, as Kubernetes serializes them.
    for (field, count) in
        [("fullyLabeledReplicas", fully_labeled), ("readyReplicas", ready), ("availableReplicas", available)]
    {
        if count > 0 {
            status.insert(field.into(), json!(count));
        }
    }
    if let Some(generation) = owner.pointer("/metadata/generation").and_then(Value::as_i64).filter(|g| *g > 0) {
        status.insert("observedGeneration".into(), json!(generation));
    }
    if !conditions.is_empty() {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    Value::Object(status)
}

/// When to look again because a ready pod will have been ready for minReadySeconds.
pub fn next_availability_check(owner: &Value, owned: &[Arc<Value>], now: Timestamp) -> Option<Duration> {
    let min_ready = min_ready_seconds(owner);
    owned
        .iter()
        .filter_map(|pod| pods::time_until_available(pod, min_ready, now))
        .min()
        // Availability needs readiness for strictly longer than minReadySeconds.
        .map(|wait| wait + Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(labels: Value, ready_since: Option<&str>) -> Arc<Value> {
        let conditions = match ready_since {
            Some(t) => json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]),
            None => json!([]),
        };
        Arc::new(json!({"metadata": {"labels": labels}, "status": {"conditions": conditions}}))
    }

    #[test]
    fn counts_labels_readiness_and_availability() {
        let now: Timestamp = "2024-01-01T00:01:00Z".parse().unwrap();
        let rs = json!({
            "metadata": {"generation": 4},
            "spec": {"replicas": 3, "minReadySeconds": 30,
                     "template": {"metadata": {"labels": {"app": "a", "tier": "web"}}}},
        });
        let owned = vec![
            pod(json!({"app": "a", "tier": "web"}), Some("2024-01-01T00:00:00Z")),
            pod(json!({"app": "a"}), Some("2024-01-01T00:00:50Z")),
            pod(json!({"app": "a", "tier": "web", "extra": "x"}), None),
        ];
        let status = calculate(&rs, &owned, None, now);
        assert_eq!(
            status,
            json!({"replicas": 3, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 1,
                   "observedGeneration": 4})
        );
        // The second pod becomes available 30 s after 00:00:50, i.e. in 20 s (+1 s margin).
        assert_eq!(next_availability_check(&rs, &owned, now), Some(Duration::from_secs(21)));
    }

    #[test]
    fn failures_become_a_condition_until_a_round_succeeds() {
        let now: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let mut rs = json!({"spec": {"replicas": 2}});
        let failed = calculate(&rs, &[], Some(&ApiError::forbidden("quota exceeded")), now);
        assert_eq!(failed["replicas"], 0);
        assert_eq!(failed["conditions"][0]["reason"], "FailedCreate");
        assert_eq!(failed["conditions"][0]["message"], "quota exceeded");
        rs["status"] = failed;
        let recovered = calculate(&rs, &[], None, now);
        assert!(recovered.get("conditions").is_none());
    }
}
