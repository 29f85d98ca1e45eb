//! What a node's agent (user `system:node:<name>`, group `system:nodes`) may do: read what
//! its pods need, write its own Node, Lease and pods' status, post events, request
//! ServiceAccount tokens for its pods.

use super::authz::{Attributes, Authorizer, Decision};

pub const NODES_GROUP: &str = "system:nodes";
pub const NODE_USER_PREFIX: &str = "system:node:";

pub struct NodeAuthorizer;

const READ: &[&str] = &["get", "list", "watch"];

impl Authorizer for NodeAuthorizer {
    fn authorize(&self, attrs: &Attributes<'_>) -> Decision {
        let Some(node) = attrs.user.name.strip_prefix(NODE_USER_PREFIX).filter(|_| attrs.user.in_group(NODES_GROUP))
        else {
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
            ("", "pods", "") => read || attrs.verb == "delete",
            ("", "pods", "status") => matches!(attrs.verb, "get" | "update" | "patch"),
            ("", "pods", "eviction") => attrs.verb == "create",
            ("", "serviceaccounts", "token") => attrs.verb == "create",
            ("", "events", "") | ("events.k8s.io", "events", "") => {
                matches!(attrs.verb, "create" | "update" | "patch" | "get" | "list")
            }
            (
                "",
                "services"
                | "endpoints"
                | "namespaces"
                | "configmaps"
                | "secrets"
                | "serviceaccounts"
                | "persistentvolumeclaims"
                | "persistentvolumes",
                "",
            ) => read,
            ("discovery.k8s.io", "endpointslices", "") => read,
            _ => attrs.path.is_some() && attrs.verb == "get",
        };
        if allowed {
            Decision::Allow
        } else {
            Decision::Deny(format!("node {node:?} may not {} {}", attrs.verb, attrs.resource))
        }
    }
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
    use crate::server::auth::authn::UserInfo;

    fn attrs<'a>(user: &'a UserInfo, verb: &'a str, resource: &'a str, sub: &'a str, name: &'a str) -> Attributes<'a> {
        Attributes { user, verb, api_group: "", resource, subresource: sub, namespace: "default", name, path: None }
    }

    #[test]
    fn nodes_write_only_their_own_objects() {
        let user = UserInfo { name: "system:node:n1".into(), uid: String::new(), groups: vec![NODES_GROUP.into()] };
        assert_eq!(NodeAuthorizer.authorize(&attrs(&user, "patch", "nodes", "status", "n1")), Decision::Allow);
        assert!(matches!(NodeAuthorizer.authorize(&attrs(&user, "patch", "nodes", "status", "n2")), Decision::Deny(_)));
        assert_eq!(NodeAuthorizer.authorize(&attrs(&user, "watch", "pods", "", "")), Decision::Allow);
        assert!(matches!(NodeAuthorizer.authorize(&attrs(&user, "create", "deployments", "", "")), Decision::Deny(_)));
        let impostor = UserInfo { name: "system:node:n1".into(), uid: String::new(), groups: vec![] };
        assert!(matches!(NodeAuthorizer.authorize(&attrs(&impostor, "get", "pods", "", "")), Decision::Deny(_)));
    }
}
