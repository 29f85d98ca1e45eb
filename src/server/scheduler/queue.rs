//! The queue of pods waiting for a node, as kube-scheduler keeps it: an active heap ordered by
//! priority (higher first) then creation time, a back-off area for pods that just failed,
//! and an unschedulable area whose pods return when a cluster change may help them (or after
//! a while regardless, in case a change was missed).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::cache::ClusterEvent;
use super::framework::{Plugin, PluginSet};
use super::pod_info::PodInfo;

const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long an unschedulable pod waits for a helpful change before it is tried anyway.
pub const UNSCHEDULABLE_RETRY: Duration = Duration::from_secs(60);
/// How often the unschedulable area is checked for pods that waited long enough.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Active,
    Backoff,
    Unschedulable,
    /// Popped and being scheduled now.
    InFlight,
}

#[derive(Debug)]
struct Slot {
    area: Area,
    /// Identifies the slot's current heap entry; older entries for the key are stale.
    generation: u64,
    priority: i64,
    created: String,
    attempts: u32,
    backoff_until: Instant,
    unschedulable_since: Instant,
    rejected_by: PluginSet,
    /// The event counters when the pod was popped: a helpful event since then means the
    /// failure may be outdated, so the pod backs off rather than waiting for another change.
    popped_at: EventCounts,
    /// The pod itself changed while in flight.
    updated_in_flight: bool,
}

/// An active-heap entry: the greatest is popped first.
#[derive(Debug, PartialEq, Eq)]
struct Ready {
    priority: i64,
    created: Reverse<String>,
    generation: Reverse<u64>,
    key: String,
}

impl Ord for Ready {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.priority, &self.created, self.generation).cmp(&(other.priority, &other.created, other.generation))
    }
}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default)]
struct State {
    slots: HashMap<String, Slot>,
    active: BinaryHeap<Ready>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    generation: u64,
    events: EventCounts,
    last_flush: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct SchedulingQueue {
    state: std::sync::Mutex<State>,
    ready: Notify,
}

impl SchedulingQueue {
    /// A new pod, or a new version of one: it becomes active unless it is backing off.
    pub fn add(&self, pod: &PodInfo) {
        let mut state = self.lock();
        let now = Instant::now();
        match state.slots.get_mut(&pod.key) {
            None => {
                let slot = Slot {
                    area: Area::Active,
                    generation: 0,
                    priority: pod.priority,
                    created: pod.created.clone(),
                    attempts: 0,
                    backoff_until: now,
                    unschedulable_since: now,
                    rejected_by: PluginSet::default(),
                    popped_at: EventCounts::default(),
                    updated_in_flight: false,
                };
                state.slots.insert(pod.key.clone(), slot);
                state.activate(&pod.key, now);
            }
            Some(slot) if slot.area == Area::InFlight => slot.updated_in_flight = true,
            Some(slot) if slot.area == Area::Unschedulable => state.activate(&pod.key, now),
            Some(_) => {}
        }
        drop(state);
        self.ready.notify_one();
    }

