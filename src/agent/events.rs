//! Events the agent posts about pods and its node (`kubectl describe` shows them); an event
//! repeated for the same object, reason and message bumps the count of the first one.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Resource;
use serde_json::json;

use crate::server::registry::object::now_rfc3339;

/// What makes two events the same: (object uid, reason, message).
type EventKey = (String, String, String);
/// Where an event was posted and how often: (namespace, event name, count).
type Posted = (String, String, i32);

pub struct EventRecorder {
    client: kube::Client,
    node: String,
    posted: Mutex<HashMap<EventKey, Posted>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Normal,
    Warning,
}

impl EventRecorder {
    pub fn new(client: kube::Client, node: &str) -> Self {
        Self { client, node: node.to_string(), posted: Mutex::default() }
    }

    /// Posts an event about `obj` (a pod or the node); failures are only logged.
    pub async fn record<K>(&self, obj: &K, kind: Kind, reason: &str, message: &str)
    where
        K: Resource<DynamicType = ()>,
    {
        let meta = obj.meta();
        let uid = meta.uid.clone().unwrap_or_default();
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let now = now_rfc3339();
        let key = (uid.clone(), reason.to_string(), message.to_string());
        let known = self.posted.lock().expect("events lock").get(&key).cloned();
        if let Some((ns, name, count)) = known {
            let patch = json!({"count": count + 1, "lastTimestamp": now});
            let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
            if api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.is_ok() {
                self.posted.lock().expect("events lock").insert(key, (ns, name, count + 1));
                return;
            }
        }
        let name = format!("{}.{:x}", meta.name.clone().unwrap_or_default(), jiff::Timestamp::now().as_nanosecond());
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"apiVersion": K::api_version(&()), "kind": K::kind(&()), "name": meta.name, "namespace": meta.namespace,
                               "uid": uid, "resourceVersion": meta.resource_version},
            "reason": reason, "message": message, "type": if kind == Kind::Warning { "Warning" } else { "Normal" },
            "source": {"component": "kubelet", "host": self.node},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": "kubelet", "reportingInstance": self.node,
        });
        let Ok(event) = serde_json::from_value::<Event>(event) else { return };
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                let mut posted = self.posted.lock().expect("events lock");
                // Keep the memory of posted events bounded.
                if posted.len() > 4096 {
                    posted.clear();
                }
                posted.insert(key, (namespace, name, 1));
            }
            Err(err) => tracing::debug!(%err, reason, "could not post event"),
        }
    }
}
