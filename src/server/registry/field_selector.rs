//! Field selectors (`spec.nodeName=n1,status.phase!=Running`): only the fields Kubernetes
//! supports for each kind, matched against the object's values.

use serde_json::Value;

use super::catalog::ResourceType;
use crate::server::api_error::ApiError;

#[derive(Debug, Clone, PartialEq)]
struct Term {
    field: String,
    value: String,
    equal: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    terms: Vec<Term>,
}

/// Fields every kind supports.
const COMMON: &[&str] = &["metadata.name", "metadata.namespace"];

/// Extra selectable fields per kind, as the upstream API server registers them.
fn kind_fields(rt: &ResourceType) -> &'static [&'static str] {
    match (rt.group, rt.kind) {
        ("", "Pod") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "Event") => {
            &["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "reason", "type"]
        }
        ("", "Secret") => &["type"],
        ("", "Node") => &["spec.unschedulable"],
        ("", "Namespace") => &["status.phase"],
        ("", "ReplicationController") => &["status.replicas"],
        ("apps", "ReplicaSet") => &["status.replicas"],
        ("batch", "Job") => &["status.successful"],
        ("", "PersistentVolume") => &["name"],
        ("", "PersistentVolumeClaim") => &["name"],
        _ => &[],
    }
}

impl FieldSelector {
    pub fn parse(text: &str, rt: &ResourceType) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for part in split_unescaped(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(ApiError::bad_request(format!("invalid selector: '{text}'; can't understand '{part}'")));
            };
            let field = field.trim();
            if !COMMON.contains(&field) && !kind_fields(rt).contains(&field) {
                return Err(ApiError::bad_request(format!("field label not supported: {field}")));
            }
            terms.push(Term { field: field.to_string(), value: unescape(value.trim()), equal });
        }
        Ok(Self { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value this selector requires for `field`, if it pins one (e.g. `metadata.name`).
    pub fn required(&self, field: &str) -> Option<&str> {
        self.terms.iter().find(|t| t.equal && t.field == field).map(|t| t.value.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.terms.iter().all(|t| (field_value(object, &t.field) == t.value) == t.equal)
    }
}

/// The selectable value of `field`: strings as they are, other scalars as text, missing as "".
fn field_value(object: &Value, field: &str) -> String {
    let path = match field {
        "source" => "source.component".to_string(),
        "name" => "metadata.name".to_string(),
        _ => field.to_string(),
    };
    let pointer = format!("/{}", path.replace('.', "/"));
    match object.pointer(&pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        // Unset booleans select as false, as in Go where the zero value is printed.
        None if field == "spec.unschedulable" || field == "spec.hostNetwork" => "false".into(),
        None if field == "status.replicas" || field == "status.successful" => "0".into(),
        _ => String::new(),
    }
}

fn split_unescaped(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b',' && (i == 0 || bytes[i - 1] != b'\\') {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

fn unescape(value: &str) -> String {
    value.replace("\\,", ",").replace("\\=", "=").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::registry::catalog;
    use serde_json::json;

    #[test]
    fn pod_fields_select() {
        let pods = catalog::find("", "v1", "pods").unwrap();
        let sel = FieldSelector::parse("spec.nodeName=n1,status.phase!=Running", pods).unwrap();
        assert!(sel.matches(&json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Pending"}})));
        assert!(!sel.matches(&json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})));
        assert!(!sel.matches(&json!({"spec": {}, "status": {}})));
        assert_eq!(FieldSelector::parse("metadata.name=a", pods).unwrap().required("metadata.name"), Some("a"));
    }

    #[test]
    fn unsupported_fields_are_refused() {
        let cms = catalog::find("", "v1", "configmaps").unwrap();
        let err = FieldSelector::parse("spec.nodeName=x", cms).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(err.message.contains("field label not supported"));
    }
}
