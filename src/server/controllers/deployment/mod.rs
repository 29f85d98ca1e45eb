//! The Deployment controller: rolls a Deployment's pod template out through ReplicaSets named
//! `<deployment>-<pod-template-hash>`, one per template revision, with the RollingUpdate or
//! Recreate strategy, scales them (proportionally during a rollout), keeps
//! `revisionHistoryLimit` old ones for `kubectl rollout undo`, and reports progress.

pub(crate) mod fenceposts;
mod recreate;
mod replica_sets;
mod revisions;
mod rolling;
mod scale;
mod status;
mod sync;
pub mod template_hash;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::controller_ref::{self, OwnerKind};
use super::events::Recorder;
use super::informer::{cache_key, Change, ChangeKind, Informer, Informers};
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::label_selector::{labels_of, LabelSelector};
use crate::server::registry::{object, Registry};

const COMPONENT: &str = "deployment-controller";
const WORKERS: usize = 4;
const DEPLOYMENT: OwnerKind = OwnerKind { api_version: "apps/v1", kind: "Deployment" };

pub struct DeploymentController {
    registry: Arc<Registry>,
    deployments_rt: &'static ResourceType,
    replica_sets_rt: &'static ResourceType,
    deployments: Arc<Informer>,
    replica_sets: Arc<Informer>,
    pods: Arc<Informer>,
    queue: Arc<WorkQueue>,
    recorder: Recorder,
}

pub fn spawn(informers: &Arc<Informers>) {
    let deployments_rt = catalog::find("apps", "v1", "deployments").expect("deployments are served");
    let replica_sets_rt = catalog::find("apps", "v1", "replicasets").expect("replicasets are served");
    let pods_rt = catalog::find("", "v1", "pods").expect("pods are served");
    let registry = informers.registry().clone();
    let controller = Arc::new(DeploymentController {
        deployments_rt,
        replica_sets_rt,
        deployments: informers.get(deployments_rt),
        replica_sets: informers.get(replica_sets_rt),
        pods: informers.get(pods_rt),
        queue: WorkQueue::new(),
        recorder: Recorder::new(registry.clone(), COMPONENT),
        registry,
    });
    tokio::spawn(controller.route_changes());
}

impl DeploymentController {
    async fn route_changes(self: Arc<Self>) {
        let mut deployment_changes = self.deployments.subscribe();
        let mut rs_changes = self.replica_sets.subscribe();
        let mut pod_changes = self.pods.subscribe();
        self.deployments.wait_synced().await;
        self.replica_sets.wait_synced().await;
        self.pods.wait_synced().await;
        let worker = self.clone();
        self.queue.run(COMPONENT, WORKERS, move |key| {
            let worker = worker.clone();
            async move { worker.sync(&key).await }
        });
        self.enqueue_all();
        loop {
            tokio::select! {
                change = deployment_changes.recv() => match change {
                    Ok(change) => self.queue.add(cache_key(&change.object)),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = rs_changes.recv() => match change {
                    Ok(change) => self.replica_set_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = pod_changes.recv() => match change {
                    Ok(change) if change.kind == ChangeKind::Deleted => self.pod_deleted(&change.object),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    fn enqueue_all(&self) {
        for d in self.deployments.list(None) {
            self.queue.add(cache_key(&d));
        }
    }

    fn replica_set_changed(&self, change: &Change) {
        let rs = &change.object;
        if let Some(old) = change.old.as_deref() {
            if controller_ref::controller_of(old) != controller_ref::controller_of(rs) {
                self.enqueue_owner(old);
            }
        }
        if self.enqueue_owner(rs) {
            return;
        }
        // An orphan: a Deployment whose selector matches may adopt it.
        let relabelled = change.old.as_deref().is_none_or(|old| labels_of(old) != labels_of(rs));
        if change.kind != ChangeKind::Deleted && controller_ref::controller_of(rs).is_none() && relabelled {
            for d in self.deployments.list(Some(object::namespace(rs))) {
                let selector = d.pointer("/spec/selector").and_then(|s| LabelSelector::from_object(s).ok());
                if selector.is_some_and(|s| !s.is_empty() && s.matches_object(rs)) {
                    self.queue.add(cache_key(&d));
                }
            }
        }
    }

    /// Queues the Deployment controlling `obj`; false if there is none.
    fn enqueue_owner(&self, obj: &Value) -> bool {
        match self.owner_of(obj) {
            Some(d) => {
                self.queue.add(cache_key(&d));
                true
            }
            None => false,
        }
    }

    fn owner_of(&self, obj: &Value) -> Option<Arc<Value>> {
        let reference = controller_ref::controller_of(obj)?;
        if reference.get("kind").and_then(Value::as_str) != Some(DEPLOYMENT.kind) {
            return None;
        }
        let d = self.deployments.get(Some(object::namespace(obj)), reference.get("name")?.as_str()?)?;
        (object::uid(&d) == reference.get("uid").and_then(Value::as_str).unwrap_or_default()).then_some(d)
    }

    /// A Recreate rollout waits for the old pods to be gone; look again when one goes.
    fn pod_deleted(&self, pod: &Value) {
        let Some(reference) = controller_ref::controller_of(pod) else { return };
        let Some(rs) = reference
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| self.replica_sets.get(Some(object::namespace(pod)), n))
        else {
            return;
        };
        if let Some(d) = self.owner_of(&rs) {
            if d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
                self.queue.add(cache_key(&d));
            }
        }
    }

    async fn sync(&self, key: &str) -> anyhow::Result<Option<std::time::Duration>> {
        let Some(object) = self.deployments.get_key(key) else { return Ok(None) };
        sync::Rollout::new(self, object)?.run().await
    }
}
