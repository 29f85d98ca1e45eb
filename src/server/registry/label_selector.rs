//! Label selectors (`app=web,tier!=db,env in (a,b),!legacy`) as Kubernetes parses and
//! matches them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::server::api_error::ApiError;

/// How a requirement tests a label's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

/// One term of a selector.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
}

impl Requirement {
    /// Whether a label (or field) with `value` — `None` when absent — satisfies it.
    pub fn matches(&self, value: Option<&str>) -> bool {
        match &self.op {
            Op::In(values) => value.is_some_and(|v| values.iter().any(|x| x == v)),
            Op::NotIn(values) => value.is_none_or(|v| !values.iter().any(|x| x == v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::Gt(n) => value.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
            Op::Lt(n) => value.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
        }
    }
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(
                parse_requirement(part)
                    .map_err(|why| ApiError::bad_request(format!("unable to parse requirement: {why}: {part:?}")))?,
            );
        }
        Ok(Self { requirements })
    }

    /// The selector of a `metav1.LabelSelector` object (`matchLabels` + `matchExpressions`).
    pub fn from_object(selector: &Value) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (key, value) in labels {
                let value = value.as_str().ok_or_else(|| format!("matchLabels[{key}] must be a string"))?;
                requirements.push(Requirement { key: key.clone(), op: Op::In(vec![value.to_string()]) });
            }
        }
        for expr in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
            let key = expr.get("key").and_then(Value::as_str).ok_or("matchExpressions[].key is required")?;
            let values: Vec<String> = expr
                .get("values")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let op = match expr.get("operator").and_then(Value::as_str) {
                Some("In") if !values.is_empty() => Op::In(values),
                Some("NotIn") if !values.is_empty() => Op::NotIn(values),
                Some("Exists") => Op::Exists,
                Some("DoesNotExist") => Op::DoesNotExist,
                Some(op @ ("In" | "NotIn")) => return Err(format!("operator {op} needs at least one value")),
                Some(op) => return Err(format!("{op:?} is not a valid label selector operator")),
                None => return Err("matchExpressions[].operator is required".into()),
            };
            requirements.push(Requirement { key: key.to_string(), op });
        }
        Ok(Self { requirements })
    }

    /// An equality selector from a map (a Service's or ReplicationController's selector).
    pub fn from_map(labels: &serde_json::Map<String, Value>) -> Self {
        let requirements = labels
            .iter()
            .map(|(k, v)| Requirement { key: k.clone(), op: Op::In(vec![v.as_str().unwrap_or_default().to_string()]) })
            .collect();
        Self { requirements }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
    }

    /// Matches the labels of an object (`metadata.labels`).
    pub fn matches_object(&self, object: &Value) -> bool {
        self.is_empty() || self.matches(&labels_of(object))
    }
}

/// `metadata.labels` of an object as a map.
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

/// Splits at commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement { key: valid_key(key.trim())?, op: Op::DoesNotExist });
    }
    for (token, negate) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((key, value)) = part.split_once(token) {
            let value = valid_value(value.trim())?;
            let op = if negate { Op::NotIn(vec![value]) } else { Op::In(vec![value]) };
            return Ok(Requirement { key: valid_key(key.trim())?, op });
        }
    }
    for (token, greater) in [(">", true), ("<", false)] {
        if let Some((key, value)) = part.split_once(token) {
            let n = value.trim().parse::<i64>().map_err(|_| format!("{value:?} is not an integer"))?;
            return Ok(Requirement { key: valid_key(key.trim())?, op: if greater { Op::Gt(n) } else { Op::Lt(n) } });
        }
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = valid_key(words.next().unwrap_or_default())?;
    let rest = words.next().unwrap_or_default().trim();
    if rest.is_empty() {
        return Ok(Requirement { key, op: Op::Exists });
    }
    let (op, set) = if let Some(set) = rest.strip_prefix("notin") {
        (false, set)
    } else if let Some(set) = rest.strip_prefix("in") {
        (true, set)
    } else {
        return Err(format!("found {rest:?}, expected one of: in, notin, =, ==, !=, gt, lt"));
    };
    let set = set.trim();
    let inner =
        set.strip_prefix('(').and_then(|s| s.strip_suffix(')')).ok_or("expected a parenthesised set of values")?;
    let values = inner.split(',').map(|v| valid_value(v.trim())).collect::<Result<Vec<_>, _>>()?;
    if values.iter().all(String::is_empty) {
        return Err("for 'in', 'notin' operators, values set can't be empty".into());
    }
    Ok(Requirement { key, op: if op { Op::In(values) } else { Op::NotIn(values) } })
}

fn valid_key(key: &str) -> Result<String, String> {
    super::validation::qualified_name(key).map_err(|why| format!("invalid label key {key:?}: {why}"))?;
    Ok(key.to_string())
}

fn valid_value(value: &str) -> Result<String, String> {
    super::validation::label_value(value).map_err(|why| format!("invalid label value {value:?}: {why}"))?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn equality_set_and_existence_requirements() {
        let sel = LabelSelector::parse("app=web, tier!=db,env in (prod, staging),!legacy,team").unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("env", "prod"), ("team", "x")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("env", "dev"), ("team", "x")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("env", "prod"), ("team", "x"), ("legacy", "1")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("env", "prod")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("env", "prod"), ("team", "x"), ("tier", "db")])));
        let notin = LabelSelector::parse("env notin (prod)").unwrap();
        assert!(notin.matches(&labels(&[])));
        assert!(!notin.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn bad_selectors_are_bad_requests() {
        for bad in ["app in prod", "Bad Key=x", "a=b=c d", "app in ()"] {
            let err = LabelSelector::parse(bad).unwrap_err();
            assert_eq!(err.code, 400, "{bad}");
        }
    }

    #[test]
    fn object_selectors_with_expressions() {
        let sel = LabelSelector::from_object(&serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]
        }))
        .unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("env", "b")])));
        assert!(!sel.matches(&labels(&[("app", "web")])));
    }
}
