//! Turns the bytes of a message into the JSON Go's encoder would write for the same object:
//! member names, `omitempty` and the special types follow the message table.

use base64::Engine;
use serde_json::{Map, Value};

use super::envelope::{Unknown, MAGIC};
use super::error::DecodeError;
use super::messages;
use super::schema::{Card, Field, Form, Message, Type};
use super::special;
use super::wire::{Reader, WireValue};
use super::MEDIA_TYPE;

/// Deeper nesting than any Kubernetes object needs; bounds the recursion on hostile input
/// (objects embedded in `RawExtension`s can nest without end).
const MAX_DEPTH: usize = 64;

/// The object in an envelope, with `apiVersion` and `kind` set from it.
pub fn object_of_kind(unknown: &Unknown<'_>, depth: usize) -> Result<Value, DecodeError> {
    if !unknown.content_encoding.is_empty() {
        return Err(DecodeError::new(format!("content encoding {:?} is not supported", unknown.content_encoding)));
    }
    if !unknown.content_type.is_empty() && unknown.content_type != MEDIA_TYPE {
        return Err(DecodeError::new(format!("embedded content type {:?} is not supported", unknown.content_type)));
    }
    if unknown.api_version.is_empty() || unknown.kind.is_empty() {
        return Err(DecodeError::new("the envelope names no apiVersion and kind"));
    }
    let message = messages::KINDS
        .iter()
        .find(|k| k.api_version == unknown.api_version && k.kind == unknown.kind)
        .map(|k| k.message)
        .or_else(|| (unknown.kind == "DeleteOptions").then_some(messages::DELETE_OPTIONS))
        .ok_or_else(|| {
            DecodeError::new(format!(
                "no kind {:?} is registered for version {:?} in protobuf",
                unknown.kind, unknown.api_version
            ))
        })?;
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::String(unknown.api_version.clone()));
    object.insert("kind".into(), Value::String(unknown.kind.clone()));
    fill(message, unknown.raw, &mut object, depth)?;
    Ok(Value::Object(object))
}

/// Decodes the fields of `message` into `object`; fields already there are merged into, as
/// protobuf merges a message sent in several parts.
fn fill(message: &Message, bytes: &[u8], object: &mut Map<String, Value>, depth: usize) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::new(format!("objects nest deeper than {MAX_DEPTH} levels")));
    }
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field()? {
        // Fields this table does not know come from a newer client; protobuf skips them.
        if let Some(field) = message.fields.iter().find(|f| f.number == number) {
            field_into(field, wire, object, depth).map_err(|e| e.inside(field.json))?;
        }
    }
    for field in message.fields.iter().filter(|f| f.card == Card::Always) {
        object.entry(field.json).or_insert_with(|| zero(&field.ty));
    }
    Ok(())
}

fn field_into(
    field: &Field,
    wire: WireValue<'_>,
    object: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), DecodeError> {
    let (json, ty) = (field.json, &field.ty);
    match (&field.card, ty) {
        (Card::Inline, Type::Object(inner)) => fill(inner, bytes(wire)?, object, depth + 1),
        (_, Type::Map(value_type)) => {
            let (key, value) = map_entry(value_type, bytes(wire)?, depth + 1)?;
            let entries = object.entry(json).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(entries) = entries {
                entries.insert(key, value);
            }
            Ok(())
        }
        (Card::Repeated, _) => {
            let items = object.entry(json).or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = items else {
                return Ok(());
            };
            match wire {
                // Repeated numbers and bools may come packed into one length-delimited field.
                WireValue::Bytes(packed) if matches!(ty, Type::Bool | Type::Int32 | Type::Int64) => {
                    let mut reader = Reader::new(packed);
                    while !reader.is_empty() {
                        items.push(value(ty, WireValue::Varint(reader.varint()?), depth)?);
                    }
                }
                _ => items.push(value(ty, wire, depth)?),
            }
            Ok(())
        }
        (_, Type::Object(inner)) if inner.form == Form::Struct => {
            let existing = object.entry(json).or_insert_with(|| Value::Object(Map::new()));
            match existing {
                Value::Object(existing) => fill(inner, bytes(wire)?, existing, depth + 1),
                _ => Ok(()),
            }
        }
        (Card::OmitEmpty, _) => {
            let value = value(ty, wire, depth)?;
            if is_zero(&value) {
                object.shift_remove(json);
            } else {
                object.insert(json.into(), value);
            }
            Ok(())
        }
        _ => {
            let value = value(ty, wire, depth)?;
            object.insert(json.into(), value);
            Ok(())
        }
    }
}

