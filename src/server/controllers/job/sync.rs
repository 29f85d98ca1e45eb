//! One sync of a Job: claim its pods, record the ones that finished, judge whether the Job
//! has succeeded or failed, run the right number of pods (or none, when suspended or
//! finishing), write the status, and only then release the finished pods' finalizers.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};

use super::backoff::{finish_time, BackoffRecord};
use super::conditions::{self, Outcome};
use super::tracking::{self, has_tracking_finalizer, Tracking, TRACKING_FINALIZER};
use super::{indexed, ttl, JobController, JOB};
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::{self, Claimer};
use crate::server::controllers::events::EventType;
use crate::server::controllers::informer::{cache_key, split_key};
use crate::server::controllers::pod_control::{generate_name_prefix, in_slow_start_batches, namespace_terminating};
use crate::server::controllers::pod_routing::spec_selector;
use crate::server::controllers::pods;
use crate::server::controllers::status_update::write_status;
use crate::server::registry::options::{DeleteOptions, PropagationPolicy};
use crate::server::registry::{object, UpdateKind};

/// At most this many pods are created in one sync.
const BURST: usize = 500;
/// How soon to look again at a Job whose cache is behind this controller's own write.
const CACHE_WAIT: Duration = Duration::from_millis(50);

/// What this round did to the pods.
#[derive(Default)]
struct Managed {
    created: usize,
    deleted: usize,
    /// Creations are held back by the failure back-off until then.
    retry_after: Option<Duration>,
}

