//! The pod failure back-off of a Job: after `n` failures since the last success, the next pod
//! waits 10 s · 2^(n-1) (at most 10 min) from the last failure, so a failing Job does not
//! burn through its backoffLimit in a burst.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::server::registry::object;

const INITIAL: Duration = Duration::from_secs(10);
const MAX: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackoffRecord {
    pub failures_after_last_success: u32,
    pub last_failure: Option<Timestamp>,
}

impl BackoffRecord {
    /// Folds in the finish times of pods that finished since the record was last updated.
    pub fn record(&mut self, succeeded: &[Timestamp], failed: &[Timestamp]) {
        match succeeded.iter().max() {
            None => {
                self.failures_after_last_success += failed.len() as u32;
                self.last_failure = self.last_failure.into_iter().chain(failed.iter().copied()).max();
            }
            Some(last_success) => {
                let after: Vec<Timestamp> = failed.iter().copied().filter(|t| t > last_success).collect();
                self.failures_after_last_success = after.len() as u32;
                self.last_failure = after.into_iter().max();
            }
        }
    }

    /// How long the next pod must still wait at `now`.
    pub fn remaining(&self, now: Timestamp) -> Duration {
        let Some(last_failure) = self.last_failure.filter(|_| self.failures_after_last_success > 0) else {
            return Duration::ZERO;
        };
        let doublings = (self.failures_after_last_success - 1).min(16);
        let delay = INITIAL.saturating_mul(1 << doublings).min(MAX);
        let elapsed = Duration::try_from(now.duration_since(last_failure)).unwrap_or_default();
        delay.saturating_sub(elapsed)
    }
}

/// The records of every Job, by UID; kept in memory as Kubernetes does.
#[derive(Default)]
pub struct BackoffStore {
    records: Mutex<HashMap<String, BackoffRecord>>,
}

impl BackoffStore {
    pub fn update(&self, job_uid: &str, succeeded: &[Timestamp], failed: &[Timestamp]) -> BackoffRecord {
        let mut records = self.records.lock().expect("backoff lock");
        let record = records.entry(job_uid.to_string()).or_default();
        record.record(succeeded, failed);
        record.clone()
    }

    pub fn forget(&self, job_uid: &str) {
        self.records.lock().expect("backoff lock").remove(job_uid);
    }
}

/// When a pod finished: its last container exit, else when it was deleted, else `now`.
pub fn finish_time(pod: &Value, now: Timestamp) -> Timestamp {
    let exits = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}")).and_then(Value::as_array))
        .flatten()
        .filter_map(|s| s.pointer("/state/terminated/finishedAt").and_then(Value::as_str).and_then(object::parse_time))
        .max();
    let deleted = pod.pointer("/metadata/deletionTimestamp").and_then(Value::as_str).and_then(object::parse_time);
    // A deletion time lies in the future by the grace period; the pod was failed by then.
    let deleted = deleted.map(|t| t.checked_sub(SignedDuration::from_secs(grace_seconds(pod))).unwrap_or(t));
    exits.or(deleted).unwrap_or(now)
}

fn grace_seconds(pod: &Value) -> i64 {
    pod.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn delays_double_with_failures_and_reset_on_success() {
        let mut record = BackoffRecord::default();
        assert_eq!(record.remaining(at("2024-01-01T00:00:00Z")), Duration::ZERO);
        record.record(&[], &[at("2024-01-01T00:00:00Z")]);
        assert_eq!(record.remaining(at("2024-01-01T00:00:04Z")), Duration::from_secs(6));
        record.record(&[], &[at("2024-01-01T00:00:10Z"), at("2024-01-01T00:00:12Z")]);
        // Three failures: 40 s from the last one.
        assert_eq!(record.remaining(at("2024-01-01T00:00:12Z")), Duration::from_secs(40));
        assert_eq!(record.remaining(at("2024-01-01T01:00:00Z")), Duration::ZERO);
        record.record(&[at("2024-01-01T00:00:20Z")], &[at("2024-01-01T00:00:15Z"), at("2024-01-01T00:00:25Z")]);
        assert_eq!(record.failures_after_last_success, 1);
        assert_eq!(record.remaining(at("2024-01-01T00:00:25Z")), Duration::from_secs(10));
        record.failures_after_last_success = 30;
        assert_eq!(record.remaining(at("2024-01-01T00:00:25Z")), MAX);
    }

    #[test]
    fn finish_times_come_from_container_exits() {
        let now = at("2024-01-01T01:00:00Z");
        let pod = json!({"status": {"containerStatuses": [
            {"state": {"terminated": {"finishedAt": "2024-01-01T00:00:05Z"}}},
            {"state": {"terminated": {"finishedAt": "2024-01-01T00:00:09Z"}}},
            {"state": {"running": {}}}]}});
        assert_eq!(finish_time(&pod, now), at("2024-01-01T00:00:09Z"));
        let deleted =
            json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30}});
        assert_eq!(finish_time(&deleted, now), at("2024-01-01T00:00:00Z"));
        assert_eq!(finish_time(&json!({}), now), now);
    }
}
