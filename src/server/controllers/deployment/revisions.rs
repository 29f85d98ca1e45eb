//! Revisions and the annotations that carry them: every ReplicaSet a Deployment rolls out to
//! gets the next revision number (a rollback re-numbers the old ReplicaSet and remembers its
//! earlier numbers), the Deployment's own annotations are copied onto its new ReplicaSet (so
//! `kubernetes.io/change-cause` shows in `rollout history`), and each ReplicaSet records the
//! Deployment size it was scaled for.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::replica_sets;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Annotations that belong to the object they are on and are never copied.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// The revision history annotation stays below this many characters.
const MAX_REVISION_HISTORY_CHARS: usize = 2000;

fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The revision of a ReplicaSet: 0 without the annotation, `None` if it is not a number.
pub fn revision(rs: &ReplicaSet) -> Option<i64> {
    match annotation(rs, REVISION) {
        None => Some(0),
        Some(text) => text.parse().ok(),
    }
}

pub fn max_revision<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    rss.into_iter().filter_map(revision).max().unwrap_or(0)
}

pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs, DESIRED_REPLICAS)?.parse().ok()
}

pub fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs, MAX_REPLICAS)?.parse().ok()
}

/// Brings the new ReplicaSet's annotations up to date: the Deployment's annotations, the
/// revision `new_revision` (if higher than its own, keeping the old one in the history), and
/// for a ReplicaSet about to be created the replica annotations. Returns whether anything
/// changed.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
    max_surge: i32,
) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in d.metadata.annotations.iter().flatten() {
        if NOT_COPIED.contains(&key.as_str()) || annotations.get(key) == Some(value) {
            continue;
        }
        annotations.insert(key.clone(), value.clone());
        changed = true;
    }
    let old = annotations.get(REVISION).cloned();
    let old_revision = match old.as_deref().map(str::parse::<i64>) {
        None => 0,
        Some(Ok(n)) => n,
        // Someone else's revision text: leave it alone.
        Some(Err(_)) => return changed,
    };
    if old_revision < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old {
            record_revision_history(annotations, &old);
        }
    }
    if !exists {
        let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        changed |= set_replicas_annotations(rs, desired, desired + max_surge);
    }
    changed
}

/// Appends `old` to the revision history, dropping the oldest entries to stay short.
fn record_revision_history(annotations: &mut BTreeMap<String, String>, old: &str) {
    let history = annotations.get(REVISION_HISTORY).cloned().unwrap_or_default();
    let mut entries: Vec<&str> = history.split(',').filter(|e| !e.is_empty()).collect();
    entries.push(old);
    while entries.join(",").len() > MAX_REVISION_HISTORY_CHARS && entries.len() > 1 {
        entries.remove(0);
    }
    annotations.insert(REVISION_HISTORY.into(), entries.join(","));
}

pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    desired_replicas_annotation(rs) != Some(desired) || max_replicas_annotation(rs) != Some(max)
}

/// Records the Deployment size (`desired`, and `max` with the surge) a ReplicaSet was scaled for.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    if !replicas_annotations_need_update(rs, desired, max) {
        return false;
    }
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
    annotations.insert(MAX_REPLICAS.into(), max.to_string());
    true
}

/// Sets the Deployment's revision annotation; returns whether it changed.
pub fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let annotations = d.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if annotations.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(REVISION.into(), revision.to_string());
    true
}

/// The old ReplicaSets beyond `revisionHistoryLimit` that may be deleted: lowest revisions
/// first, and only those fully scaled down and settled.
pub fn beyond_history_limit<'a>(old: &[&'a ReplicaSet], limit: i32) -> Vec<&'a ReplicaSet> {
    let mut cleanable: Vec<&ReplicaSet> =
        old.iter().copied().filter(|rs| rs.metadata.deletion_timestamp.is_none()).collect();
    let excess = cleanable.len().saturating_sub(usize::try_from(limit).unwrap_or(0));
    cleanable.sort_by(|a, b| replica_sets::by_revision(a, b));
    cleanable
        .into_iter()
        .take(excess)
        .filter(|rs| {
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
            replica_sets::status_replicas(rs) == 0
                && replica_sets::spec_replicas(rs) == 0
                && rs.metadata.generation.unwrap_or(0) <= observed
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::deployment::replica_sets::tests::{deployment, rs};
    use serde_json::json;

    #[test]
    fn new_replica_set_takes_deployment_annotations_and_the_next_revision() {
        let mut d = deployment(4, json!(1), json!(0));
        d.metadata.annotations = Some(BTreeMap::from([
            ("kubernetes.io/change-cause".to_string(), "set image".to_string()),
            (REVISION.to_string(), "7".to_string()),
            ("kubectl.kubernetes.io/last-applied-configuration".to_string(), "{}".to_string()),
        ]));
        let mut new = rs("new", 0, 0, "2024-01-01T00:00:00Z");
        assert!(set_new_rs_annotations(&d, &mut new, 3, false, 1));
        let a = new.metadata.annotations.as_ref().unwrap();
        assert_eq!(a["kubernetes.io/change-cause"], "set image");
        assert_eq!(a[REVISION], "3");
        assert_eq!((a[DESIRED_REPLICAS].as_str(), a[MAX_REPLICAS].as_str()), ("4", "5"));
        assert!(!a.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
        assert!(!a.contains_key(REVISION_HISTORY));
        // Nothing new: nothing changes.
        assert!(!set_new_rs_annotations(&d, &mut new, 3, true, 1));
        // A rollback to this ReplicaSet re-numbers it and remembers revision 3.
        assert!(set_new_rs_annotations(&d, &mut new, 5, true, 1));
        assert!(set_new_rs_annotations(&d, &mut new, 8, true, 1));
        let a = new.metadata.annotations.as_ref().unwrap();
        assert_eq!((a[REVISION].as_str(), a[REVISION_HISTORY].as_str()), ("8", "3,5"));
        // A lower revision never replaces a higher one.
        assert!(!set_new_rs_annotations(&d, &mut new, 2, true, 1));
    }

    #[test]
    fn history_cleanup_keeps_the_limit_and_busy_replica_sets() {
        let with_revision = |name: &str, revision: i64, replicas: i32| {
            let mut r = rs(name, replicas, 0, "2024-01-01T00:00:00Z");
            r.metadata.annotations = Some(BTreeMap::from([(REVISION.to_string(), revision.to_string())]));
            r
        };
        let (r1, r2, r3, r4) = (
            with_revision("r1", 1, 0),
            with_revision("r2", 2, 1),
            with_revision("r3", 3, 0),
            with_revision("r4", 4, 0),
        );
        let names = |v: Vec<&ReplicaSet>| v.into_iter().map(|r| replica_sets::name(r).to_string()).collect::<Vec<_>>();
        // Two over the limit of 2: r1 goes, r2 still has a pod and stays.
        assert_eq!(names(beyond_history_limit(&[&r4, &r3, &r2, &r1], 2)), ["r1"]);
        assert_eq!(names(beyond_history_limit(&[&r4, &r3, &r1], 0)), ["r1", "r3", "r4"]);
        assert!(beyond_history_limit(&[&r4, &r3], 5).is_empty());
    }

    #[test]
    fn revisions_parse() {
        let mut r = rs("r", 1, 1, "2024-01-01T00:00:00Z");
        assert_eq!(revision(&r), Some(0));
        r.metadata.annotations = Some(BTreeMap::from([(REVISION.to_string(), "x".to_string())]));
        assert_eq!(revision(&r), None);
        assert_eq!(max_revision([&r]), 0);
    }
}
