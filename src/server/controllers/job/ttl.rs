//! `ttlSecondsAfterFinished`: a finished Job (and, through foreground deletion, its pods) is
//! deleted that many seconds after it completed or failed.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::conditions::{self, COMPLETE, FAILED};
use crate::server::registry::object;

/// How long until a finished Job with a TTL expires (zero once it has); `None` if it has no
/// TTL or has not finished.
pub fn time_left(job: &Value, now: Timestamp) -> Option<Duration> {
    let ttl = job.pointer("/spec/ttlSecondsAfterFinished").and_then(Value::as_i64)?;
    let list = conditions::list(job);
    let finished_at = [COMPLETE, FAILED]
        .iter()
        .filter(|kind| conditions::is_true(&list, kind))
        .find_map(|kind| {
            conditions::find(&list, kind)?.get("lastTransitionTime")?.as_str().and_then(object::parse_time)
        })
        .or_else(|| {
            let completed = job.pointer("/status/completionTime").and_then(Value::as_str)?;
            object::parse_time(completed).filter(|_| conditions::finished(job))
        })?;
    let expires = finished_at.checked_add(SignedDuration::from_secs(ttl.max(0))).unwrap_or(Timestamp::MAX);
    Some(Duration::try_from(expires.duration_since(now)).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finished_jobs_expire_after_their_ttl() {
        let now: Timestamp = "2024-01-01T00:01:00Z".parse().unwrap();
        let done = |ttl: i64| {
            json!({"spec": {"ttlSecondsAfterFinished": ttl}, "status": {"conditions": [
                {"type": "Complete", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}]}})
        };
        assert_eq!(time_left(&done(100), now), Some(Duration::from_secs(40)));
        assert_eq!(time_left(&done(0), now), Some(Duration::ZERO));
        assert_eq!(time_left(&json!({"spec": {"ttlSecondsAfterFinished": 5}}), now), None);
        assert_eq!(time_left(&json!({"status": {"conditions": [{"type": "Failed", "status": "True"}]}}), now), None);
    }
}
