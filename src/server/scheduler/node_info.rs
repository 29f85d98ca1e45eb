//! One node as the scheduler sees it: the parts of the Node object the filters read, and
//! running totals of the pods placed on it (requests, host ports, pod count), kept up to date
//! pod by pod so that checking a node never walks its pods.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::node_ports::UsedPorts;
use super::pod_info::PodInfo;
use super::resources::{self, Resources, ScoringRequest};
use super::taints::{self, Taint};
use crate::server::registry::label_selector::labels_of;

/// The label that names a node's zone.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// What the filters need from a Node object.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub labels: BTreeMap<String, String>,
    /// Declared taints plus the one implied by a Ready condition that is not True.
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Resources,
    pub allowed_pods: i64,
}

impl NodeSpec {
    pub fn parse(node: &Value) -> Self {
        // A malformed quantity in a node's status leaves the node offering nothing rather
        // than offering a guess.
        let (allocatable, allowed_pods) = resources::node_allocatable(node).unwrap_or_default();
        Self {
            labels: labels_of(node),
            taints: taints::node_taints(node),
            unschedulable: node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false),
            allocatable,
            allowed_pods,
        }
    }

    pub fn zone(&self) -> Option<&str> {
        self.labels.get(ZONE_LABEL).map(String::as_str).filter(|z| !z.is_empty())
    }
}

#[derive(Debug, Default)]
pub struct NodeInfo {
    pub name: String,
    /// `None` while pods name a node the scheduler has not seen (or no longer sees).
    spec: Option<NodeSpec>,
    pub requested: Resources,
    pub scoring_requested: ScoringRequest,
    pub ports: UsedPorts,
    pods: HashMap<String, Arc<PodInfo>>,
}

impl NodeInfo {
    pub fn new(name: &str) -> Self {
        Self { name: name.to_string(), ..Default::default() }
    }

    pub fn spec(&self) -> Option<&NodeSpec> {
        self.spec.as_ref()
    }

    pub fn set_spec(&mut self, spec: Option<NodeSpec>) {
        self.spec = spec;
    }

    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    pub fn pods(&self) -> impl Iterator<Item = &Arc<PodInfo>> {
        self.pods.values()
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.spec.as_ref().and_then(|s| s.labels.get(key)).map(String::as_str)
    }

    /// Counts `pod` as placed here (replacing an earlier version of it).
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.remove_pod(&pod.key);
        self.requested.add(&pod.requests.exact);
        self.scoring_requested.add(pod.requests.scoring);
        self.ports.add(&pod.host_ports);
        self.pods.insert(pod.key.clone(), pod);
    }

    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let pod = self.pods.remove(key)?;
        self.requested.subtract(&pod.requests.exact);
        self.scoring_requested.subtract(pod.requests.scoring);
        self.ports.remove(&pod.host_ports);
        Some(pod)
    }

    /// A node that is gone and holds no pods can be forgotten.
    pub fn is_empty_ghost(&self) -> bool {
        self.spec.is_none() && self.pods.is_empty()
    }
}
