//! Typed decoding: objects are checked against the k8s-openapi Rust types, which gives
//! Kubernetes' own shape rules (types, enums of known fields) and a canonical JSON form with
//! unknown fields dropped, as the Go API server does when it decodes into its structs.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::server::api_error::ApiError;

/// An object after typed decoding.
#[derive(Debug)]
pub struct Decoded {
    /// Canonical JSON of the object (unknown fields pruned).
    pub object: Value,
    /// Paths of fields the type does not know (`spec.containers[0].foo`), for
    /// `fieldValidation=Strict|Warn`.
    pub unknown_fields: Vec<String>,
}

/// Decodes `value` as a `T` and re-encodes it.
pub fn decode<T: Serialize + DeserializeOwned + k8s_openapi::Resource>(value: Value) -> Result<Decoded, ApiError> {
    let typed: T = serde_path_to_error::deserialize(&value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let at = if path == "." { String::new() } else { format!(" at {path}") };
        ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {inner}{at}",
            kind = T::KIND,
            version = T::VERSION
        ))
    })?;
    let object = serde_json::to_value(&typed).map_err(ApiError::internal)?;
    let mut unknown_fields = Vec::new();
    collect_unknown(&value, &object, String::new(), &mut unknown_fields);
    Ok(Decoded { object, unknown_fields })
}

/// Records every non-null field of `input` that the canonical `output` lacks.
fn collect_unknown(input: &Value, output: &Value, path: String, found: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(inp), Value::Object(out)) => {
            for (key, value) in inp {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match out.get(key) {
                    Some(o) => collect_unknown(value, o, child, found),
                    None if !value.is_null() => found.push(child),
                    None => {}
                }
            }
        }
        (Value::Array(inp), Value::Array(out)) => {
            for (i, (a, b)) in inp.iter().zip(out).enumerate() {
                collect_unknown(a, b, format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_pruned_and_reported() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "c", "image": "nginx", "bogus": 1}], "extra": true}});
        let d = decode::<Pod>(pod).unwrap();
        assert_eq!(d.unknown_fields, ["spec.containers[0].bogus", "spec.extra"]);
        assert!(d.object["spec"].get("extra").is_none());
        assert_eq!(d.object["spec"]["containers"][0]["image"], "nginx");
    }

    #[test]
    fn wrong_types_are_bad_requests() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": "nope"}});
        let err = decode::<Pod>(pod).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(err.message.contains("Pod in version \"v1\" cannot be handled as a Pod"), "{}", err.message);
        assert!(err.message.contains("spec.containers"), "{}", err.message);
    }
}
