//! The table of kinds without a printer of their own (Role, ClusterRole, LimitRange, …):
//! NAME and CREATED AT, the creation time as an RFC 3339 date that kubectl prints as is.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::time;
use super::format::name;
use super::Printer;

pub(super) static DEFAULT: Printer = Printer::new(&COLUMNS, cells);

static COLUMNS: LazyLock<Vec<Column>> =
    LazyLock::new(|| vec![Column::name(), Column::date("Created At", doc::<ObjectMeta>("creationTimestamp"))]);

fn cells(object: &Value, _now: Timestamp) -> Vec<Value> {
    // Without a creation time Go formats its zero time, the first second of year 1.
    let created = time(object, "/metadata/creationTimestamp")
        .map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    vec![name(object), created.into()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_and_creation_date() {
        let role = json!({"metadata": {"name": "reader", "creationTimestamp": "2024-05-01T10:00:00Z"}});
        let now = "2024-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(cells(&role, now), vec![json!("reader"), json!("2024-05-01T10:00:00Z")]);
        assert_eq!(cells(&json!({}), now), vec![json!(""), json!("0001-01-01T00:00:00Z")]);
        assert_eq!(COLUMNS[1].kind, "date");
    }
}
