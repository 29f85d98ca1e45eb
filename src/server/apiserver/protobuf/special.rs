//! The apimachinery types whose JSON form is not an object of their protobuf fields:
//! quantities, int-or-strings, timestamps and fields holding embedded documents.

use serde_json::Value;

use super::error::DecodeError;
use super::wire::{Reader, WireValue};

/// The last value of each of the fields numbered 1 to `N` (protobuf's "last one wins"),
/// ignoring fields a newer client might add.
fn fields<const N: usize>(message: &[u8]) -> Result<[Option<WireValue<'_>>; N], DecodeError> {
    let mut found = [None; N];
    let mut reader = Reader::new(message);
    while let Some((number, value)) = reader.next_field()? {
        if let Some(slot) = found.get_mut(number as usize - 1) {
            *slot = Some(value);
        }
    }
    Ok(found)
}

fn text(value: Option<WireValue<'_>>, what: &str) -> Result<String, DecodeError> {
    match value {
        None => Ok(String::new()),
        Some(WireValue::Bytes(bytes)) => std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| DecodeError::new(format!("the {what} is not valid UTF-8"))),
        Some(other) => Err(DecodeError::new(format!("the {what} is a {} value, not a string", other.kind()))),
    }
}

fn integer(value: Option<WireValue<'_>>, what: &str) -> Result<i64, DecodeError> {
    match value {
        None => Ok(0),
        Some(WireValue::Varint(v)) => Ok(v as i64),
        Some(other) => Err(DecodeError::new(format!("the {what} is a {} value, not a varint", other.kind()))),
    }
}

/// `resource.Quantity`: its canonical string; the zero quantity is `"0"` as in Go.
pub fn quantity(message: &[u8]) -> Result<Value, DecodeError> {
    let [string] = fields::<1>(message)?;
    let string = text(string, "quantity")?;
    Ok(Value::String(if string.is_empty() { "0".into() } else { string }))
}

/// `intstr.IntOrString`: type 0 carries `intVal`, type 1 `strVal`.
pub fn int_or_string(message: &[u8]) -> Result<Value, DecodeError> {
    let [kind, int_val, str_val] = fields::<3>(message)?;
    match integer(kind, "int-or-string type")? {
        0 => Ok(Value::from(integer(int_val, "intVal")? as i32)),
        1 => Ok(Value::String(text(str_val, "strVal")?)),
        other => Err(DecodeError::new(format!("int-or-string type {other} is neither 0 (int) nor 1 (string)"))),
    }
}

/// `metav1.Time` (to the second) or `metav1.MicroTime` (to the microsecond). An empty message
/// is Go's zero time, which JSON writes as `null`.
pub fn time(message: &[u8], micro: bool) -> Result<Value, DecodeError> {
    if message.is_empty() {
        return Ok(Value::Null);
    }
    let [seconds, nanos] = fields::<2>(message)?;
    let seconds = integer(seconds, "seconds")?;
    // Time drops the nanoseconds on decoding, as upstream does (its JSON form cannot hold them).
    let nanos = if micro { integer(nanos, "nanos")? } else { 0 };
    let out_of_range = || DecodeError::new(format!("the time {seconds}s {nanos}ns is out of range"));
    let nanos = i32::try_from(nanos).map_err(|_| out_of_range())?;
    let timestamp = jiff::Timestamp::new(seconds, nanos).map_err(|_| out_of_range())?;
    let year = timestamp.to_zoned(jiff::tz::TimeZone::UTC).year();
    if !(0..=9999).contains(&year) {
        return Err(out_of_range());
    }
    let format = if micro { "%Y-%m-%dT%H:%M:%S%.6fZ" } else { "%Y-%m-%dT%H:%M:%SZ" };
    Ok(Value::String(timestamp.strftime(format).to_string()))
}

/// The bytes of `runtime.RawExtension` and `metav1.FieldsV1`, both a message whose field 1
/// holds an embedded document; `None` when there is none (Go's nil, JSON `null`).
pub fn embedded(message: &[u8]) -> Result<Option<&[u8]>, DecodeError> {
    match fields::<1>(message)? {
        [None] => Ok(None),
        [Some(WireValue::Bytes(bytes))] => Ok(Some(bytes)),
        [Some(other)] => Err(DecodeError::new(format!("the embedded document is a {} value", other.kind()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        // 2026-01-02T03:04:05Z
        let seconds: &[u8] = &[0x08, 0xa5, 0xeb, 0xdc, 0xca, 0x06];
        assert_eq!(time(seconds, false).unwrap(), "2026-01-02T03:04:05Z");
        let with_nanos = [seconds, &[0x10, 0xc0, 0x9a, 0x0c]].concat(); // 200000 ns
        assert_eq!(time(&with_nanos, false).unwrap(), "2026-01-02T03:04:05Z");
        assert_eq!(time(&with_nanos, true).unwrap(), "2026-01-02T03:04:05.000200Z");
        assert_eq!(time(seconds, true).unwrap(), "2026-01-02T03:04:05.000000Z");
        assert_eq!(time(&[], false).unwrap(), Value::Null);
        // Go's zero time sent explicitly (year 1) is still a time.
        assert_eq!(
            time(&[0x08, 0x80, 0x92, 0xb8, 0xc3, 0x98, 0xfe, 0xff, 0xff, 0xff, 0x01], false).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert!(time(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], false).is_err());
        assert!(time(&[0x0a, 0x00], false).is_err());
        assert!(time(&[0x08, 0x01, 0x12, 0x00], true).is_err());
    }

    #[test]
    fn quantities_and_int_or_strings() {
        assert_eq!(quantity(b"\x0a\x04500m").unwrap(), "500m");
        assert_eq!(quantity(&[]).unwrap(), "0");
        assert!(quantity(&[0x0a, 0x01, 0xff]).is_err());
        assert_eq!(int_or_string(&[0x08, 0x00, 0x10, 0x50]).unwrap(), 80);
        assert_eq!(int_or_string(&[0x10, 0x50]).unwrap(), 80);
        assert_eq!(int_or_string(b"\x08\x01\x1a\x04http").unwrap(), "http");
        assert_eq!(int_or_string(&[]).unwrap(), 0);
        assert!(int_or_string(&[0x08, 0x02]).is_err());
        // A negative int32 travels as a ten-byte varint.
        let minus_one = [0x08, 0x00, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(int_or_string(&minus_one).unwrap(), -1);
    }

    #[test]
    fn embedded_documents() {
        assert_eq!(embedded(b"\x0a\x02{}").unwrap(), Some(&b"{}"[..]));
        assert_eq!(embedded(&[]).unwrap(), None);
        assert!(embedded(&[0x08, 0x01]).is_err());
    }
}
