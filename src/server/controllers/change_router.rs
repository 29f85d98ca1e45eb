//! The loop shared by the controllers that own objects (ReplicaSet, Deployment, DaemonSet,
//! StatefulSet, Job, CronJob): wait until every cache they read has synced (a sync against a
//! half-filled cache would create duplicates), start the workers, queue every owned object
//! once, then turn each change of each watched informer into work through the controller's
//! own routing function. A subscriber that fell behind has missed changes, so everything
//! owned is queued again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::informer::{Change, Informer};
use super::queue::WorkQueue;
use crate::server::fanout::RecvError;

/// What a change of one informer means to controller `C`.
pub type Route<C> = fn(&C, &Change);

pub struct Routing<C> {
    pub name: &'static str,
    pub workers: usize,
    pub queue: Arc<WorkQueue>,
    /// Informers whose changes are routed, each with its function.
    pub sources: Vec<(Arc<Informer>, Route<C>)>,
    /// Informers read during sync whose changes need no routing.
    pub also_synced: Vec<Arc<Informer>>,
    /// Queues every object the controller owns.
    pub enqueue_all: fn(&C),
}

/// Runs the controller until its informers stop; `sync` handles one queued key.
pub async fn run<C, F, Fut>(controller: Arc<C>, routing: Routing<C>, sync: F)
where
    C: Send + Sync + 'static,
    F: Fn(Arc<C>, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Option<Duration>>> + Send,
{
    let streams = routing
        .sources
        .iter()
        .enumerate()
        .map(|(i, (informer, _))| informer.subscribe().into_stream().map(move |change| (i, change)));
    let mut changes = futures::stream::select_all(streams);
    for (informer, _) in &routing.sources {
        informer.wait_synced().await;
    }
    for informer in &routing.also_synced {
        informer.wait_synced().await;
    }
    let worker = controller.clone();
    routing.queue.run(routing.name, routing.workers, move |key| sync(worker.clone(), key));
    (routing.enqueue_all)(&controller);
    while let Some((source, change)) = changes.next().await {
        match change {
            Ok(change) => (routing.sources[source].1)(&controller, &change),
            Err(RecvError::Lagged(_)) => (routing.enqueue_all)(&controller),
            Err(RecvError::Closed) => return,
        }
    }
}
