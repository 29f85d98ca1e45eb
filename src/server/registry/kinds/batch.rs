//! Jobs and CronJobs: defaults, the generated selector of a Job, and template rules.

use serde_json::{json, Value};

use super::defaults::{set_default, str_at};
use super::pod_spec::{default_pod_spec, validate_pod_spec};
use super::Strategy;
use crate::server::api_error::Cause;

pub struct JobStrategy;
pub struct CronJobStrategy;

const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";

fn default_job_spec(spec: &mut Value) {
    let completions_set = spec.get("completions").is_some_and(|v| !v.is_null());
    let parallelism_set = spec.get("parallelism").is_some_and(|v| !v.is_null());
    if !completions_set && !parallelism_set {
        spec["completions"] = json!(1);
    }
    set_default(spec, &["parallelism"], json!(1));
    set_default(spec, &["backoffLimit"], json!(6));
    set_default(spec, &["completionMode"], json!("NonIndexed"));
    set_default(spec, &["suspend"], json!(false));
    set_default(spec, &["manualSelector"], json!(false));
    set_default(spec, &["podReplacementPolicy"], json!("TerminatingOrFailed"));
    if let Some(pod) = spec.pointer_mut("/template/spec") {
        default_pod_spec(pod);
    }
}

fn validate_job_template(spec: &Value, path: &str) -> Vec<Cause> {
    let Some(pod) = spec.pointer("/template/spec") else { return vec![Cause::required(format!("{path}.template"))] };
    let mut causes = validate_pod_spec(pod, &format!("{path}.template.spec"));
    let restart = str_at(pod, &["restartPolicy"]);
    if !["OnFailure", "Never"].contains(&restart) {
        causes.push(Cause::unsupported(
            format!("{path}.template.spec.restartPolicy"),
            restart,
            &["OnFailure", "Never"],
        ));
    }
    causes
}

impl Strategy for JobStrategy {
    fn default(&self, obj: &mut Value) {
        if let Some(spec) = obj.get_mut("spec") {
            default_job_spec(spec);
        }
    }

    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({});
        // Unless the user manages the selector, the Job selects its pods by its own uid.
        if obj.pointer("/spec/manualSelector") == Some(&json!(true)) {
            return;
        }
        let uid = str_at(obj, &["metadata", "uid"]).to_string();
        let name = str_at(obj, &["metadata", "name"]).to_string();
        obj["spec"]["selector"] = json!({"matchLabels": {CONTROLLER_UID: uid}});
        let labels = {
            set_default(obj, &["spec", "template", "metadata", "labels"], json!({}));
            obj.pointer_mut("/spec/template/metadata/labels").and_then(Value::as_object_mut).expect("just set")
        };
        for (key, value) in [(CONTROLLER_UID, &uid), (JOB_NAME, &name), ("controller-uid", &uid), ("job-name", &name)] {
            labels.insert(key.into(), json!(value));
        }
    }

    fn validate(&self, obj: &Value) -> Vec<Cause> {
        let Some(spec) = obj.get("spec") else { return vec![Cause::required("spec")] };
        let mut causes = validate_job_template(spec, "spec");
        for field in ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"] {
            if let Some(n) = spec.get(field).and_then(Value::as_i64) {
                if n < 0 {
                    causes.push(Cause::invalid(format!("spec.{field}"), n, "must be greater than or equal to 0"));
                }
            }
        }
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        let mut causes = Vec::new();
        for field in ["selector", "template", "completionMode"] {
            if new.pointer(&format!("/spec/{field}")) != old.pointer(&format!("/spec/{field}")) {
                causes.push(Cause::invalid(
                    format!("spec.{field}"),
                    new.pointer(&format!("/spec/{field}")).cloned().unwrap_or(Value::Null),
                    "field is immutable",
                ));
            }
        }
        causes
    }
}

impl Strategy for CronJobStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "concurrencyPolicy"], json!("Allow"));
        set_default(obj, &["spec", "suspend"], json!(false));
        set_default(obj, &["spec", "successfulJobsHistoryLimit"], json!(3));
        set_default(obj, &["spec", "failedJobsHistoryLimit"], json!(1));
        if let Some(spec) = obj.pointer_mut("/spec/jobTemplate/spec") {
            default_job_spec(spec);
        }
    }

    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({});
    }

    fn validate(&self, obj: &Value) -> Vec<Cause> {
        let mut causes = Vec::new();
        let schedule = str_at(obj, &["spec", "schedule"]);
        if schedule.is_empty() {
            causes.push(Cause::required("spec.schedule"));
        } else if !schedule.starts_with('@') && schedule.split_whitespace().count() != 5 {
            causes.push(Cause::invalid("spec.schedule", schedule, "unparseable schedule: expected exactly 5 fields"));
        }
        let policy = str_at(obj, &["spec", "concurrencyPolicy"]);
        if !["Allow", "Forbid", "Replace"].contains(&policy) {
            causes.push(Cause::unsupported("spec.concurrencyPolicy", policy, &["Allow", "Forbid", "Replace"]));
        }
        match obj.pointer("/spec/jobTemplate/spec") {
            Some(spec) => causes.extend(validate_job_template(spec, "spec.jobTemplate.spec")),
            None => causes.push(Cause::required("spec.jobTemplate")),
        }
        causes
    }
}
