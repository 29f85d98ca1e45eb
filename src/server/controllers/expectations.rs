//! Expectations: a controller that created or deleted pods waits until its informer has seen
//! those writes before it counts pods again, so a slow cache never makes it create or delete
//! twice. Expectations expire, so a lost notification delays a controller but never stalls it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long expectations are trusted before the controller counts pods anyway.
const EXPECTATIONS_TTL: Duration = Duration::from_secs(5 * 60);

struct Record {
    /// Creations not yet observed.
    adds: i64,
    /// Keys of pods whose deletion has not been observed yet.
    deletions: HashSet<String>,
    set_at: Instant,
}

#[derive(Default)]
pub struct Expectations {
    records: Mutex<HashMap<String, Record>>,
}

impl Expectations {
    /// Whether the controller `key` may count pods and act.
    pub fn satisfied(&self, key: &str) -> bool {
        let records = self.records.lock().expect("expectations lock");
        match records.get(key) {
            None => true,
            Some(r) => (r.adds <= 0 && r.deletions.is_empty()) || r.set_at.elapsed() > EXPECTATIONS_TTL,
        }
    }

    pub fn expect_creations(&self, key: &str, count: usize) {
        let record = Record { adds: count as i64, deletions: HashSet::new(), set_at: Instant::now() };
        self.records.lock().expect("expectations lock").insert(key.to_string(), record);
    }

    pub fn expect_deletions(&self, key: &str, pod_keys: impl IntoIterator<Item = String>) {
        let record = Record { adds: 0, deletions: pod_keys.into_iter().collect(), set_at: Instant::now() };
        self.records.lock().expect("expectations lock").insert(key.to_string(), record);
    }

    /// Creations and deletions made in one round, expected together.
    pub fn expect(&self, key: &str, creations: usize, pod_keys: impl IntoIterator<Item = String>) {
        let record =
            Record { adds: creations as i64, deletions: pod_keys.into_iter().collect(), set_at: Instant::now() };
        self.records.lock().expect("expectations lock").insert(key.to_string(), record);
    }

    /// A pod the controller created was seen (or its creation will never be).
    pub fn creation_observed(&self, key: &str) {
        if let Some(r) = self.records.lock().expect("expectations lock").get_mut(key) {
            r.adds -= 1;
        }
    }

    /// A pod the controller deleted was seen going (or will never be).
    pub fn deletion_observed(&self, key: &str, pod_key: &str) {
        if let Some(r) = self.records.lock().expect("expectations lock").get_mut(key) {
            r.deletions.remove(pod_key);
        }
    }

    /// The controller is gone.
    pub fn forget(&self, key: &str) {
        self.records.lock().expect("expectations lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfied_once_every_write_is_observed() {
        let e = Expectations::default();
        assert!(e.satisfied("ns/rs"));
        e.expect_creations("ns/rs", 2);
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs"));
        e.expect_deletions("ns/rs", ["ns/a".to_string(), "ns/b".to_string()]);
        e.deletion_observed("ns/rs", "ns/a");
        e.deletion_observed("ns/rs", "ns/a");
        assert!(!e.satisfied("ns/rs"));
        e.deletion_observed("ns/rs", "ns/b");
        assert!(e.satisfied("ns/rs"));
        e.expect_creations("ns/rs", 1);
        e.forget("ns/rs");
        assert!(e.satisfied("ns/rs"));
    }
}
