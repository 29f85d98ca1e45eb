//! The CronJob controller: creates a Job `<cronjob>-<minute>` from the job template at each
//! start time of the schedule (in the CronJob's time zone), unless suspended, too late for
//! `startingDeadlineSeconds`, or forbidden by the concurrency policy (Forbid skips while a Job
//! runs, Replace deletes the running ones); tracks the active Jobs and the last schedule and
//! success times, and trims finished Jobs to the history limits.

mod cleanup;
mod due;
mod schedule;
mod sync;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::controller_ref::{self, OwnerKind};
use super::events::Recorder;
use super::informer::{cache_key, Change, Informer, Informers};
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::{object, Registry};

const COMPONENT: &str = "cronjob-controller";
const WORKERS: usize = 2;
const CRON_JOB: OwnerKind = OwnerKind { api_version: "batch/v1", kind: "CronJob" };

pub struct CronJobController {
    registry: Arc<Registry>,
    rt: &'static ResourceType,
    jobs_rt: &'static ResourceType,
    cron_jobs: Arc<Informer>,
    jobs: Arc<Informer>,
    queue: Arc<WorkQueue>,
    recorder: Recorder,
}

pub fn spawn(informers: &Arc<Informers>) {
    let rt = catalog::find("batch", "v1", "cronjobs").expect("cronjobs are served");
    let jobs_rt = catalog::find("batch", "v1", "jobs").expect("jobs are served");
    let registry = informers.registry().clone();
    let controller = Arc::new(CronJobController {
        rt,
        jobs_rt,
        cron_jobs: informers.get(rt),
        jobs: informers.get(jobs_rt),
        queue: WorkQueue::new(),
        recorder: Recorder::new(registry.clone(), COMPONENT),
        registry,
    });
    tokio::spawn(controller.route_changes());
}

impl CronJobController {
    async fn route_changes(self: Arc<Self>) {
        let mut cron_job_changes = self.cron_jobs.subscribe();
        let mut job_changes = self.jobs.subscribe();
        self.cron_jobs.wait_synced().await;
        self.jobs.wait_synced().await;
        let worker = self.clone();
        self.queue.run(COMPONENT, WORKERS, move |key| {
            let worker = worker.clone();
            async move { worker.sync(&key).await }
        });
        self.enqueue_all();
        loop {
            tokio::select! {
                change = cron_job_changes.recv() => match change {
                    Ok(change) => self.queue.add(cache_key(&change.object)),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = job_changes.recv() => match change {
                    Ok(change) => self.job_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    fn enqueue_all(&self) {
        for cron_job in self.cron_jobs.list(None) {
            self.queue.add(cache_key(&cron_job));
        }
    }

    /// A Job changed: its CronJob looks at it (and at the one it had before, if that changed).
    fn job_changed(&self, change: &Change) {
        for job in [Some(&change.object), change.old.as_ref()].into_iter().flatten() {
            if let Some(key) = self.owner_key(job) {
                self.queue.add(key);
            }
        }
    }

    fn owner_key(&self, job: &Value) -> Option<String> {
        let reference = controller_ref::controller_of(job)?;
        if reference.get("kind").and_then(Value::as_str) != Some(CRON_JOB.kind) {
            return None;
        }
        let name = reference.get("name").and_then(Value::as_str)?;
        let owner = self.cron_jobs.get(Some(object::namespace(job)), name)?;
        (object::uid(&owner) == reference.get("uid").and_then(Value::as_str).unwrap_or_default())
            .then(|| cache_key(&owner))
    }
}
