//! The OpenAPI documents clients read: `/openapi/v2` (Swagger 2.0, every definition) and
//! `/openapi/v3` (an index, then one OpenAPI 3.0 document per group-version with its paths).
//!
//! kubectl finds a kind's schema by `x-kubernetes-group-version-kind`, computes `apply`
//! patches from `x-kubernetes-patch-strategy`/`-merge-key`, decides that the server validates
//! fields itself when the kind's PATCH operation takes a `fieldValidation` query parameter, and
//! sends strategic merge patches only to PATCH operations that accept
//! `application/strategic-merge-patch+json`. `kubectl explain` finds the kind from the GET
//! operation of the resource's path. The documents are built on first request and kept, as
//! serialized JSON.

use std::collections::{BTreeSet, VecDeque};
use std::sync::LazyLock;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::definitions::{self, REF_PREFIX};
use crate::server::registry::patch_meta::patch_meta_for;
use crate::version::GIT_VERSION;

const GVK: &str = "x-kubernetes-group-version-kind";
const V3_REF_PREFIX: &str = "#/components/schemas/";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const PATCH_TYPES: [&str; 4] = [
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

static V2: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let document = json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": {},
        "definitions": annotated_definitions(),
    });
    serde_json::to_vec(&document).expect("JSON values serialize")
});

struct GroupVersionDocument {
    /// `api/v1`, `apis/apps/v1`.
    path: String,
    hash: String,
    body: Vec<u8>,
}

struct V3Documents {
    index: Vec<u8>,
    group_versions: Vec<GroupVersionDocument>,
}

static V3: LazyLock<V3Documents> = LazyLock::new(|| {
    let definitions = annotated_definitions();
    let group_versions: Vec<GroupVersionDocument> = catalog::groups()
        .into_iter()
        .flat_map(|(group, versions)| versions.into_iter().map(move |v| (group, v)))
        .map(|(group, version)| {
            let document = group_version_document(group, version, &definitions);
            let body = serde_json::to_vec(&document).expect("JSON values serialize");
            GroupVersionDocument {
                path: group_version_path(group, version),
                hash: hex::encode_upper(Sha256::digest(&body)),
                body,
            }
        })
        .collect();
    let paths: Map<String, Value> = group_versions
        .iter()
        .map(|gv| {
            let url = format!("/openapi/v3/{}?hash={}", gv.path, gv.hash);
            (gv.path.clone(), json!({"serverRelativeURL": url}))
        })
        .collect();
    let index = serde_json::to_vec(&json!({"paths": paths})).expect("JSON values serialize");
    V3Documents { index, group_versions }
});

/// The Swagger 2.0 document served at `/openapi/v2`.
pub fn v2() -> &'static [u8] {
    &V2
}

/// The index served at `/openapi/v3`: each group-version's document URL, with its hash.
pub fn v3_index() -> &'static [u8] {
    &V3.index
}

/// The OpenAPI 3.0 document of one group-version, `path` being `api/v1` or `apis/apps/v1`.
pub fn v3_group_version(path: &str) -> Option<&'static [u8]> {
    V3.group_versions.iter().find(|gv| gv.path == path).map(|gv| gv.body.as_slice())
}

/// The hash that names the current content of a group-version's document (for ETags and the
/// `hash` query parameter clients cache by).
pub fn v3_hash(path: &str) -> Option<&'static str> {
    V3.group_versions.iter().find(|gv| gv.path == path).map(|gv| gv.hash.as_str())
}

fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

fn reference(definition: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{definition}") })
}

/// `io.k8s.api.core.v1.Pod` → `io.k8s.api.core.v1.PodList`.
fn list_definition(resource: &ResourceType) -> String {
    let package = resource.definition.rsplit_once('.').map_or("", |(package, _)| package);
    format!("{package}.{}", resource.list_kind)
}

/// Every definition, with the facts Kubernetes adds to its OpenAPI documents.
fn annotated_definitions() -> Map<String, Value> {
    let mut definitions = definitions::generate();
    describe_scalars_as_kubernetes_does(&mut definitions);
    add_patch_extensions(&mut definitions);
    add_list_kinds(&mut definitions);
    add_group_version_kinds(&mut definitions);
    definitions.insert(
        PATCH.into(),
        json!({"description": "The body of a PATCH request, in the format its content type names.", "type": "object"}),
    );
    definitions
}

/// Quantities and int-or-strings are strings in Kubernetes' documents (with format
/// `int-or-string` for the latter), which kubectl's validation and explain understand.
fn describe_scalars_as_kubernetes_does(definitions: &mut Map<String, Value>) {
    for (name, format) in [(QUANTITY, None), (INT_OR_STRING, Some("int-or-string"))] {
        if let Some(Value::Object(schema)) = definitions.get_mut(name) {
            schema.remove("x-kubernetes-int-or-string");
            schema.insert("type".into(), "string".into());
            if let Some(format) = format {
                schema.insert("format".into(), format.into());
            }
        }
    }
}

