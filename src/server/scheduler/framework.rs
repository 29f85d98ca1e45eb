//! One scheduling attempt: run the filters over every node, score the nodes that pass,
//! and pick the best, breaking ties so that identical pods still spread evenly.

use super::cache::Cache;
use super::diagnosis::FitError;
use super::node_info::NodeInfo;
use super::pod_affinity::{self, NamespaceLabels};
use super::pod_info::PodInfo;
use super::spread::{self, GroupCounts};
use super::{node_affinity, node_ports, node_resources, taints};
use crate::server::registry::label_selector::LabelSelector;

/// The best score one score plugin gives a node.
pub const MAX_NODE_SCORE: i64 = 100;

/// Upstream's default weights of the score plugins.
const TAINT_TOLERATION_WEIGHT: i64 = 3;
const NODE_AFFINITY_WEIGHT: i64 = 2;
const SPREAD_WEIGHT: i64 = 2;
const LEAST_ALLOCATED_WEIGHT: i64 = 1;

/// The filter that turned a node down; the queue uses it to tell which cluster changes may
/// help a pod that did not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    NodeUnschedulable,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    NodeResourcesFit,
    InterPodAffinity,
}

/// A set of [`Plugin`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PluginSet(u8);

impl PluginSet {
    pub const ALL: Self = Self(u8::MAX);

    pub fn insert(&mut self, plugin: Plugin) {
        self.0 |= 1 << plugin as u8;
    }

    pub fn contains(self, plugin: Plugin) -> bool {
        self.0 & (1 << plugin as u8) != 0
    }
}

/// Why one node cannot take the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit {
    pub plugin: Plugin,
    pub reasons: Vec<String>,
    /// Whether evicting pods from the node could make room (what preemption would try).
    pub resolvable: bool,
}

impl Unfit {
    pub fn resolvable(plugin: Plugin, reason: &str) -> Self {
        Self { plugin, reasons: vec![reason.to_string()], resolvable: true }
    }

    pub fn unresolvable(plugin: Plugin, reason: &str) -> Self {
        Self { plugin, reasons: vec![reason.to_string()], resolvable: false }
    }
}

/// What an attempt needs beyond the cache and the pod.
pub struct Context<'a> {
    pub namespaces: NamespaceLabels<'a>,
    /// For a pod without a controller: the Services selecting it (key, selector).
    pub services: Vec<(String, LabelSelector)>,
}

/// Remembers the last choice so that equally good nodes take turns.
#[derive(Debug, Default)]
pub struct TieBreaker {
    last: String,
}

/// Finds the node for `pod`, or says why there is none.
pub fn schedule(cache: &mut Cache, pod: &PodInfo, ctx: &Context, ties: &mut TieBreaker) -> Result<String, FitError> {
    let group = group_counts(cache, pod, &ctx.services);
    let cache = &*cache;
    let affinity = pod_affinity::prepare(pod, cache.nodes(), cache.anti_affinity_pods(), &ctx.namespaces);
    let mut feasible = Vec::new();
    let mut unfit = Vec::new();
    for node in cache.nodes() {
        match run_filters(pod, node, &affinity) {
            Ok(()) => feasible.push(node),
            Err(why) => unfit.push(why),
        }
    }
    if feasible.is_empty() {
        return Err(FitError::new(unfit, pod.never_preempts));
    }
    let scores = score(pod, &feasible, &group);
    Ok(ties.pick(&feasible, &scores).to_string())
}

/// The filters in upstream's order; a node is reported with the first one it fails.
fn run_filters(pod: &PodInfo, node: &NodeInfo, affinity: &pod_affinity::Prepared) -> Result<(), Unfit> {
    taints::filter_unschedulable(pod, node)?;
    taints::filter_taints(pod, node)?;
    node_affinity::filter(pod, node)?;
    node_ports::filter(pod, node)?;
    node_resources::filter(pod, node)?;
    pod_affinity::filter(affinity, pod, node)
}

/// The pod's group for spreading: its controller's pods, else its Services' pods.
fn group_counts(cache: &mut Cache, pod: &PodInfo, services: &[(String, LabelSelector)]) -> GroupCounts {
    let mut group = GroupCounts::default();
    if let Some(uid) = &pod.controller_uid {
        if let Some(counts) = cache.owner_counts(uid) {
            group.add(counts);
        }
        return group;
    }
    for (key, selector) in services {
        group.add(cache.selector_counts(key, &pod.namespace, selector));
    }
    group
}

