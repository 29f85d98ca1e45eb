//! Authorization: may this user do this? A separate layer so RBAC and the node authorizer
//! can replace the first policy without touching the API server.

use super::authn::{UserInfo, MASTERS};

/// What a request wants to do, in Kubernetes' terms.
#[derive(Debug)]
pub struct Attributes<'a> {
    pub user: &'a UserInfo,
    /// get, list, watch, create, update, patch, delete, deletecollection, or an HTTP verb
    /// (lowercase) for non-resource paths.
    pub verb: &'a str,
    pub api_group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// Set for non-resource requests (`/api`, `/version`, …).
    pub path: Option<&'a str>,
}

#[derive(Debug, PartialEq)]
pub enum Decision {
    Allow,
    Deny(String),
}

pub trait Authorizer: Send + Sync {
    fn authorize(&self, attrs: &Attributes<'_>) -> Decision;
}

/// The first policy: `system:masters` may do anything; every authenticated user may read
/// discovery, version and OpenAPI (as Kubernetes' `system:discovery` role allows).
pub struct MastersAndDiscovery;

const DISCOVERY_PATHS: &[&str] = &["/api", "/apis", "/version", "/openapi", "/healthz", "/livez", "/readyz"];

impl Authorizer for MastersAndDiscovery {
    fn authorize(&self, attrs: &Attributes<'_>) -> Decision {
        if attrs.user.in_group(MASTERS) {
            return Decision::Allow;
        }
        if let Some(path) = attrs.path {
            if attrs.verb == "get" && DISCOVERY_PATHS.iter().any(|p| path == *p || path.starts_with(&format!("{p}/"))) {
                return Decision::Allow;
            }
        }
        let resource = match attrs.subresource {
            "" => attrs.resource.to_string(),
            sub => format!("{}/{sub}", attrs.resource),
        };
        Decision::Deny(format!(
            "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\"",
            attrs.user.name, attrs.verb, attrs.api_group
        ))
    }
}
