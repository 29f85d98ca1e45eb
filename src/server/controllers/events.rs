//! Recording Events about objects (what `kubectl describe` shows): repeated events for the
//! same object, reason and message are folded into one with a count.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::server::registry::catalog;
use crate::server::registry::options::WriteOptions;
use crate::server::registry::{object, Registry, UpdateKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

#[derive(Clone)]
pub struct Recorder {
    registry: Arc<Registry>,
    component: &'static str,
}

impl Recorder {
    pub fn new(registry: Arc<Registry>, component: &'static str) -> Self {
        Self { registry, component }
    }

    /// Records an event about `obj`; failures are logged, never fatal.
    pub async fn record(&self, obj: &Value, event_type: EventType, reason: &str, message: &str) {
        if let Err(err) = self.try_record(obj, event_type, reason, message).await {
            tracing::debug!(%err, reason, "could not record event");
        }
    }

    async fn try_record(
        &self,
        obj: &Value,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) -> Result<(), crate::server::api_error::ApiError> {
        let events = catalog::find("", "v1", "events").expect("served");
        let namespace = match object::namespace(obj) {
            "" => "default",
            ns => ns,
        };
        let involved = json!({
            "apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": object::name(obj),
            "namespace": object::namespace(obj), "uid": object::uid(obj), "resourceVersion": object::resource_version(obj),
        });
        let kind = if event_type == EventType::Warning { "Warning" } else { "Normal" };
        let now = object::now_rfc3339();
        // Fold into an existing event with the same object, reason and message.
        let name = format!("{}.{:x}", object::name(obj), fold_hash(object::uid(obj), reason, message));
        let existing = self.registry.get(events, Some(namespace), &name).await.ok();
        if existing.is_some() {
            let folded = self
                .registry
                .update_with(events, Some(namespace), &name, UpdateKind::Object, |ev| {
                    let mut ev = ev.clone();
                    let count = ev.get("count").and_then(Value::as_i64).unwrap_or(1) + 1;
                    ev["count"] = json!(count);
                    ev["lastTimestamp"] = json!(now);
                    ev["involvedObject"]["resourceVersion"] = involved["resourceVersion"].clone();
                    Ok(Some(ev))
                })
                .await;
            if folded.is_ok() {
                return Ok(());
            }
        }
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason, "message": message, "type": kind,
            "source": {"component": self.component},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": self.component, "reportingInstance": "",
        });
        match self.registry.create(events, Some(namespace), event, &WriteOptions::default()).await {
            Ok(_) => Ok(()),
            Err(err) if err.reason == "AlreadyExists" => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// A stable hash of what makes two events the same, for the event's name.
fn fold_hash(uid: &str, reason: &str, message: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (uid, reason, message).hash(&mut hasher);
    hasher.finish()
}
