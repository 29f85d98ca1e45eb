//! What a node's agent (user `system:node:<name>`, group `system:nodes`) may do, in the
//! spirit of Kubernetes' node authorizer: write its own Node and Lease, the status of the
//! pods bound to it, events; read the secrets, config maps and volume claims those pods use
//! and request tokens for their service accounts; read what every node needs (nodes,
//! services, endpoints). The pod relationships come from the shared pod cache.

use std::sync::Arc;

use serde_json::Value;

use super::authz::{Attributes, Authorizer, Decision};
use crate::server::controllers::informer::Informer;

pub const NODES_GROUP: &str = "system:nodes";
pub const NODE_USER_PREFIX: &str = "system:node:";

pub struct NodeAuthorizer {
    pub pods: Arc<Informer>,
}

const READ: &[&str] = &["get", "list", "watch"];

/// The node a user is the agent of, if it is one.
pub fn node_of(user: &super::authn::UserInfo) -> Option<&str> {
    user.name.strip_prefix(NODE_USER_PREFIX).filter(|_| user.in_group(NODES_GROUP))
}

impl Authorizer for NodeAuthorizer {
    fn authorize(&self, attrs: &Attributes<'_>) -> Decision {
        let Some(node) = node_of(attrs.user) else {
            return Decision::Deny("not a node".into());
        };
        let read = READ.contains(&attrs.verb);
        let own = attrs.name == node;
        let allowed = match (attrs.api_group, attrs.resource, attrs.subresource) {
            ("", "nodes", "") => read || attrs.verb == "create" || (own && matches!(attrs.verb, "update" | "patch")),
            ("", "nodes", "status") => own && matches!(attrs.verb, "get" | "update" | "patch"),
            ("coordination.k8s.io", "leases", "") => {
                attrs.namespace == "kube-node-lease"
                    && (read || attrs.verb == "create" || (own && matches!(attrs.verb, "update" | "patch" | "delete")))
            }
            ("", "pods", "") => read || (attrs.verb == "delete" && self.bound_here(attrs, node)),
            ("", "pods", "status") => matches!(attrs.verb, "get" | "update" | "patch") && self.bound_here(attrs, node),
            ("", "serviceaccounts", "token") => {
                attrs.verb == "create" && self.used_here(attrs, node, service_account_of)
            }
            ("", "secrets", "") => attrs.verb == "get" && self.used_here(attrs, node, secrets_of),
            ("", "configmaps", "") => attrs.verb == "get" && self.used_here(attrs, node, config_maps_of),
            ("", "persistentvolumeclaims", "") => attrs.verb == "get" && self.used_here(attrs, node, claims_of),
            ("", "events", "") | ("events.k8s.io", "events", "") => {
                matches!(attrs.verb, "create" | "update" | "patch" | "get" | "list")
            }
            ("", "services" | "endpoints" | "namespaces" | "serviceaccounts" | "persistentvolumes", "") => read,
            ("discovery.k8s.io", "endpointslices", "") => read,
            _ => attrs.path.is_some() && attrs.verb == "get",
        };
        if allowed {
            Decision::Allow
        } else {
            Decision::Deny(format!("no relationship found between node '{node}' and this object"))
        }
    }
}

impl NodeAuthorizer {
    /// The named pod is bound to `node`.
    fn bound_here(&self, attrs: &Attributes<'_>, node: &str) -> bool {
        self.pods.get(Some(attrs.namespace), attrs.name).is_some_and(|p| node_name(&p) == node)
    }

    /// Some pod bound to `node` in the object's namespace names the object through `names`.
    fn used_here(&self, attrs: &Attributes<'_>, node: &str, names: fn(&Value) -> Vec<String>) -> bool {
        self.pods
            .list(Some(attrs.namespace))
            .iter()
            .filter(|p| node_name(p) == node)
            .any(|p| names(p).iter().any(|n| n == attrs.name))
    }
}

/// Admission for nodes (Kubernetes' NodeRestriction): a node creates only its own Node
/// and its own Lease.
pub fn restrict_creates(
    user: &super::authn::UserInfo,
    rt: &crate::server::registry::catalog::ResourceType,
    body: &Value,
) -> Result<(), crate::server::api_error::ApiError> {
    let Some(node) = node_of(user) else { return Ok(()) };
    let name = body.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    match (rt.group, rt.plural) {
        ("", "nodes") | ("coordination.k8s.io", "leases") if name != node => {
            Err(crate::server::api_error::ApiError::forbidden(format!(
                "{} \"{name}\" is forbidden: node \"{node}\" is not allowed to create {} for another node",
                rt.plural, rt.plural
            )))
        }
        _ => Ok(()),
    }
}