impl JobController {
    pub(super) async fn sync(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        let Some(job) = self.jobs.get_key(key) else {
            self.release_orphans(key).await?;
            return Ok(None);
        };
        if !self.cache_caught_up(key, &job) {
            return Ok(Some(CACHE_WAIT));
        }
        let Some(selector) = spec_selector(&job) else {
            tracing::warn!(controller = super::COMPONENT, %key, "invalid or empty selector; nothing to manage");
            return Ok(None);
        };
        let now = Timestamp::now();
        // Read before listing pods: expectations met now mean the pod cache is new enough.
        let needs_sync = self.expectations.satisfied(key);
        let claimer =
            Claimer { registry: &self.registry, owner_rt: self.rt, owner: &job, kind: JOB, child: self.pods_rt };
        let owned =
            claimer.claim(self.pods.list(Some(object::namespace(&job))), |p| selector.matches_object(p)).await?;
        if object::is_deleting(&job) || conditions::finished(&job) {
            // Nothing more is counted: leftover finalizers only keep pods from going away.
            let held: Vec<Arc<Value>> = owned.into_iter().filter(|p| has_tracking_finalizer(p)).collect();
            self.release(&held).await?;
            return self.expire(&job, now).await;
        }
        let tracking = tracking::track(&job, &owned);
        let finished_at = |pods: &[Arc<Value>]| pods.iter().map(|p| finish_time(p, now)).collect::<Vec<_>>();
        let backoff = self.backoff.update(
            object::uid(&job),
            &finished_at(&tracking.newly_succeeded),
            &finished_at(&tracking.newly_failed),
        );
        let mut conds = conditions::list(&job);
        let now_text = object::format_time(now);
        let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
        let mut start_time = job.pointer("/status/startTime").and_then(Value::as_str).map(str::to_string);
        let outcome =
            conditions::recorded_outcome(&conds).or_else(|| judge(&job, &tracking, start_time.as_deref(), now));
        let mut managed = Managed::default();
        let mut result = Ok(());
        if let Some(outcome) = &outcome {
            conditions::set(&mut conds, outcome.interim_type(), "True", &outcome.reason, &outcome.message, &now_text);
            if needs_sync {
                result = self.delete_pods(key, &job, &tracking.active, &mut managed).await;
            }
        } else if suspended {
            if conditions::set(&mut conds, conditions::SUSPENDED, "True", "JobSuspended", "Job suspended", &now_text) {
                self.recorder.record(&job, EventType::Normal, "Suspended", "Job suspended").await;
            }
            if needs_sync {
                result = self.delete_pods(key, &job, &tracking.active, &mut managed).await;
            }
        } else {
            if conditions::set(&mut conds, conditions::SUSPENDED, "False", "JobResumed", "Job resumed", &now_text) {
                self.recorder.record(&job, EventType::Normal, "Resumed", "Job resumed").await;
                // activeDeadlineSeconds counts the time a Job runs without a break.
                start_time = Some(now_text.clone());
            }
            start_time.get_or_insert_with(|| now_text.clone());
            if needs_sync {
                result = self.manage(key, &job, &tracking, &backoff, now, &mut managed).await;
            }
        }
        let active = tracking.active.len() + managed.created - managed.deleted.min(tracking.active.len());
        // Pods deleted in this round are counted when the cache shows them going.
        let settled = managed.deleted == 0
            && tracking.uncounted_succeeded.is_empty()
            && tracking.uncounted_failed.is_empty()
            && tracking.release.is_empty()
            && tracking.terminating == 0
            && active == 0;
        let mut completion_time = job.pointer("/status/completionTime").and_then(Value::as_str).map(str::to_string);
        if let Some(outcome) = outcome.as_ref().filter(|_| settled) {
            conditions::set(&mut conds, outcome.final_type(), "True", &outcome.reason, &outcome.message, &now_text);
            if outcome.success {
                completion_time = Some(now_text.clone());
                self.recorder.record(&job, EventType::Normal, "Completed", "Job completed").await;
            } else {
                self.recorder.record(&job, EventType::Warning, &outcome.reason, &outcome.message).await;
            }
        }
        let ready = tracking.active.iter().filter(|p| pods::is_ready(p)).count();
        let mut status = Map::new();
        if let Some(start) = &start_time {
            status.insert("startTime".into(), json!(start));
        }
        if let Some(completed) = &completion_time {
            status.insert("completionTime".into(), json!(completed));
        }
        let indexed = indexed::is_indexed(&job);
        // Recorded but uncounted successes stay out of the counter (Indexed Jobs count indexes).
        let succeeded = if indexed { tracking.completed_indexes.len() as i64 } else { tracking.succeeded };
        for (field, count) in [("active", active as i64), ("succeeded", succeeded), ("failed", tracking.failed)] {
            if count > 0 {
                status.insert(field.into(), json!(count));
            }
        }
        if indexed && !tracking.completed_indexes.is_empty() {
            status.insert("completedIndexes".into(), json!(indexed::format_indexes(&tracking.completed_indexes)));
        }
        let mut uncounted_pods = Map::new();
        for (field, uids) in [("succeeded", &tracking.uncounted_succeeded), ("failed", &tracking.uncounted_failed)] {
            if !uids.is_empty() {
                uncounted_pods.insert(field.into(), json!(uids));
            }
        }
        status.insert("uncountedTerminatedPods".into(), Value::Object(uncounted_pods));
        status.insert("ready".into(), json!(ready));
        status.insert("terminating".into(), json!(tracking.terminating));
        if !conds.is_empty() {
            status.insert("conditions".into(), Value::Array(conds));
        }
        if let Some(written) = write_status(&self.registry, self.rt, &job, Value::Object(status)).await? {
            self.remember_write(key, &written);
        }
        // The status now records every pod whose finalizer comes off.
        self.release(&tracking.release).await?;
        result?;
        let deadline =
            (!suspended && outcome.is_none()).then(|| deadline_left(&job, start_time.as_deref(), now)).flatten();
        Ok([managed.retry_after, deadline].into_iter().flatten().min())
    }

