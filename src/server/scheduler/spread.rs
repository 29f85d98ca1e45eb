//! Spreading: pods of one group — the same controller (ReplicaSet, StatefulSet …) or, for
//! pods without one, the same Services — are spread across nodes, and across zones when
//! nodes carry a zone label (zones weigh two thirds, as in upstream's selector spreading).

use std::collections::{BTreeMap, HashMap};

use super::framework::MAX_NODE_SCORE;
use super::node_info::NodeInfo;

/// Pods of the incoming pod's group already placed, per node.
#[derive(Debug, Default)]
pub struct GroupCounts(pub HashMap<String, u32>);

impl GroupCounts {
    pub fn add(&mut self, other: &HashMap<String, u32>) {
        for (node, n) in other {
            *self.0.entry(node.clone()).or_default() += n;
        }
    }

    fn on(&self, node: &str) -> u32 {
        self.0.get(node).copied().unwrap_or(0)
    }
}

/// One score per candidate node, from 0 (most of the group already there) to 100.
pub fn scores(group: &GroupCounts, candidates: &[&NodeInfo]) -> Vec<i64> {
    let counts: Vec<u32> = candidates.iter().map(|n| group.on(&n.name)).collect();
    let max_node = counts.iter().copied().max().unwrap_or(0);
    let mut zones: BTreeMap<&str, u32> = BTreeMap::new();
    for (node, count) in candidates.iter().zip(&counts) {
        if let Some(zone) = node.spec().and_then(|s| s.zone()) {
            *zones.entry(zone).or_default() += count;
        }
    }
    let max_zone = zones.values().copied().max().unwrap_or(0);
    candidates
        .iter()
        .zip(&counts)
        .map(|(node, count)| {
            let node_score = share_left(*count, max_node);
            match node.spec().and_then(|s| s.zone()) {
                Some(zone) => (node_score + 2 * share_left(zones[zone], max_zone)) / 3,
                None => node_score,
            }
        })
        .collect()
}

/// 100 for a node (or zone) without pods of the group, 0 for the fullest.
fn share_left(count: u32, max: u32) -> i64 {
    if max == 0 {
        return MAX_NODE_SCORE;
    }
    MAX_NODE_SCORE * i64::from(max - count) / i64::from(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::node;
    use serde_json::json;

    fn zoned(name: &str, zone: Option<&str>) -> NodeInfo {
        let labels = match zone {
            Some(z) => json!({"topology.kubernetes.io/zone": z}),
            None => json!({}),
        };
        node(json!({"metadata": {"name": name, "labels": labels}}))
    }

    fn counts(pairs: &[(&str, u32)]) -> GroupCounts {
        GroupCounts(pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect())
    }

    #[test]
    fn emptier_nodes_score_higher() {
        let nodes = [zoned("a", None), zoned("b", None), zoned("c", None)];
        let refs: Vec<&NodeInfo> = nodes.iter().collect();
        assert_eq!(scores(&counts(&[("a", 2), ("b", 1)]), &refs), [0, 50, 100]);
        assert_eq!(scores(&counts(&[]), &refs), [100, 100, 100]);
    }

    #[test]
    fn zones_weigh_two_thirds() {
        let nodes = [zoned("a1", Some("a")), zoned("a2", Some("a")), zoned("b1", Some("b"))];
        let refs: Vec<&NodeInfo> = nodes.iter().collect();
        // Zone a holds 2, zone b 0; a2 is empty but in the crowded zone.
        let result = scores(&counts(&[("a1", 2)]), &refs);
        assert_eq!(result, [0, 100 / 3, 100]);
    }
}
