//! The sled backend of the store.
//!
//! Layout (one sled tree):
//! - `o/<key>` → create revision, modification revision (8 bytes each, big-endian), value
//! - `e/<revision>` → the event of that revision (the watch history); the newest one gives
//!   the store's revision
//! - `m/compacted` → counter (`m/revision`, the revision before, is still read)
//!
//! A write is two single-key writes, the event first, not one atomic batch: sled seals its
//! log buffer around every batch under a lock that stops all other reads and writes, which
//! held writes near 1,000/s. sled recovers a prefix of its log, so a crash can only lose the
//! object write of the newest event; opening the store applies it again.
//!
//! Writes are serialised by one mutex that also assigns revisions. Durability is a group
//! commit: writers wait until a single flusher task has fsynced past their revision, so
//! concurrent writes share one fsync. Only the flusher publishes events to watchers, in
//! revision order and only once durable.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{watch, Notify};

use super::history;
use super::watch_stream;
use super::{Event, EventStream, EventType, KeyValue, ListPage, Result, Revision, Store, StoreError};
use crate::server::fanout::Fanout;

const OBJECT: &[u8] = b"o/";
const REVISION_KEY: &[u8] = b"m/revision";
const COMPACTED_KEY: &[u8] = b"m/compacted";
/// Live events queued per watcher before it must catch up from the history.
const WATCH_QUEUE: usize = 1024;

#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    db: sled::Db,
    pub(super) tree: sled::Tree,
    /// Guards revision assignment and the read-check-write of one key; holds the last
    /// assigned revision.
    writer: Mutex<Revision>,
    /// Written but not yet durable events, oldest first.
    pending: Mutex<VecDeque<Arc<Event>>>,
    /// Newest revision that is durable and has been handed to watchers.
    pub(super) published: AtomicU64,
    pub(super) compacted: AtomicU64,
    pub(super) events: Fanout<Arc<Event>>,
    durable: watch::Sender<Revision>,
    flush_wanted: Arc<Notify>,
    history_limit: u64,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, keeping at least `history_limit` revisions of
    /// watch history. Must be called inside a tokio runtime: it starts the flusher task.
    pub fn open(dir: &Path, history_limit: u64) -> anyhow::Result<Self> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(8 * 1024 * 1024)
            .flush_every_ms(None)
            .mode(sled::Mode::LowSpace)
            .open()?;
        let tree = db.open_tree("kv")?;
        let revision = read_counter(&tree, REVISION_KEY)?.max(redo_newest_write(&tree)?);
        let compacted = read_counter(&tree, COMPACTED_KEY)?;
        let (durable, _) = watch::channel(revision);
        let inner = Arc::new(Inner {
            db,
            tree,
            writer: Mutex::new(revision),
            pending: Mutex::new(VecDeque::new()),
            published: AtomicU64::new(revision),
            compacted: AtomicU64::new(compacted),
            events: Fanout::new(WATCH_QUEUE),
            durable,
            flush_wanted: Arc::new(Notify::new()),
            history_limit: history_limit.max(1),
        });
        tokio::spawn(flusher(Arc::downgrade(&inner), inner.flush_wanted.clone()));
        Ok(Self { inner })
    }

    /// Oldest revision a watch may start after.
    pub fn compacted_revision(&self) -> Revision {
        self.inner.compacted.load(Ordering::Acquire)
    }

    /// Applies one write under the writer lock, then waits until it is durable.
    async fn write(
        &self,
        key: &str,
        change: impl FnOnce(Option<KeyValue>) -> Result<Option<Vec<u8>>>,
    ) -> Result<(Revision, Option<KeyValue>)> {
        let (revision, previous) = {
            let mut last = self.inner.writer.lock().map_err(|_| backend("writer lock poisoned"))?;
            let previous = self.inner.read(key)?;
            let new_value = change(previous.clone())?;
            let revision = *last + 1;
            let (event_type, event_value, prev_value, stored) = match (&previous, new_value) {
                (None, Some(value)) => (EventType::Added, value.clone(), None, Some((revision, value))),
                (Some(prev), Some(value)) => {
                    (EventType::Modified, value.clone(), Some(prev.value.clone()), Some((prev.create_revision, value)))
                }
                (Some(prev), None) => (EventType::Deleted, prev.value.to_vec(), None, None),
                (None, None) => return Err(StoreError::NotFound),
            };
            let event = Event {
                revision,
                event_type,
                key: key.to_string(),
                value: event_value.into(),
                prev_value,
                decoded: Default::default(),
            };
            // The event first (see the top of this file).
            self.inner.tree.insert(history::event_key(revision), history::encode_event(&event)).map_err(backend)?;
            store_object(&self.inner.tree, key, stored.map(|(create, value)| encode_object(create, revision, &value)))?;
            *last = revision;
            self.inner.pending.lock().map_err(|_| backend("pending lock poisoned"))?.push_back(Arc::new(event));
            (revision, previous)
        };
        self.inner.flush_wanted.notify_one();
        let mut durable = self.inner.durable.subscribe();
        durable.wait_for(|&d| d >= revision).await.map_err(|_| backend("store is shutting down"))?;
        Ok((revision, previous))
    }
}

