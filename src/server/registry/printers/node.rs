//! Nodes: NAME STATUS ROLES AGE VERSION (wide: INTERNAL-IP EXTERNAL-IP OS-IMAGE
//! KERNEL-VERSION CONTAINER-RUNTIME).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{NodeStatus, NodeSystemInfo};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{flag, list, map, text};
use super::format::{age, name};
use super::Printer;

pub(super) static NODES: Printer = Printer::new(&COLUMNS, cells);

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Status", "Whether the node is ready, and whether it takes new pods."),
        Column::string("Roles", "Roles given to the node by its node-role labels."),
        Column::age(),
        Column::string("Version", doc::<NodeSystemInfo>("kubeletVersion")),
        Column::string("Internal-IP", doc::<NodeStatus>("addresses")).wide(),
        Column::string("External-IP", doc::<NodeStatus>("addresses")).wide(),
        Column::string("OS-Image", doc::<NodeSystemInfo>("osImage")).wide(),
        Column::string("Kernel-Version", doc::<NodeSystemInfo>("kernelVersion")).wide(),
        Column::string("Container-Runtime", doc::<NodeSystemInfo>("containerRuntimeVersion")).wide(),
    ]
});

/// `node-role.kubernetes.io/<role>` labels name a role each.
const ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";
/// The older `kubernetes.io/role=<role>` label.
const ROLE_LABEL: &str = "kubernetes.io/role";

fn cells(node: &Value, now: Timestamp) -> Vec<Value> {
    let info = |field: &str| match text(node, &format!("/status/nodeInfo/{field}")) {
        "" => "<unknown>".to_string(),
        value => value.to_string(),
    };
    vec![
        name(node),
        status(node).into(),
        roles(node).into(),
        age(node, now),
        text(node, "/status/nodeInfo/kubeletVersion").into(),
        address(node, "InternalIP").into(),
        address(node, "ExternalIP").into(),
        info("osImage").into(),
        info("kernelVersion").into(),
        info("containerRuntimeVersion").into(),
    ]
}

/// `Ready`, `NotReady` or `Unknown` (no Ready condition yet), then `SchedulingDisabled` when
/// the node is cordoned.
fn status(node: &Value) -> String {
    // The last Ready condition wins, as when conditions are collected into a map by type.
    let ready =
        list(node, "/status/conditions").iter().rfind(|c| text(c, "/type") == "Ready").map(|c| text(c, "/status"));
    let mut status = match ready {
        Some("True") => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }
    .to_string();
    if flag(node, "/spec/unschedulable") == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

/// Sorted, distinct roles from the node's labels, or `<none>`.
fn roles(node: &Value) -> String {
    let mut roles = BTreeSet::new();
    for (key, value) in map(node, "/metadata/labels").into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        if let Some(role) = key.strip_prefix(ROLE_LABEL_PREFIX) {
            if !role.is_empty() {
                roles.insert(role);
            }
        } else if key == ROLE_LABEL && !value.is_empty() {
            roles.insert(value);
        }
    }
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

/// The node's first address of `kind` (`InternalIP`, `ExternalIP`), or `<none>`.
fn address(node: &Value, kind: &str) -> String {
    list(node, "/status/addresses")
        .iter()
        .find(|a| text(a, "/type") == kind)
        .map_or_else(|| "<none>".into(), |a| text(a, "/address").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(labels: Value, unschedulable: bool, conditions: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "edge-1", "creationTimestamp": "2024-04-26T12:00:00Z", "labels": labels},
            "spec": {"podCIDR": "10.42.0.0/24", "unschedulable": unschedulable},
            "status": {
                "conditions": conditions,
                "addresses": [
                    {"type": "InternalIP", "address": "192.168.1.10"},
                    {"type": "Hostname", "address": "edge-1"}
                ],
                "nodeInfo": {
                    "kubeletVersion": "v1.33.1+onebin",
                    "osImage": "Debian GNU/Linux 13 (trixie)",
                    "kernelVersion": "6.12.0-amd64",
                    "containerRuntimeVersion": "onebin://0.1.0"
                }
            }
        })
    }

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn ready_control_plane_node() {
        let node = node(
            json!({"kubernetes.io/hostname": "edge-1", "node-role.kubernetes.io/control-plane": "true",
                   "node-role.kubernetes.io/master": "true"}),
            false,
            json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]),
        );
        assert_eq!(
            cells(&node, now()),
            vec![
                json!("edge-1"),
                json!("Ready"),
                json!("control-plane,master"),
                json!("5d"),
                json!("v1.33.1+onebin"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 13 (trixie)"),
                json!("6.12.0-amd64"),
                json!("onebin://0.1.0"),
            ]
        );
    }

    #[test]
    fn cordoned_and_not_ready_states() {
        let ready = json!([{"type": "Ready", "status": "True"}]);
        let not_ready = json!([{"type": "Ready", "status": "Unknown"}]);
        assert_eq!(status(&node(json!({}), true, ready)), "Ready,SchedulingDisabled");
        assert_eq!(status(&node(json!({}), false, not_ready.clone())), "NotReady");
        assert_eq!(status(&node(json!({}), true, not_ready)), "NotReady,SchedulingDisabled");
        assert_eq!(status(&node(json!({}), false, json!([]))), "Unknown");
        assert_eq!(status(&node(json!({}), true, json!([]))), "Unknown,SchedulingDisabled");
    }

    #[test]
    fn roles_from_both_label_styles() {
        let worker = node(
            json!({"kubernetes.io/role": "worker", "node-role.kubernetes.io/": "", "node-role.kubernetes.io/edge": ""}),
            false,
            json!([]),
        );
        assert_eq!(roles(&worker), "edge,worker");
        assert_eq!(roles(&node(json!({"kubernetes.io/role": ""}), false, json!([]))), "<none>");
        assert_eq!(roles(&node(json!({}), false, json!([]))), "<none>");
    }

    #[test]
    fn missing_node_info_is_unknown() {
        let bare = json!({"metadata": {"name": "new"}});
        let cells = cells(&bare, now());
        assert_eq!(cells[1], "Unknown");
        assert_eq!(cells[3], "<unknown>");
        assert_eq!(cells[4], "");
        assert_eq!(cells[5], "<none>");
        assert_eq!(&cells[7..], &[json!("<unknown>"), json!("<unknown>"), json!("<unknown>")]);
    }
}
