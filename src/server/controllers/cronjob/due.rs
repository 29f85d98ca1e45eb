//! Which start time of a CronJob is due at a given moment: the latest one since the last
//! scheduled run (or since creation), no older than `startingDeadlineSeconds` allows, and
//! when to look again.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::schedule::Schedule;
use crate::server::registry::object;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Nothing,
    Start(Timestamp),
    /// The start time is past its starting deadline.
    Missed(Timestamp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub due: Due,
    /// How many start times passed since the last run (a large number hints at a problem).
    pub missed: usize,
    /// The next start time after now.
    pub next: Option<Timestamp>,
}

pub fn timing(cron_job: &Value, schedule: &Schedule, now: Timestamp) -> Timing {
    let time_at = |pointer: &str| cron_job.pointer(pointer).and_then(Value::as_str).and_then(object::parse_time);
    let mut earliest =
        time_at("/status/lastScheduleTime").or_else(|| time_at("/metadata/creationTimestamp")).unwrap_or(now);
    let deadline =
        cron_job.pointer("/spec/startingDeadlineSeconds").and_then(Value::as_i64).map(SignedDuration::from_secs);
    if let Some(deadline) = deadline {
        // Start times older than the deadline would be too late anyway.
        earliest = earliest.max(now.checked_sub(deadline).unwrap_or(Timestamp::MIN));
    }
    let (latest, missed) = schedule.most_recent(earliest, now);
    let due = match (latest, deadline) {
        (None, _) => Due::Nothing,
        (Some(at), Some(deadline)) if at.checked_add(deadline).is_ok_and(|late| late < now) => Due::Missed(at),
        (Some(at), _) => Due::Start(at),
    };
    Timing { due, missed, next: schedule.next_after(now) }
}

/// The name of the Job for the start time `at`: `<cronjob>-<minutes since the epoch>`, the
/// same on every try, so a start time never runs twice.
pub fn job_name(cron_job_name: &str, at: Timestamp) -> String {
    format!("{cron_job_name}-{}", at.as_second().div_euclid(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn cron_job(last: Option<&str>, deadline: Option<i64>) -> Value {
        json!({"metadata": {"name": "cj", "creationTimestamp": "2024-01-01T00:00:30Z"},
               "spec": {"startingDeadlineSeconds": deadline}, "status": {"lastScheduleTime": last}})
    }

    #[test]
    fn start_times_come_due_once() {
        let every_minute = Schedule::parse("* * * * *", None).unwrap();
        let fresh = cron_job(None, None);
        let t = timing(&fresh, &every_minute, at("2024-01-01T00:00:50Z"));
        assert_eq!((t.due, t.next), (Due::Nothing, Some(at("2024-01-01T00:01:00Z"))));
        let t = timing(&fresh, &every_minute, at("2024-01-01T00:01:02Z"));
        assert_eq!(t.due, Due::Start(at("2024-01-01T00:01:00Z")));
        // Once run, the same start time is not due again.
        let ran = cron_job(Some("2024-01-01T00:01:00Z"), None);
        assert_eq!(timing(&ran, &every_minute, at("2024-01-01T00:01:40Z")).due, Due::Nothing);
        // After a long outage only the latest start time runs.
        let t = timing(&ran, &every_minute, at("2024-01-01T00:10:05Z"));
        assert_eq!((t.due, t.missed), (Due::Start(at("2024-01-01T00:10:00Z")), 9));
    }

    #[test]
    fn the_starting_deadline_limits_how_late_a_job_starts() {
        let hourly = Schedule::parse("@hourly", None).unwrap();
        let strict = cron_job(Some("2024-01-01T00:00:00Z"), Some(60));
        assert_eq!(timing(&strict, &hourly, at("2024-01-01T01:00:30Z")).due, Due::Start(at("2024-01-01T01:00:00Z")));
        assert_eq!(timing(&strict, &hourly, at("2024-01-01T01:05:00Z")).due, Due::Nothing);
        let lenient = cron_job(Some("2024-01-01T00:00:00Z"), None);
        assert_eq!(timing(&lenient, &hourly, at("2024-01-01T01:05:00Z")).due, Due::Start(at("2024-01-01T01:00:00Z")));
    }

    #[test]
    fn job_names_count_minutes() {
        assert_eq!(job_name("hello", at("2024-01-01T00:01:00Z")), "hello-28401121");
    }
}
