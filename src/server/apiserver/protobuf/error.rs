//! Why a protobuf body could not be decoded, and where in the object.

use std::fmt;

use super::wire::WireError;

#[derive(Debug)]
pub struct DecodeError {
    /// JSON member names (and `["key"]` for map entries) from the innermost outwards.
    path: Vec<String>,
    why: String,
}

impl DecodeError {
    pub fn new(why: impl Into<String>) -> Self {
        Self { path: Vec::new(), why: why.into() }
    }

    /// Records that the error happened inside the member `field`.
    pub fn inside(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        if !field.is_empty() {
            self.path.push(field);
        }
        self
    }
}

impl From<WireError> for DecodeError {
    fn from(err: WireError) -> Self {
        Self::new(err.0)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            return f.write_str(&self.why);
        }
        let path: Vec<&str> = self.path.iter().rev().map(String::as_str).collect();
        write!(f, "{}: {}", path.join(".").replace(".[", "["), self.why)
    }
}
