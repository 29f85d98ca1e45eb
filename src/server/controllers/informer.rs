//! Informers: an in-memory copy of every object of one type, kept current by a watch on the
//! registry, with change notifications for controllers. Controllers read this cache instead
//! of the store and write through the registry.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::watch;

use crate::server::api_error::ApiError;
use crate::server::fanout::{Fanout, RecvError, Subscription};
use crate::server::registry::catalog::ResourceType;
use crate::server::registry::options::{ListOptions, WatchOptions};
use crate::server::registry::{object, Registry, WatchEvent};

/// Notifications queued per subscriber; a subscriber that falls further behind resyncs.
/// Each holds an object and its previous version until read, so the bound is also a memory
/// bound.
const CHANGE_BUFFER: usize = 2 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One change to the cache.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: ChangeKind,
    pub object: Arc<Value>,
    /// The previous version, for modifications.
    pub old: Option<Arc<Value>>,
}

/// The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects.
pub fn cache_key(obj: &Value) -> String {
    let ns = object::namespace(obj);
    if ns.is_empty() {
        object::name(obj).to_string()
    } else {
        format!("{ns}/{}", object::name(obj))
    }
}

/// Splits a cache key into (namespace, name).
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

pub struct Informer {
    pub rt: &'static ResourceType,
    objects: RwLock<BTreeMap<String, Arc<Value>>>,
    changes: Fanout<Change>,
    synced: watch::Sender<bool>,
}

impl Informer {
    fn start(registry: Arc<Registry>, rt: &'static ResourceType) -> Arc<Self> {
        let (synced, _) = watch::channel(false);
        let informer = Arc::new(Self { rt, objects: RwLock::default(), changes: Fanout::new(CHANGE_BUFFER), synced });
        let weak = Arc::downgrade(&informer);
        tokio::spawn(async move {
            loop {
                let Some(informer) = weak.upgrade() else { return };
                if let Err(err) = informer.run(&registry).await {
                    tracing::debug!(resource = rt.plural, %err, "informer watch ended; relisting");
                }
                drop(informer);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        informer
    }

    /// Lists, replaces the cache (announcing the differences), then follows the watch.
    async fn run(&self, registry: &Registry) -> Result<(), ApiError> {
        let list = registry.list(self.rt, None, &ListOptions::default()).await?;
        let revision: u64 = list.resource_version.parse().unwrap_or_default();
        self.replace(list.items);
        self.synced.send_replace(true);
        let opts = WatchOptions { resource_version: Some(revision.max(1)), ..Default::default() };
        let mut events = registry.watch(self.rt, None, opts).await?;
        while let Some(event) = events.next().await {
            match event {
                WatchEvent::Added(obj) | WatchEvent::Modified(obj) => self.upsert(obj),
                WatchEvent::Deleted(obj) => self.remove(obj),
                WatchEvent::Bookmark { .. } => {}
                WatchEvent::Error(err) => return Err(err),
            }
        }
        Ok(())
    }

    fn replace(&self, items: Vec<Value>) {
        let fresh: BTreeMap<String, Arc<Value>> = items.into_iter().map(|o| (cache_key(&o), Arc::new(o))).collect();
        let old = std::mem::replace(&mut *self.objects.write().expect("informer lock"), fresh.clone());
        for (key, obj) in &fresh {
            match old.get(key) {
                None => self.announce(ChangeKind::Added, obj.clone(), None),
                Some(prev) if prev != obj => self.announce(ChangeKind::Modified, obj.clone(), Some(prev.clone())),
                Some(_) => {}
            }
        }
        for (key, obj) in old {
            if !fresh.contains_key(&key) {
                self.announce(ChangeKind::Deleted, obj, None);
            }
        }
    }

    fn upsert(&self, obj: Arc<Value>) {
        let previous = self.objects.write().expect("informer lock").insert(cache_key(&obj), obj.clone());
        match previous {
            Some(prev) => self.announce(ChangeKind::Modified, obj, Some(prev)),
            None => self.announce(ChangeKind::Added, obj, None),
        }
    }

    fn remove(&self, obj: Arc<Value>) {
        let removed = self.objects.write().expect("informer lock").remove(&cache_key(&obj));
        self.announce(ChangeKind::Deleted, removed.unwrap_or(obj), None);
    }

    fn announce(&self, kind: ChangeKind, object: Arc<Value>, old: Option<Arc<Value>>) {
        self.changes.send(Change { kind, object, old });
    }

    /// Waits until the first list has been loaded.
    pub async fn wait_synced(&self) {
        let mut rx = self.synced.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<Arc<Value>> {
        let key = match namespace {
            Some(ns) if self.rt.namespaced => format!("{ns}/{name}"),
            _ => name.to_string(),
        };
        self.objects.read().expect("informer lock").get(&key).cloned()
    }

    pub fn get_key(&self, key: &str) -> Option<Arc<Value>> {
        self.objects.read().expect("informer lock").get(key).cloned()
    }

    /// Every cached object, or those of one namespace.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let objects = self.objects.read().expect("informer lock");
        match namespace {
            Some(ns) if self.rt.namespaced => {
                let prefix = format!("{ns}/");
                objects
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(_, v)| v.clone())
                    .collect()
            }
            _ => objects.values().cloned().collect(),
        }
    }

    /// Change notifications from now on.
    pub fn subscribe(&self) -> Subscription<Change> {
        self.changes.subscribe()
    }
}

/// One informer per resource type, shared by every controller.
pub struct Informers {
    registry: Arc<Registry>,
    started: Mutex<HashMap<(&'static str, &'static str), Arc<Informer>>>,
}

impl Informers {
    pub fn new(registry: Arc<Registry>) -> Arc<Self> {
        Arc::new(Self { registry, started: Mutex::default() })
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The informer for `rt`, started on first use.
    pub fn get(&self, rt: &'static ResourceType) -> Arc<Informer> {
        let mut started = self.started.lock().expect("informers lock");
        started.entry((rt.group, rt.plural)).or_insert_with(|| Informer::start(self.registry.clone(), rt)).clone()
    }

    /// The informer for a type given by group and plural (panics on an unserved type: a
    /// programming error).
    pub fn of(&self, group: &str, plural: &str) -> Arc<Informer> {
        let rt = crate::server::registry::catalog::all()
            .iter()
            .find(|rt| rt.group == group && rt.plural == plural)
            .unwrap_or_else(|| panic!("{plural}.{group} is not served"));
        self.get(rt)
    }
}

/// Feeds a work queue from an informer: `keys` maps each change to the keys to (re)process.
/// Every cached object counts as added once the informer has synced, and after a
/// subscriber falls behind, every object is looked at again.
pub fn enqueue_changes<F>(informer: Arc<Informer>, queue: Arc<super::queue::WorkQueue>, keys: F)
where
    F: Fn(&Change) -> Vec<String> + Send + 'static,
{
    let mut changes = informer.subscribe();
    tokio::spawn(async move {
        informer.wait_synced().await;
        let resync = |keys: &F| {
            for object in informer.list(None) {
                for key in keys(&Change { kind: ChangeKind::Added, object, old: None }) {
                    queue.add(key);
                }
            }
        };
        resync(&keys);
        loop {
            match changes.recv().await {
                Ok(change) => {
                    for key in keys(&change) {
                        queue.add(key);
                    }
                }
                Err(RecvError::Lagged(_)) => resync(&keys),
                Err(RecvError::Closed) => return,
            }
        }
    });
}
