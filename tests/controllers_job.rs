//! Jobs through real kubectl: on a real node (pods really run busybox) a Job completes with
//! the right number of pods, an Indexed Job gives each pod its index, a failing Job stops at
//! its backoffLimit; without a node, suspend/resume, activeDeadlineSeconds and
//! ttlSecondsAfterFinished.

mod controllers_support;
mod harness;

use std::time::Duration;

use controllers_support::*;
use harness::{eventually, Server};
use serde_json::Value;

const NS: &str = "batch";

fn job(name: &str, spec: &str, script: &str) -> String {
    format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{spec}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "{script}"]
"#
    )
}

fn condition_types(job: &Value) -> Vec<String> {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .map(|c| c["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn wait_condition(server: &Server, name: &str, condition: &str) {
    server.kubectl_ok(&[
        "wait",
        "-n",
        NS,
        &format!("--for=condition={condition}"),
        &format!("job/{name}"),
        "--timeout=120s",
    ]);
}

#[test]
fn jobs_run_to_completion_or_to_their_backoff_limit() {
    let server = Server::start_node();
    create_namespace(&server, NS);
    apply(&server, NS, &job("three", "  completions: 3\n  parallelism: 2", "exit 0"));
    apply(
        &server,
        NS,
        &job(
            "indexed",
            "  completions: 3\n  parallelism: 3\n  completionMode: Indexed",
            "test -n \\\"$JOB_COMPLETION_INDEX\\\"",
        ),
    );
    apply(&server, NS, &job("failing", "  backoffLimit: 1", "exit 3"));

    wait_condition(&server, "three", "complete");
    let three = get_json(&server, &["job", "three", "-n", NS]);
    assert_eq!(three["status"]["succeeded"], 3, "{}", three["status"]);
    assert_eq!(condition_types(&three), ["SuccessCriteriaMet", "Complete"]);
    assert!(three["status"]["completionTime"].is_string());
    assert_eq!(three["status"]["uncountedTerminatedPods"], serde_json::json!({}));
    let three_pods = pods(&server, NS, "job-name=three");
    assert_eq!(three_pods.len(), 3);
    for pod in &three_pods {
        assert_eq!(pod["status"]["phase"], "Succeeded");
        assert!(pod["metadata"]["finalizers"].as_array().is_none_or(|f| f.is_empty()), "finalizer released: {pod}");
    }
    let table = server.kubectl_ok(&["get", "job", "three", "-n", NS]);
    assert!(table.contains("3/3") && table.contains("Complete"), "{table}");

    wait_condition(&server, "indexed", "complete");
    let indexed = get_json(&server, &["job", "indexed", "-n", NS]);
    assert_eq!(indexed["status"]["completedIndexes"], "0-2", "{}", indexed["status"]);
    let mut indexes: Vec<String> = pods(&server, NS, "job-name=indexed")
        .iter()
        .map(|p| {
            p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    indexes.sort();
    assert_eq!(indexes, ["0", "1", "2"]);

    wait_condition(&server, "failing", "failed");
    let failing = get_json(&server, &["job", "failing", "-n", NS]);
    assert_eq!(failing["status"]["failed"], 2, "{}", failing["status"]);
    assert_eq!(condition_types(&failing), ["FailureTarget", "Failed"]);
    let failed =
        failing["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Failed").cloned().unwrap();
    assert_eq!(failed["reason"], "BackoffLimitExceeded");
    // The second pod waited out the back-off after the first failure.
    let mut starts: Vec<jiff::Timestamp> = pods(&server, NS, "job-name=failing")
        .iter()
        .filter_map(|p| p["metadata"]["creationTimestamp"].as_str().and_then(|t| t.parse().ok()))
        .collect();
    starts.sort();
    assert_eq!(starts.len(), 2);
    assert!(starts[1].duration_since(starts[0]) >= jiff::SignedDuration::from_secs(9), "{starts:?}");
}

#[test]
fn suspend_deadline_and_ttl_without_a_node() {
    let server = Server::start();
    create_namespace(&server, NS);
    apply(&server, NS, &job("paused", "  suspend: true\n  parallelism: 2\n  completions: 4", "exit 0"));
    eventually(Duration::from_secs(30), "the Suspended condition", || {
        condition_types(&get_json(&server, &["job", "paused", "-n", NS]))
            .contains(&"Suspended".to_string())
            .then_some(())
    });
    assert!(live_pods(&server, NS, "job-name=paused").is_empty());
    server.kubectl_ok(&["patch", "job", "paused", "-n", NS, "--type=merge", "-p", r#"{"spec": {"suspend": false}}"#]);
    wait_for_pods(&server, NS, "job-name=paused", 2);
    let paused = get_json(&server, &["job", "paused", "-n", NS]);
    assert!(paused["status"]["startTime"].is_string());
    let suspended =
        paused["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Suspended").cloned().unwrap();
    assert_eq!((suspended["status"].as_str(), suspended["reason"].as_str()), (Some("False"), Some("JobResumed")));
    for pod in live_pods(&server, NS, "job-name=paused") {
        assert_eq!(pod["metadata"]["finalizers"], serde_json::json!(["batch.kubernetes.io/job-tracking"]));
    }
    server.kubectl_ok(&["patch", "job", "paused", "-n", NS, "--type=merge", "-p", r#"{"spec": {"suspend": true}}"#]);
    wait_for_pods(&server, NS, "job-name=paused", 0);

    // Its pods never run: the deadline fails the Job, the TTL then deletes it.
    apply(&server, NS, &job("late", "  activeDeadlineSeconds: 2\n  ttlSecondsAfterFinished: 3", "sleep 100"));
    wait_for_pods(&server, NS, "job-name=late", 1);
    wait_condition(&server, "late", "failed");
    let late = get_json(&server, &["job", "late", "-n", NS]);
    let failed =
        late["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Failed").cloned().unwrap();
    assert_eq!(failed["reason"], "DeadlineExceeded");
    assert_eq!(failed["message"], "Job was active longer than specified deadline");
    assert!(live_pods(&server, NS, "job-name=late").is_empty());
    eventually(Duration::from_secs(30), "the finished Job deleted after its TTL", || {
        server.kubectl(&["get", "job", "late", "-n", NS]).stdout.is_empty().then_some(())
    });
}