/// One value of `ty`.
fn value(ty: &Type, wire: WireValue<'_>, depth: usize) -> Result<Value, DecodeError> {
    Ok(match ty {
        Type::Str => Value::String(utf8(bytes(wire)?)?),
        Type::Bytes => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes(wire)?)),
        Type::Bool => Value::Bool(varint(wire)? != 0),
        // Go truncates an int32 sent as a 64-bit varint (negative numbers are).
        Type::Int32 => Value::from(varint(wire)? as i32),
        Type::Int64 => Value::from(varint(wire)? as i64),
        Type::Object(message) => {
            let bytes = bytes(wire)?;
            let mut object = Map::new();
            fill(message, bytes, &mut object, depth + 1)?;
            match message.form {
                Form::Struct => Value::Object(object),
                Form::List => object.into_iter().next().map_or_else(|| Value::Array(Vec::new()), |(_, items)| items),
            }
        }
        Type::Map(_) => return Err(DecodeError::new("a map directly inside a map or list")),
        Type::Quantity => special::quantity(bytes(wire)?)?,
        Type::IntOrString => special::int_or_string(bytes(wire)?)?,
        Type::Time => special::time(bytes(wire)?, false)?,
        Type::MicroTime => special::time(bytes(wire)?, true)?,
        Type::RawExtension => match special::embedded(bytes(wire)?)? {
            None => Value::Null,
            Some(raw) if raw.starts_with(MAGIC) => object_of_kind(&Unknown::parse(raw)?, depth + 1)?,
            Some(raw) => json(raw)?,
        },
        Type::FieldsV1 => match special::embedded(bytes(wire)?)? {
            None => Value::Null,
            Some(raw) => json(raw)?,
        },
    })
}

/// A map entry {key = 1, value = 2}; either may be left out for its zero value.
fn map_entry(value_type: &Type, entry: &[u8], depth: usize) -> Result<(String, Value), DecodeError> {
    let mut key = String::new();
    let mut found = None;
    let mut reader = Reader::new(entry);
    while let Some((number, wire)) = reader.next_field()? {
        match number {
            1 => key = utf8(bytes(wire)?).map_err(|e| e.inside("key"))?,
            2 => found = Some(wire),
            _ => {}
        }
    }
    let value = match (found, value_type) {
        (Some(wire), _) => value(value_type, wire, depth),
        (None, Type::Bool | Type::Int32 | Type::Int64) => Ok(zero(value_type)),
        // An absent message or string is an empty one.
        (None, _) => value(value_type, WireValue::Bytes(&[]), depth),
    };
    let value = value.map_err(|e| e.inside(format!("[{key:?}]")))?;
    Ok((key, value))
}

/// What Go writes for a scalar it never received.
fn zero(ty: &Type) -> Value {
    match ty {
        Type::Bool => Value::Bool(false),
        Type::Int32 | Type::Int64 => Value::from(0),
        _ => Value::String(String::new()),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn bytes<'a>(wire: WireValue<'a>) -> Result<&'a [u8], DecodeError> {
    match wire {
        WireValue::Bytes(bytes) => Ok(bytes),
        other => Err(DecodeError::new(format!("a {} value where a length-delimited one belongs", other.kind()))),
    }
}

fn varint(wire: WireValue<'_>) -> Result<u64, DecodeError> {
    match wire {
        WireValue::Varint(v) => Ok(v),
        other => Err(DecodeError::new(format!("a {} value where a varint belongs", other.kind()))),
    }
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::new("a string that is not valid UTF-8"))
}

fn json(raw: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(raw).map_err(|e| DecodeError::new(format!("the embedded document is not valid JSON: {e}")))
}
