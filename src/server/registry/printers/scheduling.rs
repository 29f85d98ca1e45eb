//! What decides which pods go first: PriorityClasses (VALUE GLOBAL-DEFAULT) and
//! PodDisruptionBudgets (MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS).

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{flag, int, int_or_string, text};
use super::format::{age, name};
use super::Printer;

pub(super) static PRIORITY_CLASSES: Printer = Printer::new(&PRIORITY_CLASS_COLUMNS, priority_class_cells);
pub(super) static POD_DISRUPTION_BUDGETS: Printer = Printer::new(&PDB_COLUMNS, pdb_cells);

static PRIORITY_CLASS_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::integer("Value", doc::<PriorityClass>("value")),
        Column::boolean("Global-Default", doc::<PriorityClass>("globalDefault")),
        Column::age(),
        Column::string("PreemptionPolicy", doc::<PriorityClass>("preemptionPolicy")).wide(),
    ]
});

static PDB_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Min Available", "Pods that must stay available, as a number or a percentage."),
        Column::string("Max Unavailable", "Pods that may be unavailable, as a number or a percentage."),
        Column::integer("Allowed Disruptions", "Pods that may be evicted right now."),
        Column::age(),
    ]
});

fn priority_class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name(class),
        int(class, "/value").into(),
        flag(class, "/globalDefault").unwrap_or(false).into(),
        age(class, now),
        text(class, "/preemptionPolicy").into(),
    ]
}

fn pdb_cells(budget: &Value, now: Timestamp) -> Vec<Value> {
    let bound = |pointer: &str| match budget.pointer(pointer) {
        Some(value) if !value.is_null() => int_or_string(value),
        _ => "N/A".into(),
    };
    vec![
        name(budget),
        bound("/spec/minAvailable").into(),
        bound("/spec/maxUnavailable").into(),
        int(budget, "/status/disruptionsAllowed").into(),
        age(budget, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn priority_classes() {
        let class = json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "system-node-critical", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "value": 2000001000,
            "preemptionPolicy": "PreemptLowerPriority",
            "description": "Used for system critical pods that must not be moved from their current node."
        });
        assert_eq!(
            priority_class_cells(&class, now()),
            vec![
                json!("system-node-critical"),
                json!(2000001000),
                json!(false),
                json!("60m"),
                json!("PreemptLowerPriority")
            ]
        );
        let default = json!({"metadata": {"name": "normal"}, "value": 1000, "globalDefault": true});
        assert_eq!(priority_class_cells(&default, now())[2], true);
    }

    #[test]
    fn disruption_budgets() {
        let budget = json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}
        });
        assert_eq!(pdb_cells(&budget, now()), vec![json!("web"), json!("2"), json!("N/A"), json!(1), json!("60s")]);
        let percent = json!({"metadata": {"name": "db"}, "spec": {"maxUnavailable": "25%"}});
        assert_eq!(pdb_cells(&percent, now())[1..4], [json!("N/A"), json!("25%"), json!(0)]);
    }
}
