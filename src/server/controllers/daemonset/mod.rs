//! The DaemonSet controller: one pod on every node the DaemonSet's template fits (node
//! name, selector, required affinity, taints), each pinned to its node by node affinity and
//! bound by the scheduler; pods leave nodes that stop fitting. Template changes roll out by
//! RollingUpdate (maxUnavailable or maxSurge) or OnDelete, with controller revisions for
//! `kubectl rollout history/undo`, and the status counts scheduled, ready, available and
//! updated pods.

mod backoff;
mod per_node;
pub mod placement;
mod rolling;
mod status;
mod sync;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::controller_ref::OwnerKind;
use super::events::Recorder;
use super::expectations::Expectations;
use super::history::History;
use super::informer::{cache_key, Change, ChangeKind, Informer, Informers};
use super::pod_control::PodControl;
use super::pod_routing::{spec_selector, PodRouter};
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::label_selector::labels_of;
use crate::server::registry::Registry;
use placement::Placement;

const COMPONENT: &str = "daemonset-controller";
const WORKERS: usize = 2;
const DAEMON_SET: OwnerKind = OwnerKind { api_version: "apps/v1", kind: "DaemonSet" };

/// A node and the DaemonSet's pods meant for it.
pub struct NodePods {
    pub name: String,
    pub placement: Placement,
    pub pods: Vec<Arc<Value>>,
}

pub struct DaemonSetController {
    registry: Arc<Registry>,
    rt: &'static ResourceType,
    pods_rt: &'static ResourceType,
    daemon_sets: Arc<Informer>,
    pods: Arc<Informer>,
    nodes: Arc<Informer>,
    history: History,
    queue: Arc<WorkQueue>,
    expectations: Arc<Expectations>,
    pod_control: PodControl,
    router: PodRouter,
    failed_backoff: backoff::FailedPodBackoff,
}

pub fn spawn(informers: &Arc<Informers>) {
    let rt = catalog::find("apps", "v1", "daemonsets").expect("daemonsets are served");
    let pods_rt = catalog::find("", "v1", "pods").expect("pods are served");
    let registry = informers.registry().clone();
    let daemon_sets = informers.get(rt);
    let queue = WorkQueue::new();
    let expectations = Arc::new(Expectations::default());
    let controller = Arc::new(DaemonSetController {
        rt,
        pods_rt,
        pods: informers.get(pods_rt),
        nodes: informers.of("", "nodes"),
        history: History::new(informers),
        router: PodRouter {
            owners: daemon_sets.clone(),
            owner_kind: DAEMON_SET.kind,
            queue: queue.clone(),
            expectations: expectations.clone(),
            selector: spec_selector,
        },
        daemon_sets,
        queue,
        expectations,
        pod_control: PodControl::new(registry.clone(), Recorder::new(registry.clone(), COMPONENT)),
        failed_backoff: Default::default(),
        registry,
    });
    tokio::spawn(controller.route_changes());
}

impl DaemonSetController {
    async fn route_changes(self: Arc<Self>) {
        let mut ds_changes = self.daemon_sets.subscribe();
        let mut pod_changes = self.pods.subscribe();
        let mut node_changes = self.nodes.subscribe();
        for informer in [&self.daemon_sets, &self.pods, &self.nodes, &self.history.revisions] {
            informer.wait_synced().await;
        }
        let worker = self.clone();
        self.queue.run(COMPONENT, WORKERS, move |key| {
            let worker = worker.clone();
            async move { worker.sync(&key).await }
        });
        self.enqueue_all();
        loop {
            tokio::select! {
                change = ds_changes.recv() => match change {
                    Ok(change) => self.daemon_set_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = pod_changes.recv() => match change {
                    Ok(change) => self.router.pod_changed(&change),
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
                change = node_changes.recv() => match change {
                    Ok(change) if node_fit_changed(&change) => self.enqueue_all(),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.enqueue_all(),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    fn enqueue_all(&self) {
        for ds in self.daemon_sets.list(None) {
            self.queue.add(cache_key(&ds));
        }
    }

    fn daemon_set_changed(&self, change: &Change) {
        let key = cache_key(&change.object);
        if change.kind == ChangeKind::Deleted {
            self.expectations.forget(&key);
        }
        self.queue.add(key);
    }
}

/// Whether a node change can change which DaemonSets fit it: anything but heartbeats.
fn node_fit_changed(change: &Change) -> bool {
    let Some(old) = change.old.as_deref() else { return true };
    let node = &change.object;
    let ready = |n: &Value| {
        n.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c.get("type").and_then(Value::as_str) == Some("Ready")))
            .and_then(|c| c.get("status"))
            .cloned()
    };
    labels_of(old) != labels_of(node)
        || old.pointer("/spec/taints") != node.pointer("/spec/taints")
        || old.pointer("/spec/unschedulable") != node.pointer("/spec/unschedulable")
        || ready(old) != ready(node)
}