    /// Keeps the right number of pods running: deletes the surplus (and, for Indexed Jobs,
    /// pods of duplicate or unknown indexes), and creates the shortfall unless the failure
    /// back-off holds creations back.
    async fn manage(
        &self,
        key: &str,
        job: &Value,
        tracking: &Tracking,
        backoff: &BackoffRecord,
        now: Timestamp,
        managed: &mut Managed,
    ) -> Result<(), ApiError> {
        let is_indexed = indexed::is_indexed(job);
        let parallelism = job.pointer("/spec/parallelism").and_then(Value::as_i64).unwrap_or(1).max(0);
        let completions = job.pointer("/spec/completions").and_then(Value::as_i64);
        let succeeded = tracking.total_succeeded(is_indexed);
        let mut surplus: Vec<Arc<Value>> = Vec::new();
        let mut active = tracking.active.clone();
        if is_indexed {
            let (keep, extra) = split_by_index(&active, completions.unwrap_or(0) as i32, &tracking.completed_indexes);
            active = keep;
            surplus.extend(extra);
        }
        let want = match completions {
            // A work queue: once one pod succeeded, no new pods; the others finish on their own.
            None if succeeded > 0 => active.len() as i64,
            None => parallelism,
            Some(completions) => (completions - succeeded).clamp(0, parallelism),
        };
        let want = usize::try_from(want).unwrap_or(0);
        if active.len() > want {
            active.sort_by_key(|p| {
                (pods::is_ready(p), pods::phase(p) == "Running", std::cmp::Reverse(pods::created_at(p)))
            });
            surplus.extend(active.drain(..active.len() - want));
        }
        if !surplus.is_empty() {
            return self.delete_pods(key, job, &surplus, managed).await;
        }
        let missing = want.saturating_sub(active.len()).min(BURST);
        if missing == 0 {
            return Ok(());
        }
        let wait = backoff.remaining(now);
        if !wait.is_zero() {
            managed.retry_after = Some(wait);
            return Ok(());
        }
        let indexes: Vec<Option<i32>> = if is_indexed {
            let busy: BTreeSet<i32> =
                active.iter().filter_map(|p| indexed::index_of(p, completions.unwrap_or(0) as i32)).collect();
            let next =
                indexed::next_indexes(completions.unwrap_or(0) as i32, &tracking.completed_indexes, &busy, missing);
            next.into_iter().map(Some).collect()
        } else {
            vec![None; missing]
        };
        self.expectations.expect_creations(key, indexes.len());
        let template = tracked_template(job);
        let reference = controller_ref::new_controller_ref(JOB, object::name(job), object::uid(job));
        let mut pending = indexes.iter();
        let (created, result) = in_slow_start_batches(indexes.len(), || {
            let index = pending.next().copied().flatten();
            let (template, reference) = (&template, &reference);
            async move {
                let (template, prefix) = match index {
                    Some(i) => (
                        indexed::template_for_index(template, job, i),
                        generate_name_prefix(&format!("{}-{i}", object::name(job))),
                    ),
                    None => (template.clone(), generate_name_prefix(object::name(job))),
                };
                match self.pod_control.create_with_prefix(job, &template, reference, &prefix).await {
                    Err(err) if namespace_terminating(&err) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        })
        .await;
        for _ in created..indexes.len() {
            self.expectations.creation_observed(key);
        }
        managed.created = created;
        result
    }

    async fn delete_pods(
        &self,
        key: &str,
        job: &Value,
        victims: &[Arc<Value>],
        managed: &mut Managed,
    ) -> Result<(), ApiError> {
        if victims.is_empty() {
            return Ok(());
        }
        self.expectations.expect_deletions(key, victims.iter().map(|p| cache_key(p)));
        let results = futures::future::join_all(victims.iter().map(|pod| async move {
            let result = self.pod_control.delete(job, pod).await;
            if result.is_err() {
                self.expectations.deletion_observed(key, &cache_key(pod));
            }
            result
        }))
        .await;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(()) => managed.deleted += 1,
                Err(err) if err.code == 404 => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Takes the tracking finalizer off `pods`.
    async fn release(&self, pods: &[Arc<Value>]) -> Result<(), ApiError> {
        let results = futures::future::join_all(pods.iter().map(|pod| {
            let uid = object::uid(pod).to_string();
            self.registry.update_with(
                self.pods_rt,
                Some(object::namespace(pod)),
                object::name(pod),
                UpdateKind::Object,
                move |current| {
                    let mut finalizers = object::finalizers(current);
                    if object::uid(current) != uid || !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
                        return Ok(None);
                    }
                    finalizers.retain(|f| f != TRACKING_FINALIZER);
                    let mut next = current.clone();
                    object::set_finalizers(&mut next, &finalizers);
                    Ok(Some(next))
                },
            )
        }))
        .await;
        for result in results {
            match result {
                Err(err) if err.code != 404 => return Err(err),
                _ => {}
            }
        }
        Ok(())
    }

    /// Releases the pods of a Job that is gone, so they can go away too.
    async fn release_orphans(&self, key: &str) -> Result<(), ApiError> {
        let (namespace, name) = split_key(key);
        let orphans: Vec<Arc<Value>> = self
            .pods
            .list(namespace)
            .into_iter()
            .filter(|pod| has_tracking_finalizer(pod))
            .filter(|pod| {
                controller_ref::controller_of(pod).is_some_and(|r| {
                    r.get("kind").and_then(Value::as_str) == Some(JOB.kind)
                        && r.get("name").and_then(Value::as_str) == Some(name)
                })
            })
            .collect();
        self.release(&orphans).await
    }

    /// Deletes a finished Job whose TTL has run out; otherwise says when to look again.
    async fn expire(&self, job: &Value, now: Timestamp) -> anyhow::Result<Option<Duration>> {
        match ttl::time_left(job, now) {
            Some(left) if left.is_zero() && !object::is_deleting(job) => {
                let opts = DeleteOptions {
                    propagation_policy: Some(PropagationPolicy::Foreground),
                    precondition_uid: Some(object::uid(job).to_string()),
                    ..Default::default()
                };
                match self.registry.delete(self.rt, Some(object::namespace(job)), object::name(job), &opts).await {
                    Err(err) if err.code != 404 => Err(err.into()),
                    _ => Ok(None),
                }
            }
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Ok(None),
        }
    }
}

/// The pod template with the tracking finalizer.
fn tracked_template(job: &Value) -> Value {
    let mut template = job.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    let mut finalizers = object::finalizers(&template);
    if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
        finalizers.push(TRACKING_FINALIZER.to_string());
    }
    object::set_finalizers(&mut template, &finalizers);
    template
}

/// Active pods of an Indexed Job to keep (one per index still to be done) and to delete.
fn split_by_index(active: &[Arc<Value>], completions: i32, done: &BTreeSet<i32>) -> (Vec<Arc<Value>>, Vec<Arc<Value>>) {
    let mut keep: HashMap<i32, Arc<Value>> = HashMap::new();
    let mut extra = Vec::new();
    let mut sorted = active.to_vec();
    // The oldest pod of an index stays.
    sorted.sort_by_key(|p| pods::created_at(p));
    for pod in sorted {
        match indexed::index_of(&pod, completions) {
            Some(index) if !done.contains(&index) && !keep.contains_key(&index) => {
                keep.insert(index, pod);
            }
            _ => extra.push(pod),
        }
    }
    (keep.into_values().collect(), extra)
}

/// Whether the Job has failed or succeeded by what its pods did, in Kubernetes' order.
fn judge(job: &Value, tracking: &Tracking, start_time: Option<&str>, now: Timestamp) -> Option<Outcome> {
    if let Some(message) = &tracking.fail_job {
        return Some(Outcome::failure("PodFailurePolicy", message.clone()));
    }
    let limit = job.pointer("/spec/backoffLimit").and_then(Value::as_i64).unwrap_or(6);
    let on_failure = job.pointer("/spec/template/spec/restartPolicy").and_then(Value::as_str) == Some("OnFailure");
    // With OnFailure the kubelet restarts containers in place: restarts count as failures.
    let restarts: i64 = if on_failure { tracking.active.iter().map(|p| restart_count(p)).sum() } else { 0 };
    let restarts_exceed = on_failure && if limit == 0 { restarts > 0 } else { restarts >= limit };
    if tracking.total_failed() > limit || restarts_exceed {
        return Some(Outcome::failure("BackoffLimitExceeded", "Job has reached the specified backoff limit"));
    }
    if deadline_left(job, start_time, now).is_some_and(|left| left.is_zero()) {
        return Some(Outcome::failure("DeadlineExceeded", "Job was active longer than specified deadline"));
    }
    let succeeded = tracking.total_succeeded(indexed::is_indexed(job));
    let complete = match job.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(completions) => succeeded >= completions,
        None => succeeded > 0 && tracking.active.is_empty(),
    };
    complete.then(Outcome::success)
}

