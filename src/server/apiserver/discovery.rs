//! Discovery documents, built from the catalog: the legacy `/api`, `/apis`, per group and
//! per group-version lists, and the aggregated (apidiscovery.k8s.io/v2) form kubectl prefers.

use serde_json::{json, Value};

use crate::server::registry::catalog::{self, ResourceType};

const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// The kind and verbs a subresource answers with.
fn subresource_info(
    rt: &ResourceType,
    sub: &str,
) -> ((&'static str, &'static str, &'static str), &'static [&'static str]) {
    match sub {
        "status" => ((rt.group, rt.version, rt.kind), &["get", "patch", "update"]),
        "scale" => (("autoscaling", "v1", "Scale"), &["get", "patch", "update"]),
        "binding" => (("", "v1", "Binding"), &["create"]),
        "eviction" => (("policy", "v1", "Eviction"), &["create"]),
        "log" => (("", "v1", "Pod"), &["get"]),
        "exec" => (("", "v1", "PodExecOptions"), &["create", "get"]),
        "attach" => (("", "v1", "PodAttachOptions"), &["create", "get"]),
        "portforward" => (("", "v1", "PodPortForwardOptions"), &["create", "get"]),
        "proxy" if rt.kind == "Node" => {
            (("", "v1", "NodeProxyOptions"), &["create", "delete", "get", "patch", "update"])
        }
        "proxy" => (("", "v1", "ServiceProxyOptions"), &["create", "delete", "get", "patch", "update"]),
        "token" => (("authentication.k8s.io", "v1", "TokenRequest"), &["create"]),
        "finalize" => (("", "v1", "Namespace"), &["update"]),
        "ephemeralcontainers" => (("", "v1", "Pod"), &["get", "patch", "update"]),
        _ => ((rt.group, rt.version, rt.kind), &["get"]),
    }
}

/// `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_entry(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": versions.clone(), "preferredVersion": versions[0]})
}

/// `/apis`.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> =
        catalog::groups().into_iter().filter(|(g, _)| !g.is_empty()).map(|(g, v)| group_entry(g, &v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub fn api_group(group: &str) -> Option<Value> {
    let (name, versions) = catalog::groups().into_iter().find(|(g, _)| *g == group && !g.is_empty())?;
    let mut entry = group_entry(name, &versions);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    Some(entry)
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> =
        catalog::all().iter().filter(|rt| rt.group == group && rt.version == version).collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for rt in types {
        let mut entry = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": VERBS,
        });
        if !rt.short_names.is_empty() {
            entry["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            entry["categories"] = json!(rt.categories);
        }
        resources.push(entry);
        for sub in rt.subresources {
            let ((g, v, kind), verbs) = subresource_info(rt, sub);
            let mut entry = json!({"name": format!("{}/{sub}", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": kind, "verbs": verbs});
            if (g, v) != (rt.group, rt.version) {
                entry["group"] = json!(g);
                entry["version"] = json!(v);
            }
            resources.push(entry);
        }
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

/// The aggregated discovery document: the core group for `/api` (`legacy`), every other
/// group for `/apis`.
pub fn aggregated(legacy: bool, beta: bool) -> Value {
    let items: Vec<Value> = catalog::groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == legacy)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = catalog::all()
                        .iter()
                        .filter(|rt| rt.group == group && rt.version == *version)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    let api_version = if beta { "apidiscovery.k8s.io/v2beta1" } else { "apidiscovery.k8s.io/v2" };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items})
}

fn aggregated_resource(rt: &ResourceType) -> Value {
    let mut entry = json!({
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": rt.singular,
        "verbs": VERBS,
    });
    if !rt.short_names.is_empty() {
        entry["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        entry["categories"] = json!(rt.categories);
    }
    let subresources: Vec<Value> = rt
        .subresources
        .iter()
        .map(|sub| {
            let ((g, v, kind), verbs) = subresource_info(rt, sub);
            json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": kind}, "verbs": verbs})
        })
        .collect();
    if !subresources.is_empty() {
        entry["subresources"] = json!(subresources);
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_list_the_catalog() {
        let core = api_resource_list("", "v1").unwrap();
        let names: Vec<&str> =
            core["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"pods") && names.contains(&"pods/status") && names.contains(&"namespaces/finalize"));
        let apps = api_resource_list("apps", "v1").unwrap();
        let scale = apps["resources"].as_array().unwrap().iter().find(|r| r["name"] == "deployments/scale").unwrap();
        assert_eq!((scale["group"].as_str(), scale["kind"].as_str()), (Some("autoscaling"), Some("Scale")));
        assert!(api_group_list()["groups"].as_array().unwrap().iter().any(|g| g["name"] == "apps"));
        let agg = aggregated(true, false);
        assert_eq!(agg["items"][0]["versions"][0]["version"], "v1");
        assert!(api_resource_list("nope", "v1").is_none());
    }
}
