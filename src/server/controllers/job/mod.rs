//! The Job controller: runs pods until `completions` of them succeed (each index once for
//! Indexed Jobs), at most `parallelism` at a time, replacing failed pods after an
//! exponential back-off until `backoffLimit` failures, `activeDeadlineSeconds` or a
//! podFailurePolicy rule fails the Job; honours `suspend`; counts finished pods exactly once
//! through the job-tracking finalizer; reports conditions as Kubernetes 1.33 does; and
//! deletes finished Jobs after `ttlSecondsAfterFinished`.

mod backoff;
mod conditions;
mod failure_policy;
mod indexed;
mod sync;
mod tracking;
mod ttl;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::controller_ref::OwnerKind;
use super::events::Recorder;
use super::expectations::Expectations;
use super::informer::{cache_key, Change, ChangeKind, Informer, Informers};
use super::pod_control::PodControl;
use super::pod_routing::{spec_selector, PodRouter};
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::{object, Registry};

const COMPONENT: &str = "job-controller";
const WORKERS: usize = 4;
const JOB: OwnerKind = OwnerKind { api_version: "batch/v1", kind: "Job" };

pub struct JobController {
    registry: Arc<Registry>,
    rt: &'static ResourceType,
    pods_rt: &'static ResourceType,
    jobs: Arc<Informer>,
    pods: Arc<Informer>,
    queue: Arc<WorkQueue>,
    expectations: Arc<Expectations>,
    pod_control: PodControl,
    recorder: Recorder,
    router: PodRouter,
    backoff: backoff::BackoffStore,
    /// The resource version of each Job's last status write: a cache older than that would
    /// forget pods recorded as finished, so such a Job waits for the cache to catch up.
    written: Mutex<HashMap<String, u64>>,
}

/// "Complete" or "Failed" once a Job has finished.
pub fn finished_condition(job: &Value) -> Option<&'static str> {
    let list = conditions::list(job);
    [conditions::COMPLETE, conditions::FAILED].into_iter().find(|kind| conditions::is_true(&list, kind))
}

pub fn spawn(informers: &Arc<Informers>) {
    let rt = catalog::find("batch", "v1", "jobs").expect("jobs are served");
    let pods_rt = catalog::find("", "v1", "pods").expect("pods are served");
    let registry = informers.registry().clone();
    let jobs = informers.get(rt);
    let queue = WorkQueue::new();
    let expectations = Arc::new(Expectations::default());
    let recorder = Recorder::new(registry.clone(), COMPONENT);
    let controller = Arc::new(JobController {
        rt,
        pods_rt,
        pods: informers.get(pods_rt),
        router: PodRouter {
            owners: jobs.clone(),
            owner_kind: JOB.kind,
            queue: queue.clone(),
            expectations: expectations.clone(),
            selector: spec_selector,
        },
        jobs,
        queue,
        expectations,
        pod_control: PodControl::new(registry.clone(), recorder.clone()),
        recorder,
        backoff: Default::default(),
        written: Mutex::default(),
        registry,
    });
    tokio::spawn(controller.route_changes());
}

impl JobController {
    async fn route_changes(self: Arc<Self>) {
        let mut job_changes = self.jobs.subscribe();
        let mut pod_changes = self.pods.subscribe();
        self.jobs.wait_synced().await;
        self.pods.wait_synced().await;
        let worker = self.clone();
        self.queue.run(COMPONENT, WORKERS, move |key| {
            let worker = worker.clone();
            async move { worker.sync(&key).await }
        });
        self.enqueue_all();
        loop {
            tokio::select! {
                change = job_changes.recv() => match change {
                    Ok(change) => self.job_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = pod_changes.recv() => match change {
                    Ok(change) => self.router.pod_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    fn enqueue_all(&self) {
        for job in self.jobs.list(None) {
            self.queue.add(cache_key(&job));
        }
    }

    fn job_changed(&self, change: &Change) {
        let key = cache_key(&change.object);
        if change.kind == ChangeKind::Deleted {
            self.expectations.forget(&key);
            self.backoff.forget(object::uid(&change.object));
            self.written.lock().expect("written lock").remove(&key);
        }
        self.queue.add(key);
    }

    /// Whether the cached `job` is at least as new as this controller's last write to it.
    fn cache_caught_up(&self, key: &str, job: &Value) -> bool {
        let cached: u64 = object::resource_version(job).parse().unwrap_or(0);
        self.written.lock().expect("written lock").get(key).is_none_or(|written| cached >= *written)
    }

    fn remember_write(&self, key: &str, written: &Value) {
        if let Ok(version) = object::resource_version(written).parse::<u64>() {
            self.written.lock().expect("written lock").insert(key.to_string(), version);
        }
    }
}
