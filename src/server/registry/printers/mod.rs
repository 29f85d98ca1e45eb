//! Server-side tables (`meta.k8s.io/v1` `Table`): what `kubectl get` prints. kubectl asks for
//! `application/json;as=Table;v=v1;g=meta.k8s.io` and shows exactly the columns returned here,
//! so each kind has the columns, cell formats and values of the Kubernetes API server.
//!
//! The server always returns every column, including the `-o wide` ones (priority 1); kubectl
//! hides those unless asked.

mod columns;
mod config;
mod default;
mod events;
mod fields;
mod format;
mod jobs;
mod lease;
mod namespace;
mod networking;
mod node;
mod pod;
mod quota;
mod rbac;
mod scaling;
mod scheduling;
mod services;
mod storage;
mod workloads;

use std::sync::LazyLock;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use self::columns::Column;
use super::catalog::ResourceType;
use crate::server::api_error::ApiError;

/// What each row carries besides its cells (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// Nothing (`object: null`).
    None,
    /// The object's metadata as a `PartialObjectMetadata`; kubectl reads namespace, labels
    /// and resource versions from it (`-A`, `--show-labels`, `-w`).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

/// Parses the `includeObject` query parameter; empty means the default, `Metadata`.
pub fn parse_include_object(value: &str) -> Result<IncludeObject, ApiError> {
    match value {
        "None" => Ok(IncludeObject::None),
        "" | "Metadata" => Ok(IncludeObject::Metadata),
        "Object" => Ok(IncludeObject::Object),
        other => Err(ApiError::bad_request(format!("unrecognized includeObject value: {other:?}"))),
    }
}

/// The Table of `items` (objects of type `rt` in their canonical JSON form), one row each.
/// `list_meta` becomes the table's `metadata` (`resourceVersion`, `continue`,
/// `remainingItemCount`); ages are computed against `now`.
pub fn table(
    rt: &ResourceType,
    items: &[Value],
    include_object: IncludeObject,
    list_meta: Value,
    now: Timestamp,
) -> Value {
    let printer = printer_for(rt);
    let columns: Vec<Value> = printer.columns.iter().map(Column::to_json).collect();
    let rows: Vec<Value> = items.iter().map(|item| row(printer, rt, item, include_object, now)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// How the objects of one kind become rows.
pub(super) struct Printer {
    columns: &'static LazyLock<Vec<Column>>,
    /// One cell per column, in column order.
    cells: fn(&Value, Timestamp) -> Vec<Value>,
    /// Row conditions (`meta.k8s.io/v1` `TableRowCondition`), e.g. `Completed` for pods.
    conditions: fn(&Value) -> Vec<Value>,
}

impl Printer {
    const fn new(columns: &'static LazyLock<Vec<Column>>, cells: fn(&Value, Timestamp) -> Vec<Value>) -> Self {
        Self { columns, cells, conditions: no_conditions }
    }

    const fn with_conditions(mut self, conditions: fn(&Value) -> Vec<Value>) -> Self {
        self.conditions = conditions;
        self
    }
}

fn no_conditions(_: &Value) -> Vec<Value> {
    Vec::new()
}

/// The printer of `rt`'s kind; kinds the Kubernetes API server has no printer for (Role,
/// ClusterRole, LimitRange, …) get its default NAME / CREATED AT table.
fn printer_for(rt: &ResourceType) -> &'static Printer {
    match (rt.group, rt.kind) {
        ("", "Pod") => &pod::PODS,
        ("", "Node") => &node::NODES,
        ("", "Namespace") => &namespace::NAMESPACES,
        ("", "Service") => &services::SERVICES,
        ("", "Endpoints") => &services::ENDPOINTS,
        ("discovery.k8s.io", "EndpointSlice") => &services::ENDPOINT_SLICES,
        ("", "ConfigMap") => &config::CONFIG_MAPS,
        ("", "Secret") => &config::SECRETS,
        ("", "ServiceAccount") => &config::SERVICE_ACCOUNTS,
        ("", "Event") => &events::CORE_EVENTS,
        ("events.k8s.io", "Event") => &events::EVENTS,
        ("", "ReplicationController") => &workloads::REPLICATION_CONTROLLERS,
        ("apps", "Deployment") => &workloads::DEPLOYMENTS,
        ("apps", "ReplicaSet") => &workloads::REPLICA_SETS,
        ("apps", "DaemonSet") => &workloads::DAEMON_SETS,
        ("apps", "StatefulSet") => &workloads::STATEFUL_SETS,
        ("apps", "ControllerRevision") => &workloads::CONTROLLER_REVISIONS,
        ("batch", "Job") => &jobs::JOBS,
        ("batch", "CronJob") => &jobs::CRON_JOBS,
        ("", "PersistentVolume") => &storage::PERSISTENT_VOLUMES,
        ("", "PersistentVolumeClaim") => &storage::PERSISTENT_VOLUME_CLAIMS,
        ("storage.k8s.io", "StorageClass") => &storage::STORAGE_CLASSES,
        ("", "ResourceQuota") => &quota::RESOURCE_QUOTAS,
        ("autoscaling", "HorizontalPodAutoscaler") => &scaling::HORIZONTAL_POD_AUTOSCALERS,
        ("policy", "PodDisruptionBudget") => &scheduling::POD_DISRUPTION_BUDGETS,
        ("scheduling.k8s.io", "PriorityClass") => &scheduling::PRIORITY_CLASSES,
        ("networking.k8s.io", "Ingress") => &networking::INGRESSES,
        ("networking.k8s.io", "IngressClass") => &networking::INGRESS_CLASSES,
        ("networking.k8s.io", "NetworkPolicy") => &networking::NETWORK_POLICIES,
        ("coordination.k8s.io", "Lease") => &lease::LEASES,
        ("rbac.authorization.k8s.io", "RoleBinding") => &rbac::ROLE_BINDINGS,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => &rbac::CLUSTER_ROLE_BINDINGS,
        _ => &default::DEFAULT,
    }
}

fn row(printer: &Printer, rt: &ResourceType, item: &Value, include_object: IncludeObject, now: Timestamp) -> Value {
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array((printer.cells)(item, now)));
    let conditions = (printer.conditions)(item);
    if !conditions.is_empty() {
        row.insert("conditions".into(), Value::Array(conditions));
    }
    let object = match include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": item.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
        IncludeObject::Object => with_type_meta(rt, item),
    };
    row.insert("object".into(), object);
    Value::Object(row)
}

