//! The protobuf wire format: a message is a sequence of (field number, wire type, value)
//! records. This reads them one at a time and never trusts a length it has not checked.

use std::fmt;

/// One field's value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    /// Strings, bytes, embedded messages, map entries and packed repeated scalars.
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl WireValue<'_> {
    /// The wire type's name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            WireValue::Varint(_) => "varint",
            WireValue::Fixed64(_) => "64-bit",
            WireValue::Bytes(_) => "length-delimited",
            WireValue::Fixed32(_) => "32-bit",
        }
    }
}

/// Why bytes are not a well-formed protobuf message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the fields of one message in order.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(message: &'a [u8]) -> Self {
        Self { rest: message }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next field, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u32, WireValue<'a>)>, WireError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|n| (1..=0x1fff_ffff).contains(n))
            .ok_or_else(|| WireError(format!("invalid field number {}", key >> 3)))?;
        let value = match key & 7 {
            0 => WireValue::Varint(self.varint()?),
            1 => WireValue::Fixed64(u64::from_le_bytes(self.take_array()?)),
            2 => {
                let len = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
                WireValue::Bytes(self.take(len)?)
            }
            5 => WireValue::Fixed32(u32::from_le_bytes(self.take_array()?)),
            // Groups (3, 4) were deprecated before Kubernetes existed; 6 and 7 are undefined.
            other => return Err(WireError(format!("unsupported wire type {other} for field {number}"))),
        };
        Ok(Some((number, value)))
    }

    /// A base-128 varint of at most ten bytes.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (i, byte) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        Err(WireError(if self.rest.len() < 10 {
            "truncated varint".into()
        } else {
            "varint longer than ten bytes".into()
        }))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if len > self.rest.len() {
            return Err(WireError(format!("a field claims {len} bytes but only {} remain", self.rest.len())));
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let bytes = self.take(N)?;
        let mut array = [0; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type() {
        let bytes = [
            0x08, 0x96, 0x01, // 1: varint 150
            0x12, 0x02, b'h', b'i', // 2: "hi"
            0x19, 1, 0, 0, 0, 0, 0, 0, 0, // 3: fixed64 1
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.next_field().unwrap(), Some((1, WireValue::Varint(150))));
        assert_eq!(reader.next_field().unwrap(), Some((2, WireValue::Bytes(b"hi"))));
        assert_eq!(reader.next_field().unwrap(), Some((3, WireValue::Fixed64(1))));
        assert_eq!(reader.next_field().unwrap(), Some((4, WireValue::Fixed32(2))));
        assert_eq!(reader.next_field().unwrap(), None);
    }

    #[test]
    fn negative_int32_is_a_ten_byte_varint() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&bytes).varint().unwrap() as i64, -1);
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bytes in [
            &[0x08][..],                                                         // varint value missing
            &[0x12, 0x05, b'a'],                                                 // length past the end
            &[0x0b],                                                             // group start
            &[0x00, 0x01],                                                       // field number 0
            &[0x80, 0x80, 0x80],                                                 // truncated key
            &[0xff; 11],                                                         // varint too long
            &[0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // huge length
            &[0x19, 1, 2],                                                       // short fixed64
        ] {
            assert!(Reader::new(bytes).next_field().is_err(), "{bytes:?}");
        }
    }
}
