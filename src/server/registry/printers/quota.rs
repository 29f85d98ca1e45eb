//! ResourceQuotas: NAME REQUEST LIMIT AGE, each cell listing `resource: used/hard`.

use std::sync::LazyLock;

use jiff::Timestamp;
use serde_json::Value;

use super::columns::Column;
use super::fields::map;
use super::format::{age, name};
use super::Printer;

pub(super) static RESOURCE_QUOTAS: Printer = Printer::new(&COLUMNS, cells);

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Request", "Usage and hard limit of each quota resource other than `limits.*`."),
        Column::string("Limit", "Usage and hard limit of each `limits.*` quota resource."),
        Column::age(),
    ]
});

fn cells(quota: &Value, now: Timestamp) -> Vec<Value> {
    let mut hard: Vec<(&String, &Value)> = map(quota, "/status/hard").into_iter().flatten().collect();
    hard.sort_by(|a, b| a.0.cmp(b.0));
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for (resource, limit) in hard {
        let used =
            map(quota, "/status/used").and_then(|used| used.get(resource)).and_then(Value::as_str).unwrap_or("0");
        let entry = format!("{resource}: {used}/{}", limit.as_str().unwrap_or("0"));
        if resource.starts_with("limits.") {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![name(quota), requests.join(", ").into(), limits.join(", ").into(), age(quota, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_and_limits_split_and_sorted() {
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        let quota = json!({
            "metadata": {"name": "compute", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "4Gi", "limits.cpu": "4"}},
            "status": {
                "hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "4Gi", "limits.cpu": "4"},
                "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"}
            }
        });
        assert_eq!(
            cells(&quota, now),
            vec![
                json!("compute"),
                json!("pods: 3/10, requests.cpu: 500m/2"),
                json!("limits.cpu: 1/4, limits.memory: 0/4Gi"),
                json!("60m"),
            ]
        );
        let fresh = json!({"metadata": {"name": "new"}, "spec": {"hard": {"pods": "1"}}});
        assert_eq!(cells(&fresh, now)[1..3], [json!(""), json!("")]);
    }
}
