//! The scheduler: finds a node for every pod that has none and names `default-scheduler`
//! (or no scheduler), one pod at a time in priority order, and binds it through the registry.
//!
//! It reads the shared informers (pods, nodes, services, namespaces) into its own cache of
//! per-node totals, updated event by event, so one attempt costs a pass over the nodes and
//! never a list of the pods. A chosen node is assumed at once and the binding is written in
//! the background, so slow writes do not hold up the next pod. Preemption is not done.

mod binder;
mod cache;
mod diagnosis;
mod framework;
pub(crate) mod node_affinity;
mod node_info;
mod node_ports;
mod node_resources;
mod pod_affinity;
mod pod_info;
pub mod quantity;
mod queue;
mod resources;
mod spread;
pub(crate) mod taints;
#[cfg(test)]
mod testing;

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::server::api_error::ApiError;
use crate::server::controllers::informer::{cache_key, Change, ChangeKind, Informer, Informers};
use crate::server::fanout::{RecvError, Subscription};
use crate::server::registry::label_selector::{labels_of, LabelSelector};
use binder::Binder;
use cache::{Cache, ClusterEvent};
use diagnosis::FitError;
use framework::{Context, TieBreaker};
use pod_affinity::NamespaceLabels;
use pod_info::PodInfo;
use queue::SchedulingQueue;

/// Bindings and status writes in flight at once; the store batches concurrent writes into
/// one sync, so some parallelism makes binding much faster than one write at a time.
const CONCURRENT_WRITES: usize = 128;

/// Starts the scheduler on the shared informers.
pub fn spawn(informers: &Arc<Informers>) {
    let scheduler = Arc::new(Scheduler {
        cache: Mutex::default(),
        queue: SchedulingQueue::default(),
        pods: informers.of("", "pods"),
        nodes: informers.of("", "nodes"),
        services: informers.of("", "services"),
        namespaces: informers.of("", "namespaces"),
        binder: Binder::new(informers.registry().clone()),
        writes: Arc::new(Semaphore::new(CONCURRENT_WRITES)),
    });
    tokio::spawn(scheduler.run());
}

struct Scheduler {
    cache: Mutex<Cache>,
    queue: SchedulingQueue,
    pods: Arc<Informer>,
    nodes: Arc<Informer>,
    services: Arc<Informer>,
    namespaces: Arc<Informer>,
    binder: Binder,
    writes: Arc<Semaphore>,
}

impl Scheduler {
    async fn run(self: Arc<Self>) {
        let changes = (self.pods.subscribe(), self.nodes.subscribe(), self.services.subscribe());
        self.pods.wait_synced().await;
        self.nodes.wait_synced().await;
        self.resync();
        tokio::spawn(self.clone().follow(changes));
        tracing::info!("scheduler started");
        self.schedule_forever().await;
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().expect("scheduler cache lock")
    }

