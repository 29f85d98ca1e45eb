//! What pod controllers read from a pod: whether it still counts (active), whether it is
//! ready, and whether it has been ready long enough to be available.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::server::registry::object;

pub fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or_default()
}

pub fn node_name(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or_default()
}

/// A pod that counts towards its controller's replicas: not finished and not being deleted.
pub fn is_active(pod: &Value) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && !object::is_deleting(pod)
}

fn ready_condition(pod: &Value) -> Option<&Value> {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
}

pub fn is_ready(pod: &Value) -> bool {
    ready_condition(pod).and_then(|c| c.get("status")).and_then(Value::as_str) == Some("True")
}

/// When a ready pod became ready (the Ready condition's last transition), if recorded.
pub fn ready_since(pod: &Value) -> Option<Timestamp> {
    let condition = ready_condition(pod)?;
    if condition.get("status").and_then(Value::as_str) != Some("True") {
        return None;
    }
    condition.get("lastTransitionTime").and_then(Value::as_str).and_then(object::parse_time)
}

pub fn created_at(obj: &Value) -> Option<Timestamp> {
    obj.pointer("/metadata/creationTimestamp").and_then(Value::as_str).and_then(object::parse_time)
}

/// Ready for at least `min_ready_seconds` at `now`.
pub fn is_available(pod: &Value, min_ready_seconds: i64, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    // A minReadySeconds past the end of time is never reached.
    ready_since(pod).is_some_and(|since| {
        since.checked_add(jiff::SignedDuration::from_secs(min_ready_seconds)).is_ok_and(|at| at < now)
    })
}

/// How long until a ready pod that is not yet available becomes available.
pub fn time_until_available(pod: &Value, min_ready_seconds: i64, now: Timestamp) -> Option<Duration> {
    if min_ready_seconds <= 0 || !is_ready(pod) || is_available(pod, min_ready_seconds, now) {
        return None;
    }
    let since = ready_since(pod)?;
    let at = since.checked_add(jiff::SignedDuration::from_secs(min_ready_seconds)).ok()?;
    Some(Duration::try_from(at.duration_since(now)).unwrap_or_default())
}

/// The highest restart count among the pod's containers.
pub fn max_restarts(pod: &Value) -> i64 {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|statuses| statuses.iter().filter_map(|s| s.get("restartCount").and_then(Value::as_i64)).max())
        .unwrap_or_default()
        .unwrap_or(0)
}

/// The `controller.kubernetes.io/pod-deletion-cost` annotation (0 if absent or invalid).
pub fn deletion_cost(pod: &Value) -> i32 {
    pod.pointer("/metadata/annotations/controller.kubernetes.io~1pod-deletion-cost")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ready_pod(since: &str) -> Value {
        json!({"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": since}]}})
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let now: Timestamp = "2024-01-01T00:00:10Z".parse().unwrap();
        let pod = ready_pod("2024-01-01T00:00:05Z");
        assert!(is_available(&pod, 0, now));
        assert!(is_available(&pod, 4, now));
        assert!(!is_available(&pod, 5, now));
        assert_eq!(time_until_available(&pod, 8, now), Some(Duration::from_secs(3)));
        assert_eq!(time_until_available(&pod, 4, now), None);
        let not_ready = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert!(!is_available(&not_ready, 0, now));
        assert!(is_active(&not_ready));
        assert!(!is_active(&json!({"status": {"phase": "Failed"}})));
        assert!(!is_active(&json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})));
    }

    #[test]
    fn restarts_and_deletion_cost() {
        let pod = json!({
            "metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "-7"}},
            "status": {"containerStatuses": [{"restartCount": 2}, {"restartCount": 5}]},
        });
        assert_eq!(max_restarts(&pod), 5);
        assert_eq!(deletion_cost(&pod), -7);
        assert_eq!(deletion_cost(&json!({})), 0);
    }
}
