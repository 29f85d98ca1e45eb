//! Per-kind behaviour: defaults, server-set fields, validation, and deletion rules. Kinds
//! without special rules use the generic strategy.

mod batch;
mod config;
mod defaults;
mod namespace;
mod node;
mod pod;
mod pod_spec;
mod service;
mod workloads;

use serde_json::Value;

use super::catalog::ResourceType;
use super::validation;
use super::Registry;
use crate::server::api_error::{ApiError, Cause};
pub use namespace::KUBERNETES_FINALIZER;
pub use pod::set_default_toleration_seconds;

/// What a kind adds to the generic REST semantics.
pub trait Strategy: Send + Sync {
    /// The syntax rule for `metadata.name`.
    fn validate_name(&self, name: &str) -> Result<(), String> {
        validation::dns1123_subdomain(name)
    }

    /// Fills defaults; runs on every write.
    fn default(&self, _obj: &mut Value) {}

    /// Sets server-owned fields of a new object (e.g. resets status).
    fn prepare_create(&self, _obj: &mut Value) {}

    /// Adjusts an update before validation (`old` is the stored object).
    fn prepare_update(&self, _new: &mut Value, _old: &Value) {}

    fn validate(&self, _obj: &Value) -> Vec<Cause> {
        Vec::new()
    }

    /// Rules about what may change (immutable fields).
    fn validate_update(&self, _new: &Value, _old: &Value) -> Vec<Cause> {
        Vec::new()
    }

    /// Claims cluster resources (IPs, ports) for a new object; undone by `release` if the
    /// create fails.
    fn allocate(&self, _registry: &Registry, _obj: &mut Value) -> Result<(), ApiError> {
        Ok(())
    }

    /// Claims or frees resources when an update changes them.
    fn reallocate(&self, _registry: &Registry, _new: &mut Value, _old: &Value) -> Result<(), ApiError> {
        Ok(())
    }

    /// Frees what `allocate` claimed.
    fn release(&self, _registry: &Registry, _obj: &Value) {}

    /// The grace period a delete of `obj` should wait for, if this kind deletes gracefully.
    fn grace_period(&self, _obj: &Value, _requested: Option<i64>) -> Option<i64> {
        None
    }

    /// Marks an object whose deletion has started (e.g. namespace phase `Terminating`).
    fn prepare_delete(&self, _obj: &mut Value) {}

    /// Whether something other than `metadata.finalizers` still holds a deleting object.
    fn holds_deletion(&self, _obj: &Value) -> bool {
        false
    }
}

/// The generic strategy.
struct Generic;
impl Strategy for Generic {}

/// RBAC objects allow names like `system:controller:x`.
struct PathSegmentNamed;
impl Strategy for PathSegmentNamed {
    fn validate_name(&self, name: &str) -> Result<(), String> {
        validation::path_segment_name(name)
    }
}

pub fn strategy(rt: &ResourceType) -> &'static dyn Strategy {
    match (rt.group, rt.kind) {
        ("", "Pod") => &pod::PodStrategy,
        ("", "Service") => &service::ServiceStrategy,
        ("", "Namespace") => &namespace::NamespaceStrategy,
        ("", "Node") => &node::NodeStrategy,
        ("", "Secret") => &config::SecretStrategy,
        ("", "ConfigMap") => &config::ConfigMapStrategy,
        ("", "ReplicationController") => &workloads::ReplicationControllerStrategy,
        ("apps", "Deployment") => &workloads::DeploymentStrategy,
        ("apps", "ReplicaSet") => &workloads::ReplicaSetStrategy,
        ("apps", "DaemonSet") => &workloads::DaemonSetStrategy,
        ("apps", "StatefulSet") => &workloads::StatefulSetStrategy,
        ("batch", "Job") => &batch::JobStrategy,
        ("batch", "CronJob") => &batch::CronJobStrategy,
        ("rbac.authorization.k8s.io", _) => &PathSegmentNamed,
        _ => &Generic,
    }
}
