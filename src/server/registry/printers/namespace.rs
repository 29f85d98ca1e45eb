//! Namespaces: NAME STATUS AGE.

use std::sync::LazyLock;

use jiff::Timestamp;
use serde_json::Value;

use super::columns::Column;
use super::fields::text;
use super::format::{age, name};
use super::Printer;

pub(super) static NAMESPACES: Printer = Printer::new(&COLUMNS, cells);

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![Column::name(), Column::string("Status", "Whether the namespace is active or being deleted."), Column::age()]
});

fn cells(namespace: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(namespace), text(namespace, "/status/phase").into(), age(namespace, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phase_and_age() {
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        let namespace = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "kube-system", "creationTimestamp": "2022-05-01T12:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        });
        assert_eq!(cells(&namespace, now), vec![json!("kube-system"), json!("Active"), json!("2y1d")]);
        let deleting = json!({"metadata": {"name": "old"}, "status": {"phase": "Terminating"}});
        assert_eq!(cells(&deleting, now)[1], "Terminating");
    }
}
