//! The scheduler's picture of the cluster: every node with the pods placed on it, updated
//! incrementally from informer events and from the scheduler's own decisions. A pod the
//! scheduler has chosen a node for is *assumed* there at once, before its binding is written,
//! so that the next pod already sees the node's new load.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::node_info::{NodeInfo, NodeSpec};
use super::pod_info::PodInfo;
use crate::server::registry::label_selector::LabelSelector;

/// What an informer event changed, as far as pods waiting for a node care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterEvent {
    /// A node appeared or changed labels, taints, cordon, readiness or capacity.
    NodeChanged,
    /// A pod left a node (deleted, finished, or moved): resources and ports are free.
    PodFreed,
    /// A pod arrived on a node or changed labels: pod affinity may now be satisfiable.
    PodPlaced,
}

impl ClusterEvent {
    pub const ALL: [Self; 3] = [Self::NodeChanged, Self::PodFreed, Self::PodPlaced];
}

#[derive(Debug, Clone)]
struct Placement {
    node: String,
    /// Chosen by this scheduler, binding not yet seen in the informer.
    assumed: bool,
}

/// Placed pods selected by one Service, per node, for spreading pods without a controller.
#[derive(Debug)]
struct SelectorCount {
    namespace: String,
    selector: LabelSelector,
    per_node: HashMap<String, u32>,
}

#[derive(Debug, Default)]
pub struct Cache {
    /// By name, so that every pass over the nodes has the same order.
    nodes: BTreeMap<String, NodeInfo>,
    placed: HashMap<String, Placement>,
    /// Controller uid → node → placed pods of that controller.
    owners: HashMap<String, HashMap<String, u32>>,
    /// Service key → counts, built on first use and kept current after.
    selectors: HashMap<String, SelectorCount>,
    /// Placed pods with required anti-affinity terms → their node.
    anti_affinity: HashMap<String, String>,
}