    /// Applies informer changes to the cache and the queue.
    async fn follow(
        self: Arc<Self>,
        (mut pods, mut nodes, mut services): (Subscription<Change>, Subscription<Change>, Subscription<Change>),
    ) {
        loop {
            let received = tokio::select! {
                change = pods.recv() => change.map(|c| self.on_pod(&c)),
                change = nodes.recv() => change.map(|c| self.on_node(&c)),
                change = services.recv() => change.map(|c| self.cache().forget_selector(&cache_key(&c.object))),
            };
            match received {
                Ok(()) => {}
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "scheduler fell behind the informers; rebuilding its cache");
                    self.resync();
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    fn on_pod(&self, change: &Change) {
        let pod = Arc::new(PodInfo::parse(&change.object));
        let event = if change.kind == ChangeKind::Deleted {
            self.queue.remove(&pod.key);
            self.cache().remove_pod(&pod.key)
        } else {
            let (event, assumed) = {
                let mut cache = self.cache();
                (cache.set_pod(pod.clone()), cache.is_assumed(&pod.key))
            };
            if !pod.wants_scheduling() {
                self.queue.remove(&pod.key);
            } else if !assumed && (!self.queue.contains(&pod.key) || scheduling_inputs_changed(change)) {
                self.queue.add(&pod);
            }
            event
        };
        if let Some(event) = event {
            self.queue.cluster_changed(event);
        }
    }

    fn on_node(&self, change: &Change) {
        let event = match change.kind {
            ChangeKind::Deleted => {
                self.cache().remove_node(crate::server::registry::object::name(&change.object));
                None
            }
            _ => self.cache().set_node(&change.object),
        };
        if let Some(event) = event {
            self.queue.cluster_changed(event);
        }
    }

    /// Rebuilds the cache from the informers and queues every pod that waits for a node.
    fn resync(&self) {
        let nodes = self.nodes.list(None);
        let pods: Vec<Arc<PodInfo>> = self.pods.list(None).iter().map(|p| Arc::new(PodInfo::parse(p))).collect();
        let mut cache = self.cache();
        cache.replace_all(&nodes, pods.clone());
        let waiting: Vec<&Arc<PodInfo>> =
            pods.iter().filter(|p| p.wants_scheduling() && !cache.is_assumed(&p.key)).collect();
        drop(cache);
        for pod in waiting {
            if !self.queue.contains(&pod.key) {
                self.queue.add(pod);
            }
        }
        self.queue.cluster_changed(ClusterEvent::NodeChanged);
    }

    async fn schedule_forever(self: Arc<Self>) {
        let mut ties = TieBreaker::default();
        loop {
            let key = self.queue.pop().await;
            let Some(object) = self.pods.get_key(&key) else {
                self.queue.remove(&key);
                continue;
            };
            let pod = PodInfo::parse(&object);
            if !pod.wants_scheduling() || self.cache().is_assumed(&key) {
                self.queue.remove(&key);
                continue;
            }
            let outcome = match &pod.invalid {
                Some(why) => Err(FitError::Invalid(why.clone())),
                None => self.attempt(&pod, &mut ties),
            };
            let permit = self.writes.clone().acquire_owned().await.expect("the semaphore is never closed");
            let this = self.clone();
            match outcome {
                Ok(node) => {
                    self.queue.scheduled(&key);
                    tokio::spawn(async move {
                        this.bind(&object, pod, &node).await;
                        drop(permit);
                    });
                }
                Err(unfit) => {
                    self.queue.unschedulable(&key, unfit.plugins());
                    let message = unfit.message();
                    tracing::debug!(pod = %key, %message, "pod is unschedulable");
                    tokio::spawn(async move {
                        this.binder.report_unschedulable(&object, &message).await;
                        drop(permit);
                    });
                }
            }
        }
    }

    /// Chooses a node for `pod` and assumes the pod there.
    fn attempt(&self, pod: &PodInfo, ties: &mut TieBreaker) -> Result<String, FitError> {
        let services = if pod.controller_uid.is_none() { self.selecting_services(pod) } else { Vec::new() };
        let lookup =
            |namespace: &str| self.namespaces.get(None, namespace).map(|ns| labels_of(&ns)).unwrap_or_default();
        let ctx = Context { namespaces: NamespaceLabels::new(&lookup), services };
        let mut cache = self.cache();
        let node = framework::schedule(&mut cache, pod, &ctx, ties)?;
        cache.assume(pod, &node);
        Ok(node)
    }

    /// The Services in the pod's namespace whose selectors pick the pod.
    fn selecting_services(&self, pod: &PodInfo) -> Vec<(String, LabelSelector)> {
        self.services
            .list(Some(&pod.namespace))
            .iter()
            .filter_map(|svc| {
                let selector = svc.pointer("/spec/selector")?.as_object().filter(|m| !m.is_empty())?;
                let selector = LabelSelector::from_map(selector);
                selector.matches(&pod.labels).then(|| (cache_key(svc), selector))
            })
            .collect()
    }

    /// Writes the binding; on failure drops the assumption and, if the pod still waits,
    /// tries it again after a back-off.
    async fn bind(&self, object: &Value, pod: PodInfo, node: &str) {
        let Err(err) = self.binder.bind(object, node).await else { return };
        tracing::debug!(pod = %pod.key, node, %err, "binding failed");
        self.cache().forget(&pod.key);
        self.queue.cluster_changed(ClusterEvent::PodFreed);
        let current = self.pods.get_key(&pod.key).map(|p| PodInfo::parse(&p));
        if current.is_some_and(|p| p.wants_scheduling() && p.uid == pod.uid) {
            if !is_race(&err) {
                self.binder.report_binding_failure(object, &err).await;
            }
            self.queue.retry_later(&pod);
        }
    }
}

/// A conflict or a vanished pod: someone else changed the pod meanwhile, nothing to report.
fn is_race(err: &ApiError) -> bool {
    err.code == 404 || err.code == 409
}

/// Whether a pod change may change where it fits (our own status writes do not).
fn scheduling_inputs_changed(change: &Change) -> bool {
    let Some(old) = &change.old else { return true };
    old.get("spec") != change.object.get("spec")
        || old.pointer("/metadata/labels") != change.object.pointer("/metadata/labels")
}
