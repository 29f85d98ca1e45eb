//! Small fixtures for the scheduler's unit tests: pods and nodes from JSON snippets.

use std::sync::Arc;

use serde_json::{json, Value};

use super::node_info::{NodeInfo, NodeSpec};
use super::pod_info::PodInfo;

pub fn pod(object: Value) -> PodInfo {
    PodInfo::parse(&object)
}

/// A pod already running on `node`.
pub fn placed(mut object: Value, node: &str) -> Arc<PodInfo> {
    object["spec"]["nodeName"] = json!(node);
    Arc::new(PodInfo::parse(&object))
}

/// A node from `object`; Ready unless the object says otherwise.
pub fn node(mut object: Value) -> NodeInfo {
    if object.pointer("/status/conditions").is_none() {
        object["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
    }
    let mut info = NodeInfo::new(object["metadata"]["name"].as_str().unwrap_or("node"));
    info.set_spec(Some(NodeSpec::parse(&object)));
    info
}

/// A Ready node with `allocatable` resources.
pub fn node_with(name: &str, allocatable: Value) -> NodeInfo {
    node(json!({"metadata": {"name": name}, "status": {"allocatable": allocatable}}))
}
