//! Counting a Job's finished pods exactly once, with the `batch.kubernetes.io/job-tracking`
//! finalizer as Kubernetes does: a pod keeps the finalizer until its end is recorded in the
//! Job's status (its UID in `uncountedTerminatedPods`, or its index in `completedIndexes`),
//! only then is the finalizer removed, and a recorded UID whose pod no longer carries the
//! finalizer moves into the `succeeded`/`failed` counters. A pod deleted before it was
//! counted is still counted, and no pod is counted twice.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::failure_policy::{self, Action};
use super::indexed;
use crate::server::controllers::pods;
use crate::server::registry::object;

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

pub fn has_tracking_finalizer(pod: &Value) -> bool {
    object::finalizers(pod).iter().any(|f| f == TRACKING_FINALIZER)
}

/// The Job's pods, sorted out.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Pods still running or about to (not finished, not being deleted).
    pub active: Vec<Arc<Value>>,
    /// Pods being deleted that have not finished.
    pub terminating: usize,
    /// Pods whose end is recorded for the first time in this round.
    pub newly_succeeded: Vec<Arc<Value>>,
    pub newly_failed: Vec<Arc<Value>>,
    /// A FailJob rule of the pod failure policy matched a newly failed pod.
    pub fail_job: Option<String>,
    /// Pods whose finalizer comes off once the status below is written.
    pub release: Vec<Arc<Value>>,
    pub uncounted_succeeded: BTreeSet<String>,
    pub uncounted_failed: BTreeSet<String>,
    /// Counters, with the recorded pods whose finalizer is gone moved in.
    pub succeeded: i64,
    pub failed: i64,
    pub completed_indexes: BTreeSet<i32>,
}

impl Tracking {
    /// Succeeded pods, counted or not yet.
    pub fn total_succeeded(&self, indexed: bool) -> i64 {
        if indexed {
            self.completed_indexes.len() as i64
        } else {
            self.succeeded + self.uncounted_succeeded.len() as i64
        }
    }

    pub fn total_failed(&self) -> i64 {
        self.failed + self.uncounted_failed.len() as i64
    }
}

/// Whether a pod has failed for the Job: it ended Failed, or (unless the Job only replaces
/// failed pods, as it does with a pod failure policy) it is being deleted before succeeding.
fn considered_failed(job: &Value, pod: &Value) -> bool {
    let only_failed = job.pointer("/spec/podFailurePolicy").is_some_and(|p| !p.is_null())
        || job.pointer("/spec/podReplacementPolicy").and_then(Value::as_str) == Some("Failed");
    match pods::phase(pod) {
        "Failed" => true,
        "Succeeded" => false,
        _ => !only_failed && object::is_deleting(pod),
    }
}