fn restart_count(pod: &Value) -> i64 {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}")).and_then(Value::as_array))
        .flatten()
        .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
        .sum()
}

/// Time left before activeDeadlineSeconds runs out (zero once it has).
fn deadline_left(job: &Value, start_time: Option<&str>, now: Timestamp) -> Option<Duration> {
    let deadline = job.pointer("/spec/activeDeadlineSeconds").and_then(Value::as_i64)?;
    let start = object::parse_time(start_time?)?;
    // A deadline beyond the end of time never comes.
    let Ok(ends) = start.checked_add(SignedDuration::from_secs(deadline)) else { return None };
    Some(Duration::try_from(ends.duration_since(now)).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, phase: &str) -> Arc<Value> {
        Arc::new(json!({"metadata": {"uid": uid, "finalizers": [TRACKING_FINALIZER]}, "status": {"phase": phase}}))
    }

    fn judged(job: Value, pods: &[Arc<Value>], start: Option<&str>) -> Option<Outcome> {
        let now: Timestamp = "2024-01-01T00:01:00Z".parse().unwrap();
        judge(&job, &tracking::track(&job, pods), start, now)
    }

    #[test]
    fn jobs_succeed_by_completions_and_fail_by_limits() {
        let three = json!({"spec": {"completions": 3, "backoffLimit": 1}});
        assert_eq!(judged(three.clone(), &[pod("a", "Succeeded"), pod("b", "Succeeded")], None), None);
        let all = [pod("a", "Succeeded"), pod("b", "Succeeded"), pod("c", "Succeeded")];
        assert_eq!(judged(three.clone(), &all, None), Some(Outcome::success()));
        assert_eq!(judged(three.clone(), &[pod("a", "Failed")], None), None);
        let failure = judged(three, &[pod("a", "Failed"), pod("b", "Failed")], None).unwrap();
        assert_eq!((failure.success, failure.reason.as_str()), (false, "BackoffLimitExceeded"));
        let queue = json!({"spec": {}});
        assert_eq!(judged(queue.clone(), &[pod("a", "Succeeded"), pod("b", "Running")], None), None);
        assert_eq!(judged(queue, &[pod("a", "Succeeded")], None), Some(Outcome::success()));
        let deadline = json!({"spec": {"completions": 1, "activeDeadlineSeconds": 30}});
        assert_eq!(judged(deadline.clone(), &[], Some("2024-01-01T00:00:40Z")), None);
        assert_eq!(judged(deadline, &[], Some("2024-01-01T00:00:00Z")).unwrap().reason, "DeadlineExceeded");
        let mut restarting = (*pod("r", "Running")).clone();
        restarting["status"]["containerStatuses"] = json!([{"restartCount": 2}]);
        let on_failure = json!({"spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "OnFailure"}}}});
        assert_eq!(judged(on_failure, &[Arc::new(restarting)], None).unwrap().reason, "BackoffLimitExceeded");
    }

    #[test]
    fn indexed_jobs_keep_one_pod_per_open_index() {
        let with_index = |uid: &str, index: &str, created: &str| {
            Arc::new(json!({"metadata": {"uid": uid, "creationTimestamp": created,
                "annotations": {indexed::INDEX_KEY: index}}}))
        };
        let active = [
            with_index("a", "0", "2024-01-01T00:00:01Z"),
            with_index("b", "0", "2024-01-01T00:00:02Z"),
            with_index("c", "1", "2024-01-01T00:00:01Z"),
            with_index("d", "7", "2024-01-01T00:00:01Z"),
        ];
        let (keep, extra) = split_by_index(&active, 3, &[1].into());
        let uids = |pods: &[Arc<Value>]| {
            let mut v: Vec<String> = pods.iter().map(|p| object::uid(p).to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(uids(&keep), ["a"]);
        assert_eq!(uids(&extra), ["b", "c", "d"]);
    }

    #[test]
    fn templates_carry_the_tracking_finalizer() {
        let job = json!({"spec": {"template": {"metadata": {"finalizers": ["x"]}, "spec": {}}}});
        assert_eq!(tracked_template(&job)["metadata"]["finalizers"], json!(["x", TRACKING_FINALIZER]));
        assert_eq!(tracked_template(&json!({}))["metadata"]["finalizers"], json!([TRACKING_FINALIZER]));
    }
}
