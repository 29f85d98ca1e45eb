//! A work queue of object keys, as controllers use it: a key is processed by one worker at a
//! time, adding a key that is already waiting does nothing, a key added while it is being
//! processed runs again afterwards, and failures are retried with exponential back-off.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

const BASE_DELAY: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_secs(60);

#[derive(Default)]
struct State {
    waiting: VecDeque<String>,
    queued: HashSet<String>,
    processing: HashSet<String>,
    /// Keys re-added while being processed.
    dirty: HashSet<String>,
    failures: HashMap<String, u32>,
}

#[derive(Default)]
pub struct WorkQueue {
    state: Mutex<State>,
    ready: Notify,
}

impl WorkQueue {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn add(&self, key: impl Into<String>) {
        let key = key.into();
        let mut state = self.state.lock().expect("queue lock");
        if state.processing.contains(&key) {
            state.dirty.insert(key);
            return;
        }
        if state.queued.insert(key.clone()) {
            state.waiting.push_back(key);
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Adds `key` after `delay`.
    pub fn add_after(self: &Arc<Self>, key: impl Into<String>, delay: Duration) {
        let key = key.into();
        let queue = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(queue) = queue.upgrade() {
                queue.add(key);
            }
        });
    }

    async fn next(&self) -> String {
        loop {
            let notified = self.ready.notified();
            {
                let mut state = self.state.lock().expect("queue lock");
                if let Some(key) = state.waiting.pop_front() {
                    state.queued.remove(&key);
                    state.processing.insert(key.clone());
                    if !state.waiting.is_empty() {
                        self.ready.notify_one();
                    }
                    return key;
                }
            }
            notified.await;
        }
    }

    fn done(&self, key: &str) {
        let mut state = self.state.lock().expect("queue lock");
        state.processing.remove(key);
        if state.dirty.remove(key) && state.queued.insert(key.to_string()) {
            state.waiting.push_back(key.to_string());
            drop(state);
            self.ready.notify_one();
        }
    }

    /// The back-off for another failure of `key`.
    fn failed(&self, key: &str) -> Duration {
        let mut state = self.state.lock().expect("queue lock");
        let n = state.failures.entry(key.to_string()).or_default();
        *n = n.saturating_add(1);
        BASE_DELAY.saturating_mul(1u32 << (*n).min(14)).min(MAX_DELAY)
    }

    fn forget(&self, key: &str) {
        self.state.lock().expect("queue lock").failures.remove(key);
    }

    /// Runs `workers` tasks that process keys with `handle`. `Ok(Some(d))` asks to look at
    /// the key again after `d`; errors are retried with back-off.
    pub fn run<F, Fut>(self: &Arc<Self>, name: &'static str, workers: usize, handle: F)
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<Option<Duration>>> + Send,
    {
        let handle = Arc::new(handle);
        for _ in 0..workers {
            let (queue, handle) = (self.clone(), handle.clone());
            tokio::spawn(async move {
                loop {
                    let key = queue.next().await;
                    match handle(key.clone()).await {
                        Ok(again) => {
                            queue.forget(&key);
                            if let Some(delay) = again {
                                queue.add_after(key.clone(), delay);
                            }
                        }
                        Err(err) => {
                            let delay = queue.failed(&key);
                            tracing::debug!(controller = name, %key, %err, ?delay, "sync failed; retrying");
                            queue.add_after(key.clone(), delay);
                        }
                    }
                    queue.done(&key);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn duplicate_keys_collapse_and_failures_retry() {
        let queue = WorkQueue::new();
        let calls = Arc::new(AtomicUsize::new(0));
        queue.add("a");
        queue.add("a");
        let counter = calls.clone();
        queue.run("test", 2, move |key| {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                assert_eq!(key, "a");
                if n == 0 {
                    anyhow::bail!("first attempt fails");
                }
                Ok(None)
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
