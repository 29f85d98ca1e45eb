//! Jobs (STATUS COMPLETIONS DURATION AGE) and CronJobs (SCHEDULE TIMEZONE SUSPEND ACTIVE
//! LAST SCHEDULE AGE).

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJobSpec, CronJobStatus, JobSpec, JobStatus};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{count, flag, int, is_set, list, opt_int, text, time};
use super::format::{age, containers, human_duration, label_selector, name, since};
use super::Printer;

pub(super) static JOBS: Printer = Printer::new(&JOB_COLUMNS, job_cells);
pub(super) static CRON_JOBS: Printer = Printer::new(&CRON_JOB_COLUMNS, cron_job_cells);

static JOB_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Status", "Whether the job is running, complete, failed or suspended."),
        Column::string("Completions", doc::<JobStatus>("succeeded")),
        Column::string("Duration", "How long the job ran, or has been running."),
        Column::age(),
        Column::containers(),
        Column::images(),
        Column::string("Selector", doc::<JobSpec>("selector")).wide(),
    ]
});

static CRON_JOB_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Schedule", doc::<CronJobSpec>("schedule")),
        Column::string("Timezone", doc::<CronJobSpec>("timeZone")),
        Column::boolean("Suspend", doc::<CronJobSpec>("suspend")),
        Column::integer("Active", doc::<CronJobStatus>("active")),
        Column::string("Last Schedule", doc::<CronJobStatus>("lastScheduleTime")),
        Column::age(),
        Column::containers(),
        Column::images(),
        Column::string("Selector", doc::<JobSpec>("selector")).wide(),
    ]
});

