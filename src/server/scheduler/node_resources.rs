//! Resource fit: the pod's requests must fit in what the node's placed pods leave of its
//! allocatable resources, and the node must accept one more pod. Scoring prefers the node
//! with the most CPU and memory left (least allocated).

use super::framework::{Plugin, Unfit, MAX_NODE_SCORE};
use super::node_info::NodeInfo;
use super::pod_info::PodInfo;

pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
    let Some(spec) = node.spec() else { return Ok(()) };
    let mut reasons = Vec::new();
    let mut unresolvable = false;
    if node.pod_count() as i64 + 1 > spec.allowed_pods {
        reasons.push("Too many pods".to_string());
    }
    let wanted = &pod.requests.exact;
    let (free, used) = (&spec.allocatable, &node.requested);
    let mut check = |name: &str, want: i64, allocatable: i64, in_use: i64| {
        if want > 0 && want > allocatable.saturating_sub(in_use) {
            reasons.push(format!("Insufficient {name}"));
            // Even an empty node would not do: evicting pods cannot help.
            unresolvable |= want > allocatable;
        }
    };
    check("cpu", wanted.milli_cpu, free.milli_cpu, used.milli_cpu);
    check("memory", wanted.memory, free.memory, used.memory);
    check("ephemeral-storage", wanted.ephemeral_storage, free.ephemeral_storage, used.ephemeral_storage);
    for (name, want) in &wanted.scalar {
        let allocatable = free.scalar.get(name).copied().unwrap_or(0);
        check(name, *want, allocatable, used.scalar.get(name).copied().unwrap_or(0));
    }
    if reasons.is_empty() {
        return Ok(());
    }
    Err(Unfit { plugin: Plugin::NodeResourcesFit, reasons, resolvable: !unresolvable })
}

/// The share of CPU and memory left free once the pod is placed, averaged, from 0 to 100.
/// Requests count with the scoring defaults, so pods that declare nothing still spread.
pub fn least_allocated(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let Some(spec) = node.spec() else { return 0 };
    let cpu = free_share(
        node.scoring_requested.milli_cpu.saturating_add(pod.requests.scoring.milli_cpu),
        spec.allocatable.milli_cpu,
    );
    let memory =
        free_share(node.scoring_requested.memory.saturating_add(pod.requests.scoring.memory), spec.allocatable.memory);
    (cpu + memory) / 2
}

fn free_share(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    // In i128: a node may declare more than i64::MAX / 100 bytes.
    ((capacity - requested) as i128 * MAX_NODE_SCORE as i128 / capacity as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::{node_with, placed, pod};
    use serde_json::{json, Value};

    fn requesting(requests: Value) -> PodInfo {
        pod(json!({"metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]}}))
    }

    #[test]
    fn requests_must_fit_in_what_is_left() {
        let mut node = node_with("n", json!({"cpu": "2", "memory": "4Gi", "pods": "110"}));
        assert!(filter(&requesting(json!({"cpu": "1500m", "memory": "1Gi"})), &node).is_ok());
        node.add_pod(placed(
            json!({"metadata": {"name": "big", "namespace": "default"},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}),
            "n",
        ));
        let err = filter(&requesting(json!({"cpu": "1500m", "memory": "8Gi"})), &node).unwrap_err();
        assert_eq!(err.reasons, ["Insufficient cpu", "Insufficient memory"]);
        assert!(!err.resolvable, "8Gi can never fit in 4Gi");
        let err = filter(&requesting(json!({"cpu": "1500m"})), &node).unwrap_err();
        assert_eq!(err.reasons, ["Insufficient cpu"]);
        assert!(err.resolvable, "evicting the 1-CPU pod would make room");
        node.remove_pod("default/big");
        assert!(filter(&requesting(json!({"cpu": "1500m"})), &node).is_ok());
    }

    #[test]
    fn extended_resources_and_pod_count() {
        let node = node_with("n", json!({"cpu": "2", "memory": "4Gi", "pods": "0", "example.com/gpu": "1"}));
        let err = filter(&requesting(json!({"example.com/gpu": "2", "ephemeral-storage": "1Gi"})), &node).unwrap_err();
        assert_eq!(err.reasons, ["Too many pods", "Insufficient ephemeral-storage", "Insufficient example.com/gpu"]);
    }

    #[test]
    fn least_allocated_prefers_free_nodes() {
        let mut busy = node_with("busy", json!({"cpu": "4", "memory": "8Gi", "pods": "110"}));
        let idle = node_with("idle", json!({"cpu": "4", "memory": "8Gi", "pods": "110"}));
        let incoming = requesting(json!({"cpu": "1", "memory": "2Gi"}));
        assert_eq!(least_allocated(&incoming, &idle), 75);
        busy.add_pod(placed(
            json!({"metadata": {"name": "a", "namespace": "default"},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]}}),
            "busy",
        ));
        assert_eq!(least_allocated(&incoming, &busy), 25);
        let bare =
            pod(json!({"metadata": {"name": "b", "namespace": "default"}, "spec": {"containers": [{"name": "c"}]}}));
        assert!(least_allocated(&bare, &idle) > least_allocated(&bare, &busy), "defaults count for scoring");
    }
}
