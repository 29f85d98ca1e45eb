//! Facts about a Deployment's ReplicaSets: which one is new (runs the current template),
//! how many replicas they hold, their orders, and how big the new one may grow.

use std::cmp::Ordering;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::fenceposts;
use super::revisions;
use super::template_hash::equal_ignoring_hash;

pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map(|s| s.replicas).unwrap_or(0)
}

pub fn ready_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

pub fn available_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

pub fn name(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or_default()
}

pub fn uid(rs: &ReplicaSet) -> &str {
    rs.metadata.uid.as_deref().unwrap_or_default()
}

/// Oldest first; the name breaks ties.
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp).then_with(|| name(a).cmp(name(b)))
}

/// Largest first, the older first among equals (who gives up replicas first).
pub fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    spec_replicas(b).cmp(&spec_replicas(a)).then_with(|| by_creation(a, b))
}

/// Largest first, the newer first among equals (who receives replicas first).
pub fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    spec_replicas(b).cmp(&spec_replicas(a)).then_with(|| by_creation(b, a))
}

/// Lowest revision first, then oldest.
pub fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    revisions::revision(a).unwrap_or(0).cmp(&revisions::revision(b).unwrap_or(0)).then_with(|| by_creation(a, b))
}

/// The ReplicaSet running the Deployment's current template (the oldest, if several do).
pub fn find_new<'a>(d: &Deployment, replica_sets: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let template = &d.spec.as_ref()?.template;
    let mut sorted: Vec<&ReplicaSet> = replica_sets.iter().collect();
    sorted.sort_by(|a, b| by_creation(a, b));
    sorted
        .into_iter()
        .find(|rs| rs.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|t| equal_ignoring_hash(t, template)))
}

pub fn is_active(rs: &ReplicaSet) -> bool {
    spec_replicas(rs) > 0
}

pub fn sum_spec_replicas<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(spec_replicas).sum()
}

pub fn sum_status_replicas<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(status_replicas).sum()
}

pub fn sum_ready_replicas<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(ready_replicas).sum()
}

pub fn sum_available_replicas<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(available_replicas).sum()
}

/// The replicas the new ReplicaSet should have now: everything for Recreate; for a rolling
/// update as many more as the surge allows, up to the desired count.
pub fn new_rs_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let desired = fenceposts::desired_replicas(d);
    if !fenceposts::is_rolling_update(d) {
        return desired;
    }
    let current = spec_replicas(new_rs);
    let max_total = desired + fenceposts::max_surge(d);
    let total = sum_spec_replicas(all.iter().copied());
    if total >= max_total {
        return current;
    }
    current + (max_total - total).min(desired - current)
}

/// Whether the new ReplicaSet alone runs the Deployment: all desired pods, all available.
pub fn is_saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else { return false };
    let desired = fenceposts::desired_replicas(d);
    revisions::desired_replicas_annotation(rs) == Some(desired)
        && spec_replicas(rs) == desired
        && available_replicas(rs) == desired
}

/// With at most one ReplicaSet holding replicas, that one (or the newest) takes scaling whole;
/// `None` when several hold replicas and scaling must be proportional.
pub fn active_or_latest<'a>(new_rs: Option<&'a ReplicaSet>, old: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    let mut newest_first: Vec<&ReplicaSet> = old.to_vec();
    newest_first.sort_by(|a, b| by_creation(b, a));
    let active: Vec<&ReplicaSet> =
        new_rs.into_iter().chain(newest_first.iter().copied()).filter(|rs| is_active(rs)).collect();
    match active.len() {
        0 => new_rs.or_else(|| newest_first.first().copied()),
        1 => Some(active[0]),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    pub fn rs(name: &str, replicas: i32, available: i32, created: &str) -> ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": name, "uid": name, "creationTimestamp": created},
            "spec": {"replicas": replicas, "selector": {}},
            "status": {"replicas": replicas, "availableReplicas": available},
        }))
        .unwrap()
    }

    pub fn deployment(replicas: i32, surge: serde_json::Value, unavailable: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "d", "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "a"}},
                     "template": {"metadata": {"labels": {"app": "a"}}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}},
        }))
        .unwrap()
    }

    #[test]
    fn new_replica_set_grows_within_the_surge() {
        let d = deployment(10, json!("25%"), json!("25%"));
        let old = rs("old", 10, 10, "2024-01-01T00:00:00Z");
        let new = rs("new", 0, 0, "2024-01-02T00:00:00Z");
        // 10 desired + 3 surge: the new set may start 3 pods.
        assert_eq!(new_rs_replicas(&d, &[&old, &new], &new), 3);
        let old_scaled = rs("old", 8, 8, "2024-01-01T00:00:00Z");
        let new_grown = rs("new", 3, 0, "2024-01-02T00:00:00Z");
        assert_eq!(new_rs_replicas(&d, &[&old_scaled, &new_grown], &new_grown), 5);
        // Never beyond the desired count.
        let nearly = rs("new", 9, 9, "2024-01-02T00:00:00Z");
        assert_eq!(new_rs_replicas(&d, &[&nearly], &nearly), 10);
    }

    #[test]
    fn orders_and_active_or_latest() {
        let a = rs("a", 2, 2, "2024-01-01T00:00:00Z");
        let b = rs("b", 2, 2, "2024-01-02T00:00:00Z");
        let c = rs("c", 0, 0, "2024-01-03T00:00:00Z");
        let mut v = [b.clone(), a.clone(), c.clone()];
        v.sort_by(by_size_older);
        assert_eq!(v.iter().map(name).collect::<Vec<_>>(), ["a", "b", "c"]);
        v.sort_by(by_size_newer);
        assert_eq!(v.iter().map(name).collect::<Vec<_>>(), ["b", "a", "c"]);
        assert!(active_or_latest(Some(&c), &[&a, &b]).is_none());
        assert_eq!(active_or_latest(Some(&c), &[&a]).map(name), Some("a"));
        let idle = rs("idle", 0, 0, "2024-01-01T00:00:00Z");
        assert_eq!(active_or_latest(None, &[&idle, &c]).map(name), Some("c"));
    }
}
