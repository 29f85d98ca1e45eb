//! Binding a pod to a node (the `binding` subresource, and the scheduler's write).

use serde_json::{json, Value};

use super::catalog::ResourceType;
use super::{object, Registry, UpdateKind};
use crate::server::api_error::ApiError;

impl Registry {
    /// Sets `spec.nodeName` of an unbound pod and marks it scheduled; a pod that is bound
    /// already or being deleted is a Conflict.
    pub async fn bind(&self, pods: &ResourceType, ns: Option<&str>, name: &str, node: &str) -> Result<Value, ApiError> {
        self.update_with(pods, ns, name, UpdateKind::Internal, |pod| {
            if object::is_deleting(pod) {
                return Err(ApiError::conflict("", "pods", name, "the pod is being deleted"));
            }
            let current = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or_default();
            if !current.is_empty() {
                return Err(ApiError::conflict(
                    "",
                    "pods",
                    name,
                    &format!("pod {name} is already assigned to node \"{current}\""),
                ));
            }
            let mut pod = pod.clone();
            pod["spec"]["nodeName"] = json!(node);
            set_scheduled_condition(&mut pod);
            Ok(Some(pod))
        })
        .await
    }
}

fn set_scheduled_condition(pod: &mut Value) {
    let condition = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": object::now_rfc3339()});
    let conditions = object::object_field(pod, "status").entry("conditions").or_insert_with(|| json!([]));
    if let Some(list) = conditions.as_array_mut() {
        list.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
        list.push(condition);
    }
}
