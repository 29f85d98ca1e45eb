use serde_json::{json, Value};

use super::*;

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("documents are JSON")
}

fn has_gvk(schema: &Value, group: &str, version: &str, kind: &str) -> bool {
    schema[GVK].as_array().is_some_and(|kinds| kinds.contains(&gvk(group, version, kind)))
}

fn refs_of(value: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    definitions::collect_refs(value, &mut refs);
    refs
}

#[test]
fn v2_defines_every_kind_and_list_kind_with_its_group_version_kind() {
    let doc = parse(v2());
    assert_eq!(doc["swagger"], "2.0");
    let definitions = &doc["definitions"];
    for r in catalog::all() {
        let object = &definitions[&r.definition];
        assert!(has_gvk(object, r.group, r.version, r.kind), "{}", r.definition);
        let list = &definitions[list_definition(r)];
        assert!(has_gvk(list, r.group, r.version, r.list_kind), "{}", r.list_kind);
        assert_eq!(list["properties"]["items"]["items"], reference(&r.definition));
    }
    assert!(has_gvk(&definitions[STATUS], "", "v1", "Status"));
    assert!(has_gvk(&definitions[DELETE_OPTIONS], "apps", "v1", "DeleteOptions"));
    assert!(has_gvk(&definitions["io.k8s.api.autoscaling.v1.Scale"], "autoscaling", "v1", "Scale"));
}

#[test]
fn v2_references_all_resolve() {
    let doc = parse(v2());
    let refs = refs_of(&doc);
    assert!(refs.len() > 500);
    for r in refs {
        let name = r.strip_prefix("#/definitions/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["definitions"].get(name).is_some(), "{r} dangles");
    }
}

#[test]
fn patch_extensions_are_on_the_fields_kubectl_merges() {
    let doc = parse(v2());
    let containers = &doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    let volumes = &doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"];
    assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
    let strategy = &doc["definitions"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert!(strategy.get("x-kubernetes-patch-merge-key").is_none());

    let core = parse(v3_group_version("api/v1").unwrap());
    let schemas = &core["components"]["schemas"];
    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["items"]["$ref"], "#/components/schemas/io.k8s.api.core.v1.Container");
    let apps = parse(v3_group_version("apis/apps/v1").unwrap());
    let strategy = &apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert_eq!(strategy["allOf"], json!([{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"}]));
}

#[test]
fn v3_index_lists_every_group_version_with_its_hash() {
    let index = parse(v3_index());
    let paths = index["paths"].as_object().unwrap();
    for (group, versions) in catalog::groups() {
        for version in versions {
            let path = group_version_path(group, version);
            let hash = v3_hash(&path).unwrap();
            assert_eq!(paths[&path]["serverRelativeURL"], format!("/openapi/v3/{path}?hash={hash}"));
            let body = v3_group_version(&path).unwrap();
            assert_eq!(hex::encode_upper(Sha256::digest(body)), hash);
        }
    }
    assert_eq!(paths.len(), catalog::groups().iter().map(|(_, v)| v.len()).sum::<usize>());
    assert!(v3_group_version("apis/nothing/v1").is_none());
    assert!(v3_hash("apis/nothing/v1").is_none());
}

#[test]
fn v3_documents_are_self_contained() {
    for (group, versions) in catalog::groups() {
        for version in versions {
            let doc = parse(v3_group_version(&group_version_path(group, version)).unwrap());
            assert_eq!(doc["openapi"], "3.0.0");
            let schemas = doc["components"]["schemas"].as_object().unwrap();
            for r in refs_of(&doc) {
                let name = r.strip_prefix(V3_REF_PREFIX).unwrap_or_else(|| panic!("{r}"));
                assert!(schemas.contains_key(name), "{r} dangles in {group}/{version}");
            }
        }
    }
}

/// What kubectl's `QueryParamVerifierV3` and `apply` look for: the first PATCH operation of
/// the kind must take `fieldValidation` and accept strategic merge patches.
#[test]
fn every_patch_operation_supports_field_validation_and_strategic_merge() {
    for r in catalog::all() {
        let doc = parse(v3_group_version(&group_version_path(r.group, r.version)).unwrap());
        let mut patches = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(patch) = item.get("patch") else {
                continue;
            };
            if patch[GVK] != gvk(r.group, r.version, r.kind) {
                continue;
            }
            patches += 1;
            let params = patch["parameters"].as_array().unwrap();
            assert!(params.iter().any(|p| p["name"] == "fieldValidation" && p["in"] == "query"), "{path}");
            let content = &patch["requestBody"]["content"];
            assert!(content.get("application/strategic-merge-patch+json").is_some(), "{path}");
        }
        assert!(patches > 0, "no PATCH operation for {}", r.kind);
    }
}

/// `kubectl explain` takes the kind from the GET operation of the resource's collection path,
/// then the schema whose kinds contain it.
#[test]
fn explain_finds_each_kind_from_its_collection_path() {
    for r in catalog::all() {
        let doc = parse(v3_group_version(&group_version_path(r.group, r.version)).unwrap());
        let prefix = if r.group.is_empty() { "/api".to_string() } else { format!("/apis/{}", r.group) };
        let path = if r.namespaced {
            format!("{prefix}/{}/namespaces/{{namespace}}/{}", r.version, r.plural)
        } else {
            format!("{prefix}/{}/{}", r.version, r.plural)
        };
        let found = &doc["paths"][&path]["get"][GVK];
        assert_eq!(found, &gvk(r.group, r.version, r.kind), "{path}");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let matching: Vec<&String> = schemas
            .iter()
            .filter(|(_, s)| s[GVK].as_array().is_some_and(|k| k.contains(found)))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(matching, [&r.definition], "{path}");
    }
}

#[test]
fn scalars_are_described_as_kubernetes_describes_them() {
    let doc = parse(v2());
    let int_or_string = &doc["definitions"][INT_OR_STRING];
    assert_eq!((&int_or_string["type"], &int_or_string["format"]), (&json!("string"), &json!("int-or-string")));
    assert_eq!(doc["definitions"][QUANTITY]["type"], "string");
}
