//! The garbage collector: objects whose owners are gone are deleted (background deletion),
//! an owner deleted in the foreground waits until its blocking dependents are gone, and an
//! owner deleted with the orphan policy first takes its references off its dependents.
//!
//! It follows every served type with a watch of its own rather than shared informers: it
//! only needs the ownership graph, and informers would keep a full copy of every object.

mod collect;
mod graph;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;

use super::queue::WorkQueue;
use crate::server::api_error::ApiError;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::options::{ListOptions, WatchOptions};
use crate::server::registry::{object, Registry, WatchEvent};
use graph::{Graph, Work};

const DELETE_WORKERS: usize = 4;
const ORPHAN_WORKERS: usize = 2;
/// Objects read per page while (re)building the graph.
const LIST_PAGE: usize = 500;
/// Pause before listing again after a failed list or a broken watch.
const RETRY: Duration = Duration::from_millis(500);

pub struct Collector {
    registry: Arc<Registry>,
    graph: Mutex<Graph>,
    /// UIDs to decide about: collect, verify, or finish a foreground deletion.
    deletions: Arc<WorkQueue>,
    /// UIDs of owners being deleted with the orphan policy.
    orphans: Arc<WorkQueue>,
}

pub fn spawn(registry: Arc<Registry>) {
    let collector = Arc::new(Collector {
        registry,
        graph: Mutex::default(),
        deletions: WorkQueue::new(),
        orphans: WorkQueue::new(),
    });
    tokio::spawn(async move {
        // The whole graph is built before anything is decided, so no dependent looks orphaned
        // only because its owner's type was not listed yet.
        let mut revisions = Vec::new();
        for rt in catalog::all() {
            revisions.push((rt, collector.load_until_done(rt).await));
        }
        tracing::info!(nodes = collector.graph().len(), "garbage collector built its ownership graph");
        collector.start_workers();
        for (rt, revision) in revisions {
            tokio::spawn(collector.clone().follow(rt, revision));
        }
    });
}

impl Collector {
    fn graph(&self) -> std::sync::MutexGuard<'_, Graph> {
        self.graph.lock().expect("graph lock")
    }

    fn schedule(&self, work: Vec<Work>) {
        for item in work {
            match item {
                Work::Delete(uid) => self.deletions.add(uid.to_string()),
                Work::Orphan(uid) => self.orphans.add(uid.to_string()),
            }
        }
    }

    fn start_workers(self: &Arc<Self>) {
        let collector = self.clone();
        self.deletions.run("garbage-collector", DELETE_WORKERS, move |uid| {
            let collector = collector.clone();
            async move { collector.attempt_to_delete(&uid).await.map(|()| None).map_err(anyhow::Error::from) }
        });
        let collector = self.clone();
        self.orphans.run("garbage-collector-orphans", ORPHAN_WORKERS, move |uid| {
            let collector = collector.clone();
            async move { collector.attempt_to_orphan(&uid).await.map(|()| None).map_err(anyhow::Error::from) }
        });
    }

    async fn load_until_done(&self, rt: &'static ResourceType) -> u64 {
        loop {
            match self.load(rt).await {
                Ok(revision) => return revision,
                Err(err) => {
                    tracing::warn!(resource = rt.plural, %err, "garbage collector could not list; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Lists every object of `rt` into the graph, forgetting ones that are gone; returns the
    /// revision to watch from.
    async fn load(&self, rt: &'static ResourceType) -> Result<u64, ApiError> {
        let mut opts = ListOptions { limit: Some(LIST_PAGE), ..Default::default() };
        let mut listed = HashSet::new();
        let mut revision = None;
        loop {
            let page = self.registry.list(rt, None, &opts).await?;
            revision.get_or_insert(page.resource_version.parse().unwrap_or_default());
            let work: Vec<Work> = {
                let mut graph = self.graph();
                page.items
                    .iter()
                    .flat_map(|obj| {
                        listed.insert(object::uid(obj).to_string());
                        graph.upsert(rt, obj)
                    })
                    .collect()
            };
            self.schedule(work);
            match page.continue_token {
                Some(token) => opts.continue_token = Some(token),
                None => break,
            }
        }
        let work = self.graph().retain_listed(rt, &listed);
        self.schedule(work);
        Ok(revision.unwrap_or_default())
    }

    /// Keeps the graph current from a watch on `rt`, relisting whenever the watch breaks.
    async fn follow(self: Arc<Self>, rt: &'static ResourceType, mut revision: u64) {
        loop {
            let opts = WatchOptions { resource_version: Some(revision.max(1)), ..Default::default() };
            match self.registry.watch(rt, None, opts).await {
                Ok(mut events) => {
                    while let Some(event) = events.next().await {
                        let work = match &event {
                            WatchEvent::Added(obj) | WatchEvent::Modified(obj) => self.graph().upsert(rt, obj),
                            WatchEvent::Deleted(obj) => self.graph().remove(object::uid(obj)),
                            WatchEvent::Bookmark { .. } => Vec::new(),
                            WatchEvent::Error(err) => {
                                tracing::debug!(resource = rt.plural, %err, "garbage collector watch ended");
                                break;
                            }
                        };
                        self.schedule(work);
                    }
                }
                Err(err) => tracing::debug!(resource = rt.plural, %err, "garbage collector could not watch"),
            }
            tokio::time::sleep(RETRY).await;
            revision = self.load_until_done(rt).await;
        }
    }
}
