//! One pod as the scheduler sees it: the parts of the Pod object that filters, scores and the
//! queue read, parsed once per version of the pod.

use std::collections::BTreeMap;

use serde_json::Value;

use super::node_affinity::NodeAffinity;
use super::node_ports::{self, HostPort};
use super::pod_affinity::PodAffinity;
use super::resources::{self, PodRequests};
use super::taints::{self, Toleration};
use crate::server::controllers::informer::cache_key;
use crate::server::registry::label_selector::labels_of;
use crate::server::registry::object;

/// The scheduler name this scheduler answers to.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

#[derive(Debug, Clone, Default)]
pub struct PodInfo {
    /// `namespace/name`, as the informer keys it.
    pub key: String,
    pub namespace: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub node_name: String,
    pub scheduler_name: String,
    pub priority: i64,
    /// `metadata.creationTimestamp` as written (RFC 3339 sorts by time).
    pub created: String,
    pub deleting: bool,
    /// Succeeded or Failed: the pod no longer uses its node.
    pub terminated: bool,
    /// `spec.schedulingGates` is not empty: the pod waits until they are removed.
    pub gated: bool,
    /// `spec.preemptionPolicy: Never`.
    pub never_preempts: bool,
    pub requests: PodRequests,
    pub host_ports: Vec<HostPort>,
    pub tolerations: Vec<Toleration>,
    pub node_affinity: NodeAffinity,
    pub pod_affinity: PodAffinity,
    /// The uid of the owner with `controller: true` (ReplicaSet, StatefulSet, Job …).
    pub controller_uid: Option<String>,
    /// Why the spec cannot be scheduled as written (an invalid quantity, an unknown operator).
    pub invalid: Option<String>,
}

impl PodInfo {
    pub fn parse(pod: &Value) -> Self {
        let null = Value::Null;
        let spec = pod.get("spec").unwrap_or(&null);
        let text = |pointer: &str| pod.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string();
        let namespace = object::namespace(pod).to_string();
        let mut invalid = None;
        let requests = keep(resources::pod_requests(spec).map_err(|e| e.to_string()), &mut invalid);
        let tolerations = keep(taints::parse_tolerations(spec), &mut invalid);
        let node_affinity = keep(NodeAffinity::parse(spec), &mut invalid);
        let pod_affinity = keep(PodAffinity::parse(spec, &namespace), &mut invalid);
        let controller_uid = pod
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            .and_then(|r| r.get("uid").and_then(Value::as_str))
            .map(str::to_string);
        let phase = text("/status/phase");
        Self {
            key: cache_key(pod),
            uid: object::uid(pod).to_string(),
            labels: labels_of(pod),
            node_name: text("/spec/nodeName"),
            scheduler_name: text("/spec/schedulerName"),
            priority: spec.get("priority").and_then(Value::as_i64).unwrap_or(0),
            created: text("/metadata/creationTimestamp"),
            deleting: object::is_deleting(pod),
            terminated: phase == "Succeeded" || phase == "Failed",
            gated: spec.get("schedulingGates").and_then(Value::as_array).is_some_and(|g| !g.is_empty()),
            never_preempts: spec.get("preemptionPolicy").and_then(Value::as_str) == Some("Never"),
            requests,
            host_ports: node_ports::pod_host_ports(spec),
            tolerations,
            node_affinity,
            pod_affinity,
            controller_uid,
            invalid,
            namespace,
        }
    }

    /// Whether this scheduler should find the pod a node now.
    pub fn wants_scheduling(&self) -> bool {
        self.node_name.is_empty()
            && (self.scheduler_name.is_empty() || self.scheduler_name == DEFAULT_SCHEDULER)
            && !self.deleting
            && !self.terminated
            && !self.gated
    }

    /// Whether the pod holds resources on a node.
    pub fn occupies_node(&self) -> bool {
        !self.node_name.is_empty() && !self.terminated
    }
}

/// The parsed part, or its default with the first problem remembered in `invalid`.
fn keep<T: Default>(result: Result<T, String>, invalid: &mut Option<String>) -> T {
    result.unwrap_or_else(|why| {
        invalid.get_or_insert(why);
        T::default()
    })
}