fn job_cells(job: &Value, now: Timestamp) -> Vec<Value> {
    let succeeded = int(job, "/status/succeeded");
    let completions = match opt_int(job, "/spec/completions") {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match int(job, "/spec/parallelism") {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (time(job, "/status/startTime"), time(job, "/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(end)) => human_duration(end.duration_since(start)),
    };
    let (names, images) = containers(list(job, "/spec/template/spec/containers"));
    vec![
        name(job),
        job_status(job).into(),
        completions.into(),
        duration.into(),
        age(job, now),
        names.into(),
        images.into(),
        label_selector(job.pointer("/spec/selector")).into(),
    ]
}

/// Finished states first, then deletion, then the states a live job can be in.
fn job_status(job: &Value) -> &'static str {
    let conditions = list(job, "/status/conditions");
    // The first condition of a type decides it.
    let holds =
        |kind: &str| conditions.iter().find(|c| text(c, "/type") == kind).is_some_and(|c| text(c, "/status") == "True");
    if holds("Complete") {
        "Complete"
    } else if holds("Failed") {
        "Failed"
    } else if is_set(job, "/metadata/deletionTimestamp") {
        "Terminating"
    } else if holds("Suspended") {
        "Suspended"
    } else if holds("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn cron_job_cells(cron_job: &Value, now: Timestamp) -> Vec<Value> {
    let last_schedule = match time(cron_job, "/status/lastScheduleTime") {
        Some(last) => since(Some(last), now),
        None if is_set(cron_job, "/status/lastScheduleTime") => "<unknown>".into(),
        None => "<none>".into(),
    };
    let time_zone = match cron_job.pointer("/spec/timeZone").and_then(Value::as_str) {
        Some(zone) => zone.to_string(),
        None => "<none>".into(),
    };
    // The SUSPEND column is declared boolean but carries text, as upstream's does.
    let suspend = match flag(cron_job, "/spec/suspend") {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let template = "/spec/jobTemplate/spec";
    let (names, images) = containers(list(cron_job, &format!("{template}/template/spec/containers")));
    vec![
        name(cron_job),
        text(cron_job, "/spec/schedule").into(),
        time_zone.into(),
        suspend.into(),
        count(cron_job, "/status/active").into(),
        last_schedule.into(),
        age(cron_job, now),
        names.into(),
        images.into(),
        label_selector(cron_job.pointer(&format!("{template}/selector"))).into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn job(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default", "creationTimestamp": "2024-05-01T11:50:00Z"},
            "spec": spec,
            "status": status,
        })
    }

    fn spec(completions: Option<i64>, parallelism: i64) -> Value {
        let mut spec = json!({
            "parallelism": parallelism,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "5f3c"}},
            "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}], "restartPolicy": "Never"}}
        });
        if let Some(completions) = completions {
            spec["completions"] = json!(completions);
        }
        spec
    }

    #[test]
    fn completed_job() {
        let job = job(
            spec(Some(1), 1),
            json!({"succeeded": 1, "startTime": "2024-05-01T11:50:00Z", "completionTime": "2024-05-01T11:50:42Z",
                   "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}),
        );
        assert_eq!(
            job_cells(&job, now()),
            vec![
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("42s"),
                json!("10m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=5f3c"),
            ]
        );
    }

    #[test]
    fn running_job_duration_counts_to_now() {
        let job = job(spec(Some(5), 2), json!({"succeeded": 2, "active": 2, "startTime": "2024-05-01T11:57:00Z"}));
        let cells = job_cells(&job, now());
        assert_eq!(cells[1], "Running");
        assert_eq!(cells[2], "2/5");
        assert_eq!(cells[3], "3m");
    }

    #[test]
    fn completions_without_a_count() {
        let work_queue = job(spec(None, 3), json!({"succeeded": 1}));
        assert_eq!(job_cells(&work_queue, now())[2], "1/1 of 3");
        let single = job(spec(None, 1), json!({}));
        let cells = job_cells(&single, now());
        assert_eq!(cells[2], "0/1");
        assert_eq!(cells[3], "");
    }

    #[test]
    fn job_statuses() {
        let with = |conditions: Value| job(spec(Some(1), 1), json!({"conditions": conditions}));
        assert_eq!(
            job_status(&with(json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]))),
            "Failed"
        );
        assert_eq!(job_status(&with(json!([{"type": "Suspended", "status": "True"}]))), "Suspended");
        assert_eq!(job_status(&with(json!([{"type": "Suspended", "status": "False"}]))), "Running");
        assert_eq!(job_status(&with(json!([{"type": "FailureTarget", "status": "True"}]))), "FailureTarget");
        let mut deleted = with(json!([{"type": "Suspended", "status": "True"}]));
        deleted["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(job_status(&deleted), "Terminating");
        let mut deleted_done = with(json!([{"type": "Complete", "status": "True"}]));
        deleted_done["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(job_status(&deleted_done), "Complete");
    }

    #[test]
    fn cron_job_columns() {
        let cron_job = json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "backup", "creationTimestamp": "2024-04-29T12:00:00Z"},
            "spec": {"schedule": "*/5 * * * *", "suspend": false, "timeZone": "Etc/UTC",
                     "jobTemplate": {"spec": {"template": {"spec": {"containers": [
                         {"name": "backup", "image": "busybox:1.36"}]}}}}},
            "status": {"active": [{"kind": "Job", "name": "backup-28571520"}],
                       "lastScheduleTime": "2024-05-01T11:55:00Z"}
        });
        assert_eq!(
            cron_job_cells(&cron_job, now()),
            vec![
                json!("backup"),
                json!("*/5 * * * *"),
                json!("Etc/UTC"),
                json!("False"),
                json!(1),
                json!("5m"),
                json!("2d"),
                json!("backup"),
                json!("busybox:1.36"),
                json!("<none>"),
            ]
        );
        let fresh = json!({"metadata": {"name": "new"}, "spec": {"schedule": "@hourly"}});
        let cells = cron_job_cells(&fresh, now());
        assert_eq!(&cells[2..6], &[json!("<none>"), json!("<unset>"), json!(0), json!("<none>")]);
    }
}
