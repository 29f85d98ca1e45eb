//! What a DaemonSet needs on one node: a pod where it should run and has none, no pods
//! where it may not stay, failed pods replaced, and one pod per node (two while a surging
//! update waits for the new pod to become available).

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use super::rolling::is_updated;
use super::NodePods;
use crate::server::controllers::pods;
use crate::server::registry::object;

#[derive(Debug, Default, PartialEq)]
pub struct NodeDecision {
    pub create: bool,
    pub delete: Vec<Arc<Value>>,
    /// Failed pods, replaced only as their back-off allows.
    pub failed: Vec<Arc<Value>>,
}

/// Oldest first, bound pods before unbound ones: the pod a node keeps.
pub fn keep_order(pod: &Value) -> (bool, Option<Timestamp>, String) {
    (pods::node_name(pod).is_empty(), pods::created_at(pod), object::name(pod).to_string())
}

pub fn decide(node: &NodePods, hash: &str, surge: bool, min_ready: i64, now: Timestamp) -> NodeDecision {
    let mut decision = NodeDecision::default();
    if !node.placement.should_run {
        if !node.placement.may_stay {
            decision.delete = node.pods.iter().filter(|p| !object::is_deleting(p)).cloned().collect();
        }
        return decision;
    }
    // A pod still being deleted holds the node until it is gone.
    if node.pods.is_empty() {
        decision.create = true;
        return decision;
    }
    let mut running: Vec<Arc<Value>> = Vec::new();
    for pod in node.pods.iter().filter(|p| !object::is_deleting(p)) {
        if pods::phase(pod) == "Failed" {
            decision.failed.push(pod.clone());
        } else {
            running.push(pod.clone());
        }
    }
    running.sort_by_key(|p| keep_order(p));
    if !surge {
        decision.delete.extend(running.into_iter().skip(1));
        return decision;
    }
    // With surge, a node keeps its oldest current pod and its oldest outdated pod, the latter
    // only while it is ready and the current one is not yet available.
    let (mut newest_kept, mut old_kept) = (None, None);
    for pod in running {
        let slot = if is_updated(&pod, hash) { &mut newest_kept } else { &mut old_kept };
        if slot.is_none() {
            *slot = Some(pod);
        } else {
            decision.delete.push(pod);
        }
    }
    if let (Some(new), Some(old)) = (newest_kept, old_kept) {
        if !pods::is_ready(&old) || pods::is_available(&new, min_ready, now) {
            decision.delete.push(old);
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::daemonset::placement::{Placement, HASH_LABEL};
    use serde_json::json;

    fn pod(name: &str, hash: &str, phase: &str, ready: bool, created: &str) -> Arc<Value> {
        Arc::new(json!({"metadata": {"name": name, "labels": {HASH_LABEL: hash}, "creationTimestamp": created},
            "spec": {"nodeName": "n"},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": "2024-01-01T00:00:00Z"}]}}))
    }

    fn node(should_run: bool, may_stay: bool, pods: Vec<Arc<Value>>) -> NodePods {
        NodePods { name: "n".into(), placement: Placement { should_run, may_stay }, pods }
    }

    fn names(pods: &[Arc<Value>]) -> Vec<&str> {
        pods.iter().map(|p| object::name(p)).collect()
    }

    const NOW: &str = "2024-01-01T01:00:00Z";
    const T1: &str = "2024-01-01T00:00:01Z";
    const T2: &str = "2024-01-01T00:00:02Z";

    #[test]
    fn creates_deletes_and_dedupes() {
        let now: Timestamp = NOW.parse().unwrap();
        assert!(decide(&node(true, true, vec![]), "h", false, 0, now).create);
        let a = pod("a", "h", "Running", true, T1);
        let b = pod("b", "h", "Running", true, T2);
        assert_eq!(names(&decide(&node(true, true, vec![b.clone(), a.clone()]), "h", false, 0, now).delete), ["b"]);
        assert_eq!(names(&decide(&node(false, false, vec![a.clone()]), "h", false, 0, now).delete), ["a"]);
        assert_eq!(decide(&node(false, true, vec![a.clone()]), "h", false, 0, now), NodeDecision::default());
        let failed = pod("f", "h", "Failed", false, T1);
        let decision = decide(&node(true, true, vec![failed, b]), "h", false, 0, now);
        assert_eq!((names(&decision.failed), decision.delete.len(), decision.create), (vec!["f"], 0, false));
    }

    #[test]
    fn surge_keeps_the_old_pod_until_the_new_one_is_available() {
        let now: Timestamp = NOW.parse().unwrap();
        let old = pod("old", "x", "Running", true, T1);
        let waiting = pod("new", "h", "Running", false, T2);
        assert!(decide(&node(true, true, vec![old.clone(), waiting]), "h", true, 0, now).delete.is_empty());
        let up = pod("new", "h", "Running", true, T2);
        assert_eq!(names(&decide(&node(true, true, vec![old.clone(), up]), "h", true, 0, now).delete), ["old"]);
        let old_unready = pod("old", "x", "Running", false, T1);
        let waiting = pod("new", "h", "Running", false, T2);
        assert_eq!(names(&decide(&node(true, true, vec![old_unready, waiting]), "h", true, 0, now).delete), ["old"]);
    }
}
