//! Nodes: cluster-scoped, named like hosts.

use serde_json::{json, Value};

use super::defaults::set_default;
use super::Strategy;

pub struct NodeStrategy;

impl Strategy for NodeStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec"], json!({}));
    }

    fn prepare_create(&self, obj: &mut Value) {
        // Registration may carry an initial status (the kubelet sends capacity with it).
        if obj.get("status").is_none() {
            obj["status"] = json!({});
        }
    }
}
