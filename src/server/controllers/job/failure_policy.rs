//! A Job's podFailurePolicy: the first rule matching a failed pod (by a container's non-zero
//! exit code, or by a pod condition) decides whether the Job fails at once (FailJob), the
//! failure is not counted (Ignore), or it counts against backoffLimit (Count).

use serde_json::Value;

use crate::server::registry::object;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    FailJob,
    Ignore,
    Count,
}

/// The action of the first rule matching the failed `pod`, with a message saying why.
pub fn matching_rule(job: &Value, pod: &Value) -> Option<(Action, String)> {
    let rules = job.pointer("/spec/podFailurePolicy/rules")?.as_array()?;
    for (index, rule) in rules.iter().enumerate() {
        let action_name = rule.get("action").and_then(Value::as_str).unwrap_or_default();
        let action = match action_name {
            "FailJob" => Action::FailJob,
            "Ignore" => Action::Ignore,
            "Count" => Action::Count,
            // FailIndex needs backoffLimitPerIndex, which is not supported: skip such rules.
            _ => continue,
        };
        let pod_ref = format!("{}/{}", object::namespace(pod), object::name(pod));
        if let Some(codes) = rule.get("onExitCodes") {
            if let Some((container, code)) = failed_container(pod, codes) {
                let message = format!(
                    "Container {container} for pod {pod_ref} failed with exit code {code} matching {action_name} rule at index {index}"
                );
                return Some((action, message));
            }
        } else if let Some(patterns) = rule.get("onPodConditions").and_then(Value::as_array) {
            if let Some(kind) = matching_condition(pod, patterns) {
                let message =
                    format!("Pod {pod_ref} has condition {kind} matching {action_name} rule at index {index}");
                return Some((action, message));
            }
        }
    }
    None
}

/// The first terminated container (with a non-zero exit) whose exit code the requirement matches.
fn failed_container<'a>(pod: &'a Value, requirement: &Value) -> Option<(&'a str, i64)> {
    let only = requirement.get("containerName").and_then(Value::as_str);
    let values: Vec<i64> = requirement.get("values")?.as_array()?.iter().filter_map(Value::as_i64).collect();
    let inside = match requirement.get("operator").and_then(Value::as_str)? {
        "In" => true,
        "NotIn" => false,
        _ => return None,
    };
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}")).and_then(Value::as_array))
        .flatten()
        .find_map(|status| {
            let name = status.get("name").and_then(Value::as_str).unwrap_or_default();
            let code = status.pointer("/state/terminated/exitCode").and_then(Value::as_i64)?;
            let wanted = only.is_none_or(|n| n == name) && code != 0 && values.contains(&code) == inside;
            wanted.then_some((name, code))
        })
}

fn matching_condition<'a>(pod: &'a Value, patterns: &[Value]) -> Option<&'a str> {
    let conditions = pod.pointer("/status/conditions")?.as_array()?;
    conditions.iter().find_map(|condition| {
        let kind = condition.get("type").and_then(Value::as_str)?;
        let status = condition.get("status").and_then(Value::as_str).unwrap_or_default();
        patterns
            .iter()
            .any(|p| {
                p.get("type").and_then(Value::as_str) == Some(kind)
                    && p.get("status").and_then(Value::as_str).unwrap_or("True") == status
            })
            .then_some(kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job() -> Value {
        json!({"spec": {"podFailurePolicy": {"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1]}},
        ]}}})
    }

    fn failed(name: &str, code: i64, conditions: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": "Failed", "conditions": conditions,
            "containerStatuses": [{"name": name, "state": {"terminated": {"exitCode": code}}}]}})
    }

    #[test]
    fn first_matching_rule_wins() {
        let (action, message) = matching_rule(&job(), &failed("main", 42, json!([]))).unwrap();
        assert_eq!(action, Action::FailJob);
        assert_eq!(message, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1");
        assert_eq!(matching_rule(&job(), &failed("side", 42, json!([]))).unwrap().0, Action::Count);
        assert_eq!(matching_rule(&job(), &failed("main", 1, json!([]))), None);
        let disrupted = failed("main", 42, json!([{"type": "DisruptionTarget", "status": "True"}]));
        assert_eq!(matching_rule(&job(), &disrupted).unwrap().0, Action::Ignore);
        assert_eq!(matching_rule(&json!({"spec": {}}), &disrupted), None);
        // Exit code 0 never matches.
        assert_eq!(matching_rule(&job(), &failed("main", 0, json!([]))), None);
    }
}
