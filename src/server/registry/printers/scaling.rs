//! HorizontalPodAutoscalers: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE, TARGETS
//! pairing each metric's current value with its target (`cpu: 42%/80%`).

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{int, is_set, list, opt_int, quantity, text};
use super::format::{age, name};
use super::Printer;

pub(super) static HORIZONTAL_POD_AUTOSCALERS: Printer = Printer::new(&COLUMNS, cells);

// MAXPODS and REPLICAS are declared as strings but carry integers, as upstream's do.
static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Reference", doc::<HorizontalPodAutoscalerSpec>("scaleTargetRef")),
        Column::string("Targets", doc::<HorizontalPodAutoscalerSpec>("metrics")),
        Column::string("MinPods", doc::<HorizontalPodAutoscalerSpec>("minReplicas")),
        Column::string("MaxPods", doc::<HorizontalPodAutoscalerSpec>("maxReplicas")),
        Column::string("Replicas", doc::<HorizontalPodAutoscalerStatus>("currentReplicas")),
        Column::age(),
    ]
});

/// TARGETS lists this many metrics, then `+ N more...`.
const LISTED: usize = 2;

fn cells(hpa: &Value, now: Timestamp) -> Vec<Value> {
    let min_pods = opt_int(hpa, "/spec/minReplicas").map_or_else(|| "<unset>".into(), |n| n.to_string());
    vec![
        name(hpa),
        format!("{}/{}", text(hpa, "/spec/scaleTargetRef/kind"), text(hpa, "/spec/scaleTargetRef/name")).into(),
        targets(hpa).into(),
        min_pods.into(),
        int(hpa, "/spec/maxReplicas").into(),
        int(hpa, "/status/currentReplicas").into(),
        age(hpa, now),
    ]
}

/// Each metric of the spec with the current value at the same index of the status.
fn targets(hpa: &Value) -> String {
    let specs = list(hpa, "/spec/metrics");
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = list(hpa, "/status/currentMetrics");
    let shown: Vec<String> =
        specs.iter().take(LISTED).enumerate().map(|(index, spec)| metric(spec, statuses.get(index))).collect();
    if specs.len() > LISTED {
        format!("{} + {} more...", shown.join(", "), specs.len() - LISTED)
    } else {
        shown.join(", ")
    }
}

/// One metric as `current/target`; `<unknown>` until the autoscaler has measured it, and
/// `<nil>` where a quantity the metric type needs is missing.
fn metric(spec: &Value, status: Option<&Value>) -> String {
    let kind = text(spec, "/type");
    let source = match kind {
        "External" => "external",
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => return "<unknown type>".into(),
    };
    let target = |field: &str| quantity(spec, &format!("/{source}/target/{field}"), "<nil>");
    let measured = status.and_then(|s| s.get(source)).filter(|m| !m.is_null());
    let current = |field: &str| measured.map_or("<unknown>", |m| quantity(m, &format!("/current/{field}"), "<nil>"));
    let by_average = is_set(spec, &format!("/{source}/target/averageValue"));
    match kind {
        "External" | "Object" if by_average => {
            let current = measured
                .and_then(|m| m.pointer("/current/averageValue"))
                .and_then(Value::as_str)
                .unwrap_or("<unknown>");
            format!("{current}/{} (avg)", target("averageValue"))
        }
        "External" | "Object" => format!("{}/{}", current("value"), target("value")),
        "Pods" => format!("{}/{}", current("averageValue"), target("averageValue")),
        _ => {
            let name = text(spec, &format!("/{source}/name"));
            if by_average {
                return format!("{name}: {}/{}", current("averageValue"), target("averageValue"));
            }
            let percent =
                |value: Option<i64>, otherwise: &str| value.map_or(otherwise.to_string(), |v| format!("{v}%"));
            let current = percent(measured.and_then(|m| opt_int(m, "/current/averageUtilization")), "<unknown>");
            let target = percent(opt_int(spec, &format!("/{source}/target/averageUtilization")), "<auto>");
            format!("{name}: {current}/{target}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn cpu(utilization: i64) -> Value {
        json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}}})
    }

    #[test]
    fn cpu_autoscaler() {
        let hpa = json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 10, "metrics": [cpu(80)]},
            "status": {"currentReplicas": 3, "desiredReplicas": 3,
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42, "averageValue": "210m"}}}]}
        });
        assert_eq!(
            cells(&hpa, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 42%/80%"),
                json!("1"),
                json!(10),
                json!(3),
                json!("60m"),
            ]
        );
    }

    #[test]
    fn unmeasured_and_unset_values() {
        let hpa = json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5, "metrics": [cpu(80)]}
        });
        let cells = cells(&hpa, now());
        assert_eq!(cells[2], "cpu: <unknown>/80%");
        assert_eq!(cells[3], "<unset>");
        assert_eq!(cells[5], 0);
        let no_metrics = json!({"spec": {"maxReplicas": 5}});
        assert_eq!(targets(&no_metrics), "<none>");
    }

    #[test]
    fn every_metric_type() {
        let hpa = json!({
            "spec": {"metrics": [
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "512Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "100"}}},
                {"type": "Object", "object": {"metric": {"name": "hits"}, "describedObject": {"kind": "Ingress", "name": "main"},
                                              "target": {"type": "Value", "value": "2k"}}},
                {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                                              "target": {"type": "Utilization"}}},
                {"type": "Magic"}
            ]},
            "status": {"currentMetrics": [
                {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "300Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "80"}}},
                {"type": "Object", "object": {"metric": {"name": "hits"}, "current": {"value": "1500"}}},
                {"type": "External", "external": {"metric": {"name": "queue"}, "current": {"value": "90"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "current": {"averageUtilization": 12}}}
            ]}
        });
        let specs = list(&hpa, "/spec/metrics");
        let statuses = list(&hpa, "/status/currentMetrics");
        let each: Vec<String> = specs.iter().enumerate().map(|(i, s)| metric(s, statuses.get(i))).collect();
        assert_eq!(
            each,
            ["memory: 300Mi/512Mi", "80/100", "1500/2k", "<unknown>/30 (avg)", "cpu: 12%/<auto>", "<unknown type>",]
        );
        assert_eq!(targets(&hpa), "memory: 300Mi/512Mi, 80/100 + 4 more...");
    }
}
