//! The Jobs history of a CronJob: finished Jobs beyond `successfulJobsHistoryLimit` and
//! `failedJobsHistoryLimit` are deleted, oldest start first.

use std::sync::Arc;

use serde_json::Value;

use crate::server::controllers::job::finished_condition;
use crate::server::registry::object;

/// The finished Jobs over their history limit (no limit keeps everything).
pub fn beyond_history(
    jobs: &[Arc<Value>],
    successful_limit: Option<i64>,
    failed_limit: Option<i64>,
) -> Vec<Arc<Value>> {
    let mut doomed = Vec::new();
    for (wanted, limit) in [("Complete", successful_limit), ("Failed", failed_limit)] {
        let Some(limit) = limit else { continue };
        let mut finished: Vec<&Arc<Value>> =
            jobs.iter().filter(|j| finished_condition(j) == Some(wanted) && !object::is_deleting(j)).collect();
        // Jobs that never started sort last, as Kubernetes orders them.
        finished.sort_by_key(|j| {
            let start = j.pointer("/status/startTime").and_then(Value::as_str).and_then(object::parse_time);
            (start.is_none(), start, object::name(j).to_string())
        });
        let excess = finished.len().saturating_sub(usize::try_from(limit).unwrap_or(0));
        doomed.extend(finished.into_iter().take(excess).cloned());
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(name: &str, condition: &str, start: Option<&str>) -> Arc<Value> {
        Arc::new(json!({"metadata": {"name": name}, "status": {"startTime": start,
            "conditions": [{"type": condition, "status": "True"}]}}))
    }

    #[test]
    fn oldest_finished_jobs_go_first() {
        let jobs = vec![
            job("c3", "Complete", Some("2024-01-01T00:03:00Z")),
            job("c1", "Complete", Some("2024-01-01T00:01:00Z")),
            job("c2", "Complete", Some("2024-01-01T00:02:00Z")),
            job("f1", "Failed", Some("2024-01-01T00:01:00Z")),
            job("f2", "Failed", None),
            job("running", "Suspended", Some("2024-01-01T00:00:00Z")),
        ];
        let names = |v: Vec<Arc<Value>>| v.iter().map(|j| object::name(j).to_string()).collect::<Vec<_>>();
        assert_eq!(names(beyond_history(&jobs, Some(1), Some(1))), ["c1", "c2", "f1"]);
        assert_eq!(names(beyond_history(&jobs, None, Some(0))), ["f1", "f2"]);
        assert!(beyond_history(&jobs, Some(5), None).is_empty());
    }
}