impl Inner {
    fn read(&self, key: &str) -> Result<Option<KeyValue>> {
        match self.tree.get(object_key(key)).map_err(backend)? {
            Some(raw) => Ok(Some(decode_object(key.to_string(), &raw)?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl Store for SledStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.inner.read(key)
    }

    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: Option<usize>) -> Result<ListPage> {
        let revision = self.revision();
        let full_prefix = object_key(prefix);
        let range = match start_after {
            Some(after) => {
                let mut start = object_key(after);
                start.push(0);
                self.inner.tree.range(start..)
            }
            None => self.inner.tree.range(full_prefix.clone()..),
        };
        let limit = limit.unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut more = false;
        for entry in range {
            let (k, v) = entry.map_err(backend)?;
            if !k.starts_with(&full_prefix) {
                break;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            let key = String::from_utf8_lossy(&k[OBJECT.len()..]).into_owned();
            items.push(decode_object(key, &v)?);
        }
        Ok(ListPage { items, revision, more })
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision> {
        let (revision, _) = self
            .write(key, |prev| match prev {
                Some(_) => Err(StoreError::AlreadyExists),
                None => Ok(Some(value)),
            })
            .await?;
        Ok(revision)
    }

    async fn update(&self, key: &str, expected: Revision, value: Vec<u8>) -> Result<Revision> {
        let (revision, _) = self
            .write(key, |prev| match prev {
                None => Err(StoreError::NotFound),
                Some(p) if p.mod_revision != expected => Err(StoreError::Conflict { current: p.mod_revision }),
                Some(_) => Ok(Some(value)),
            })
            .await?;
        Ok(revision)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        let (revision, previous) = self
            .write(key, |prev| match (prev, expected) {
                (None, _) => Err(StoreError::NotFound),
                (Some(p), Some(rev)) if p.mod_revision != rev => Err(StoreError::Conflict { current: p.mod_revision }),
                (Some(_), _) => Ok(None),
            })
            .await?;
        Ok((previous.expect("a delete always has a previous value"), revision))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<EventStream> {
        watch_stream::open(self.inner.clone(), prefix.to_string(), after)
    }

    fn revision(&self) -> Revision {
        self.inner.published.load(Ordering::Acquire)
    }
}

/// Makes written events durable in batches and hands them to watchers, in order.
async fn flusher(inner: std::sync::Weak<Inner>, wanted: Arc<Notify>) {
    loop {
        let notified = wanted.notified();
        if let Some(strong) = inner.upgrade() {
            let target = match strong.writer.lock() {
                Ok(last) => *last,
                Err(_) => return,
            };
            if target != strong.published.load(Ordering::Acquire) {
                flush_and_publish(&strong, target).await;
                continue;
            }
        } else {
            return;
        }
        // Wake up now and then even without writes so the task ends once the store is dropped.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), notified).await;
    }
}

async fn flush_and_publish(inner: &Inner, target: Revision) {
    let db = inner.db.clone();
    match tokio::task::spawn_blocking(move || db.flush()).await {
        Ok(Ok(_)) => {}
        failure => {
            tracing::error!(?failure, "store flush failed; retrying");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            return;
        }
    }
    inner.publish_up_to(target);
    if let Err(err) = inner.compact_if_due(target) {
        tracing::warn!(%err, "watch history compaction failed");
    }
}

impl Inner {
    fn publish_up_to(&self, target: Revision) {
        let ready: Vec<Arc<Event>> = {
            let mut pending = self.pending.lock().expect("pending lock");
            let n = pending.iter().take_while(|e| e.revision <= target).count();
            pending.drain(..n).collect()
        };
        for event in ready {
            // Published is raised before sending so a new watcher either reads the event from
            // the history or receives it live (and drops the duplicate).
            self.published.store(event.revision, Ordering::Release);
            self.events.send(event);
        }
        self.published.store(target, Ordering::Release);
        self.durable.send_replace(target);
    }

    fn compact_if_due(&self, revision: Revision) -> Result<()> {
        let compacted = self.compacted.load(Ordering::Acquire);
        // Compact in steps of a tenth of the history to keep each step cheap.
        if revision <= compacted + self.history_limit + self.history_limit / 10 {
            return Ok(());
        }
        let new_compacted = revision - self.history_limit;
        self.compacted.store(new_compacted, Ordering::Release);
        let mut batch = sled::Batch::default();
        for entry in self.tree.range(history::event_key(compacted + 1)..=history::event_key(new_compacted)) {
            batch.remove(entry.map_err(backend)?.0);
        }
        batch.insert(COMPACTED_KEY, &new_compacted.to_be_bytes());
        self.tree.apply_batch(batch).map_err(backend)
    }
}

/// Writes (or with `None` removes) the record of `key`.
fn store_object(tree: &sled::Tree, key: &str, record: Option<Vec<u8>>) -> Result<()> {
    match record {
        Some(record) => tree.insert(object_key(key), record),
        None => tree.remove(object_key(key)),
    }
    .map(drop)
    .map_err(backend)
}

/// Applies the newest event to its object if a crash lost that write; returns the event's
/// revision (0 without history).
fn redo_newest_write(tree: &sled::Tree) -> anyhow::Result<Revision> {
    let Some(event) = history::newest(tree)? else { return Ok(0) };
    let current = tree.get(object_key(&event.key))?.map(|raw| decode_object(event.key.clone(), &raw)).transpose()?;
    if current.as_ref().is_some_and(|c| c.mod_revision >= event.revision) {
        return Ok(event.revision);
    }
    let record = match event.event_type {
        EventType::Deleted => None,
        EventType::Added => Some(encode_object(event.revision, event.revision, &event.value)),
        EventType::Modified => {
            let created = current.as_ref().map_or(event.revision, |c| c.create_revision);
            Some(encode_object(created, event.revision, &event.value))
        }
    };
    if record.is_some() || current.is_some() {
        tracing::info!(key = %event.key, revision = event.revision, "store: applying the last write a crash cut short");
        store_object(tree, &event.key, record)?;
    }
    Ok(event.revision)
}

fn object_key(key: &str) -> Vec<u8> {
    [OBJECT, key.as_bytes()].concat()
}

fn encode_object(create_revision: Revision, mod_revision: Revision, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + value.len());
    out.extend_from_slice(&create_revision.to_be_bytes());
    out.extend_from_slice(&mod_revision.to_be_bytes());
    out.extend_from_slice(value);
    out
}

fn decode_object(key: String, raw: &[u8]) -> Result<KeyValue> {
    if raw.len() < 16 {
        return Err(backend(format!("corrupt record for {key}")));
    }
    Ok(KeyValue {
        key,
        create_revision: u64::from_be_bytes(raw[0..8].try_into().expect("8 bytes")),
        mod_revision: u64::from_be_bytes(raw[8..16].try_into().expect("8 bytes")),
        value: raw[16..].into(),
    })
}

fn read_counter(tree: &sled::Tree, key: &[u8]) -> anyhow::Result<u64> {
    Ok(match tree.get(key)? {
        Some(raw) => u64::from_be_bytes(raw.as_ref().try_into().map_err(|_| anyhow::anyhow!("corrupt counter"))?),
        None => 0,
    })
}

pub(super) fn backend(err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(err.to_string())
}
