//! Node affinity: `spec.nodeSelector` and `requiredDuringScheduling…` terms filter nodes,
//! `preferredDuringScheduling…` terms add their weights to the nodes they match.

use std::collections::BTreeMap;

use serde_json::Value;

use super::framework::{Plugin, Unfit};
use super::node_info::NodeInfo;
use super::pod_info::PodInfo;
use crate::server::registry::label_selector::{Op, Requirement};

/// A node selector requirement, with Kubernetes' validation messages.
fn parse_requirement(req: &Value, path: &str) -> Result<Requirement, String> {
    let key = req.get("key").and_then(Value::as_str).ok_or_else(|| format!("{path}.key: Required value"))?;
    let values: Vec<String> = req
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let number = |values: &[String]| match values {
        [one] => {
            one.parse::<i64>().map_err(|_| format!("{path}.values[0]: Invalid value: {one:?}: must be an integer"))
        }
        _ => Err(format!(
            "{path}.values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"
        )),
    };
    let op = match req.get("operator").and_then(Value::as_str).unwrap_or_default() {
        "In" if !values.is_empty() => Op::In(values),
        "NotIn" if !values.is_empty() => Op::NotIn(values),
        "In" | "NotIn" => {
            return Err(format!("{path}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"))
        }
        "Exists" => Op::Exists,
        "DoesNotExist" => Op::DoesNotExist,
        "Gt" => Op::Gt(number(&values)?),
        "Lt" => Op::Lt(number(&values)?),
        other => return Err(format!("{path}.operator: Invalid value: {other:?}: not a valid selector operator")),
    };
    Ok(Requirement { key: key.to_string(), op })
}

/// One NodeSelectorTerm: every label expression and field expression must hold.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    expressions: Vec<Requirement>,
    /// Only `metadata.name` is a selectable node field.
    name_fields: Vec<Requirement>,
}

impl Term {
    fn parse(term: &Value, path: &str) -> Result<Self, String> {
        let parse_list = |field: &str| -> Result<Vec<Requirement>, String> {
            term.get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| parse_requirement(r, &format!("{path}.{field}[{i}]")))
                .collect()
        };
        let expressions = parse_list("matchExpressions")?;
        let name_fields = parse_list("matchFields")?;
        for (i, field) in name_fields.iter().enumerate() {
            if field.key != "metadata.name" {
                return Err(format!(
                    "{path}.matchFields[{i}].key: Invalid value: {:?}: not a valid field selector key",
                    field.key
                ));
            }
            if !matches!(field.op, Op::In(ref v) | Op::NotIn(ref v) if v.len() == 1) {
                return Err(format!(
                    "{path}.matchFields[{i}]: Invalid value: must be 'In' or 'NotIn' with exactly one value"
                ));
            }
        }
        Ok(Self { expressions, name_fields })
    }

    /// An empty term matches no node.
    fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        if self.expressions.is_empty() && self.name_fields.is_empty() {
            return false;
        }
        self.expressions.iter().all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
            && self.name_fields.iter().all(|r| r.matches(Some(node_name)))
    }
}

/// A pod's wishes about node labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeAffinity {
    node_selector: BTreeMap<String, String>,
    /// Terms are alternatives; `None` means no requirement.
    required: Option<Vec<Term>>,
    preferred: Vec<(i64, Term)>,
}

impl NodeAffinity {
    pub fn parse(spec: &Value) -> Result<Self, String> {
        let node_selector = spec
            .get("nodeSelector")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let base = "spec.affinity.nodeAffinity";
        let affinity = spec.pointer("/affinity/nodeAffinity");
        let required = match affinity.and_then(|a| a.get("requiredDuringSchedulingIgnoredDuringExecution")) {
            Some(selector) if !selector.is_null() => Some(
                selector
                    .get("nodeSelectorTerms")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, t)| {
                        Term::parse(
                            t,
                            &format!("{base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]"),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => None,
        };
        let mut preferred = Vec::new();
        let preferences = affinity.and_then(|a| a.get("preferredDuringSchedulingIgnoredDuringExecution"));
        for (i, p) in preferences.and_then(Value::as_array).into_iter().flatten().enumerate() {
            let weight = p.get("weight").and_then(Value::as_i64).unwrap_or(0);
            let path = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}].preference");
            let term = Term::parse(p.get("preference").unwrap_or(&Value::Null), &path)?;
            if weight != 0 {
                preferred.push((weight, term));
            }
        }
        Ok(Self { node_selector, required, preferred })
    }