/// The weighted sum of every score plugin, per candidate.
fn score(pod: &PodInfo, candidates: &[&NodeInfo], group: &GroupCounts) -> Vec<i64> {
    let taint_counts: Vec<i64> = candidates.iter().map(|n| taints::intolerable_preferences(pod, n)).collect();
    let taint_scores = normalize(&taint_counts, true);
    let affinity_weights: Vec<i64> = candidates.iter().map(|n| node_affinity::score(pod, n)).collect();
    let affinity_scores = normalize(&affinity_weights, false);
    let spread_scores = spread::scores(group, candidates);
    candidates
        .iter()
        .enumerate()
        .map(|(i, node)| {
            TAINT_TOLERATION_WEIGHT * taint_scores[i]
                + NODE_AFFINITY_WEIGHT * affinity_scores[i]
                + SPREAD_WEIGHT * spread_scores[i]
                + LEAST_ALLOCATED_WEIGHT * node_resources::least_allocated(pod, node)
        })
        .collect()
}

/// Scales raw scores to 0..=100 relative to the largest; `reverse` makes fewer better.
fn normalize(raw: &[i64], reverse: bool) -> Vec<i64> {
    let max = raw.iter().copied().max().unwrap_or(0);
    raw.iter()
        .map(|&r| {
            let scaled = if max > 0 { r.saturating_mul(MAX_NODE_SCORE) / max } else { 0 };
            match (reverse, max > 0) {
                (true, true) => MAX_NODE_SCORE - scaled,
                (true, false) => MAX_NODE_SCORE,
                (false, _) => scaled,
            }
        })
        .collect()
}