/// The object with the `apiVersion` and `kind` of `rt`, which stored objects may lack.
fn with_type_meta(rt: &ResourceType, item: &Value) -> Value {
    let mut object = Map::new();
    object.insert("apiVersion".into(), rt.api_version().into());
    object.insert("kind".into(), rt.kind.into());
    for (key, value) in item.as_object().into_iter().flatten() {
        if key != "apiVersion" && key != "kind" {
            object.insert(key.clone(), value.clone());
        }
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::registry::catalog;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn pods() -> &'static ResourceType {
        catalog::find("", "v1", "pods").unwrap()
    }

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web-0", "namespace": "shop", "labels": {"app": "web"},
                         "resourceVersion": "42", "uid": "0c1d", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Succeeded"}
        })
    }

    #[test]
    fn table_carries_list_metadata_columns_and_rows() {
        let list_meta = json!({"resourceVersion": "57", "continue": "abc", "remainingItemCount": 3});
        let table = table(pods(), &[pod()], IncludeObject::Metadata, list_meta.clone(), now());
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(table["metadata"], list_meta);
        let names: Vec<&str> =
            table["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        let row = &table["rows"][0];
        assert_eq!(row["cells"][0], "web-0");
        assert_eq!(row["cells"][2], "Succeeded");
        assert_eq!(row["conditions"][0]["type"], "Completed");
        assert_eq!(
            row["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": pod()["metadata"]})
        );
    }

    #[test]
    fn include_object_none_and_object() {
        let none = table(pods(), &[pod()], IncludeObject::None, json!({}), now());
        assert!(none["rows"][0]["object"].is_null());
        assert!(none["rows"][0].as_object().unwrap().contains_key("object"));

        let full = table(pods(), &[pod()], IncludeObject::Object, json!({}), now());
        let object = &full["rows"][0]["object"];
        assert_eq!(object["apiVersion"], "v1");
        assert_eq!(object["kind"], "Pod");
        assert_eq!(object["spec"], pod()["spec"]);
        let keys: Vec<&String> = object.as_object().unwrap().keys().collect();
        assert_eq!(keys[..2], ["apiVersion", "kind"]);
    }

    #[test]
    fn empty_list_has_columns_and_no_rows() {
        let table = table(pods(), &[], IncludeObject::Metadata, json!({"resourceVersion": "9"}), now());
        assert_eq!(table["rows"], json!([]));
        assert_eq!(table["columnDefinitions"].as_array().unwrap().len(), 9);
    }

    #[test]
    fn rows_without_finished_pods_have_no_conditions() {
        let mut running = pod();
        running["status"]["phase"] = json!("Running");
        let table = table(pods(), &[running], IncludeObject::Metadata, json!({}), now());
        assert!(!table["rows"][0].as_object().unwrap().contains_key("conditions"));
    }

    #[test]
    fn include_object_parsing() {
        assert_eq!(parse_include_object("").unwrap(), IncludeObject::Metadata);
        assert_eq!(parse_include_object("Metadata").unwrap(), IncludeObject::Metadata);
        assert_eq!(parse_include_object("None").unwrap(), IncludeObject::None);
        assert_eq!(parse_include_object("Object").unwrap(), IncludeObject::Object);
        let err = parse_include_object("object").unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(err.message, "unrecognized includeObject value: \"object\"");
        assert_eq!(IncludeObject::default(), IncludeObject::Metadata);
    }

    #[test]
    fn kinds_without_printers_get_name_and_created_at() {
        for (group, plural) in
            [("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"), ("", "limitranges")]
        {
            let rt = catalog::find(group, "v1", plural).unwrap();
            let item = json!({"metadata": {"name": "x", "creationTimestamp": "2024-05-01T10:00:00Z"}});
            let table = table(rt, &[item], IncludeObject::Metadata, json!({}), now());
            let columns = table["columnDefinitions"].as_array().unwrap();
            assert_eq!(columns.len(), 2, "{plural}");
            assert_eq!(columns[1]["name"], "Created At");
            assert_eq!(table["rows"][0]["cells"], json!(["x", "2024-05-01T10:00:00Z"]));
        }
    }

    /// Every served type prints one cell per column, for a bare object and for odd ones,
    /// and every column is well-formed.
    #[test]
    fn every_catalog_type_prints_a_cell_per_column() {
        let odd_objects = [
            json!({}),
            json!(null),
            json!({"metadata": {"name": "x"}, "spec": null, "status": null}),
            json!({"metadata": {"name": 7, "creationTimestamp": "not a time", "labels": "x"},
                   "spec": {"containers": "no", "selector": [], "ports": [{"port": "80"}], "replicas": "3"},
                   "status": {"conditions": [null, 3], "containerStatuses": [{}], "loadBalancer": {"ingress": [{}]}}}),
        ];
        for rt in catalog::all() {
            let printer = printer_for(rt);
            assert!(!printer.columns.is_empty(), "{}", rt.plural);
            for column in printer.columns.iter() {
                assert!(["string", "integer", "boolean", "date"].contains(&column.kind), "{}", rt.plural);
                assert!(column.priority == 0 || column.priority == 1, "{}", rt.plural);
            }
            let table = table(rt, &odd_objects, IncludeObject::Object, json!({}), now());
            for row in table["rows"].as_array().unwrap() {
                assert_eq!(row["cells"].as_array().unwrap().len(), printer.columns.len(), "{}", rt.plural);
            }
        }
    }

    /// The kinds kubectl users meet most have their own columns, not the default ones.
    #[test]
    fn printed_kinds_are_dispatched() {
        let default = &default::DEFAULT as *const Printer;
        for rt in catalog::all() {
            let expect_default = matches!(rt.kind, "Role" | "ClusterRole" | "LimitRange");
            let is_default = std::ptr::eq(printer_for(rt), default);
            assert_eq!(is_default, expect_default, "{}/{}", rt.group, rt.kind);
        }
    }
}
