//! Taints and tolerations: the NoSchedule/NoExecute filter, cordoned nodes
//! (`spec.unschedulable`) and the PreferNoSchedule score.

use serde_json::Value;

use super::framework::{Plugin, Unfit};
use super::node_info::NodeInfo;
use super::pod_info::PodInfo;

pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl Effect {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "NoSchedule" => Some(Self::NoSchedule),
            "PreferNoSchedule" => Some(Self::PreferNoSchedule),
            "NoExecute" => Some(Self::NoExecute),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    /// Empty with `exists` tolerates every key.
    key: String,
    exists: bool,
    value: String,
    /// `None` tolerates every effect.
    effect: Option<Effect>,
}

impl Toleration {
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        self.exists || self.value == taint.value
    }
}

/// The pod's tolerations; an unknown operator or effect is an error, as the API would say.
pub fn parse_tolerations(spec: &Value) -> Result<Vec<Toleration>, String> {
    let mut out = Vec::new();
    for (i, t) in spec.get("tolerations").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let text = |field: &str| t.get(field).and_then(Value::as_str).unwrap_or_default().to_string();
        let exists = match text("operator").as_str() {
            "Exists" => true,
            "Equal" | "" => false,
            other => return Err(format!("spec.tolerations[{i}].operator: unsupported value {other:?}")),
        };
        let effect = match text("effect").as_str() {
            "" => None,
            other => Some(
                Effect::parse(other)
                    .ok_or_else(|| format!("spec.tolerations[{i}].effect: unsupported value {other:?}"))?,
            ),
        };
        let key = text("key");
        if key.is_empty() && !exists {
            return Err(format!("spec.tolerations[{i}].operator: must be Exists when key is empty"));
        }
        out.push(Toleration { key, exists, value: text("value"), effect });
    }
    Ok(out)
}

/// The node's taints (entries with an unknown effect are ignored), plus the NoSchedule taint
/// the node lifecycle controller puts on a node whose Ready condition is not True, so that a
/// node which stops reporting is avoided even before that controller has tainted it.
pub fn node_taints(node: &Value) -> Vec<Taint> {
    let mut taints: Vec<Taint> = node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some(Taint {
                key: t.get("key").and_then(Value::as_str)?.to_string(),
                value: t.get("value").and_then(Value::as_str).unwrap_or_default().to_string(),
                effect: Effect::parse(t.get("effect").and_then(Value::as_str)?)?,
            })
        })
        .collect();
    let implied = match ready_status(node) {
        "True" => None,
        "Unknown" => Some(UNREACHABLE_TAINT),
        _ => Some(NOT_READY_TAINT),
    };
    if let Some(key) = implied {
        if !taints.iter().any(|t| t.key == key && t.effect != Effect::PreferNoSchedule) {
            taints.push(Taint { key: key.to_string(), value: String::new(), effect: Effect::NoSchedule });
        }
    }
    taints
}

fn ready_status(node: &Value) -> &str {
    node.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        .and_then(|c| c.get("status").and_then(Value::as_str))
        .unwrap_or("Unknown")
}

/// A cordoned node takes only pods that tolerate the unschedulable taint.
pub fn filter_unschedulable(pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
    let Some(spec) = node.spec() else { return Ok(()) };
    let cordon = Taint { key: UNSCHEDULABLE_TAINT.into(), value: String::new(), effect: Effect::NoSchedule };
    if spec.unschedulable && !pod.tolerations.iter().any(|t| t.tolerates(&cordon)) {
        return Err(Unfit::unresolvable(Plugin::NodeUnschedulable, "node(s) were unschedulable"));
    }
    Ok(())
}

/// Every NoSchedule and NoExecute taint must be tolerated. Like current upstream, the reason
/// names no taint: pod status is readable by more people than node taints are.
pub fn filter_taints(pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
    let Some(spec) = node.spec() else { return Ok(()) };
    let untolerated = spec
        .taints
        .iter()
        .filter(|t| t.effect != Effect::PreferNoSchedule)
        .any(|taint| !pod.tolerations.iter().any(|t| t.tolerates(taint)));
    if untolerated {
        return Err(Unfit::unresolvable(Plugin::TaintToleration, "node(s) had untolerated taint(s)"));
    }
    Ok(())
}

