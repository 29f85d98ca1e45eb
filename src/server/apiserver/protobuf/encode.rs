//! A minimal protobuf writer for building test bodies by hand, field by field.

use super::envelope::MAGIC;

#[derive(Default, Clone)]
pub struct Msg(Vec<u8>);

impl Msg {
    pub fn new() -> Self {
        Self::default()
    }

    fn key(mut self, field: u32, wire_type: u8) -> Self {
        push_varint(&mut self.0, u64::from(field) << 3 | u64::from(wire_type));
        self
    }

    /// A varint field; negative numbers travel as their 64-bit two's complement, as Go sends them.
    pub fn int(self, field: u32, value: i64) -> Self {
        let mut msg = self.key(field, 0);
        push_varint(&mut msg.0, value as u64);
        msg
    }

    pub fn bytes(self, field: u32, value: &[u8]) -> Self {
        let mut msg = self.key(field, 2);
        push_varint(&mut msg.0, value.len() as u64);
        msg.0.extend_from_slice(value);
        msg
    }

    pub fn str(self, field: u32, value: &str) -> Self {
        self.bytes(field, value.as_bytes())
    }

    pub fn msg(self, field: u32, value: Msg) -> Self {
        self.bytes(field, &value.0)
    }

    /// One entry of a `map<string, string>`.
    pub fn entry(self, field: u32, key: &str, value: &str) -> Self {
        self.msg(field, Msg::new().str(1, key).str(2, value))
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A whole request body: magic, then `runtime.Unknown` around `object`.
pub fn document(api_version: &str, kind: &str, object: Msg) -> Vec<u8> {
    let unknown = Msg::new().msg(1, Msg::new().str(1, api_version).str(2, kind)).msg(2, object).str(3, "").str(4, "");
    [MAGIC, &unknown.0].concat()
}