fn add_patch_extensions(definitions: &mut Map<String, Value>) {
    for (name, schema) in definitions.iter_mut() {
        let Some(Value::Object(properties)) = schema.get_mut("properties") else {
            continue;
        };
        for (field, property) in properties.iter_mut() {
            let (Some(meta), Value::Object(property)) = (patch_meta_for(name, field), property) else {
                continue;
            };
            property.insert("x-kubernetes-patch-strategy".into(), meta.strategy_extension().into());
            if let Some(key) = meta.merge_key {
                property.insert("x-kubernetes-patch-merge-key".into(), key.into());
            }
        }
    }
}

/// `PodList` and the like, which k8s-openapi models as a generic type without a schema.
fn add_list_kinds(definitions: &mut Map<String, Value>) {
    for resource in catalog::all() {
        let item = definitions.get(&resource.definition);
        let property = |field: &str| {
            item.and_then(|schema| schema.pointer(&format!("/properties/{field}")))
                .cloned()
                .unwrap_or_else(|| json!({"type": "string"}))
        };
        let mut metadata = reference(definitions::LIST_META);
        metadata["description"] = "Standard list metadata.".into();
        let list = json!({
            "description": format!("{} is a list of {} objects.", resource.list_kind, resource.kind),
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": property("apiVersion"),
                "items": {
                    "description": format!("The {} in the list.", resource.plural),
                    "type": "array",
                    "items": reference(&resource.definition),
                },
                "kind": property("kind"),
                "metadata": metadata,
            },
        });
        definitions.insert(list_definition(resource), list);
    }
}

fn add_group_version_kinds(definitions: &mut Map<String, Value>) {
    let mut tag = |definition: &str, kind: Value| {
        if let Some(Value::Object(schema)) = definitions.get_mut(definition) {
            let kinds = schema.entry(GVK).or_insert_with(|| json!([]));
            if let Value::Array(kinds) = kinds {
                kinds.push(kind);
            }
        }
    };
    for resource in catalog::all() {
        tag(&resource.definition, gvk(resource.group, resource.version, resource.kind));
        tag(&list_definition(resource), gvk(resource.group, resource.version, resource.list_kind));
    }
    for other in definitions::other_kinds() {
        tag(&other.definition, gvk(other.group, other.version, other.kind));
    }
    for (group, versions) in catalog::groups() {
        for version in versions {
            for (kind, definition) in definitions::kinds_in_every_group_version() {
                tag(&definition, gvk(group, version, kind));
            }
        }
    }
}

/// The OpenAPI 3.0 document of one group-version: its resources' paths and every schema they
/// reach.
fn group_version_document(group: &str, version: &str, definitions: &Map<String, Value>) -> Value {
    let resources: Vec<&ResourceType> =
        catalog::all().iter().filter(|r| r.group == group && r.version == version).collect();
    let mut paths = Map::new();
    for resource in &resources {
        resource_paths(resource, &mut paths);
    }
    let mut roots: Vec<String> = vec![PATCH.into(), STATUS.into()];
    roots.extend(definitions::kinds_in_every_group_version().into_iter().map(|(_, d)| d));
    roots.extend(referenced_definitions(&Value::Object(paths.clone())));
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": to_v3(Value::Object(paths)),
        "components": {"schemas": reachable_schemas(roots, definitions)},
    })
}

/// The definitions `roots` name and every one they reference, in OpenAPI 3 form.
fn reachable_schemas(roots: Vec<String>, definitions: &Map<String, Value>) -> Map<String, Value> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = roots.into();
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = definitions.get(&name) {
            queue.extend(referenced_definitions(schema));
        }
    }
    seen.into_iter()
        .filter_map(|name| {
            let schema = definitions.get(&name)?.clone();
            Some((name, to_v3(schema)))
        })
        .collect()
}

/// The definitions `value` references.
fn referenced_definitions(value: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    definitions::collect_refs(value, &mut refs);
    refs.iter().filter_map(|r| definitions::ref_target(r)).map(str::to_string).collect()
}

/// Points references at `#/components/schemas/`, and wraps a reference that has siblings
/// (description, patch extensions) in `allOf`, since OpenAPI 3.0 ignores a `$ref`'s siblings.
fn to_v3(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut map: Map<String, Value> = map.into_iter().map(|(k, v)| (k, to_v3(v))).collect();
            if let Some(Value::String(target)) = map.get("$ref") {
                let target = target.replacen(REF_PREFIX, V3_REF_PREFIX, 1);
                if map.len() == 1 {
                    map.insert("$ref".into(), target.into());
                } else {
                    map.shift_remove("$ref");
                    map.insert("allOf".into(), json!([{ "$ref": target }]));
                }
            }
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(to_v3).collect()),
        other => other,
    }
}