    pub fn required_match(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.node_selector.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.required.as_ref().is_none_or(|terms| terms.iter().any(|t| t.matches(node_name, labels)))
    }

    /// The summed weight of the preferred terms the node matches.
    pub fn preference(&self, node_name: &str, labels: &BTreeMap<String, String>) -> i64 {
        self.preferred.iter().filter(|(_, t)| t.matches(node_name, labels)).map(|(w, _)| *w).sum()
    }
}

pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
    let Some(spec) = node.spec() else { return Ok(()) };
    if pod.node_affinity.required_match(&node.name, &spec.labels) {
        Ok(())
    } else {
        Err(Unfit::unresolvable(Plugin::NodeAffinity, "node(s) didn't match Pod's node affinity/selector"))
    }
}

pub fn score(pod: &PodInfo, node: &NodeInfo) -> i64 {
    node.spec().map(|s| pod.node_affinity.preference(&node.name, &s.labels)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn required(terms: Value) -> NodeAffinity {
        NodeAffinity::parse(&json!({"affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
        }}}))
        .unwrap()
    }

    #[test]
    fn node_selector_needs_every_label() {
        let affinity = NodeAffinity::parse(&json!({"nodeSelector": {"disk": "ssd", "zone": "a"}})).unwrap();
        assert!(affinity.required_match("n", &labels(&[("disk", "ssd"), ("zone", "a"), ("x", "y")])));
        assert!(!affinity.required_match("n", &labels(&[("disk", "ssd")])));
        assert!(NodeAffinity::default().required_match("n", &labels(&[])));
    }

    #[test]
    fn expression_operators() {
        let node = labels(&[("zone", "a"), ("cores", "8")]);
        let cases = [
            (json!({"key": "zone", "operator": "In", "values": ["a", "b"]}), true),
            (json!({"key": "zone", "operator": "In", "values": ["c"]}), false),
            (json!({"key": "zone", "operator": "NotIn", "values": ["b"]}), true),
            (json!({"key": "missing", "operator": "NotIn", "values": ["b"]}), true),
            (json!({"key": "zone", "operator": "Exists"}), true),
            (json!({"key": "zone", "operator": "DoesNotExist"}), false),
            (json!({"key": "missing", "operator": "DoesNotExist"}), true),
            (json!({"key": "cores", "operator": "Gt", "values": ["4"]}), true),
            (json!({"key": "cores", "operator": "Gt", "values": ["8"]}), false),
            (json!({"key": "cores", "operator": "Lt", "values": ["16"]}), true),
            (json!({"key": "zone", "operator": "Lt", "values": ["16"]}), false),
        ];
        for (expression, expected) in cases {
            let affinity = required(json!([{"matchExpressions": [expression.clone()]}]));
            assert_eq!(affinity.required_match("n", &node), expected, "{expression}");
        }
    }

    #[test]
    fn terms_are_alternatives_and_fields_select_names() {
        let affinity = required(json!([
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]},
        ]));
        assert!(affinity.required_match("n1", &labels(&[("zone", "a")])));
        assert!(affinity.required_match("n2", &labels(&[("zone", "b")])));
        assert!(!affinity.required_match("n2", &labels(&[("zone", "a")])));
        assert!(!required(json!([{}])).required_match("n1", &labels(&[])), "an empty term matches nothing");
        assert!(!required(json!([])).required_match("n1", &labels(&[])), "no terms match nothing");
    }

    #[test]
    fn preferred_weights_add_up() {
        let affinity = NodeAffinity::parse(&json!({"affinity": {"nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
                {"weight": 5, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
            ]
        }}}))
        .unwrap();
        assert_eq!(affinity.preference("n", &labels(&[("disk", "ssd"), ("zone", "a")])), 15);
        assert_eq!(affinity.preference("n", &labels(&[("zone", "a")])), 5);
        assert_eq!(affinity.preference("n", &labels(&[])), 0);
    }

    #[test]
    fn invalid_terms_are_errors() {
        for term in [
            json!({"matchExpressions": [{"key": "a", "operator": "Near"}]}),
            json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
            json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["x"]}]}),
            json!({"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["x"]}]}),
        ] {
            let spec = json!({"affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term.clone()]}
            }}});
            assert!(NodeAffinity::parse(&spec).is_err(), "{term}");
        }
    }
}
