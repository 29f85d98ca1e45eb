//! A watch: replay the history after a revision, then follow live events, with no gap and
//! no duplicate between the two, and catch up from the history again if it falls behind the
//! live broadcast.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::sled_store::Inner;
use super::{history, Event, EventStream, Result, Revision};
use crate::server::fanout::{RecvError, Subscription};

/// Revisions read from the history per step while catching up.
const CATCH_UP_STEP: u64 = 1024;

struct WatchState {
    inner: Arc<Inner>,
    prefix: String,
    live: Subscription<Arc<Event>>,
    /// Events ready to hand out.
    ready: VecDeque<Arc<Event>>,
    /// History still to replay: (next revision, last revision).
    catch_up: Option<(Revision, Revision)>,
    /// Newest revision accounted for; live events at or below it are duplicates.
    seen: Revision,
    failed: bool,
}

pub(super) fn open(inner: Arc<Inner>, prefix: String, after: Revision) -> Result<EventStream> {
    let oldest = inner.compacted.load(Ordering::Acquire);
    if after < oldest {
        return Err(super::StoreError::Compacted { requested: after, oldest });
    }
    let live = inner.events.subscribe();
    let published = inner.published.load(Ordering::Acquire);
    let catch_up = (after < published).then_some((after + 1, published));
    let state =
        WatchState { inner, prefix, live, ready: VecDeque::new(), catch_up, seen: published.max(after), failed: false };
    Ok(Box::pin(futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })))
}

impl WatchState {
    async fn next(&mut self) -> Option<Result<Arc<Event>>> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if let Some((from, to)) = self.catch_up {
                match history::read(&self.inner, from, to, &self.prefix, CATCH_UP_STEP) {
                    Ok((events, end)) => {
                        self.ready.extend(events);
                        self.catch_up = (end < to).then_some((end + 1, to));
                    }
                    Err(err) => {
                        self.failed = true;
                        return Some(Err(err));
                    }
                }
                continue;
            }
            match self.live.recv().await {
                Ok(event) => {
                    if event.revision <= self.seen {
                        continue;
                    }
                    self.seen = event.revision;
                    if event.key.starts_with(&self.prefix) {
                        return Some(Ok(event));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow for the live feed: replay what was missed from the history.
                    let published = self.inner.published.load(Ordering::Acquire);
                    if published > self.seen {
                        self.catch_up = Some((self.seen + 1, published));
                        self.seen = published;
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
