//! Fan-out of a stream of values to subscribers, each with a bounded queue of its own.
//!
//! A broadcast ring keeps its last N values alive whether every subscriber has read them or
//! not; with watch events and informer changes that meant the objects in them too (at
//! 10,000 pods, tens of MB of superseded pods nobody would read again). Here a value lives
//! only until each subscriber has taken it. A subscriber whose queue is full misses values
//! and is told so once (`Lagged`), like a broadcast receiver: it then resyncs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{self, error::TrySendError};

pub use tokio::sync::broadcast::error::{RecvError, TryRecvError};

pub struct Fanout<T> {
    capacity: usize,
    subscribers: Mutex<Vec<Subscriber<T>>>,
}

struct Subscriber<T> {
    queue: mpsc::Sender<T>,
    lagged: Arc<AtomicBool>,
}

/// One subscriber's end.
pub struct Subscription<T> {
    queue: mpsc::Receiver<T>,
    lagged: Arc<AtomicBool>,
}

impl<T: Clone> Fanout<T> {
    /// Each subscriber holds at most `capacity` unread values.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, subscribers: Mutex::default() }
    }

    /// Values sent from now on.
    pub fn subscribe(&self) -> Subscription<T> {
        let (queue, receiver) = mpsc::channel(self.capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        self.subscribers.lock().expect("fanout lock").push(Subscriber { queue, lagged: lagged.clone() });
        Subscription { queue: receiver, lagged }
    }

    /// Queues `value` for every subscriber; forgets subscribers that have gone.
    pub fn send(&self, value: T) {
        self.subscribers.lock().expect("fanout lock").retain(|s| match s.queue.try_send(value.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                s.lagged.store(true, Ordering::Release);
                true
            }
            Err(TrySendError::Closed(_)) => false,
        });
    }
}

impl<T> Subscription<T> {
    /// The next value; `Lagged` once after values were missed, `Closed` when the sender is
    /// gone. With `Lagged` what was still queued is dropped too (its count is the number
    /// given): the subscriber resyncs from the current state anyway.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        if let Some(dropped) = self.take_lag() {
            return Err(RecvError::Lagged(dropped));
        }
        self.queue.recv().await.ok_or(RecvError::Closed)
    }

    /// The next value if one is queued, as `recv` otherwise.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(dropped) = self.take_lag() {
            return Err(TryRecvError::Lagged(dropped));
        }
        self.queue.try_recv().map_err(|err| match err {
            mpsc::error::TryRecvError::Empty => TryRecvError::Empty,
            mpsc::error::TryRecvError::Disconnected => TryRecvError::Closed,
        })
    }

    /// After a miss: empties the queue and says how many values that dropped.
    fn take_lag(&mut self) -> Option<u64> {
        if !self.lagged.swap(false, Ordering::AcqRel) {
            return None;
        }
        let mut dropped = 0;
        while self.queue.try_recv().is_ok() {
            dropped += 1;
        }
        Some(dropped)
    }

    /// The values as a stream, ending when the sender is gone.
    pub fn into_stream(self) -> futures::stream::BoxStream<'static, Result<T, RecvError>>
    where
        T: Send + 'static,
    {
        Box::pin(futures::stream::unfold(self, |mut sub| async move {
            match sub.recv().await {
                Err(RecvError::Closed) => None,
                item => Some((item, sub)),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_every_value_in_order() {
        let fanout = Fanout::new(4);
        let (mut a, mut b) = (fanout.subscribe(), fanout.subscribe());
        for i in 0..3 {
            fanout.send(i);
        }
        for sub in [&mut a, &mut b] {
            for i in 0..3 {
                assert_eq!(sub.recv().await, Ok(i));
            }
        }
    }

    #[tokio::test]
    async fn a_full_queue_reports_lag_once_then_goes_on() {
        let fanout = Fanout::new(2);
        let mut sub = fanout.subscribe();
        for i in 0..5 {
            fanout.send(i);
        }
        assert_eq!(sub.recv().await, Err(RecvError::Lagged(2)));
        fanout.send(9);
        assert_eq!(sub.recv().await, Ok(9));
    }

    #[tokio::test]
    async fn values_are_freed_once_read_and_gone_subscribers_are_forgotten() {
        let fanout = Fanout::new(4);
        let mut sub = fanout.subscribe();
        let value = Arc::new(1);
        fanout.send(value.clone());
        assert_eq!(Arc::strong_count(&value), 2);
        drop(sub.recv().await);
        assert_eq!(Arc::strong_count(&value), 1);
        drop(sub);
        fanout.send(value.clone());
        assert!(fanout.subscribers.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn closed_when_the_sender_is_gone() {
        let fanout = Fanout::<u8>::new(1);
        let mut sub = fanout.subscribe();
        drop(fanout);
        assert_eq!(sub.recv().await, Err(RecvError::Closed));
    }
}
