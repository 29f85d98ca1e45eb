//! Leases: NAME HOLDER AGE.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::LeaseSpec;
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::text;
use super::format::{age, name};
use super::Printer;

pub(super) static LEASES: Printer = Printer::new(&COLUMNS, cells);

static COLUMNS: LazyLock<Vec<Column>> =
    LazyLock::new(|| vec![Column::name(), Column::string("Holder", doc::<LeaseSpec>("holderIdentity")), Column::age()]);

fn cells(lease: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(lease), text(lease, "/spec/holderIdentity").into(), age(lease, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn holder_and_age() {
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        let lease = json!({
            "metadata": {"name": "edge-1", "namespace": "kube-node-lease", "creationTimestamp": "2024-05-01T04:00:00Z"},
            "spec": {"holderIdentity": "edge-1", "leaseDurationSeconds": 40, "renewTime": "2024-05-01T11:59:58.000000Z"}
        });
        assert_eq!(cells(&lease, now), vec![json!("edge-1"), json!("edge-1"), json!("8h")]);
        assert_eq!(cells(&json!({"metadata": {"name": "free"}, "spec": {}}), now)[1], "");
    }
}
