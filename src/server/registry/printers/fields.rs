//! Reading fields of objects in their canonical JSON form. What is absent reads as Go's
//! zero value (`""`, `0`, an empty list), because the upstream printers this module mirrors
//! see typed Go structs where a missing field is exactly that.

use jiff::Timestamp;
use serde_json::{Map, Value};

/// The string at `pointer` (e.g. `/status/phase`), or `""`.
pub fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The integer at `pointer`, if there is one.
pub fn opt_int(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// The integer at `pointer`, or 0.
pub fn int(object: &Value, pointer: &str) -> i64 {
    opt_int(object, pointer).unwrap_or(0)
}

/// The boolean at `pointer`, if there is one.
pub fn flag(object: &Value, pointer: &str) -> Option<bool> {
    object.pointer(pointer).and_then(Value::as_bool)
}

/// The list at `pointer`, or an empty one.
pub fn list<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object.pointer(pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The map at `pointer`, if there is one.
pub fn map<'a>(object: &'a Value, pointer: &str) -> Option<&'a Map<String, Value>> {
    object.pointer(pointer).and_then(Value::as_object)
}

/// Number of entries of the list or map at `pointer`.
pub fn count(object: &Value, pointer: &str) -> usize {
    match object.pointer(pointer) {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Object(entries)) => entries.len(),
        _ => 0,
    }
}

/// Whether a non-null value is set at `pointer` (a Go pointer field being non-nil).
pub fn is_set(object: &Value, pointer: &str) -> bool {
    object.pointer(pointer).is_some_and(|value| !value.is_null())
}

/// The timestamp (`metav1.Time` or `MicroTime`) at `pointer`; unset or unreadable ones are
/// Go's zero time, which the printers show as `<unknown>`.
pub fn time(object: &Value, pointer: &str) -> Option<Timestamp> {
    object.pointer(pointer)?.as_str()?.parse().ok()
}

/// The Quantity at `pointer` as written, or `default` when there is none.
pub fn quantity<'a>(object: &'a Value, pointer: &str, default: &'a str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or(default)
}

/// An IntOrString (`minAvailable: 2` or `"50%"`) as Go's `IntOrString.String()` writes it.
pub fn int_or_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_fields_read_as_zero_values() {
        let object =
            json!({"status": {"phase": "Running", "count": 3, "list": [1, 2], "map": {"a": 1}, "nothing": null}});
        assert_eq!(text(&object, "/status/phase"), "Running");
        assert_eq!(text(&object, "/status/count"), "");
        assert_eq!(text(&object, "/spec/missing"), "");
        assert_eq!(int(&object, "/status/count"), 3);
        assert_eq!(int(&object, "/status/phase"), 0);
        assert_eq!(list(&object, "/status/list").len(), 2);
        assert!(list(&object, "/status/map").is_empty());
        assert_eq!(count(&object, "/status/map"), 1);
        assert_eq!(count(&object, "/status/list"), 2);
        assert_eq!(count(&object, "/status/phase"), 0);
        assert!(is_set(&object, "/status/map"));
        assert!(!is_set(&object, "/status/nothing"));
        assert!(!is_set(&object, "/status/absent"));
    }

    #[test]
    fn timestamps_parse_seconds_and_microseconds() {
        let object = json!({"a": "2024-05-01T10:00:00Z", "b": "2024-05-01T10:00:00.123456Z", "c": "yesterday"});
        assert_eq!(time(&object, "/a").unwrap().as_second(), 1714557600);
        assert_eq!(time(&object, "/b").unwrap().subsec_microsecond(), 123456);
        assert_eq!(time(&object, "/c"), None);
        assert_eq!(time(&object, "/d"), None);
    }

    #[test]
    fn int_or_string_prints_either() {
        assert_eq!(int_or_string(&json!(2)), "2");
        assert_eq!(int_or_string(&json!("50%")), "50%");
    }
}
