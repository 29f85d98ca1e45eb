//! Helpers to fill defaults into JSON objects.

use serde_json::{Map, Value};

/// Sets `obj[path…]` to `value` if it is missing or null, creating parent objects.
pub fn set_default(obj: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut cur = obj;
    for p in parents {
        if !cur.is_object() {
            return;
        }
        cur = cur.as_object_mut().expect("checked").entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(map) = cur.as_object_mut() {
        let entry = map.entry(last.to_string()).or_insert(Value::Null);
        if entry.is_null() {
            *entry = value;
        }
    }
}

/// Mutable elements of the array at `obj[path…]`, if present.
pub fn each_mut<'a>(obj: &'a mut Value, path: &[&str]) -> impl Iterator<Item = &'a mut Value> {
    let mut cur = Some(obj);
    for p in path {
        cur = cur.and_then(|c| c.get_mut(*p));
    }
    cur.and_then(Value::as_array_mut).into_iter().flatten()
}

/// The string at `obj[path…]`, or "".
pub fn str_at<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = obj;
    for p in path {
        match cur.get(*p) {
            Some(v) => cur = v,
            None => return "",
        }
    }
    cur.as_str().unwrap_or_default()
}