    /// Forgets a pod (deleted, bound elsewhere, no longer ours).
    pub fn remove(&self, key: &str) {
        self.lock().slots.remove(key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.lock().slots.contains_key(key)
    }

    /// The next pod to schedule, waiting as long as needed.
    pub async fn pop(&self) -> String {
        loop {
            let notified = self.ready.notified();
            let wake_at = {
                let mut state = self.lock();
                let now = Instant::now();
                state.flush(now);
                if let Some(key) = state.pop_active() {
                    return key;
                }
                state.next_wake(now)
            };
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    /// The popped pod was placed: it leaves the queue.
    pub fn scheduled(&self, key: &str) {
        self.remove(key);
    }

    /// The popped pod fits nowhere: it waits for a change that may help, or backs off at
    /// once if such a change happened while it was being tried.
    pub fn unschedulable(&self, key: &str, rejected_by: PluginSet) {
        let mut state = self.lock();
        let events = state.events;
        let now = Instant::now();
        let Some(slot) = state.slots.get_mut(key) else { return };
        slot.attempts = slot.attempts.saturating_add(1);
        slot.backoff_until = now + backoff(slot.attempts);
        slot.rejected_by = rejected_by;
        let helped_meanwhile =
            ClusterEvent::ALL.into_iter().any(|e| events.get(e) != slot.popped_at.get(e) && may_help(e, rejected_by));
        if helped_meanwhile || slot.updated_in_flight {
            state.activate(key, now);
        } else {
            slot.area = Area::Unschedulable;
            slot.unschedulable_since = now;
        }
    }

    /// The pod's binding failed: it goes back to back-off (re-entering the queue if needed).
    pub fn retry_later(&self, pod: &PodInfo) {
        self.add(pod);
        let mut state = self.lock();
        let now = Instant::now();
        if let Some(slot) = state.slots.get_mut(&pod.key) {
            slot.attempts = slot.attempts.saturating_add(1);
            slot.backoff_until = now + backoff(slot.attempts);
            slot.area = Area::Unschedulable;
            state.activate(&pod.key, now);
        }
    }

    /// A cluster change: unschedulable pods that one of the rejecting filters may now accept
    /// are tried again (after their back-off).
    pub fn cluster_changed(&self, event: ClusterEvent) {
        let mut state = self.lock();
        state.events.bump(event);
        let now = Instant::now();
        let helped: Vec<String> = state
            .slots
            .iter()
            .filter(|(_, s)| s.area == Area::Unschedulable && may_help(event, s.rejected_by))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &helped {
            state.activate(key, now);
        }
        drop(state);
        if !helped.is_empty() {
            self.ready.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("scheduling queue lock")
    }
}

/// Whether `event` may make a node acceptable to a pod that `rejected_by` turned down.
fn may_help(event: ClusterEvent, rejected_by: PluginSet) -> bool {
    match event {
        ClusterEvent::NodeChanged => rejected_by != PluginSet::default(),
        ClusterEvent::PodFreed => [Plugin::NodeResourcesFit, Plugin::NodePorts, Plugin::InterPodAffinity]
            .into_iter()
            .any(|p| rejected_by.contains(p)),
        ClusterEvent::PodPlaced => rejected_by.contains(Plugin::InterPodAffinity),
    }
}

/// How many cluster events of each kind the queue has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct EventCounts([u64; 3]);

impl EventCounts {
    fn get(self, event: ClusterEvent) -> u64 {
        self.0[event as usize]
    }

    fn bump(&mut self, event: ClusterEvent) {
        self.0[event as usize] += 1;
    }
}

fn backoff(attempts: u32) -> Duration {
    INITIAL_BACKOFF.saturating_mul(1 << attempts.saturating_sub(1).min(8)).min(MAX_BACKOFF)
}

impl State {
    /// Puts a known pod into the active heap, or into back-off while that lasts.
    fn activate(&mut self, key: &str, now: Instant) {
        self.generation += 1;
        let generation = self.generation;
        let Some(slot) = self.slots.get_mut(key) else { return };
        slot.generation = generation;
        if slot.backoff_until > now {
            slot.area = Area::Backoff;
            self.backoff.push(Reverse((slot.backoff_until, generation, key.to_string())));
        } else {
            slot.area = Area::Active;
            let entry = Ready {
                priority: slot.priority,
                created: Reverse(slot.created.clone()),
                generation: Reverse(generation),
                key: key.to_string(),
            };
            self.active.push(entry);
        }
    }

    fn is_current(&self, key: &str, generation: u64, area: Area) -> bool {
        self.slots.get(key).is_some_and(|s| s.generation == generation && s.area == area)
    }

    /// Moves pods whose back-off ended, and pods that waited long enough, to the active heap.
    fn flush(&mut self, now: Instant) {
        while let Some(Reverse((until, generation, key))) = self.backoff.peek().cloned() {
            if until > now {
                break;
            }
            self.backoff.pop();
            if self.is_current(&key, generation, Area::Backoff) {
                self.activate(&key, now);
            }
        }
        if self.last_flush.is_some_and(|t| now < t + FLUSH_INTERVAL) {
            return;
        }
        self.last_flush = Some(now);
        let overdue: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, s)| s.area == Area::Unschedulable && now >= s.unschedulable_since + UNSCHEDULABLE_RETRY)
            .map(|(k, _)| k.clone())
            .collect();
        for key in overdue {
            self.activate(&key, now);
        }
    }

    fn pop_active(&mut self) -> Option<String> {
        while let Some(entry) = self.active.pop() {
            if self.is_current(&entry.key, entry.generation.0, Area::Active) {
                let events = self.events;
                let slot = self.slots.get_mut(&entry.key).expect("current entries have slots");
                slot.area = Area::InFlight;
                slot.popped_at = events;
                slot.updated_in_flight = false;
                return Some(entry.key);
            }
        }
        None
    }

    /// When `pop` must look again even if nothing is added.
    fn next_wake(&self, now: Instant) -> Instant {
        let flush = now + FLUSH_INTERVAL;
        match self.backoff.peek() {
            Some(Reverse((until, _, _))) => (*until).min(flush),
            None => flush,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::pod;
    use serde_json::json;

    fn pending(name: &str, priority: i64, created: &str) -> PodInfo {
        pod(json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": created},
            "spec": {"containers": [], "priority": priority}}))
    }

    async fn pop_now(queue: &SchedulingQueue) -> Option<String> {
        tokio::time::timeout(Duration::from_millis(10), queue.pop()).await.ok()
    }

    #[tokio::test(start_paused = true)]
    async fn higher_priority_then_older_pods_first() {
        let queue = SchedulingQueue::default();
        queue.add(&pending("late", 0, "2024-01-01T00:00:02Z"));
        queue.add(&pending("early", 0, "2024-01-01T00:00:01Z"));
        queue.add(&pending("urgent", 1000, "2024-01-01T00:00:03Z"));
        queue.add(&pending("early", 0, "2024-01-01T00:00:01Z"));
        assert_eq!(pop_now(&queue).await.as_deref(), Some("default/urgent"));
        assert_eq!(pop_now(&queue).await.as_deref(), Some("default/early"));
        assert_eq!(pop_now(&queue).await.as_deref(), Some("default/late"));
        assert_eq!(pop_now(&queue).await, None, "each pod is handed out once");
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_pods_wait_for_a_helpful_change() {
        let queue = SchedulingQueue::default();
        let p = pending("p", 0, "2024-01-01T00:00:00Z");
        queue.add(&p);
        let key = pop_now(&queue).await.unwrap();
        let mut rejected = PluginSet::default();
        rejected.insert(Plugin::NodeResourcesFit);
        queue.unschedulable(&key, rejected);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(pop_now(&queue).await, None);
        queue.cluster_changed(ClusterEvent::PodPlaced);
        assert_eq!(pop_now(&queue).await, None, "a new pod elsewhere cannot free cpu");
        queue.cluster_changed(ClusterEvent::PodFreed);
        assert_eq!(pop_now(&queue).await.as_deref(), Some("default/p"));
    }

    #[tokio::test(start_paused = true)]
    async fn changes_during_an_attempt_and_backoff() {
        let queue = SchedulingQueue::default();
        queue.add(&pending("p", 0, "2024-01-01T00:00:00Z"));
        let key = pop_now(&queue).await.unwrap();
        queue.cluster_changed(ClusterEvent::NodeChanged);
        queue.unschedulable(&key, PluginSet::ALL);
        assert_eq!(pop_now(&queue).await, None, "backing off for a second");
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert_eq!(pop_now(&queue).await.as_deref(), Some("default/p"), "the node change may have helped");
        queue.unschedulable(&key, PluginSet::ALL);
        tokio::time::advance(UNSCHEDULABLE_RETRY + Duration::from_secs(2)).await;
        assert_eq!(pop_now(&queue).await.as_deref(), Some("default/p"), "retried after waiting long enough");
    }

    #[tokio::test(start_paused = true)]
    async fn removed_pods_are_not_handed_out() {
        let queue = SchedulingQueue::default();
        queue.add(&pending("gone", 0, "2024-01-01T00:00:00Z"));
        queue.remove("default/gone");
        assert_eq!(pop_now(&queue).await, None);
        assert!(!queue.contains("default/gone"));
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(9), MAX_BACKOFF);
    }
}
