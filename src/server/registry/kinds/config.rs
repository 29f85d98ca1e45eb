//! ConfigMaps and Secrets: key syntax, `stringData`, and secret types.

use serde_json::{json, Map, Value};

use super::defaults::{set_default, str_at};
use super::Strategy;
use crate::server::api_error::Cause;

pub struct ConfigMapStrategy;
pub struct SecretStrategy;

/// Data keys: alphanumerics, '-', '_' or '.', at most 253 characters.
fn key_causes(obj: &Value, field: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    for (key, _) in obj.get(field).and_then(Value::as_object).into_iter().flatten() {
        let ok = !key.is_empty()
            && key.len() <= 253
            && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && key != "."
            && key != "..";
        if !ok {
            causes.push(Cause::invalid(
                format!("{field}[{key}]"),
                key,
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            ));
        }
    }
    causes
}

impl Strategy for ConfigMapStrategy {
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        let mut causes = key_causes(obj, "data");
        causes.extend(key_causes(obj, "binaryData"));
        for (key, _) in obj.get("data").and_then(Value::as_object).into_iter().flatten() {
            if obj.pointer(&format!("/binaryData/{}", key.replace('~', "~0").replace('/', "~1"))).is_some() {
                causes.push(Cause::duplicate(format!("data[{key}]"), key));
            }
        }
        causes
    }
}

impl Strategy for SecretStrategy {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["type"], json!("Opaque"));
        // stringData is write-only: it is folded into data (base64) and never stored.
        if let Some(Value::Object(strings)) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
            use base64::Engine;
            let data = obj.as_object_mut().expect("object").entry("data").or_insert_with(|| Value::Object(Map::new()));
            if let Some(data) = data.as_object_mut() {
                for (key, value) in strings {
                    let text = value.as_str().unwrap_or_default();
                    data.insert(key, base64::engine::general_purpose::STANDARD.encode(text).into());
                }
            }
        }
    }

    fn validate(&self, obj: &Value) -> Vec<Cause> {
        let mut causes = key_causes(obj, "data");
        let required: &[&str] = match str_at(obj, &["type"]) {
            "kubernetes.io/tls" => &["tls.crt", "tls.key"],
            "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
            "kubernetes.io/dockercfg" => &[".dockercfg"],
            "kubernetes.io/basic-auth" | "kubernetes.io/ssh-auth" | "Opaque" | "" => &[],
            _ => &[],
        };
        for key in required {
            if obj.pointer(&format!("/data/{key}")).is_none() {
                causes.push(Cause::required(format!("data[{key}]")));
            }
        }
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        let (a, b) = (str_at(new, &["type"]), str_at(old, &["type"]));
        if a != b {
            return vec![Cause::invalid("type", a, "field is immutable")];
        }
        if old.get("immutable") == Some(&json!(true)) && new.get("data") != old.get("data") {
            return vec![Cause::forbidden("data", "field is immutable when `immutable` is set")];
        }
        Vec::new()
    }
}
