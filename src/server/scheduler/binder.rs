//! The scheduler's writes: binding a pod to its node, and telling users why a pod is still
//! pending (the PodScheduled condition and events, as `kubectl describe pod` shows them).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::server::api_error::ApiError;
use crate::server::controllers::events::{EventType, Recorder};
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::{object, Registry, UpdateKind};

/// The component name events carry (`From` in `kubectl describe`).
pub const COMPONENT: &str = "default-scheduler";

#[derive(Clone)]
pub struct Binder {
    registry: Arc<Registry>,
    recorder: Recorder,
    pods: &'static ResourceType,
}

impl Binder {
    pub fn new(registry: Arc<Registry>) -> Self {
        let recorder = Recorder::new(registry.clone(), COMPONENT);
        Self { registry, recorder, pods: catalog::find("", "v1", "pods").expect("pods are served") }
    }

    /// Binds `pod` to `node` and records the `Scheduled` event.
    pub async fn bind(&self, pod: &Value, node: &str) -> Result<(), ApiError> {
        let (namespace, name) = (object::namespace(pod), object::name(pod));
        let bound = self.registry.bind(self.pods, Some(namespace), name, node).await?;
        let message = format!("Successfully assigned {namespace}/{name} to {node}");
        self.recorder.record(&bound, EventType::Normal, "Scheduled", &message).await;
        Ok(())
    }

    /// Marks the pod unschedulable (`PodScheduled=False`, reason `Unschedulable`) and records
    /// a `FailedScheduling` warning. Nothing is written to a pod that has been bound or
    /// replaced meanwhile.
    pub async fn report_unschedulable(&self, pod: &Value, message: &str) {
        self.set_unscheduled_condition(pod, message).await;
        self.recorder.record(pod, EventType::Warning, "FailedScheduling", message).await;
    }

    /// Records a failed binding; the pod is retried.
    pub async fn report_binding_failure(&self, pod: &Value, err: &ApiError) {
        let message = format!("Binding rejected: {}", err.message);
        self.recorder.record(pod, EventType::Warning, "FailedScheduling", &message).await;
    }

    async fn set_unscheduled_condition(&self, pod: &Value, message: &str) {
        let uid = object::uid(pod).to_string();
        let result = self
            .registry
            .update_with(self.pods, Some(object::namespace(pod)), object::name(pod), UpdateKind::Status, |current| {
                let bound = current.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
                if bound || object::uid(current) != uid {
                    return Ok(None);
                }
                Ok(with_unscheduled_condition(current, message))
            })
            .await;
        if let Err(err) = result {
            tracing::debug!(pod = object::name(pod), %err, "could not record why the pod is pending");
        }
    }
}

/// `pod` with `PodScheduled=False/Unschedulable` and `message`, or `None` when it already says so.
fn with_unscheduled_condition(pod: &Value, message: &str) -> Option<Value> {
    let conditions = pod.pointer("/status/conditions").and_then(Value::as_array);
    let existing =
        conditions.into_iter().flatten().find(|c| c.get("type").and_then(Value::as_str) == Some("PodScheduled"));
    let field = |c: &Value, name: &str| c.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(c) = existing {
        if field(c, "status") == "False" && field(c, "reason") == "Unschedulable" && field(c, "message") == message {
            return None;
        }
    }
    // The transition time moves only when the status does.
    let transition = existing
        .filter(|c| field(c, "status") == "False")
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(object::now_rfc3339()));
    let condition = json!({
        "type": "PodScheduled", "status": "False", "lastProbeTime": null,
        "lastTransitionTime": transition, "reason": "Unschedulable", "message": message,
    });
    let mut updated = pod.clone();
    let list = object::object_field(&mut updated, "status").entry("conditions").or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    let list = list.as_array_mut().expect("just made an array");
    list.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
    list.push(condition);
    Some(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_condition_is_written_once_per_message() {
        let pod = json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}});
        let first = with_unscheduled_condition(&pod, "0/1 nodes are available").unwrap();
        let condition = &first["status"]["conditions"][0];
        assert_eq!(condition["reason"], "Unschedulable");
        assert_eq!(condition["status"], "False");
        assert!(with_unscheduled_condition(&first, "0/1 nodes are available").is_none());
        let second = with_unscheduled_condition(&first, "0/2 nodes are available").unwrap();
        assert_eq!(second["status"]["conditions"].as_array().unwrap().len(), 1);
        assert_eq!(second["status"]["conditions"][0]["lastTransitionTime"], condition["lastTransitionTime"]);
    }
}