/// How many PreferNoSchedule taints the pod does not tolerate (fewer is better).
pub fn intolerable_preferences(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let Some(spec) = node.spec() else { return 0 };
    spec.taints
        .iter()
        .filter(|t| t.effect == Effect::PreferNoSchedule)
        .filter(|taint| !pod.tolerations.iter().any(|t| t.tolerates(taint)))
        .count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::{node, pod};
    use serde_json::json;

    fn tolerating(tolerations: Value) -> PodInfo {
        pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [], "tolerations": tolerations}}))
    }

    fn tainted(taints: Value) -> NodeInfo {
        node(json!({"metadata": {"name": "n"}, "spec": {"taints": taints}}))
    }

    #[test]
    fn untolerated_no_schedule_and_no_execute_taints_filter() {
        let gpu = tainted(json!([{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]));
        let plain = tolerating(json!([]));
        let err = filter_taints(&plain, &gpu).unwrap_err();
        assert_eq!(err.reasons, ["node(s) had untolerated taint(s)"]);
        assert!(!err.resolvable);
        for toleration in [
            json!({"key": "gpu", "operator": "Equal", "value": "yes"}),
            json!({"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}),
            json!({"operator": "Exists"}),
        ] {
            assert!(filter_taints(&tolerating(json!([toleration])), &gpu).is_ok(), "{toleration}");
        }
        for toleration in [
            json!({"key": "gpu", "value": "no"}),
            json!({"key": "gpu", "operator": "Exists", "effect": "NoExecute"}),
            json!({"key": "tpu", "operator": "Exists"}),
        ] {
            assert!(filter_taints(&tolerating(json!([toleration])), &gpu).is_err(), "{toleration}");
        }
        let evicting = tainted(json!([{"key": "maintenance", "effect": "NoExecute"}]));
        assert!(filter_taints(&plain, &evicting).is_err());
        let preferring = tainted(json!([{"key": "spot", "effect": "PreferNoSchedule"}]));
        assert!(filter_taints(&plain, &preferring).is_ok());
    }

    #[test]
    fn nodes_that_are_not_ready_carry_an_implied_taint() {
        let not_ready =
            node(json!({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}));
        let plain = tolerating(json!([]));
        assert!(filter_taints(&plain, &not_ready).is_err());
        let daemon = tolerating(json!([{"key": NOT_READY_TAINT, "operator": "Exists", "effect": "NoSchedule"}]));
        assert!(filter_taints(&daemon, &not_ready).is_ok());
        let unknown = node(
            json!({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
        );
        assert_eq!(unknown.spec().unwrap().taints[0].key, UNREACHABLE_TAINT);
        assert!(filter_taints(&daemon, &unknown).is_err());
    }

    #[test]
    fn cordoned_nodes_filter_unless_tolerated() {
        let cordoned = node(json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}}));
        let err = filter_unschedulable(&tolerating(json!([])), &cordoned).unwrap_err();
        assert_eq!(err.reasons, ["node(s) were unschedulable"]);
        let daemon = tolerating(json!([{"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}]));
        assert!(filter_unschedulable(&daemon, &cordoned).is_ok());
    }

    #[test]
    fn prefer_no_schedule_taints_are_counted() {
        let node = tainted(json!([
            {"key": "spot", "effect": "PreferNoSchedule"},
            {"key": "old", "effect": "PreferNoSchedule"},
        ]));
        assert_eq!(intolerable_preferences(&tolerating(json!([])), &node), 2);
        let spot = tolerating(json!([{"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]));
        assert_eq!(intolerable_preferences(&spot, &node), 1);
    }

    #[test]
    fn malformed_tolerations_are_errors() {
        assert!(parse_tolerations(&json!({"tolerations": [{"key": "a", "operator": "Matches"}]})).is_err());
        assert!(parse_tolerations(&json!({"tolerations": [{"value": "a"}]})).is_err());
        assert!(parse_tolerations(&json!({"tolerations": [{"key": "a", "effect": "Sometimes"}]})).is_err());
    }
}
