//! The stored form of an object: its JSON without `metadata.resourceVersion` (the store's
//! revision is the truth), written straight from the object instead of from a copy with the
//! field removed, which cost a deep copy on every write.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::server::api_error::ApiError;

pub fn encode(obj: &Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(&Stored(obj)).map_err(ApiError::internal)
}

struct Stored<'a>(&'a Value);

impl Serialize for Stored<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(fields) = self.0 else { return self.0.serialize(serializer) };
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, value) in fields {
            match value {
                Value::Object(metadata) if key == "metadata" => map.serialize_entry(key, &Metadata(metadata))?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

struct Metadata<'a>(&'a Map<String, Value>);

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields: Vec<(&String, &Value)> = self.0.iter().collect();
        // The order a removal from the map leaves (the last field takes the removed one's
        // place), so stored bytes stay what they were.
        if let Some(at) = fields.iter().position(|(key, _)| *key == "resourceVersion") {
            fields.swap_remove(at);
        }
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, value) in fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What encoding did before: copy, remove the field, serialize.
    fn by_copy(obj: &Value) -> Vec<u8> {
        let mut obj = obj.clone();
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        serde_json::to_vec(&obj).unwrap()
    }

    #[test]
    fn same_bytes_as_removing_the_field_from_a_copy() {
        for obj in [
            json!({"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "7", "uid": "u", "labels": {"x": "y"}}, "spec": {}}),
            json!({"metadata": {"resourceVersion": "7"}}),
            json!({"metadata": {"name": "a"}, "data": {"resourceVersion": "kept"}}),
            json!({"metadata": "odd"}),
            json!([1, 2]),
        ] {
            assert_eq!(encode(&obj).unwrap(), by_copy(&obj), "{obj}");
        }
    }
}