/// `apps` → `Apps`, `rbac.authorization.k8s.io` → `RbacAuthorization`, `` → `Core`, as
/// Kubernetes spells groups in operation IDs.
fn group_ident(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    group.trim_end_matches(".k8s.io").split('.').map(upper_first).collect()
}

fn upper_first(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// How an operation reads and writes bodies.
struct Operation<'a> {
    method: &'static str,
    /// `get`, `list`, `post`, `put`, `patch`, `delete`, `deletecollection`.
    action: &'static str,
    /// Verb of the operation ID (`read`, `list`, `create`, `replace`, `patch`, `delete`).
    verb: &'static str,
    /// Kind of the request and response bodies, named by definition.
    body: Option<&'a str>,
    response: &'a str,
    /// `(group, version, kind)` the operation acts on.
    kind: (&'a str, &'a str, &'a str),
}

fn resource_paths(resource: &ResourceType, paths: &mut Map<String, Value>) {
    let base = format!("/{}", group_version_path(resource.group, resource.version));
    let collection = if resource.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", resource.plural)
    } else {
        format!("{base}/{}", resource.plural)
    };
    let item = format!("{collection}/{{name}}");
    let list = list_definition(resource);
    let own = (resource.group, resource.version, resource.kind);
    let object = resource.definition.as_str();
    let scope = if resource.namespaced { "Namespaced" } else { "" };
    let ident = |verb: &str, suffix: &str| {
        format!(
            "{verb}{}{}{scope}{}{suffix}",
            group_ident(resource.group),
            upper_first(resource.version),
            resource.kind
        )
    };
    let op = |method, action, verb, body, response| Operation { method, action, verb, body, response, kind: own };

    let collection_ops = [
        op("get", "list", "list", None, list.as_str()),
        op("post", "post", "create", Some(object), object),
        op("delete", "deletecollection", "deletecollection", None, STATUS),
    ];
    paths.insert(collection.clone(), path_item(&collection, &collection_ops, &|verb| ident(verb, "")));
    if resource.namespaced {
        let everywhere = format!("{base}/{}", resource.plural);
        let ops = [op("get", "list", "list", None, list.as_str())];
        paths.insert(
            everywhere.clone(),
            path_item(&everywhere, &ops, &|verb| {
                format!(
                    "{verb}{}{}{}ForAllNamespaces",
                    group_ident(resource.group),
                    upper_first(resource.version),
                    resource.kind
                )
            }),
        );
    }
    let item_ops = [
        op("get", "get", "read", None, object),
        op("put", "put", "replace", Some(object), object),
        op("patch", "patch", "patch", None, object),
        op("delete", "delete", "delete", None, object),
    ];
    paths.insert(item.clone(), path_item(&item, &item_ops, &|verb| ident(verb, "")));

    let others = definitions::other_kinds();
    for sub in resource.subresources {
        let path = format!("{item}/{sub}");
        let ops: Vec<Operation> = match *sub {
            "status" | "ephemeralcontainers" => vec![
                op("get", "get", "read", None, object),
                op("put", "put", "replace", Some(object), object),
                op("patch", "patch", "patch", None, object),
            ],
            "finalize" => vec![op("put", "put", "replace", Some(object), object)],
            _ => {
                // Subresources with a body kind of their own; streaming and proxy ones carry
                // no schema kubectl reads.
                let Some(other) = subresource_kind(sub).and_then(|kind| others.iter().find(|other| other.kind == kind))
                else {
                    continue;
                };
                let definition = other.definition.as_str();
                let with = |method, action, verb, body| Operation {
                    method,
                    action,
                    verb,
                    body,
                    response: definition,
                    kind: (other.group, other.version, other.kind),
                };
                if *sub == "scale" {
                    vec![
                        with("get", "get", "read", None),
                        with("put", "put", "replace", Some(definition)),
                        with("patch", "patch", "patch", None),
                    ]
                } else {
                    vec![with("post", "post", "create", Some(definition))]
                }
            }
        };
        let suffix = upper_first(sub);
        paths.insert(path.clone(), path_item(&path, &ops, &|verb| ident(verb, &suffix)));
    }
}

/// The kind a subresource reads and writes, when it is not the resource's own.
fn subresource_kind(subresource: &str) -> Option<&'static str> {
    match subresource {
        "scale" => Some("Scale"),
        "binding" => Some("Binding"),
        "eviction" => Some("Eviction"),
        "token" => Some("TokenRequest"),
        _ => None,
    }
}

