//! Namespaces: the `kubernetes` finalizer, the phase, and the name label.

use serde_json::{json, Value};

use super::Strategy;
use crate::server::registry::validation;

pub struct NamespaceStrategy;

/// The finalizer the namespace controller removes once the namespace is empty.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";

impl Strategy for NamespaceStrategy {
    fn validate_name(&self, name: &str) -> Result<(), String> {
        validation::dns1123_label(name)
    }

    fn default(&self, obj: &mut Value) {
        // Every namespace carries its own name as a label, so selectors can pick namespaces.
        let name = obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null);
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert("kubernetes.io/metadata.name".into(), name);
            }
        }
    }

    fn prepare_create(&self, obj: &mut Value) {
        obj["spec"] = json!({"finalizers": [KUBERNETES_FINALIZER]});
        obj["status"] = json!({"phase": "Active"});
    }

    fn prepare_update(&self, new: &mut Value, old: &Value) {
        // spec.finalizers change only through the finalize subresource.
        new["spec"] = old.get("spec").cloned().unwrap_or(Value::Null);
    }

    fn grace_period(&self, _obj: &Value, _requested: Option<i64>) -> Option<i64> {
        Some(0)
    }

    fn prepare_delete(&self, obj: &mut Value) {
        obj["status"]["phase"] = json!("Terminating");
    }

    fn holds_deletion(&self, obj: &Value) -> bool {
        obj.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty())
    }
}
