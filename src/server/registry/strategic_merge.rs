//! Placeholder until the strategic-merge implementation lands: behaves as a JSON merge patch.
use serde_json::Value;

use crate::server::api_error::ApiError;

pub fn apply(original: &Value, patch: &Value, _definition: &str) -> Result<Value, ApiError> {
    let mut doc = original.clone();
    json_patch::merge(&mut doc, patch);
    Ok(doc)
}
