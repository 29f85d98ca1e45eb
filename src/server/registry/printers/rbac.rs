//! RoleBindings and ClusterRoleBindings: NAME ROLE AGE (wide: USERS GROUPS SERVICEACCOUNTS).
//! Roles and ClusterRoles have no printer upstream and get the default table.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{list, text};
use super::format::{age, name};
use super::Printer;

pub(super) static ROLE_BINDINGS: Printer = Printer::new(&ROLE_BINDING_COLUMNS, cells);
pub(super) static CLUSTER_ROLE_BINDINGS: Printer = Printer::new(&CLUSTER_ROLE_BINDING_COLUMNS, cells);

static ROLE_BINDING_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Role", doc::<RoleBinding>("roleRef")),
        Column::age(),
        Column::string("Users", "Users the binding grants the role to.").wide(),
        Column::string("Groups", "Groups the binding grants the role to.").wide(),
        Column::string("ServiceAccounts", "ServiceAccounts the binding grants the role to.").wide(),
    ]
});

static CLUSTER_ROLE_BINDING_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut columns = ROLE_BINDING_COLUMNS.clone();
    columns[1] = Column::string("Role", doc::<ClusterRoleBinding>("roleRef"));
    columns
});

fn cells(binding: &Value, now: Timestamp) -> Vec<Value> {
    let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for subject in list(binding, "/subjects") {
        let name = text(subject, "/name");
        match text(subject, "/kind") {
            "User" => users.push(name.to_string()),
            "Group" => groups.push(name.to_string()),
            "ServiceAccount" => accounts.push(format!("{}/{name}", text(subject, "/namespace"))),
            _ => {}
        }
    }
    vec![
        name(binding),
        format!("{}/{}", text(binding, "/roleRef/kind"), text(binding, "/roleRef/name")).into(),
        age(binding, now),
        users.join(", ").into(),
        groups.join(", ").into(),
        accounts.join(", ").into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_and_subjects() {
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:node-proxier", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node-proxier"},
            "subjects": [
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:kube-proxy"},
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:nodes"},
                {"kind": "ServiceAccount", "name": "proxy", "namespace": "kube-system"},
                {"kind": "ServiceAccount", "name": "lb", "namespace": "kube-system"}
            ]
        });
        assert_eq!(
            cells(&binding, now),
            vec![
                json!("system:node-proxier"),
                json!("ClusterRole/system:node-proxier"),
                json!("60m"),
                json!("system:kube-proxy"),
                json!("system:nodes"),
                json!("kube-system/proxy, kube-system/lb"),
            ]
        );
        let empty = json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"}});
        assert_eq!(cells(&empty, now)[3..], [json!(""), json!(""), json!("")]);
    }
}
