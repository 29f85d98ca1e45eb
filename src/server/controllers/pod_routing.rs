//! Turning pod changes into work for the controllers that own pods: the owner named by a
//! pod's controller reference is queued (and told that a creation or deletion it expected has
//! been seen), and for an orphan every owner whose selector matches it, so one may adopt it.

use std::sync::Arc;

use serde_json::Value;

use super::controller_ref;
use super::expectations::Expectations;
use super::informer::{cache_key, Change, ChangeKind, Informer};
use super::queue::WorkQueue;
use crate::server::registry::label_selector::{labels_of, LabelSelector};
use crate::server::registry::object;

pub struct PodRouter {
    pub owners: Arc<Informer>,
    /// The `kind` in the controller references of pods these owners control.
    pub owner_kind: &'static str,
    pub queue: Arc<WorkQueue>,
    pub expectations: Arc<Expectations>,
    /// An owner's selector; `None` selects nothing.
    pub selector: fn(&Value) -> Option<LabelSelector>,
}

impl PodRouter {
    pub fn pod_changed(&self, change: &Change) {
        let pod = &change.object;
        match (change.kind, change.old.as_deref()) {
            (ChangeKind::Deleted, _) => self.pod_gone(pod),
            (ChangeKind::Added, _) if object::is_deleting(pod) => self.pod_gone(pod),
            (ChangeKind::Added, _) => match self.owner_key_of(pod) {
                Some(key) => {
                    self.expectations.creation_observed(&key);
                    self.queue.add(key);
                }
                None => self.enqueue_selecting(pod),
            },
            (ChangeKind::Modified, Some(old)) => self.pod_updated(old, pod),
            (ChangeKind::Modified, None) => self.enqueue_selecting(pod),
        }
    }

    fn pod_updated(&self, old: &Value, pod: &Value) {
        if object::resource_version(old) == object::resource_version(pod) {
            return;
        }
        let labels_changed = labels_of(old) != labels_of(pod);
        if object::is_deleting(pod) && !object::is_deleting(old) {
            // A pod being deleted is as good as gone for counting.
            self.pod_gone(pod);
            if labels_changed {
                self.pod_gone(old);
            }
            return;
        }
        let controller_changed = controller_ref::controller_of(old) != controller_ref::controller_of(pod);
        if controller_changed {
            if let Some(key) = self.owner_key_of(old) {
                self.queue.add(key);
            }
        }
        match self.owner_key_of(pod) {
            Some(key) => self.queue.add(key),
            None if labels_changed || controller_changed => self.enqueue_selecting(pod),
            None => {}
        }
    }

    fn pod_gone(&self, pod: &Value) {
        if let Some(key) = self.owner_key_of(pod) {
            self.expectations.deletion_observed(&key, &cache_key(pod));
            self.queue.add(key);
        }
    }

    /// The key of the owner of this router's kind that controls `obj`, if it still exists.
    pub fn owner_key_of(&self, obj: &Value) -> Option<String> {
        let reference = controller_ref::controller_of(obj)?;
        if reference.get("kind").and_then(Value::as_str) != Some(self.owner_kind) {
            return None;
        }
        let name = reference.get("name").and_then(Value::as_str)?;
        let owner = self.owners.get(Some(object::namespace(obj)), name)?;
        (object::uid(&owner) == reference.get("uid").and_then(Value::as_str).unwrap_or_default())
            .then(|| cache_key(&owner))
    }

    /// Queues every owner whose selector matches an orphan.
    pub fn enqueue_selecting(&self, obj: &Value) {
        if controller_ref::controller_of(obj).is_some() {
            return;
        }
        for owner in self.owners.list(Some(object::namespace(obj))) {
            if (self.selector)(&owner).is_some_and(|s| s.matches_object(obj)) {
                self.queue.add(cache_key(&owner));
            }
        }
    }
}

/// The `spec.selector` of an owner as a label selector; `None` (selects nothing) if missing,
/// empty or malformed: an owner must never take every pod of its namespace.
pub fn spec_selector(owner: &Value) -> Option<LabelSelector> {
    owner.pointer("/spec/selector").and_then(|s| LabelSelector::from_object(s).ok()).filter(|s| !s.is_empty())
}
