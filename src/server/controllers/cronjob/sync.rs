//! One sync of a CronJob: bring the list of active Jobs up to date, trim the history, then
//! start the Job of the due start time if the policy allows, and look again at the next one.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::cleanup::beyond_history;
use super::due::{self, Due};
use super::schedule::{Schedule, TOO_MANY_MISSED};
use super::{CronJobController, CRON_JOB};
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref;
use crate::server::controllers::events::EventType;
use crate::server::controllers::job::finished_condition;
use crate::server::controllers::status_update::write_status;
use crate::server::registry::object;
use crate::server::registry::options::{DeleteOptions, PropagationPolicy, WriteOptions};

const SCHEDULED_AT: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Start times are looked at this long after they pass, so the clock has surely reached them.
const AFTER_START: Duration = Duration::from_millis(100);

impl CronJobController {
    pub(super) async fn sync(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        let Some(cron_job) = self.cron_jobs.get_key(key) else { return Ok(None) };
        if object::is_deleting(&cron_job) {
            return Ok(None);
        }
        let now = Timestamp::now();
        let uid = object::uid(&cron_job);
        let children: Vec<Arc<Value>> = self
            .jobs
            .list(Some(object::namespace(&cron_job)))
            .into_iter()
            .filter(|j| controller_ref::controller_uid(j) == Some(uid))
            .collect();
        let mut status: Map<String, Value> =
            cron_job.get("status").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut active = self.track_children(&cron_job, &children, &mut status).await?;
        let successful = cron_job.pointer("/spec/successfulJobsHistoryLimit").and_then(Value::as_i64);
        let failed = cron_job.pointer("/spec/failedJobsHistoryLimit").and_then(Value::as_i64);
        for job in beyond_history(&children, successful, failed) {
            self.delete_job(&cron_job, &job).await?;
        }
        let mut next = None;
        if cron_job.pointer("/spec/suspend").and_then(Value::as_bool) != Some(true) {
            next = self.maybe_start(&cron_job, &mut active, &mut status, now).await?;
        }
        if active.is_empty() {
            status.remove("active");
        } else {
            status.insert("active".into(), Value::Array(active));
        }
        write_status(&self.registry, self.rt, &cron_job, Value::Object(status)).await?;
        Ok(next.map(|at| Duration::try_from(at.duration_since(now)).unwrap_or_default() + AFTER_START))
    }

    /// The active list without finished or vanished Jobs; records the last success.
    async fn track_children(
        &self,
        cron_job: &Value,
        children: &[Arc<Value>],
        status: &mut Map<String, Value>,
    ) -> Result<Vec<Value>, ApiError> {
        let mut active: Vec<Value> = status.get("active").and_then(Value::as_array).cloned().unwrap_or_default();
        let ref_uid = |r: &Value| r.get("uid").and_then(Value::as_str).unwrap_or_default().to_string();
        let listed: HashSet<String> = active.iter().map(ref_uid).collect();
        let mut last_success = status.get("lastSuccessfulTime").and_then(Value::as_str).and_then(object::parse_time);
        for job in children {
            let name = object::name(job);
            match finished_condition(job) {
                Some(condition) => {
                    if listed.contains(object::uid(job)) {
                        active.retain(|r| ref_uid(r) != object::uid(job));
                        let message = format!("Saw completed job: {name}, condition: {condition}");
                        self.recorder.record(cron_job, EventType::Normal, "SawCompletedJob", &message).await;
                    }
                    let completed =
                        job.pointer("/status/completionTime").and_then(Value::as_str).and_then(object::parse_time);
                    if condition == "Complete" && completed > last_success {
                        last_success = completed;
                    }
                }
                None if !listed.contains(object::uid(job)) && !object::is_deleting(job) => {
                    let message = format!("Saw a job that the controller did not create or forgot: {name}");
                    self.recorder.record(cron_job, EventType::Warning, "UnexpectedJob", &message).await;
                }
                None => {}
            }
        }
        // A listed Job the cache does not show may be too new for it: ask the store.
        let known: HashSet<&str> = children.iter().map(|j| object::uid(j)).collect();
        let mut kept = Vec::new();
        for reference in active {
            let name = reference.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if !known.contains(ref_uid(&reference).as_str()) {
                match self.registry.get(self.jobs_rt, Some(object::namespace(cron_job)), &name).await {
                    Ok(job) if object::uid(&job) == ref_uid(&reference) => {}
                    Ok(_) => {
                        self.missing(cron_job, &name).await;
                        continue;
                    }
                    Err(err) if err.code == 404 => {
                        self.missing(cron_job, &name).await;
                        continue;
                    }
                    Err(err) => return Err(err),
                }
            }
            kept.push(reference);
        }
        if let Some(at) = last_success {
            status.insert("lastSuccessfulTime".into(), json!(object::format_time(at)));
        }
        Ok(kept)
    }

    async fn missing(&self, cron_job: &Value, name: &str) {
        let message = format!("Active job went missing: {name}");
        self.recorder.record(cron_job, EventType::Normal, "MissingJob", &message).await;
    }

