//! The status a StatefulSet reports: its pods, how many are ready and available, how many
//! run the current and the update revision, and the current revision moving on once a
//! rolling update has updated every pod and all are ready.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::identity::pod_revision;
use super::plan::is_running_and_ready;
use crate::server::controllers::pods;
use crate::server::registry::object;

pub struct Revisions<'a> {
    pub current: &'a str,
    pub update: &'a str,
}

pub fn calculate(set: &Value, pods: &[Arc<Value>], revisions: &Revisions, min_ready: i64, now: Timestamp) -> Value {
    let (mut replicas, mut ready, mut available, mut current, mut updated) = (0, 0, 0, 0, 0);
    for pod in pods {
        replicas += 1;
        if is_running_and_ready(pod) {
            ready += 1;
            if pods::is_available(pod, min_ready, now) {
                available += 1;
            }
        }
        if !object::is_deleting(pod) {
            let revision = pod_revision(pod);
            if revision == revisions.current {
                current += 1;
            }
            if revision == revisions.update {
                updated += 1;
            }
        }
    }
    let mut current_revision = revisions.current;
    let rolling =
        set.pointer("/spec/updateStrategy/type").and_then(Value::as_str).unwrap_or("RollingUpdate") == "RollingUpdate";
    if rolling && updated == replicas && ready == replicas {
        current = updated;
        current_revision = revisions.update;
    }
    let mut status = Map::new();
    if let Some(generation) = set.pointer("/metadata/generation").and_then(Value::as_i64).filter(|g| *g > 0) {
        status.insert("observedGeneration".into(), json!(generation));
    }
    status.insert("replicas".into(), json!(replicas));
    // Zero counts are left out, as Kubernetes serializes them; availableReplicas always shows.
    for (field, count) in [("readyReplicas", ready), ("currentReplicas", current), ("updatedReplicas", updated)] {
        if count > 0 {
            status.insert(field.into(), json!(count));
        }
    }
    status.insert("currentRevision".into(), json!(current_revision));
    status.insert("updateRevision".into(), json!(revisions.update));
    let collisions = set.pointer("/status/collisionCount").and_then(Value::as_i64).unwrap_or(0);
    status.insert("collisionCount".into(), json!(collisions));
    status.insert("availableReplicas".into(), json!(available));
    if let Some(conditions) = set.pointer("/status/conditions").filter(|c| !c.is_null()) {
        status.insert("conditions".into(), conditions.clone());
    }
    Value::Object(status)
}

/// When a ready pod will have been ready for minReadySeconds.
pub fn next_availability_check(pods: &[Arc<Value>], min_ready: i64, now: Timestamp) -> Option<Duration> {
    pods.iter()
        .filter_map(|pod| pods::time_until_available(pod, min_ready, now))
        .min()
        .map(|w| w + Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::statefulset::identity::REVISION_LABEL;

    fn pod(revision: &str, ready: bool) -> Arc<Value> {
        Arc::new(json!({"metadata": {"labels": {REVISION_LABEL: revision}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": "2024-01-01T00:00:00Z"}]}}))
    }

    #[test]
    fn counts_revisions_and_completes_rolling_updates() {
        let now: Timestamp = "2024-01-01T01:00:00Z".parse().unwrap();
        let set = json!({"metadata": {"generation": 2}, "spec": {"updateStrategy": {"type": "RollingUpdate"}}});
        let revisions = Revisions { current: "web-1", update: "web-2" };
        let midway = calculate(&set, &[pod("web-1", true), pod("web-2", false)], &revisions, 0, now);
        assert_eq!(
            midway,
            json!({"observedGeneration": 2, "replicas": 2, "readyReplicas": 1, "currentReplicas": 1,
                   "updatedReplicas": 1, "currentRevision": "web-1", "updateRevision": "web-2",
                   "collisionCount": 0, "availableReplicas": 1})
        );
        let done = calculate(&set, &[pod("web-2", true), pod("web-2", true)], &revisions, 0, now);
        assert_eq!((done["currentRevision"].as_str(), done["currentReplicas"].as_i64()), (Some("web-2"), Some(2)));
        let on_delete = json!({"spec": {"updateStrategy": {"type": "OnDelete"}}});
        let kept = calculate(&on_delete, &[pod("web-2", true)], &revisions, 0, now);
        assert_eq!(kept["currentRevision"], "web-1");
        assert_eq!(calculate(&set, &[], &revisions, 0, now)["currentRevision"], "web-2");
    }
}
