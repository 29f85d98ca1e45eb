//! Which pods a ReplicaSet deletes first when it has too many, in Kubernetes' order: pods not
//! yet on a node, then pending before unknown before running, not ready before ready, lower
//! deletion cost, pods sharing a node with more of their siblings, more recently ready, more
//! restarts, and newer pods. Times count on a logarithmic scale, so pods of similar age are
//! treated alike and the choice among them is spread by UID.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use crate::server::controllers::pods;
use crate::server::registry::object;

/// The sort key of a pod: pods with smaller keys are deleted first.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct DeletionRank {
    scheduled: bool,
    phase: u8,
    ready: bool,
    deletion_cost: i32,
    /// Active sibling pods on the same node.
    colocated: Reverse<usize>,
    ready_age: i64,
    restarts: Reverse<i64>,
    age: i64,
    uid: String,
}

impl DeletionRank {
    fn of(pod: &Value, per_node: &HashMap<&str, usize>, now: Timestamp) -> Self {
        let node = pods::node_name(pod);
        let ready = pods::is_ready(pod);
        Self {
            scheduled: !node.is_empty(),
            phase: match pods::phase(pod) {
                "Unknown" => 1,
                "Running" => 2,
                _ => 0,
            },
            ready,
            deletion_cost: pods::deletion_cost(pod),
            colocated: Reverse(if node.is_empty() { 0 } else { per_node.get(node).copied().unwrap_or(0) }),
            ready_age: if ready { age_rank(pods::ready_since(pod), now) } else { 0 },
            restarts: Reverse(pods::max_restarts(pod)),
            age: age_rank(pods::created_at(pod), now),
            uid: object::uid(pod).to_string(),
        }
    }
}

/// The binary logarithm of how long ago `since` was (in nanoseconds); unknown times first.
fn age_rank(since: Option<Timestamp>, now: Timestamp) -> i64 {
    let Some(since) = since else { return i64::MIN };
    let nanos = now.duration_since(since).as_nanos();
    if nanos <= 0 {
        -1
    } else {
        i64::from(127 - nanos.leading_zeros() as i32)
    }
}

/// The `count` pods of `candidates` to delete; `related` are the active pods of every
/// ReplicaSet sharing this one's controller (used to spread deletions over nodes).
pub fn choose(candidates: &[Arc<Value>], related: &[Arc<Value>], count: usize, now: Timestamp) -> Vec<Arc<Value>> {
    if count >= candidates.len() {
        return candidates.to_vec();
    }
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for pod in related.iter().filter(|p| pods::is_active(p)) {
        let node = pods::node_name(pod);
        if !node.is_empty() {
            *per_node.entry(node).or_default() += 1;
        }
    }
    // One at a time, counting each chosen pod off its node, so a scale-down evens out the
    // spread instead of emptying whichever node happens to rank first.
    let mut left: Vec<&Arc<Value>> = candidates.iter().collect();
    let mut chosen = Vec::with_capacity(count);
    for _ in 0..count {
        let Some((index, _)) = left
            .iter()
            .enumerate()
            .min_by(|a, b| DeletionRank::of(a.1, &per_node, now).cmp(&DeletionRank::of(b.1, &per_node, now)))
        else {
            break;
        };
        let pod = left.swap_remove(index);
        if let Some(n) = per_node.get_mut(pods::node_name(pod)) {
            *n = n.saturating_sub(1);
        }
        chosen.push(pod.clone());
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(uid: &str, node: &str, phase: &str, ready: bool, created: &str) -> Arc<Value> {
        Arc::new(json!({
            "metadata": {"uid": uid, "creationTimestamp": created},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": created}]},
        }))
    }

    fn uids(pods: &[Arc<Value>]) -> Vec<&str> {
        pods.iter().map(|p| object::uid(p)).collect()
    }

    #[test]
    fn unscheduled_pending_and_unready_pods_go_first() {
        let now: Timestamp = "2024-01-01T12:00:00Z".parse().unwrap();
        let old = "2024-01-01T00:00:00Z";
        let all = vec![
            pod("running-ready", "n1", "Running", true, old),
            pod("running-unready", "n1", "Running", false, old),
            pod("pending", "n1", "Pending", false, old),
            pod("unscheduled", "", "Pending", false, old),
        ];
        assert_eq!(uids(&choose(&all, &all, 3, now)), ["unscheduled", "pending", "running-unready"]);
        assert_eq!(choose(&all, &all, 9, now).len(), 4);
    }

    #[test]
    fn newer_and_doubled_up_pods_go_before_older_and_lonely_ones() {
        let now: Timestamp = "2024-01-01T12:00:00Z".parse().unwrap();
        let newer = pod("newer", "n1", "Running", true, "2024-01-01T11:59:00Z");
        let older = pod("older", "n2", "Running", true, "2024-01-01T00:00:00Z");
        assert_eq!(uids(&choose(&[older.clone(), newer.clone()], &[], 1, now)), ["newer"]);
        // Same age, but n2 carries two pods of the family: one of those goes first.
        let a = pod("a", "n1", "Running", true, "2024-01-01T00:00:00Z");
        let b = pod("b", "n2", "Running", true, "2024-01-01T00:00:00Z");
        let sibling = pod("sibling", "n2", "Running", true, "2024-01-01T00:00:00Z");
        assert_eq!(uids(&choose(&[a.clone(), b.clone()], &[a, b, sibling], 1, now)), ["b"]);
    }

    #[test]
    fn deletion_cost_and_restarts_are_honoured() {
        let now: Timestamp = "2024-01-01T12:00:00Z".parse().unwrap();
        let created = "2024-01-01T00:00:00Z";
        let mut cheap = (*pod("cheap", "n1", "Running", true, created)).clone();
        cheap["metadata"]["annotations"] = json!({"controller.kubernetes.io/pod-deletion-cost": "-5"});
        let mut crashy = (*pod("crashy", "n1", "Running", true, created)).clone();
        crashy["status"]["containerStatuses"] = json!([{"restartCount": 9}]);
        let plain = pod("plain", "n1", "Running", true, created);
        let all = vec![plain, Arc::new(crashy), Arc::new(cheap)];
        assert_eq!(uids(&choose(&all, &all, 2, now)), ["cheap", "crashy"]);
    }

    #[test]
    fn age_rank_is_logarithmic() {
        let now: Timestamp = "2024-01-01T12:00:00Z".parse().unwrap();
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        assert_eq!(age_rank(None, now), i64::MIN);
        assert_eq!(age_rank(at("2024-01-01T12:00:00Z"), now), -1);
        // 1 s = 1e9 ns, and 2^29 < 1e9 < 2^30.
        assert_eq!(age_rank(at("2024-01-01T11:59:59Z"), now), 29);
        assert!(age_rank(at("2024-01-01T00:00:00Z"), now) > age_rank(at("2024-01-01T11:00:00Z"), now));
    }

    #[test]
    fn scaling_down_evens_out_the_spread() {
        let now: Timestamp = "2024-01-01T12:00:00Z".parse().unwrap();
        let pods: Vec<Arc<Value>> = (0..9)
            .map(|i| pod(&format!("u{i}"), &format!("n{}", i % 3), "Running", true, "2024-01-01T11:00:00Z"))
            .collect();
        let chosen = choose(&pods, &pods, 6, now);
        let mut left: HashMap<String, usize> = HashMap::new();
        for p in pods.iter().filter(|p| !chosen.contains(p)) {
            *left.entry(pods::node_name(p).to_string()).or_default() += 1;
        }
        assert_eq!(left.values().copied().collect::<Vec<_>>(), [1, 1, 1]);
    }
}
