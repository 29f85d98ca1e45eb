//! The store: a revisioned key-value space holding every API object.
//!
//! Semantics follow etcd so that an etcd backend can sit behind the same trait: one global
//! revision counter bumped by every write, each key remembers the revision that created it and
//! the one that last modified it, writes are compare-and-swap on that modification revision,
//! and a watch replays every change after a given revision from a bounded history.
//!
//! A write is acknowledged only once it is durable (fsynced), and watchers see it only then:
//! nothing a client was told about can disappear in a crash.

mod history;
pub mod sled_store;
mod watch_stream;

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Stream;

pub use sled_store::SledStore;

/// Store revision; the API's `resourceVersion`.
pub type Revision = u64;

/// One stored value with its revisions.
#[derive(Debug, Clone)]
pub struct KeyValue {
    pub key: String,
    pub value: Arc<[u8]>,
    pub create_revision: Revision,
    pub mod_revision: Revision,
}

/// What a write did to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change, as a watch delivers it. For `Deleted`, `value` is the last value before deletion.
#[derive(Debug, Clone)]
pub struct Event {
    pub revision: Revision,
    pub event_type: EventType,
    pub key: String,
    pub value: Arc<[u8]>,
    /// For `Modified`, the value it replaced (selector watches need to see objects leave).
    pub prev_value: Option<Arc<[u8]>>,
    /// The values decoded, filled by the first watcher that needs them: every live watcher
    /// shares one `Event`, and decoding per watcher cost more than all else at 100 watches.
    pub decoded: Decoded,
}

/// An event's value and previous value as JSON, each decoded on first use: only watches
/// with selectors look at the previous value, and a decoded object is many times the size
/// of its encoding.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    pub value: std::sync::OnceLock<Arc<serde_json::Value>>,
    pub prev: std::sync::OnceLock<Arc<serde_json::Value>>,
}

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<KeyValue>,
    /// Revision a watch can start from to see every later change.
    pub revision: Revision,
    /// More keys follow the last returned one.
    pub more: bool,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StoreError {
    #[error("key not found")]
    NotFound,
    #[error("key already exists")]
    AlreadyExists,
    /// The key's modification revision is not the expected one.
    #[error("revision conflict: key is at revision {current}")]
    Conflict { current: Revision },
    /// The requested revision is older than the retained history.
    #[error("revision {requested} has been compacted; the oldest available is {oldest}")]
    Compacted { requested: Revision, oldest: Revision },
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A stream of changes, in revision order, without gaps.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Arc<Event>>> + Send>>;

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Keys starting with `prefix` in key order, after `start_after` (exclusive) when given, at
    /// most `limit` of them when given.
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: Option<usize>) -> Result<ListPage>;

    /// Creates `key`; fails with `AlreadyExists` if it is present. Returns the new revision.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision>;

    /// Replaces `key` if its modification revision is `expected`. Returns the new revision.
    async fn update(&self, key: &str, expected: Revision, value: Vec<u8>) -> Result<Revision>;

    /// Deletes `key`, if `expected` is given only at that modification revision. Returns the
    /// deleted value and the revision of the deletion.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)>;

    /// Every change to keys under `prefix` after revision `after`, then live changes.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<EventStream>;

    /// The newest durable revision.
    fn revision(&self) -> Revision;
}

#[cfg(test)]
mod tests;
