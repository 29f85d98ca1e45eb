//! Checking an object a client sent: its apiVersion and kind, its shape against the Rust
//! type, unknown fields per `fieldValidation`, and the generic rules of `metadata`.

use serde_json::Value;

use super::catalog::ResourceType;
use super::options::FieldValidation;
use super::validation;
use crate::server::api_error::{ApiError, Cause};

/// Annotations may not exceed this many bytes in total (keys and values).
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// The canonical form of a client's object and the warnings to return.
pub fn admit(rt: &ResourceType, body: Value, validation: FieldValidation) -> Result<(Value, Vec<String>), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(format!("the body must be a JSON object describing a {}", rt.kind)));
    }
    let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    if kind.is_empty() {
        return Err(ApiError::bad_request(format!("Object 'Kind' is missing in the {} sent", rt.kind)));
    }
    if api_version.is_empty() {
        return Err(ApiError::bad_request(format!("Object 'apiVersion' is missing in the {kind} sent")));
    }
    if kind != rt.kind || api_version != rt.api_version() {
        return Err(ApiError::bad_request(format!(
            "the object's apiVersion/kind ({api_version}, {kind}) does not match the resource {} it was sent to (expected {}, {})",
            crate::server::api_error::qualified(rt.group, rt.plural),
            rt.api_version(),
            rt.kind
        )));
    }
    let decoded = (rt.decode)(body)?;
    let mut warnings = Vec::new();
    if !decoded.unknown_fields.is_empty() {
        match validation {
            FieldValidation::Strict => {
                let fields =
                    decoded.unknown_fields.iter().map(|f| format!("unknown field \"{f}\"")).collect::<Vec<_>>();
                return Err(ApiError::bad_request(format!(
                    "{kind} in version \"{}\" cannot be handled as a {kind}: strict decoding error: {}",
                    rt.version,
                    fields.join(", ")
                )));
            }
            FieldValidation::Warn => {
                warnings.extend(decoded.unknown_fields.iter().map(|f| format!("unknown field \"{f}\"")));
            }
            FieldValidation::Ignore => {}
        }
    }
    Ok((decoded.object, warnings))
}

/// The rules every object's metadata follows (name syntax is checked by the kind).
pub fn validate_metadata(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        for (key, value) in labels {
            if let Err(why) = validation::qualified_name(key) {
                causes.push(Cause::invalid("metadata.labels", key, why));
            }
            let value = value.as_str().unwrap_or_default();
            if let Err(why) = validation::label_value(value) {
                causes.push(Cause::invalid("metadata.labels", value, why));
            }
        }
    }
    if let Some(annotations) = meta.get("annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (key, value) in annotations {
            if let Err(why) = validation::qualified_name(&key.to_lowercase()) {
                causes.push(Cause::invalid("metadata.annotations", key, why));
            }
            total += key.len() + value.as_str().map_or(0, str::len);
        }
        if total > ANNOTATIONS_MAX_BYTES {
            causes.push(Cause {
                reason: "FieldValueTooLong",
                field: "metadata.annotations".into(),
                message: format!("Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes"),
            });
        }
    }
    for (i, finalizer) in meta.get("finalizers").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let text = finalizer.as_str().unwrap_or_default();
        if let Err(why) = validation::qualified_name(text) {
            causes.push(Cause::invalid(format!("metadata.finalizers[{i}]"), text, why));
        }
    }
    for (i, owner) in meta.get("ownerReferences").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for field in ["apiVersion", "kind", "name", "uid"] {
            if owner.get(field).and_then(Value::as_str).unwrap_or_default().is_empty() {
                causes.push(Cause::required(format!("metadata.ownerReferences[{i}].{field}")));
            }
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::registry::catalog;
    use serde_json::json;

    #[test]
    fn kind_and_version_must_match_the_resource() {
        let pods = catalog::find("", "v1", "pods").unwrap();
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}});
        assert_eq!(admit(pods, svc, FieldValidation::Strict).unwrap_err().code, 400);
        let no_kind = json!({"apiVersion": "v1", "metadata": {"name": "a"}});
        assert!(admit(pods, no_kind, FieldValidation::Strict).unwrap_err().message.contains("'Kind' is missing"));
    }

    #[test]
    fn unknown_fields_follow_the_validation_mode() {
        let cms = catalog::find("", "v1", "configmaps").unwrap();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "bogus": 1});
        let err = admit(cms, cm.clone(), FieldValidation::Strict).unwrap_err();
        assert!(err.message.contains("strict decoding error: unknown field \"bogus\""), "{}", err.message);
        let (obj, warnings) = admit(cms, cm.clone(), FieldValidation::Warn).unwrap();
        assert_eq!(warnings, ["unknown field \"bogus\""]);
        assert!(obj.get("bogus").is_none());
        assert!(admit(cms, cm, FieldValidation::Ignore).unwrap().1.is_empty());
    }

    #[test]
    fn metadata_rules() {
        let obj = json!({"metadata": {"labels": {"Bad Key": "x", "ok": "bad value!"}, "finalizers": ["a/b/c"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "X"}]}});
        let fields: Vec<_> = validate_metadata(&obj).into_iter().map(|c| c.field).collect();
        assert!(fields.contains(&"metadata.labels".to_string()));
        assert!(fields.contains(&"metadata.finalizers[0]".to_string()));
        assert!(fields.contains(&"metadata.ownerReferences[0].uid".to_string()));
    }
}
