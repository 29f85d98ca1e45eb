//! Decoding stored objects into JSON values that take no more memory than they need.
//!
//! serde_json fills a map by inserting into an empty one, so a map's entries and its index
//! keep the room they grew to (a third of a decoded pod was such spare room). Decoded
//! objects live on in the informer caches, one per object in the cluster; here every map and
//! array is built at its final size, at the same speed.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A `Value` decoded with every map and array at its final size.
pub struct Compact(pub Value);

impl<'de> Deserialize<'de> for Compact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CompactVisitor).map(Compact)
    }
}

struct CompactVisitor;

impl<'de> Visitor<'de> for CompactVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Compact(item)) = seq.next_element()? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, Compact(value))) = map.next_entry::<String, Compact>()? {
            entries.push((key, value));
        }
        // Collecting from a sized iterator allocates the map at exactly its length.
        Ok(Value::Object(entries.into_iter().collect::<Map<String, Value>>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_same_value_in_the_same_order() {
        let raw = br#"{"b":1,"a":[1.5,-2,"x",null,true,{}],"c":{"z":{"y":[]},"d":18446744073709551615}}"#;
        let compact: Compact = serde_json::from_slice(raw).unwrap();
        let plain: Value = serde_json::from_slice(raw).unwrap();
        assert_eq!(compact.0, plain);
        assert_eq!(serde_json::to_string(&compact.0).unwrap(), serde_json::to_string(&plain).unwrap());
    }

    #[test]
    fn a_duplicate_key_keeps_the_last_value_like_serde_json() {
        let compact: Compact = serde_json::from_slice(br#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(compact.0, serde_json::json!({"a": 2}));
    }
}