impl Cache {
    /// The nodes that exist (not just named by pods).
    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.values().filter(|n| n.spec().is_some())
    }

    #[cfg(test)]
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    /// Placed pods with required anti-affinity terms, with their nodes.
    pub fn anti_affinity_pods(&self) -> impl Iterator<Item = (&PodInfo, &NodeInfo)> {
        self.anti_affinity.iter().filter_map(|(key, node)| {
            let node = self.nodes.get(node)?;
            let pod = node.pods().find(|p| &p.key == key)?;
            Some((pod.as_ref(), node))
        })
    }

    pub fn is_assumed(&self, pod_key: &str) -> bool {
        self.placed.get(pod_key).is_some_and(|p| p.assumed)
    }

    /// Adds or updates a node; reports a change only when something the filters read changed.
    pub fn set_node(&mut self, node: &Value) -> Option<ClusterEvent> {
        let name = node.pointer("/metadata/name").and_then(Value::as_str)?;
        let spec = NodeSpec::parse(node);
        let info = self.nodes.entry(name.to_string()).or_insert_with(|| NodeInfo::new(name));
        if info.spec() == Some(&spec) {
            return None;
        }
        info.set_spec(Some(spec));
        Some(ClusterEvent::NodeChanged)
    }

    /// Forgets a deleted node; its pods stay counted until they are gone too.
    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.get_mut(name) {
            info.set_spec(None);
            if info.is_empty_ghost() {
                self.nodes.remove(name);
            }
        }
    }

    /// Takes in a new version of a pod from the informer.
    pub fn set_pod(&mut self, pod: Arc<PodInfo>) -> Option<ClusterEvent> {
        let current = self.placed.get(&pod.key).cloned();
        if pod.occupies_node() {
            let before =
                current.as_ref().and_then(|p| self.nodes.get(&p.node)?.pods().find(|q| q.key == pod.key).cloned());
            // News: a pod new on its node (or just confirmed there), or one whose labels changed.
            let news = current.as_ref().is_none_or(|p| p.assumed || p.node != pod.node_name)
                || before.is_some_and(|b| b.labels != pod.labels);
            let node = pod.node_name.clone();
            self.place(pod, &node, false);
            return news.then_some(ClusterEvent::PodPlaced);
        }
        match current {
            // The informer has not caught up with our binding yet.
            Some(p) if p.assumed && pod.node_name.is_empty() && !pod.terminated => None,
            Some(_) => self.unplace(&pod.key).map(|_| ClusterEvent::PodFreed),
            None => None,
        }
    }

    pub fn remove_pod(&mut self, key: &str) -> Option<ClusterEvent> {
        self.unplace(key).map(|_| ClusterEvent::PodFreed)
    }

    /// Places `pod` on `node` ahead of its binding.
    pub fn assume(&mut self, pod: &PodInfo, node: &str) {
        let placed = PodInfo { node_name: node.to_string(), ..pod.clone() };
        self.place(Arc::new(placed), node, true);
    }

    /// Undoes an assumption whose binding failed.
    pub fn forget(&mut self, key: &str) {
        if self.is_assumed(key) {
            self.unplace(key);
        }
    }

    /// Rebuilds everything from full lists (after missing informer events), keeping the
    /// assumptions whose bindings are still in flight.
    pub fn replace_all(&mut self, nodes: &[Arc<Value>], pods: Vec<Arc<PodInfo>>) {
        let assumed: Vec<(Arc<PodInfo>, String)> = self
            .placed
            .iter()
            .filter(|(_, p)| p.assumed)
            .filter_map(|(key, p)| {
                Some((self.nodes.get(&p.node)?.pods().find(|q| &q.key == key)?.clone(), p.node.clone()))
            })
            .collect();
        *self = Self::default();
        for node in nodes {
            self.set_node(node);
        }
        let unbound: HashMap<&str, &Arc<PodInfo>> =
            pods.iter().filter(|p| p.wants_scheduling()).map(|p| (p.key.as_str(), p)).collect();
        for (pod, node) in &assumed {
            if unbound.contains_key(pod.key.as_str()) {
                self.place(pod.clone(), node, true);
            }
        }
        for pod in pods {
            self.set_pod(pod);
        }
    }

    /// Placed pods of the controller with `uid`, per node.
    pub fn owner_counts(&self, uid: &str) -> Option<&HashMap<String, u32>> {
        self.owners.get(uid)
    }

    /// Placed pods that a Service's selector picks, per node (counted on first use).
    pub fn selector_counts(
        &mut self,
        service: &str,
        namespace: &str,
        selector: &LabelSelector,
    ) -> &HashMap<String, u32> {
        let stale = self.selectors.get(service).is_some_and(|c| c.namespace != namespace || &c.selector != selector);
        if stale {
            self.selectors.remove(service);
        }
        if !self.selectors.contains_key(service) {
            let mut per_node = HashMap::new();
            for node in self.nodes.values() {
                let n = node
                    .pods()
                    .filter(|p| counts_for_spread(p) && p.namespace == namespace && selector.matches(&p.labels))
                    .count();
                if n > 0 {
                    per_node.insert(node.name.clone(), n as u32);
                }
            }
            let count = SelectorCount { namespace: namespace.to_string(), selector: selector.clone(), per_node };
            self.selectors.insert(service.to_string(), count);
        }
        &self.selectors[service].per_node
    }

    /// Drops the counts of a Service that changed or went away.
    pub fn forget_selector(&mut self, service: &str) {
        self.selectors.remove(service);
    }

    fn place(&mut self, pod: Arc<PodInfo>, node: &str, assumed: bool) {
        self.unplace(&pod.key);
        self.adjust_groups(&pod, node, 1);
        if !pod.pod_affinity.anti_affinity.is_empty() {
            self.anti_affinity.insert(pod.key.clone(), node.to_string());
        }
        self.placed.insert(pod.key.clone(), Placement { node: node.to_string(), assumed });
        self.nodes.entry(node.to_string()).or_insert_with(|| NodeInfo::new(node)).add_pod(pod);
    }

    fn unplace(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let placement = self.placed.remove(key)?;
        self.anti_affinity.remove(key);
        let info = self.nodes.get_mut(&placement.node)?;
        let pod = info.remove_pod(key)?;
        if info.is_empty_ghost() {
            self.nodes.remove(&placement.node);
        }
        self.adjust_groups(&pod, &placement.node, -1);
        Some(pod)
    }

    /// Counts a pod in (or out of) its controller's and Services' per-node totals.
    fn adjust_groups(&mut self, pod: &PodInfo, node: &str, delta: i32) {
        if !counts_for_spread(pod) {
            return;
        }
        let bump = |per_node: &mut HashMap<String, u32>| {
            let n = per_node.entry(node.to_string()).or_default();
            *n = n.saturating_add_signed(delta);
            if *n == 0 {
                per_node.remove(node);
            }
        };
        if let Some(uid) = &pod.controller_uid {
            let per_node = self.owners.entry(uid.clone()).or_default();
            bump(per_node);
            if per_node.is_empty() {
                self.owners.remove(uid);
            }
        }
        for count in self.selectors.values_mut() {
            if count.namespace == pod.namespace && count.selector.matches(&pod.labels) {
                bump(&mut count.per_node);
            }
        }
    }
}

