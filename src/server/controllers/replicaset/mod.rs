//! The ReplicaSet controller, which also runs ReplicationControllers (the same logic with a
//! map selector): keep `spec.replicas` active pods matching the selector, adopting orphans and
//! releasing pods that stopped matching, and report what the pods are doing in the status.

mod delete_order;
mod status;
mod sync;

use std::sync::Arc;

use serde_json::Value;

use super::change_router;
use super::controller_ref::OwnerKind;
use super::events::Recorder;
use super::expectations::Expectations;
use super::informer::{cache_key, Change, ChangeKind, Informer, Informers};
use super::pod_control::PodControl;
use super::pod_routing::{spec_selector, PodRouter};
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::label_selector::LabelSelector;
use crate::server::registry::Registry;

/// Keys synced at once.
const WORKERS: usize = 4;

/// The kinds of pod owner this controller runs.
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub owner: OwnerKind,
    /// The owner's selector; `None` selects nothing.
    pub selector: fn(&Value) -> Option<LabelSelector>,
    pub component: &'static str,
}

pub static REPLICA_SETS: Kind = Kind {
    group: "apps",
    version: "v1",
    plural: "replicasets",
    owner: OwnerKind { api_version: "apps/v1", kind: "ReplicaSet" },
    selector: spec_selector,
    component: "replicaset-controller",
};

pub static REPLICATION_CONTROLLERS: Kind = Kind {
    group: "",
    version: "v1",
    plural: "replicationcontrollers",
    owner: OwnerKind { api_version: "v1", kind: "ReplicationController" },
    selector: map_selector,
    component: "replication-controller",
};

/// A ReplicationController's selector: a plain label map (`None` when missing or empty:
/// an owner must never take every pod of its namespace).
fn map_selector(owner: &Value) -> Option<LabelSelector> {
    owner.pointer("/spec/selector")?.as_object().map(LabelSelector::from_map).filter(|s| !s.is_empty())
}

pub struct ReplicaSetController {
    kind: &'static Kind,
    rt: &'static ResourceType,
    pods_rt: &'static ResourceType,
    registry: Arc<Registry>,
    owners: Arc<Informer>,
    pods: Arc<Informer>,
    queue: Arc<WorkQueue>,
    expectations: Arc<Expectations>,
    router: PodRouter,
    pod_control: PodControl,
}

/// Starts the controller for `kind`.
pub fn spawn(informers: &Arc<Informers>, kind: &'static Kind) {
    let rt = catalog::find(kind.group, kind.version, kind.plural).expect("pod owner kinds are served");
    let pods_rt = catalog::find("", "v1", "pods").expect("pods are served");
    let registry = informers.registry().clone();
    let (owners, queue, expectations) = (informers.get(rt), WorkQueue::new(), Arc::new(Expectations::default()));
    let router = PodRouter {
        owners: owners.clone(),
        owner_kind: kind.owner.kind,
        queue: queue.clone(),
        expectations: expectations.clone(),
        selector: kind.selector,
    };
    let controller = Arc::new(ReplicaSetController {
        kind,
        rt,
        pods_rt,
        owners,
        pods: informers.get(pods_rt),
        queue,
        expectations,
        router,
        pod_control: PodControl::new(registry.clone(), Recorder::new(registry.clone(), kind.component)),
        registry,
    });
    let routing = change_router::Routing::<ReplicaSetController> {
        name: controller.kind.component,
        workers: WORKERS,
        queue: controller.queue.clone(),
        sources: vec![
            (controller.owners.clone(), ReplicaSetController::owner_changed),
            (controller.pods.clone(), |c, change| c.router.pod_changed(change)),
        ],
        also_synced: vec![],
        enqueue_all: ReplicaSetController::enqueue_all,
    };
    tokio::spawn(change_router::run(controller, routing, |c, key| async move { c.sync(&key).await }));
}

impl ReplicaSetController {
    /// Turns informer changes into queued owner keys, after starting the workers.
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
}