fn node_name(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or_default()
}

fn strings<'a>(values: impl Iterator<Item = &'a Value>) -> Vec<String> {
    values.filter_map(Value::as_str).map(str::to_string).collect()
}

fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |l| pod.pointer(&format!("/spec/{l}")).and_then(Value::as_array).into_iter().flatten())
}

fn volumes(pod: &Value) -> impl Iterator<Item = &Value> {
    pod.pointer("/spec/volumes").and_then(Value::as_array).into_iter().flatten()
}

/// Sources of projected volumes.
fn projections(pod: &Value) -> impl Iterator<Item = &Value> {
    volumes(pod).flat_map(|v| v.pointer("/projected/sources").and_then(Value::as_array).into_iter().flatten())
}

/// Where a pod names objects of one kind: in volumes, projected volume sources, `envFrom`
/// and `env[].valueFrom` (JSON pointers within each).
struct References {
    volume: &'static str,
    projection: &'static str,
    env_from: &'static str,
    env: &'static str,
}

const SECRET_REFERENCES: References = References {
    volume: "/secret/secretName",
    projection: "/secret/name",
    env_from: "/secretRef/name",
    env: "/valueFrom/secretKeyRef/name",
};

const CONFIG_MAP_REFERENCES: References = References {
    volume: "/configMap/name",
    projection: "/configMap/name",
    env_from: "/configMapRef/name",
    env: "/valueFrom/configMapKeyRef/name",
};

fn referenced(pod: &Value, refs: &References) -> Vec<String> {
    let mut names = strings(volumes(pod).filter_map(|v| v.pointer(refs.volume)));
    names.extend(strings(projections(pod).filter_map(|s| s.pointer(refs.projection))));
    for c in containers(pod) {
        names.extend(strings(
            c.get("envFrom").and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.pointer(refs.env_from)),
        ));
        names.extend(strings(
            c.get("env").and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.pointer(refs.env)),
        ));
    }
    names
}

fn secrets_of(pod: &Value) -> Vec<String> {
    let mut names = referenced(pod, &SECRET_REFERENCES);
    let pull = pod.pointer("/spec/imagePullSecrets").and_then(Value::as_array).into_iter().flatten();
    names.extend(strings(pull.filter_map(|s| s.get("name"))));
    names
}

fn config_maps_of(pod: &Value) -> Vec<String> {
    referenced(pod, &CONFIG_MAP_REFERENCES)
}

fn claims_of(pod: &Value) -> Vec<String> {
    strings(volumes(pod).filter_map(|v| v.pointer("/persistentVolumeClaim/claimName")))
}

fn service_account_of(pod: &Value) -> Vec<String> {
    vec![pod.pointer("/spec/serviceAccountName").and_then(Value::as_str).unwrap_or("default").to_string()]
}

/// Allows what any of its authorizers allows.
pub struct AnyOf(pub Vec<Box<dyn Authorizer>>);

impl Authorizer for AnyOf {
    fn authorize(&self, attrs: &Attributes<'_>) -> Decision {
        let mut last = Decision::Deny("no authorizer allowed the request".into());
        for authorizer in &self.0 {
            match authorizer.authorize(attrs) {
                Decision::Allow => return Decision::Allow,
                deny => last = deny,
            }
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_of_a_pod() {
        let pod = json!({"spec": {"nodeName": "n1", "serviceAccountName": "sa",
            "volumes": [{"name": "a", "secret": {"secretName": "s1"}}, {"name": "b", "configMap": {"name": "c1"}},
                        {"name": "p", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}, {"secret": {"name": "s2"}}]}},
                        {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
            "containers": [{"envFrom": [{"secretRef": {"name": "s3"}}], "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c2", "key": "k"}}}]}]}});
        assert_eq!(secrets_of(&pod), ["s1", "s2", "s3"]);
        assert_eq!(config_maps_of(&pod), ["c1", "kube-root-ca.crt", "c2"]);
        assert_eq!(claims_of(&pod), ["data"]);
        assert_eq!(service_account_of(&pod), ["sa"]);
    }
}
