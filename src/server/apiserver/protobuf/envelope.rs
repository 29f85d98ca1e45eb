//! The envelope around every protobuf-encoded object: the magic `k8s\0`, then a
//! `runtime.Unknown` message {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2,
//! contentEncoding = 3, contentType = 4} whose `raw` holds the object itself.

use super::error::DecodeError;
use super::wire::{Reader, WireValue};

/// The four bytes every Kubernetes protobuf document starts with.
pub const MAGIC: &[u8] = b"k8s\0";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unknown<'a> {
    pub api_version: String,
    pub kind: String,
    pub raw: &'a [u8],
    pub content_encoding: String,
    pub content_type: String,
}

impl<'a> Unknown<'a> {
    /// Reads the magic and the envelope; the object in `raw` is left as bytes.
    pub fn parse(document: &'a [u8]) -> Result<Self, DecodeError> {
        let message = document
            .strip_prefix(MAGIC)
            .ok_or_else(|| DecodeError::new("the body does not start with the Kubernetes protobuf magic \"k8s\\0\""))?;
        let mut unknown = Unknown::default();
        let mut reader = Reader::new(message);
        while let Some((number, value)) = reader.next_field()? {
            match number {
                1 => {
                    let mut type_meta = Reader::new(bytes(value, "typeMeta")?);
                    while let Some((number, value)) = type_meta.next_field()? {
                        match number {
                            1 => unknown.api_version = text(value, "apiVersion")?,
                            2 => unknown.kind = text(value, "kind")?,
                            _ => {}
                        }
                    }
                }
                2 => unknown.raw = bytes(value, "raw")?,
                3 => unknown.content_encoding = text(value, "contentEncoding")?,
                4 => unknown.content_type = text(value, "contentType")?,
                _ => {}
            }
        }
        Ok(unknown)
    }
}

fn bytes<'a>(value: WireValue<'a>, field: &'static str) -> Result<&'a [u8], DecodeError> {
    match value {
        WireValue::Bytes(bytes) => Ok(bytes),
        other => Err(DecodeError::new(format!("a {} value where bytes belong", other.kind())).inside(field)),
    }
}

fn text(value: WireValue<'_>, field: &'static str) -> Result<String, DecodeError> {
    let bytes = bytes(value, field)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::new("not valid UTF-8").inside(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_type_meta_and_raw() {
        let document = b"k8s\0\x0a\x0e\x0a\x07apps/v1\x12\x03Foo\x12\x02\x08\x01\x1a\x00\x22\x00";
        let unknown = Unknown::parse(document).unwrap();
        assert_eq!(unknown.api_version, "apps/v1");
        assert_eq!(unknown.kind, "Foo");
        assert_eq!(unknown.raw, &[0x08, 0x01]);
        assert_eq!(unknown.content_encoding, "");
    }

    #[test]
    fn rejects_what_is_not_an_envelope() {
        for document in [&b"{}"[..], b"k8s", b"k8s\0\x0a\x05\x0a", b"k8s\0\x08\x01", b"k8s\0\x0a\x02\x0a\x00\x12"] {
            assert!(Unknown::parse(document).is_err(), "{document:?}");
        }
    }
}