fn path_item(path: &str, operations: &[Operation], operation_id: &dyn Fn(&str) -> String) -> Value {
    let mut item = Map::new();
    let mut parameters = Vec::new();
    if path.contains("{name}") {
        parameters.push(path_parameter("name", "name of the object"));
    }
    if path.contains("{namespace}") {
        parameters.push(path_parameter("namespace", "object name and auth scope, such as for teams and projects"));
    }
    parameters.push(query("pretty", "string", "If 'true', then the output is pretty printed."));
    item.insert("parameters".into(), parameters.into());
    for operation in operations {
        item.insert(operation.method.into(), operation_object(operation, operation_id(operation.verb)));
    }
    Value::Object(item)
}

fn operation_object(operation: &Operation, operation_id: String) -> Value {
    let (group, version, kind) = operation.kind;
    let mut parameters = Vec::new();
    match operation.action {
        "list" | "deletecollection" => parameters.extend(list_parameters()),
        "post" | "put" | "patch" => parameters.extend(write_parameters()),
        "delete" => parameters.extend(delete_parameters()),
        _ => {}
    }
    if operation.action == "patch" {
        parameters.push(query(
            "force",
            "boolean",
            "Force is going to \"force\" Apply requests: re-acquire conflicting fields owned by other people. Only allowed for apply patches.",
        ));
    }
    let body = match operation.action {
        "patch" => Some(content(&PATCH_TYPES, PATCH)),
        "delete" | "deletecollection" => Some(content(&["*/*"], DELETE_OPTIONS)),
        _ => operation.body.map(|definition| content(&["*/*"], definition)),
    };
    let response = content(&["application/json", "application/yaml"], operation.response);
    let mut responses = Map::new();
    responses.insert("200".into(), json!({"description": "OK", "content": response}));
    if matches!(operation.action, "post" | "put" | "patch") {
        responses.insert("201".into(), json!({"description": "Created", "content": response}));
    }
    if matches!(operation.action, "post" | "delete") {
        responses.insert("202".into(), json!({"description": "Accepted", "content": response}));
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    let mut op = json!({
        "operationId": operation_id,
        "tags": [tag(group, version)],
        "description": format!("{} {kind}", operation.verb),
        "parameters": parameters,
        "responses": responses,
        "x-kubernetes-action": operation.action,
        GVK: gvk(group, version, kind),
    });
    if let Some(body) = body {
        op["requestBody"] = json!({"content": body, "required": operation.action != "delete" && operation.action != "deletecollection"});
    }
    op
}

/// `core_v1`, `apps_v1`, `rbacAuthorization_v1`.
fn tag(group: &str, version: &str) -> String {
    let ident = group_ident(group);
    let mut chars = ident.chars();
    let first = chars.next().map(|c| c.to_ascii_lowercase().to_string()).unwrap_or_default();
    format!("{first}{}_{version}", chars.as_str())
}

fn content(media_types: &[&str], definition: &str) -> Value {
    media_types
        .iter()
        .map(|media| ((*media).to_string(), json!({"schema": reference(definition)})))
        .collect::<Map<String, Value>>()
        .into()
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
        "schema": {"type": "string", "uniqueItems": true}})
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description,
        "schema": {"type": kind, "uniqueItems": true}})
}

fn write_parameters() -> Vec<Value> {
    vec![
        query("dryRun", "string", "When present, indicates that modifications should not be persisted. Valid values are: All (process every stage of the request without persisting it)."),
        query("fieldManager", "string", "Name of the actor making these changes, recorded in managedFields."),
        query("fieldValidation", "string", "How the server treats fields it does not know or finds duplicated: Ignore drops them, Warn drops them and warns (the default), Strict fails the request."),
    ]
}

fn delete_parameters() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid values are: All.",
        ),
        query("gracePeriodSeconds", "integer", "Seconds the object may take to terminate; zero deletes immediately."),
        query("orphanDependents", "boolean", "Deprecated: use propagationPolicy. Whether dependents are orphaned."),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection deletes dependents: Orphan, Background or Foreground.",
        ),
    ]
}

fn list_parameters() -> Vec<Value> {
    vec![
        query("allowWatchBookmarks", "boolean", "Asks for BOOKMARK watch events."),
        query("continue", "string", "Token from a previous truncated list, to fetch the next chunk."),
        query("fieldSelector", "string", "Restricts the list to objects whose fields match."),
        query("labelSelector", "string", "Restricts the list to objects whose labels match."),
        query("limit", "integer", "Maximum number of objects to return; more are fetched with continue."),
        query("resourceVersion", "string", "Which version of the collection to list or watch from."),
        query("resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
        query(
            "sendInitialEvents",
            "boolean",
            "Whether a watch starts with synthetic ADDED events for the current state.",
        ),
        query("timeoutSeconds", "integer", "Time limit of the list or watch call."),
        query("watch", "boolean", "Watch for changes to the described resources instead of listing them."),
    ]
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
