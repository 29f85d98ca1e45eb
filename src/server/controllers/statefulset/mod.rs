//! The StatefulSet controller: pods with stable names `<set>-<ordinal>`, hostnames under the
//! governing service and their own volume claims, created in order (each waiting for the one
//! before to be ready) or in parallel, removed in reverse order, and updated by a rolling
//! update from the highest ordinal down to the partition (or on deletion), with controller
//! revisions for `kubectl rollout history/undo`.

mod identity;
mod plan;
mod status;
mod sync;

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use super::events::Recorder;
use super::expectations::Expectations;
use super::history::History;
use super::informer::{cache_key, Informer, Informers};
use super::pod_routing::{spec_selector, PodRouter};
use super::queue::WorkQueue;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::Registry;

const COMPONENT: &str = "statefulset-controller";
const WORKERS: usize = 2;

pub struct StatefulSetController {
    registry: Arc<Registry>,
    rt: &'static ResourceType,
    pods_rt: &'static ResourceType,
    claims_rt: &'static ResourceType,
    sets: Arc<Informer>,
    pods: Arc<Informer>,
    history: History,
    queue: Arc<WorkQueue>,
    router: PodRouter,
    recorder: Recorder,
}

pub fn spawn(informers: &Arc<Informers>) {
    let rt = catalog::find("apps", "v1", "statefulsets").expect("statefulsets are served");
    let pods_rt = catalog::find("", "v1", "pods").expect("pods are served");
    let claims_rt = catalog::find("", "v1", "persistentvolumeclaims").expect("claims are served");
    let registry = informers.registry().clone();
    let sets = informers.get(rt);
    let queue = WorkQueue::new();
    let controller = Arc::new(StatefulSetController {
        rt,
        pods_rt,
        claims_rt,
        pods: informers.get(pods_rt),
        history: History::new(informers),
        // Pods have fixed names, so a creation the cache has not seen yet fails as a
        // duplicate instead of doubling a pod: no expectations are kept.
        router: PodRouter {
            owners: sets.clone(),
            owner_kind: identity::STATEFUL_SET.kind,
            queue: queue.clone(),
            expectations: Arc::new(Expectations::default()),
            selector: spec_selector,
        },
        sets,
        queue,
        recorder: Recorder::new(registry.clone(), COMPONENT),
        registry,
    });
    tokio::spawn(controller.route_changes());
}

impl StatefulSetController {
    async fn route_changes(self: Arc<Self>) {
        let mut set_changes = self.sets.subscribe();
        let mut pod_changes = self.pods.subscribe();
        for informer in [&self.sets, &self.pods, &self.history.revisions] {
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
                change = set_changes.recv() => match change {
                    Ok(change) => self.queue.add(cache_key(&change.object)),
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
        for set in self.sets.list(None) {
            self.queue.add(cache_key(&set));
        }
    }
}