/// Pods on their way out do not count against a node when spreading their group.
fn counts_for_spread(pod: &PodInfo) -> bool {
    !pod.deleting
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::pod;
    use serde_json::json;

    fn node_object(name: &str, cpu: &str) -> Value {
        json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": cpu, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn owned(name: &str, node: &str) -> Arc<PodInfo> {
        Arc::new(pod(json!({
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"},
                "ownerReferences": [{"uid": "rs-1", "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
        })))
    }

    #[test]
    fn node_changes_that_matter_are_reported() {
        let mut cache = Cache::default();
        assert_eq!(cache.set_node(&node_object("a", "1")), Some(ClusterEvent::NodeChanged));
        assert_eq!(cache.set_node(&node_object("a", "1")), None, "a heartbeat changes nothing");
        assert_eq!(cache.set_node(&node_object("a", "2")), Some(ClusterEvent::NodeChanged));
        cache.remove_node("a");
        assert_eq!(cache.nodes().count(), 0);
    }

    #[test]
    fn placed_pods_count_on_their_node_and_group() {
        let mut cache = Cache::default();
        cache.set_node(&node_object("a", "1"));
        assert_eq!(cache.set_pod(owned("p1", "a")), Some(ClusterEvent::PodPlaced));
        assert_eq!(cache.set_pod(owned("p1", "a")), None, "a status update is no news");
        cache.set_pod(owned("p2", "a"));
        assert_eq!(cache.node("a").unwrap().requested.milli_cpu, 200);
        assert_eq!(cache.owner_counts("rs-1").unwrap()["a"], 2);
        assert_eq!(cache.remove_pod("default/p1"), Some(ClusterEvent::PodFreed));
        assert_eq!(cache.node("a").unwrap().requested.milli_cpu, 100);
        let finished = PodInfo { terminated: true, ..(*owned("p2", "a")).clone() };
        assert_eq!(cache.set_pod(Arc::new(finished)), Some(ClusterEvent::PodFreed));
        assert!(cache.owner_counts("rs-1").is_none());
        assert_eq!(cache.node("a").unwrap().pod_count(), 0);
    }

    #[test]
    fn assumptions_hold_until_the_binding_shows_or_fails() {
        let mut cache = Cache::default();
        cache.set_node(&node_object("a", "1"));
        let pending = PodInfo { node_name: String::new(), ..(*owned("p", "")).clone() };
        cache.assume(&pending, "a");
        assert!(cache.is_assumed("default/p"));
        assert_eq!(cache.set_pod(Arc::new(pending.clone())), None, "a stale unbound version keeps the assumption");
        assert_eq!(cache.node("a").unwrap().pod_count(), 1);
        cache.set_pod(owned("p", "a"));
        assert!(!cache.is_assumed("default/p"), "the binding is confirmed");
        cache.forget("default/p");
        assert_eq!(cache.node("a").unwrap().pod_count(), 1, "confirmed pods are not forgotten");
        let other = PodInfo { key: "default/q".into(), ..pending };
        cache.assume(&other, "a");
        cache.forget("default/q");
        assert_eq!(cache.node("a").unwrap().pod_count(), 1);
    }

    #[test]
    fn pods_on_unknown_nodes_are_kept_until_the_node_arrives() {
        let mut cache = Cache::default();
        cache.set_pod(owned("p", "later"));
        assert_eq!(cache.nodes().count(), 0);
        cache.set_node(&node_object("later", "1"));
        assert_eq!(cache.node("later").unwrap().pod_count(), 1);
    }

    #[test]
    fn service_counts_are_built_once_and_kept_current() {
        let mut cache = Cache::default();
        cache.set_node(&node_object("a", "1"));
        cache.set_pod(owned("p1", "a"));
        let selector = LabelSelector::parse("app=web").unwrap();
        assert_eq!(cache.selector_counts("default/web", "default", &selector)["a"], 1);
        cache.set_pod(owned("p2", "a"));
        assert_eq!(cache.selector_counts("default/web", "default", &selector)["a"], 2);
        assert!(cache.selector_counts("other/web", "other", &selector).is_empty());
    }

    #[test]
    fn a_full_resync_keeps_bindings_in_flight() {
        let mut cache = Cache::default();
        let node = Arc::new(node_object("a", "1"));
        cache.set_node(&node);
        let pending = PodInfo { node_name: String::new(), ..(*owned("p", "")).clone() };
        cache.assume(&pending, "a");
        cache.replace_all(&[node], vec![Arc::new(pending)]);
        assert!(cache.is_assumed("default/p"));
        assert_eq!(cache.node("a").unwrap().pod_count(), 1);
    }
}
