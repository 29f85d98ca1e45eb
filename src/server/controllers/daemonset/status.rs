//! The status a DaemonSet reports: on how many nodes it should run, runs, runs where it
//! should not, and how many of its pods are ready, available and of the current revision.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::per_node::keep_order;
use super::rolling::is_updated;
use super::NodePods;
use crate::server::controllers::pods;

pub fn min_ready_seconds(ds: &Value) -> i64 {
    ds.pointer("/spec/minReadySeconds").and_then(Value::as_i64).unwrap_or(0)
}

/// The pod that speaks for a node: the one it keeps.
fn representative(pods: &[Arc<Value>]) -> Option<&Arc<Value>> {
    pods.iter().min_by_key(|p| keep_order(p))
}

pub fn calculate(ds: &Value, nodes: &[NodePods], hash: &str, now: Timestamp) -> Value {
    let min_ready = min_ready_seconds(ds);
    let (mut desired, mut current, mut misscheduled) = (0, 0, 0);
    let (mut ready, mut available, mut updated) = (0, 0, 0);
    for node in nodes {
        let scheduled = representative(&node.pods);
        match (node.placement.should_run, scheduled) {
            (true, None) => desired += 1,
            (true, Some(pod)) => {
                desired += 1;
                current += 1;
                if pods::is_ready(pod) {
                    ready += 1;
                    if pods::is_available(pod, min_ready, now) {
                        available += 1;
                    }
                }
                if is_updated(pod, hash) {
                    updated += 1;
                }
            }
            (false, Some(_)) => misscheduled += 1,
            (false, None) => {}
        }
    }
    let mut status = Map::new();
    for (field, count) in [
        ("currentNumberScheduled", current),
        ("numberMisscheduled", misscheduled),
        ("desiredNumberScheduled", desired),
        ("numberReady", ready),
    ] {
        status.insert(field.into(), json!(count));
    }
    if let Some(generation) = ds.pointer("/metadata/generation").and_then(Value::as_i64).filter(|g| *g > 0) {
        status.insert("observedGeneration".into(), json!(generation));
    }
    // Zero counts of the optional fields are left out, as Kubernetes serializes them.
    for (field, count) in [
        ("updatedNumberScheduled", updated),
        ("numberAvailable", available),
        ("numberUnavailable", desired - available),
    ] {
        if count > 0 {
            status.insert(field.into(), json!(count));
        }
    }
    for kept in ["collisionCount", "conditions"] {
        if let Some(value) = ds.pointer(&format!("/status/{kept}")).filter(|v| !v.is_null()) {
            status.insert(kept.into(), value.clone());
        }
    }
    Value::Object(status)
}

/// When a ready daemon pod will have been ready for minReadySeconds.
pub fn next_availability_check(ds: &Value, nodes: &[NodePods], now: Timestamp) -> Option<Duration> {
    let min_ready = min_ready_seconds(ds);
    nodes
        .iter()
        .flat_map(|n| n.pods.iter())
        .filter_map(|pod| pods::time_until_available(pod, min_ready, now))
        .min()
        .map(|wait| wait + Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::daemonset::placement::{Placement, HASH_LABEL};

    fn pod(hash: &str, ready: bool, created: &str) -> Arc<Value> {
        Arc::new(json!({"metadata": {"labels": {HASH_LABEL: hash}, "creationTimestamp": created},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": "2024-01-01T00:00:00Z"}]}}))
    }

    fn node(should_run: bool, pods: Vec<Arc<Value>>) -> NodePods {
        NodePods { name: "n".into(), placement: Placement { should_run, may_stay: should_run }, pods }
    }

    #[test]
    fn counts_nodes_and_pods() {
        let now: Timestamp = "2024-01-01T00:01:00Z".parse().unwrap();
        let ds = json!({"metadata": {"generation": 3}, "status": {"collisionCount": 1}});
        let nodes = vec![
            node(true, vec![pod("h", true, "2024-01-01T00:00:00Z"), pod("old", false, "2024-01-01T00:00:30Z")]),
            node(true, vec![pod("old", false, "2024-01-01T00:00:00Z")]),
            node(true, vec![]),
            node(false, vec![pod("h", true, "2024-01-01T00:00:00Z")]),
            node(false, vec![]),
        ];
        assert_eq!(
            calculate(&ds, &nodes, "h", now),
            json!({"currentNumberScheduled": 2, "numberMisscheduled": 1, "desiredNumberScheduled": 3,
                   "numberReady": 1, "observedGeneration": 3, "updatedNumberScheduled": 1, "numberAvailable": 1,
                   "numberUnavailable": 2, "collisionCount": 1})
        );
        let with_min_ready = json!({"spec": {"minReadySeconds": 90}});
        assert_eq!(next_availability_check(&with_min_ready, &nodes, now), Some(Duration::from_secs(31)));
    }
}
