//! Watch: the current state (when asked), then every change, filtered by selectors, with
//! objects entering and leaving a selector reported as ADDED and DELETED, and periodic
//! bookmarks.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};
use serde_json::Value;

use super::catalog::ResourceType;
use super::options::{ListOptions, WatchOptions};
use super::{collection_prefix, decode_at, store_error, Registry};
use crate::server::api_error::ApiError;
use crate::server::store::{Event, EventType, StoreError};

/// How often an idle watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

/// Objects are shared: every watcher of a change holds the one copy decoded for it.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    Added(Arc<Value>),
    Modified(Arc<Value>),
    Deleted(Arc<Value>),
    /// Progress up to a revision; `initial_events_end` marks the end of the initial state.
    Bookmark {
        revision: u64,
        initial_events_end: bool,
    },
    Error(ApiError),
}

impl Registry {
    pub async fn watch(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        opts: WatchOptions,
    ) -> Result<BoxStream<'static, WatchEvent>, ApiError> {
        let prefix = collection_prefix(rt, namespace);
        let mut initial = Vec::new();
        let start = match opts.resource_version.filter(|rv| *rv > 0 && !opts.send_initial_events) {
            Some(rv) => rv,
            None => {
                let list_opts = ListOptions {
                    label_selector: opts.label_selector.clone(),
                    field_selector: opts.field_selector.clone(),
                    ..Default::default()
                };
                let list = self.list(rt, namespace, &list_opts).await?;
                let revision = list.resource_version.parse().unwrap_or_default();
                initial.extend(list.items.into_iter().map(|obj| WatchEvent::Added(Arc::new(obj))));
                if opts.send_initial_events && opts.allow_bookmarks {
                    initial.push(WatchEvent::Bookmark { revision, initial_events_end: true });
                }
                revision
            }
        };
        let changes = match self.store.watch(&prefix, start).await {
            Ok(stream) => stream,
            Err(err @ StoreError::Compacted { .. }) => {
                return Ok(futures::stream::iter([WatchEvent::Error(store_error(err))]).boxed());
            }
            Err(err) => return Err(store_error(err)),
        };
        let filter = Filter { opts: opts.clone() };
        let state = State { changes, filter, last_revision: start, bookmarks: opts.allow_bookmarks, done: false };
        let live = futures::stream::unfold(state, |mut state| async move {
            let event = state.next().await?;
            Some((event, state))
        });
        Ok(futures::stream::iter(initial).chain(live).boxed())
    }
}

struct Filter {
    opts: WatchOptions,
}

impl Filter {
    fn matches(&self, obj: &Value) -> bool {
        self.opts.label_selector.matches_object(obj) && self.opts.field_selector.matches(obj)
    }

    fn selects_everything(&self) -> bool {
        self.opts.label_selector.is_empty() && self.opts.field_selector.is_empty()
    }

    /// The event a watcher sees for a store event, if any.
    fn translate(&self, event: &Event) -> Result<Option<WatchEvent>, ApiError> {
        let value = decoded(&event.decoded.value, &event.value, event.revision)?;
        let now = self.matches(&value);
        let obj = || value.clone();
        Ok(match event.event_type {
            EventType::Added => now.then(|| WatchEvent::Added(obj())),
            EventType::Deleted => now.then(|| WatchEvent::Deleted(obj())),
            EventType::Modified => {
                let before = match &event.prev_value {
                    Some(prev) if !self.selects_everything() => {
                        self.matches(&*decoded(&event.decoded.prev, prev, event.revision)?)
                    }
                    _ => now,
                };
                match (before, now) {
                    (true, true) => Some(WatchEvent::Modified(obj())),
                    (false, true) => Some(WatchEvent::Added(obj())),
                    (true, false) => Some(WatchEvent::Deleted(obj())),
                    (false, false) => None,
                }
            }
        })
    }
}

/// One of the event's objects, decoded once for all the watchers sharing it.
fn decoded(cell: &OnceLock<Arc<Value>>, raw: &[u8], revision: u64) -> Result<Arc<Value>, ApiError> {
    if let Some(value) = cell.get() {
        return Ok(value.clone());
    }
    let value = Arc::new(decode_at(raw, revision)?);
    Ok(cell.get_or_init(|| value).clone())
}

struct State {
    changes: crate::server::store::EventStream,
    filter: Filter,
    /// Newest revision this watcher has been told about.
    last_revision: u64,
    bookmarks: bool,
    done: bool,
}

impl State {
    async fn next(&mut self) -> Option<WatchEvent> {
        if self.done {
            return None;
        }
        loop {
            let tick = async {
                if self.bookmarks {
                    tokio::time::sleep(BOOKMARK_INTERVAL).await
                } else {
                    std::future::pending().await
                }
            };
            let next = tokio::select! {
                next = self.changes.next() => next,
                () = tick => return Some(WatchEvent::Bookmark { revision: self.last_revision, initial_events_end: false }),
            };
            match next {
                None => return None,
                Some(Err(err)) => {
                    self.done = true;
                    return Some(WatchEvent::Error(store_error(err)));
                }
                Some(Ok(event)) => match self.filter.translate(&event) {
                    Ok(Some(out)) => {
                        self.last_revision = event.revision;
                        return Some(out);
                    }
                    Ok(None) => continue,
                    Err(err) => {
                        self.done = true;
                        return Some(WatchEvent::Error(err));
                    }
                },
            }
        }
    }
}
