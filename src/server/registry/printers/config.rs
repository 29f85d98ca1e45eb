//! Configuration handed to pods: ConfigMaps (DATA), Secrets (TYPE DATA) and
//! ServiceAccounts (SECRETS).

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{count, text};
use super::format::{age, name};
use super::Printer;

pub(super) static CONFIG_MAPS: Printer = Printer::new(&CONFIG_MAP_COLUMNS, config_map_cells);
pub(super) static SECRETS: Printer = Printer::new(&SECRET_COLUMNS, secret_cells);
pub(super) static SERVICE_ACCOUNTS: Printer = Printer::new(&SERVICE_ACCOUNT_COLUMNS, service_account_cells);

// The count columns are declared as strings but carry integers, as upstream's do.
static CONFIG_MAP_COLUMNS: LazyLock<Vec<Column>> =
    LazyLock::new(|| vec![Column::name(), Column::string("Data", doc::<ConfigMap>("data")), Column::age()]);

static SECRET_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Type", doc::<Secret>("type")),
        Column::string("Data", doc::<Secret>("data")),
        Column::age(),
    ]
});

static SERVICE_ACCOUNT_COLUMNS: LazyLock<Vec<Column>> =
    LazyLock::new(|| vec![Column::name(), Column::string("Secrets", doc::<ServiceAccount>("secrets")), Column::age()]);

fn config_map_cells(config_map: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(config_map), (count(config_map, "/data") + count(config_map, "/binaryData")).into(), age(config_map, now)]
}

fn secret_cells(secret: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(secret), text(secret, "/type").into(), count(secret, "/data").into(), age(secret, now)]
}

fn service_account_cells(account: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(account), count(account, "/secrets").into(), age(account, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn config_map_counts_text_and_binary_keys() {
        let config_map = json!({
            "metadata": {"name": "nginx-conf", "creationTimestamp": "2024-05-01T11:59:55Z"},
            "data": {"nginx.conf": "events {}", "mime.types": "types {}"},
            "binaryData": {"favicon.ico": "AAAB"}
        });
        assert_eq!(config_map_cells(&config_map, now()), vec![json!("nginx-conf"), json!(3), json!("5s")]);
        assert_eq!(config_map_cells(&json!({"metadata": {"name": "e"}}), now())[1], 0);
    }

    #[test]
    fn secret_type_and_keys() {
        let secret = json!({
            "metadata": {"name": "tls", "creationTimestamp": "2024-04-01T12:00:00Z"},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": "LS0t", "tls.key": "LS0t"}
        });
        assert_eq!(
            secret_cells(&secret, now()),
            vec![json!("tls"), json!("kubernetes.io/tls"), json!(2), json!("30d")]
        );
    }

    #[test]
    fn service_account_secrets() {
        let account = json!({"metadata": {"name": "default", "creationTimestamp": "2024-05-01T10:00:00Z"}});
        assert_eq!(service_account_cells(&account, now()), vec![json!("default"), json!(0), json!("120m")]);
        let with = json!({"metadata": {"name": "builder"}, "secrets": [{"name": "builder-token"}]});
        assert_eq!(service_account_cells(&with, now())[1], 1);
    }
}
