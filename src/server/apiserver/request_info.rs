//! What a request is about, from its method and path: the Kubernetes verb, group, version,
//! namespace, resource, name and subresource (or a non-resource path like `/version`).

use hyper::Method;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfo {
    /// `false` for non-resource paths (discovery, health, OpenAPI).
    pub is_resource: bool,
    pub path: String,
    /// get, list, watch, create, update, patch, delete, deletecollection — or the lowercase
    /// HTTP method for non-resource requests.
    pub verb: String,
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// Path segments after the subresource (e.g. for `proxy`).
    pub rest: Vec<String>,
}

/// Subresources of a namespace (as opposed to a resource inside one).
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

impl RequestInfo {
    /// Parses `path` (already percent-decoded segments are split on '/'); `watch` tells
    /// whether the query asks for a watch.
    pub fn parse(method: &Method, path: &str, watch_param: bool) -> Self {
        let non_resource =
            || Self { path: path.to_string(), verb: method.as_str().to_lowercase(), ..Default::default() };
        let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        let mut info = Self { is_resource: true, path: path.to_string(), ..Default::default() };
        let mut rest: &[&str] = match segments.first() {
            Some(&"api") if segments.len() >= 3 => {
                info.version = segments[1].to_string();
                &segments[2..]
            }
            Some(&"apis") if segments.len() >= 4 => {
                info.group = segments[1].to_string();
                info.version = segments[2].to_string();
                &segments[3..]
            }
            _ => return non_resource(),
        };
        let mut legacy_watch = false;
        if rest.first() == Some(&"watch") {
            legacy_watch = true;
            rest = &rest[1..];
        }
        if rest.first() == Some(&"namespaces") && rest.len() > 1 {
            info.namespace = Some(rest[1].to_string());
            if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
                rest = &rest[2..];
            } else {
                // `/namespaces/{name}[/status|finalize]`: the namespace object itself.
                info.namespace = None;
                info.resource = "namespaces".into();
                info.name = Some(rest[1].to_string());
                info.subresource = rest.get(2).map(|s| s.to_string());
                info.verb = verb(method, true, watch_param || legacy_watch);
                return info;
            }
        }
        let Some(resource) = rest.first() else { return non_resource() };
        info.resource = resource.to_string();
        info.name = rest.get(1).map(|s| s.to_string());
        info.subresource = rest.get(2).map(|s| s.to_string());
        info.rest = rest.iter().skip(3).map(|s| s.to_string()).collect();
        info.verb = verb(method, info.name.is_some(), watch_param || legacy_watch);
        info
    }
}

fn verb(method: &Method, named: bool, watch: bool) -> String {
    match *method {
        Method::GET | Method::HEAD if watch => "watch",
        Method::GET | Method::HEAD if named => "get",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths() {
        let info = RequestInfo::parse(&Method::GET, "/api/v1/namespaces/default/pods/web/log", false);
        assert_eq!(
            (info.namespace.as_deref(), info.resource.as_str(), info.name.as_deref(), info.subresource.as_deref()),
            (Some("default"), "pods", Some("web"), Some("log"))
        );
        assert_eq!(info.verb, "get");
        let list = RequestInfo::parse(&Method::GET, "/apis/apps/v1/deployments", false);
        assert_eq!(
            (list.group.as_str(), list.version.as_str(), list.verb.as_str(), list.namespace),
            ("apps", "v1", "list", None)
        );
        let watch = RequestInfo::parse(&Method::GET, "/api/v1/watch/namespaces/ns/pods", false);
        assert_eq!((watch.verb.as_str(), watch.resource.as_str()), ("watch", "pods"));
        let delete_all = RequestInfo::parse(&Method::DELETE, "/api/v1/namespaces/ns/pods", false);
        assert_eq!(delete_all.verb, "deletecollection");
    }

    #[test]
    fn namespace_objects_and_their_subresources() {
        let ns = RequestInfo::parse(&Method::GET, "/api/v1/namespaces/kube-system", false);
        assert_eq!((ns.resource.as_str(), ns.name.as_deref(), ns.namespace), ("namespaces", Some("kube-system"), None));
        let fin = RequestInfo::parse(&Method::PUT, "/api/v1/namespaces/x/finalize", false);
        assert_eq!(
            (fin.resource.as_str(), fin.subresource.as_deref(), fin.verb.as_str()),
            ("namespaces", Some("finalize"), "update")
        );
        let all = RequestInfo::parse(&Method::GET, "/api/v1/namespaces", false);
        assert_eq!((all.resource.as_str(), all.verb.as_str()), ("namespaces", "list"));
    }

    #[test]
    fn non_resource_paths() {
        for path in ["/version", "/api", "/apis", "/apis/apps", "/openapi/v2", "/healthz"] {
            assert!(!RequestInfo::parse(&Method::GET, path, false).is_resource, "{path}");
        }
        assert!(!RequestInfo::parse(&Method::GET, "/api/v1", false).is_resource);
    }
}