fn uid_set(job: &Value, field: &str) -> BTreeSet<String> {
    job.pointer(&format!("/status/uncountedTerminatedPods/{field}"))
        .and_then(Value::as_array)
        .map(|uids| uids.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

pub fn track(job: &Value, owned: &[Arc<Value>]) -> Tracking {
    let is_indexed = indexed::is_indexed(job);
    let completions = job.pointer("/spec/completions").and_then(Value::as_i64).unwrap_or(0) as i32;
    let status_int = |field: &str| job.pointer(&format!("/status/{field}")).and_then(Value::as_i64).unwrap_or(0);
    let mut t = Tracking {
        succeeded: status_int("succeeded"),
        failed: status_int("failed"),
        completed_indexes: job
            .pointer("/status/completedIndexes")
            .and_then(Value::as_str)
            .map(|text| indexed::parse_indexes(text, completions))
            .unwrap_or_default(),
        ..Default::default()
    };
    let by_uid: HashMap<&str, &Arc<Value>> = owned.iter().map(|p| (object::uid(p), p)).collect();
    let still_held = |uid: &String| by_uid.get(uid.as_str()).is_some_and(|p| has_tracking_finalizer(p));
    for uid in uid_set(job, "succeeded") {
        if still_held(&uid) {
            t.uncounted_succeeded.insert(uid);
        } else {
            t.succeeded += 1;
        }
    }
    for uid in uid_set(job, "failed") {
        if still_held(&uid) {
            t.uncounted_failed.insert(uid);
        } else {
            t.failed += 1;
        }
    }
    for pod in owned {
        let finished = matches!(pods::phase(pod), "Succeeded" | "Failed");
        if !finished && !object::is_deleting(pod) {
            t.active.push(pod.clone());
        } else if !finished {
            t.terminating += 1;
        }
        if !has_tracking_finalizer(pod) {
            continue;
        }
        let uid = object::uid(pod).to_string();
        if pods::phase(pod) == "Succeeded" && !t.uncounted_failed.contains(&uid) {
            t.release.push(pod.clone());
            if is_indexed {
                if let Some(index) = indexed::index_of(pod, completions) {
                    if t.completed_indexes.insert(index) {
                        t.newly_succeeded.push(pod.clone());
                    }
                }
            } else if t.uncounted_succeeded.insert(uid) {
                t.newly_succeeded.push(pod.clone());
            }
        } else if considered_failed(job, pod) {
            t.release.push(pod.clone());
            if t.uncounted_failed.contains(&uid) {
                continue;
            }
            match failure_policy::matching_rule(job, pod) {
                Some((Action::Ignore, _)) => continue,
                Some((Action::FailJob, message)) => {
                    t.fail_job.get_or_insert(message);
                }
                Some((Action::Count, _)) | None => {}
            }
            t.uncounted_failed.insert(uid);
            t.newly_failed.push(pod.clone());
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(uid: &str, phase: &str, finalizer: bool) -> Arc<Value> {
        let finalizers = if finalizer { json!([TRACKING_FINALIZER]) } else { json!([]) };
        Arc::new(json!({"metadata": {"uid": uid, "name": uid, "finalizers": finalizers}, "status": {"phase": phase}}))
    }

    #[test]
    fn finished_pods_are_recorded_then_counted_once() {
        let job = json!({"spec": {"completions": 3}, "status": {"succeeded": 1}});
        let pods = vec![
            pod("a", "Succeeded", true),
            pod("b", "Running", true),
            pod("c", "Failed", true),
            pod("old", "Succeeded", false),
        ];
        let t = track(&job, &pods);
        assert_eq!(t.active.len(), 1);
        assert_eq!(t.uncounted_succeeded, ["a".to_string()].into());
        assert_eq!(t.uncounted_failed, ["c".to_string()].into());
        assert_eq!((t.succeeded, t.failed, t.total_succeeded(false), t.total_failed()), (1, 0, 2, 1));
        assert_eq!(t.release.len(), 2);
        assert_eq!((t.newly_succeeded.len(), t.newly_failed.len()), (1, 1));
        // The status records them; a's finalizer came off, c's removal failed.
        let job = json!({"spec": {"completions": 3}, "status": {"succeeded": 1,
            "uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["c"]}}});
        let pods = vec![pod("a", "Succeeded", false), pod("b", "Running", true), pod("c", "Failed", true)];
        let t = track(&job, &pods);
        assert_eq!((t.succeeded, t.failed), (2, 0));
        assert!(t.uncounted_succeeded.is_empty());
        assert_eq!(t.uncounted_failed, ["c".to_string()].into());
        assert!(t.newly_failed.is_empty(), "c is not new");
        assert_eq!(t.release.len(), 1, "c's finalizer is removed again");
        // A recorded pod that is gone altogether counts too.
        let t = track(&job, &[]);
        assert_eq!((t.succeeded, t.failed), (2, 1));
    }

    #[test]
    fn deleted_pods_count_as_failed_unless_only_failed_pods_are_replaced() {
        let mut deleting = (*pod("d", "Running", true)).clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        let deleting = Arc::new(deleting);
        let t = track(&json!({"spec": {}}), std::slice::from_ref(&deleting));
        assert_eq!((t.terminating, t.total_failed(), t.active.len()), (1, 1, 0));
        let t = track(&json!({"spec": {"podReplacementPolicy": "Failed"}}), &[deleting]);
        assert_eq!((t.terminating, t.total_failed()), (1, 0));
    }

    #[test]
    fn indexed_successes_are_counted_by_index() {
        let job = json!({"spec": {"completions": 3, "completionMode": "Indexed"}, "status": {"completedIndexes": "0"}});
        let mut one = (*pod("a", "Succeeded", true)).clone();
        one["metadata"]["annotations"] = json!({indexed::INDEX_KEY: "1"});
        let mut zero_again = (*pod("b", "Succeeded", true)).clone();
        zero_again["metadata"]["annotations"] = json!({indexed::INDEX_KEY: "0"});
        let t = track(&job, &[Arc::new(one), Arc::new(zero_again)]);
        assert_eq!(t.completed_indexes, [0, 1].into());
        assert_eq!((t.total_succeeded(true), t.newly_succeeded.len(), t.release.len()), (2, 1, 2));
    }

    #[test]
    fn the_failure_policy_can_ignore_or_fail_the_job() {
        let job = json!({"spec": {"podFailurePolicy": {"rules": [
            {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}},
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [4]}}]}}});
        let failed = |uid: &str, code: i64| {
            let mut p = (*pod(uid, "Failed", true)).clone();
            p["status"]["containerStatuses"] = json!([{"name": "c", "state": {"terminated": {"exitCode": code}}}]);
            Arc::new(p)
        };
        let t = track(&job, &[failed("ignored", 3)]);
        assert_eq!((t.total_failed(), t.release.len(), t.fail_job.is_none()), (0, 1, true));
        let t = track(&job, &[failed("fatal", 4)]);
        assert_eq!(t.total_failed(), 1);
        assert!(t.fail_job.unwrap().contains("matching FailJob rule at index 1"));
    }
}