    /// Starts the Job of the due start time if the concurrency policy allows it; returns the
    /// next start time.
    async fn maybe_start(
        &self,
        cron_job: &Value,
        active: &mut Vec<Value>,
        status: &mut Map<String, Value>,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, ApiError> {
        let time_zone = cron_job.pointer("/spec/timeZone").and_then(Value::as_str);
        let text = cron_job.pointer("/spec/schedule").and_then(Value::as_str).unwrap_or_default();
        let schedule = match Schedule::parse(text, time_zone) {
            Ok(schedule) => schedule,
            Err(why) => {
                let reason =
                    if why.starts_with("unknown time zone") { "UnknownTimeZone" } else { "UnparseableSchedule" };
                self.recorder.record(cron_job, EventType::Warning, reason, &why).await;
                return Ok(None);
            }
        };
        let timing = due::timing(cron_job, &schedule, now);
        if timing.missed > TOO_MANY_MISSED {
            let message = format!(
                "too many missed start times: {}. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                timing.missed
            );
            self.recorder.record(cron_job, EventType::Warning, "TooManyMissedTimes", &message).await;
        }
        let at = match timing.due {
            Due::Nothing => return Ok(timing.next),
            Due::Missed(at) => {
                let message = format!("Missed scheduled time to start a job: {}", schedule.format_in_zone(at));
                self.recorder.record(cron_job, EventType::Warning, "MissSchedule", &message).await;
                return Ok(timing.next);
            }
            Due::Start(at) => at,
        };
        let name = due::job_name(object::name(cron_job), at);
        let last_scheduled = status.get("lastScheduleTime").and_then(Value::as_str).and_then(object::parse_time);
        if last_scheduled == Some(at)
            || active.iter().any(|r| r.get("name").and_then(Value::as_str) == Some(name.as_str()))
        {
            return Ok(timing.next);
        }
        match cron_job.pointer("/spec/concurrencyPolicy").and_then(Value::as_str) {
            Some("Forbid") if !active.is_empty() => {
                let message = "Not starting job because prior execution is running and concurrency policy is Forbid";
                self.recorder.record(cron_job, EventType::Normal, "JobAlreadyActive", message).await;
                return Ok(timing.next);
            }
            Some("Replace") => {
                for reference in std::mem::take(active) {
                    let job = json!({"metadata": {"name": reference.get("name"), "namespace": object::namespace(cron_job),
                                                   "uid": reference.get("uid")}});
                    self.delete_job(cron_job, &job).await?;
                }
            }
            _ => {}
        }
        let job = self.job_for(cron_job, &schedule, &name, at);
        let created = match self
            .registry
            .create(self.jobs_rt, Some(object::namespace(cron_job)), job, &WriteOptions::default())
            .await
        {
            Ok(written) => {
                self.recorder
                    .record(cron_job, EventType::Normal, "SuccessfulCreate", &format!("Created job {name}"))
                    .await;
                written.object
            }
            // Created on an earlier try whose status write was lost.
            Err(err) if err.reason == "AlreadyExists" => {
                self.registry.get(self.jobs_rt, Some(object::namespace(cron_job)), &name).await?
            }
            Err(err) => {
                let message = format!("Error creating job: {}", err.message);
                self.recorder.record(cron_job, EventType::Warning, "FailedCreate", &message).await;
                return Err(err);
            }
        };
        let ours = controller_ref::controller_uid(&created) == Some(object::uid(cron_job));
        if ours && finished_condition(&created).is_none() {
            active.push(json!({"kind": "Job", "namespace": object::namespace(&created), "name": object::name(&created),
                "uid": object::uid(&created), "apiVersion": "batch/v1", "resourceVersion": object::resource_version(&created)}));
        }
        status.insert("lastScheduleTime".into(), json!(object::format_time(at)));
        Ok(timing.next)
    }

    /// The Job for start time `at`, made from the job template.
    fn job_for(&self, cron_job: &Value, schedule: &Schedule, name: &str, at: Timestamp) -> Value {
        let template = cron_job.pointer("/spec/jobTemplate").cloned().unwrap_or(Value::Null);
        let mut annotations =
            template.pointer("/metadata/annotations").and_then(Value::as_object).cloned().unwrap_or_default();
        annotations.insert(SCHEDULED_AT.into(), json!(schedule.format_in_zone(at)));
        let mut metadata = json!({
            "name": name, "namespace": object::namespace(cron_job), "annotations": annotations,
            "ownerReferences": [controller_ref::new_controller_ref(CRON_JOB, object::name(cron_job), object::uid(cron_job))],
        });
        if let Some(labels) = template.pointer("/metadata/labels").filter(|l| l.is_object()) {
            metadata["labels"] = labels.clone();
        }
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
               "spec": template.get("spec").cloned().unwrap_or_else(|| json!({}))})
    }

    async fn delete_job(&self, cron_job: &Value, job: &Value) -> Result<(), ApiError> {
        let opts = DeleteOptions {
            propagation_policy: Some(PropagationPolicy::Background),
            precondition_uid: Some(object::uid(job).to_string()).filter(|u| !u.is_empty()),
            ..Default::default()
        };
        match self.registry.delete(self.jobs_rt, Some(object::namespace(cron_job)), object::name(job), &opts).await {
            Ok(_) => {
                let message = format!("Deleted job {}", object::name(job));
                self.recorder.record(cron_job, EventType::Normal, "SuccessfulDelete", &message).await;
                Ok(())
            }
            Err(err) if err.code == 404 => Ok(()),
            Err(err) => {
                let message = format!("Error deleting job: {}", err.message);
                self.recorder.record(cron_job, EventType::Warning, "FailedDelete", &message).await;
                Err(err)
            }
        }
    }
}