impl TieBreaker {
    /// The best-scoring node; among equals the one with the fewest pods, then the next one
    /// after the previous choice in name order.
    fn pick<'a>(&mut self, candidates: &[&'a NodeInfo], scores: &[i64]) -> &'a str {
        let best = scores.iter().copied().max().unwrap_or(0);
        let tied: Vec<&NodeInfo> =
            candidates.iter().zip(scores).filter(|(_, s)| **s == best).map(|(n, _)| *n).collect();
        let fewest = tied.iter().map(|n| n.pod_count()).min().unwrap_or(0);
        let lightest: Vec<&NodeInfo> = tied.into_iter().filter(|n| n.pod_count() == fewest).collect();
        let chosen: &'a NodeInfo =
            lightest.iter().find(|n| n.name > self.last).or(lightest.first()).expect("candidates exist");
        self.last = chosen.name.clone();
        &chosen.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::pod;
    use serde_json::{json, Value};
    use std::collections::{BTreeMap, HashMap};

    fn node_object(name: &str, extra_labels: Value) -> Value {
        let mut labels = json!({"kubernetes.io/hostname": name});
        labels.as_object_mut().unwrap().extend(extra_labels.as_object().cloned().unwrap_or_default());
        json!({"metadata": {"name": name, "labels": labels},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn replica(i: usize) -> PodInfo {
        pod(json!({
            "metadata": {"name": format!("web-{i}"), "namespace": "default", "labels": {"app": "web"},
                "ownerReferences": [{"uid": "rs-1", "controller": true}]},
            "spec": {"containers": [{"name": "c"}]},
        }))
    }

    fn run(cache: &mut Cache, ties: &mut TieBreaker, pod: &PodInfo) -> Result<String, FitError> {
        let none = |_: &str| BTreeMap::new();
        let ctx = Context { namespaces: NamespaceLabels::new(&none), services: Vec::new() };
        let chosen = schedule(cache, pod, &ctx, ties)?;
        cache.assume(pod, &chosen);
        Ok(chosen)
    }

    fn tally(cache: &Cache) -> HashMap<String, usize> {
        cache.nodes().map(|n| (n.name.clone(), n.pod_count())).collect()
    }

    #[test]
    fn replicas_spread_evenly_over_equal_nodes() {
        let mut cache = Cache::default();
        for name in ["agent-1", "agent-2", "agent-3"] {
            cache.set_node(&node_object(name, json!({})));
        }
        let mut ties = TieBreaker::default();
        let mut order = Vec::new();
        for i in 0..9 {
            order.push(run(&mut cache, &mut ties, &replica(i)).unwrap());
        }
        assert!(tally(&cache).values().all(|n| *n == 3), "{:?}", tally(&cache));
        assert_eq!(order[..3], ["agent-1", "agent-2", "agent-3"]);
    }

    #[test]
    fn spreading_beats_a_lighter_node_for_the_group() {
        let mut cache = Cache::default();
        cache.set_node(&node_object("a", json!({})));
        cache.set_node(&node_object("b", json!({})));
        let mut ties = TieBreaker::default();
        // Three unrelated pods on b, one replica on a: the next replica still goes to b.
        for i in 0..3 {
            let other = pod(
                json!({"metadata": {"name": format!("x{i}"), "namespace": "default"}, "spec": {"containers": [{"name": "c"}]}}),
            );
            cache.assume(&other, "b");
        }
        cache.assume(&replica(0), "a");
        assert_eq!(run(&mut cache, &mut ties, &replica(1)).unwrap(), "b");
    }

    #[test]
    fn preferences_and_taints_steer_the_choice() {
        let mut cache = Cache::default();
        cache.set_node(&node_object("plain", json!({})));
        cache.set_node(&node_object("ssd", json!({"disk": "ssd"})));
        let mut spot = node_object("spot", json!({"disk": "ssd"}));
        spot["spec"] = json!({"taints": [{"key": "spot", "effect": "PreferNoSchedule"}]});
        cache.set_node(&spot);
        let picky = pod(
            json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "c"}],
            "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}}}),
        );
        assert_eq!(run(&mut cache, &mut TieBreaker::default(), &picky).unwrap(), "ssd");
    }

    #[test]
    fn nodes_that_fail_filters_are_reported() {
        let mut cache = Cache::default();
        let mut cordoned = node_object("a", json!({}));
        cordoned["spec"] = json!({"unschedulable": true});
        cache.set_node(&cordoned);
        cache.set_node(&node_object("b", json!({})));
        cache.set_node(&node_object("c", json!({})));
        let hungry = pod(json!({"metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "3"}}}]}}));
        cache.assume(&hungry, "b");
        let second = PodInfo { key: "default/q".into(), ..hungry.clone() };
        cache.assume(&second, "c");
        let third = PodInfo { key: "default/r".into(), ..hungry };
        let err = run(&mut cache, &mut TieBreaker::default(), &third).unwrap_err();
        assert_eq!(
            err.message(),
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
             2 No preemption victims found for incoming pod.."
        );
        cache.remove_pod("default/q");
        assert_eq!(run(&mut cache, &mut TieBreaker::default(), &third).unwrap(), "c");
    }

    #[test]
    fn identical_bare_pods_take_turns() {
        let mut cache = Cache::default();
        for name in ["a", "b", "c"] {
            cache.set_node(&node_object(name, json!({})));
        }
        let mut ties = TieBreaker::default();
        let chosen: Vec<String> = (0..6)
            .map(|i| {
                let p = pod(json!({"metadata": {"name": format!("p{i}"), "namespace": "default"},
                    "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "0", "memory": "0"}}}]}}));
                run(&mut cache, &mut ties, &p).unwrap()
            })
            .collect();
        assert_eq!(chosen, ["a", "b", "c", "a", "b", "c"]);
    }
}

/// The scale the scheduler is built for: deciding must stay cheap and the spread even.
/// `--nocapture` shows the rate of deciding alone, without writes.
#[cfg(test)]
mod scale {
    use super::*;
    use crate::server::scheduler::testing::pod;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn ten_thousand_pods_spread_evenly_over_a_hundred_nodes() {
        let mut cache = Cache::default();
        for i in 0..100 {
            cache.set_node(&json!({"metadata": {"name": format!("node-{i:03}"), "labels": {"topology.kubernetes.io/zone": format!("z{}", i % 3)}},
                "status": {"allocatable": {"cpu": "32", "memory": "64Gi", "pods": "110"}, "conditions": [{"type": "Ready", "status": "True"}]}}));
        }
        let pods: Vec<PodInfo> = (0..10_000)
            .map(|i| {
                pod(json!({"metadata": {"name": format!("p-{i}"), "namespace": "default", "labels": {"app": format!("g{}", i % 50)},
                    "ownerReferences": [{"uid": format!("rs-{}", i % 50), "controller": true}]},
                    "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}))
            })
            .collect();
        let none = |_: &str| BTreeMap::new();
        let ctx = Context { namespaces: NamespaceLabels::new(&none), services: Vec::new() };
        let mut ties = TieBreaker::default();
        let started = std::time::Instant::now();
        for p in &pods {
            let node = schedule(&mut cache, p, &ctx, &mut ties).expect("room for everyone");
            cache.assume(p, &node);
        }
        let elapsed = started.elapsed();
        println!("10000 pods on 100 nodes decided in {elapsed:?} ({:.0} pods/s)", 10_000.0 / elapsed.as_secs_f64());
        assert!(cache.nodes().all(|n| n.pod_count() == 100));
        for group in 0..50 {
            let counts = cache.owner_counts(&format!("rs-{group}")).expect("placed");
            assert_eq!((counts.len(), counts.values().max()), (100, Some(&2)), "each group spreads over all nodes");
        }
    }
}
