//! CronJobs through real kubectl: a Job named after its start minute appears at the next
//! minute and is tracked as active, and `kubectl create job --from=cronjob/…` makes a Job the
//! Job controller runs. (The scheduling rules themselves are unit-tested with a fixed clock.)

mod controllers_support;
mod harness;

use std::time::Duration;

use controllers_support::*;
use harness::{eventually, Server};

const NS: &str = "cron";

const CRON_JOB: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata:
      labels:
        made-by: tick
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox:latest
            command: ["sh", "-c", "sleep 3600"]
"#;

#[test]
fn scheduled_and_manual_jobs() {
    let server = Server::start();
    create_namespace(&server, NS);
    apply(&server, NS, CRON_JOB);

    // A manual run right away: the Job controller creates its pod.
    server.kubectl_ok(&["create", "job", "by-hand", "--from=cronjob/tick", "-n", NS]);
    let manual = get_json(&server, &["job", "by-hand", "-n", NS]);
    assert_eq!(owners(&manual), [("CronJob".to_string(), "tick".to_string(), true)]);
    wait_for_pods(&server, NS, "job-name=by-hand", 1);

    // The scheduled run at the next minute.
    let scheduled = eventually(Duration::from_secs(75), "a scheduled Job", || {
        items(&get_json(&server, &["jobs", "-n", NS, "-l", "made-by=tick"])).into_iter().find(|j| name(j) != "by-hand")
    });
    let job_name = name(&scheduled);
    let minutes: i64 = job_name.strip_prefix("tick-").and_then(|m| m.parse().ok()).expect("tick-<minutes>");
    let stamp = scheduled["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .expect("scheduled timestamp annotation");
    assert_eq!(stamp.as_second(), minutes * 60);
    assert_eq!(owners(&scheduled), [("CronJob".to_string(), "tick".to_string(), true)]);
    eventually(Duration::from_secs(30), "the CronJob status", || {
        let cron_job = get_json(&server, &["cronjob", "tick", "-n", NS]);
        let active: Vec<&str> =
            cron_job["status"]["active"].as_array().into_iter().flatten().filter_map(|r| r["name"].as_str()).collect();
        (active == [job_name.as_str()] && cron_job["status"]["lastScheduleTime"].is_string()).then_some(())
    });
    let table = server.kubectl_ok(&["get", "cronjob", "tick", "-n", NS]);
    assert!(table.contains("*/1 * * * *") && table.contains("False"), "{table}");
}
