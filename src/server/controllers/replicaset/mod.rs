//! The ReplicaSet controller, which also runs ReplicationControllers (the same logic with a
//! map selector): keep `spec.replicas` active pods matching the selector, adopting orphans and
//! releasing pods that stopped matching, and report what the pods are doing in the status.

mod delete_order;
mod status;
mod sync;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::controller_ref::{self, OwnerKind};
use super::events::Recorder;
use super::expectations::Expectations;
use super::informer::{cache_key, Change, ChangeKind, Informer, Informers};
use super::pod_control::PodControl;
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::label_selector::{labels_of, LabelSelector};
use crate::server::registry::{object, Registry};

/// Keys synced at once.
const WORKERS: usize = 4;

/// The kinds of pod owner this controller runs.
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub owner: OwnerKind,
    /// ReplicationControllers select with a plain label map.
    pub map_selector: bool,
    pub component: &'static str,
}

pub static REPLICA_SETS: Kind = Kind {
    group: "apps",
    version: "v1",
    plural: "replicasets",
    owner: OwnerKind { api_version: "apps/v1", kind: "ReplicaSet" },
    map_selector: false,
    component: "replicaset-controller",
};

pub static REPLICATION_CONTROLLERS: Kind = Kind {
    group: "",
    version: "v1",
    plural: "replicationcontrollers",
    owner: OwnerKind { api_version: "v1", kind: "ReplicationController" },
    map_selector: true,
    component: "replication-controller",
};

impl Kind {
    /// The owner's selector; `None` (selects nothing) if it is missing, empty or malformed:
    /// validation rejects those, and an owner must never take every pod of its namespace.
    fn selector(&self, owner: &Value) -> Option<LabelSelector> {
        let selector = owner.pointer("/spec/selector")?;
        let parsed = if self.map_selector {
            selector.as_object().map(LabelSelector::from_map)
        } else {
            LabelSelector::from_object(selector).ok()
        };
        parsed.filter(|s| !s.is_empty())
    }
}

pub struct ReplicaSetController {
    kind: &'static Kind,
    rt: &'static ResourceType,
    pods_rt: &'static ResourceType,
    registry: Arc<Registry>,
    owners: Arc<Informer>,
    pods: Arc<Informer>,
    queue: Arc<WorkQueue>,
    expectations: Expectations,
    pod_control: PodControl,
}

/// Starts the controller for `kind`.
pub fn spawn(informers: &Arc<Informers>, kind: &'static Kind) {
    let rt = catalog::find(kind.group, kind.version, kind.plural).expect("pod owner kinds are served");
    let pods_rt = catalog::find("", "v1", "pods").expect("pods are served");
    let registry = informers.registry().clone();
    let controller = Arc::new(ReplicaSetController {
        kind,
        rt,
        pods_rt,
        owners: informers.get(rt),
        pods: informers.get(pods_rt),
        queue: WorkQueue::new(),
        expectations: Expectations::default(),
        pod_control: PodControl::new(registry.clone(), Recorder::new(registry.clone(), kind.component)),
        registry,
    });
    tokio::spawn(controller.route_changes());
}

impl ReplicaSetController {
    /// Turns informer changes into queued owner keys, after starting the workers.
    async fn route_changes(self: Arc<Self>) {
        let mut owner_changes = self.owners.subscribe();
        let mut pod_changes = self.pods.subscribe();
        self.owners.wait_synced().await;
        self.pods.wait_synced().await;
        let worker = self.clone();
        self.queue.run(self.kind.component, WORKERS, move |key| {
            let worker = worker.clone();
            async move { worker.sync(&key).await }
        });
        self.enqueue_all();
        loop {
            tokio::select! {
                change = owner_changes.recv() => match change {
                    Ok(change) => self.owner_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = pod_changes.recv() => match change {
                    Ok(change) => self.pod_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    fn enqueue_all(&self) {
        for owner in self.owners.list(None) {
            self.queue.add(cache_key(&owner));
        }
    }

    fn owner_changed(&self, change: &Change) {
        let key = cache_key(&change.object);
        if change.kind == ChangeKind::Deleted {
            self.expectations.forget(&key);
        }
        self.queue.add(key);
    }

    fn pod_changed(&self, change: &Change) {
        let pod = &change.object;
        match (change.kind, change.old.as_deref()) {
            (ChangeKind::Deleted, _) => self.pod_gone(pod),
            (ChangeKind::Added, _) if object::is_deleting(pod) => self.pod_gone(pod),
            (ChangeKind::Added, _) => match self.owner_key_of(pod) {
                Some(key) => {
                    self.expectations.creation_observed(&key);
                    self.queue.add(key);
                }
                None => self.enqueue_selecting(pod),
            },
            (ChangeKind::Modified, Some(old)) => self.pod_updated(old, pod),
            (ChangeKind::Modified, None) => self.enqueue_selecting(pod),
        }
    }

    fn pod_updated(&self, old: &Value, pod: &Value) {
        if object::resource_version(old) == object::resource_version(pod) {
            return;
        }
        let labels_changed = labels_of(old) != labels_of(pod);
        if object::is_deleting(pod) {
            // A pod being deleted is as good as gone for counting.
            self.pod_gone(pod);
            if labels_changed {
                self.pod_gone(old);
            }
            return;
        }
        let controller_changed = controller_ref::controller_of(old) != controller_ref::controller_of(pod);
        if controller_changed {
            if let Some(key) = self.owner_key_of(old) {
                self.queue.add(key);
            }
        }
        match self.owner_key_of(pod) {
            Some(key) => self.queue.add(key),
            None if labels_changed || controller_changed => self.enqueue_selecting(pod),
            None => {}
        }
    }

    fn pod_gone(&self, pod: &Value) {
        if let Some(key) = self.owner_key_of(pod) {
            self.expectations.deletion_observed(&key, &cache_key(pod));
            self.queue.add(key);
        }
    }

    /// The key of the owner of this kind that controls `pod`, if it exists.
    fn owner_key_of(&self, pod: &Value) -> Option<String> {
        let reference = controller_ref::controller_of(pod)?;
        if reference.get("kind").and_then(Value::as_str) != Some(self.kind.owner.kind) {
            return None;
        }
        let name = reference.get("name").and_then(Value::as_str)?;
        let owner = self.owners.get(Some(object::namespace(pod)), name)?;
        (object::uid(&owner) == reference.get("uid").and_then(Value::as_str).unwrap_or_default())
            .then(|| cache_key(&owner))
    }

    /// Queues every owner whose selector matches an orphan, so one of them can adopt it.
    fn enqueue_selecting(&self, pod: &Value) {
        if controller_ref::controller_of(pod).is_some() {
            return;
        }
        for owner in self.owners.list(Some(object::namespace(pod))) {
            if self.kind.selector(&owner).is_some_and(|s| s.matches_object(pod)) {
                self.queue.add(cache_key(&owner));
            }
        }
    }
}
