//! Request bodies in the Kubernetes protobuf encoding, which kubectl's typed commands
//! (`create deployment`, `create secret`, `run`, `drain`, …) send. They are decoded to the
//! JSON a JSON client would have sent for the same object, so the rest of the server sees one
//! representation. Responses stay JSON, which every client accepts.

mod envelope;
mod error;
mod messages;
mod schema;
mod special;
mod to_json;
mod wire;

#[cfg(test)]
mod encode;
#[cfg(test)]
mod table_tests;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::server::api_error::ApiError;

/// The media type of Kubernetes protobuf documents.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Decodes a protobuf request body into the JSON object it stands for, `apiVersion` and
/// `kind` included.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let invalid = |e: error::DecodeError| {
        ApiError::bad_request(format!("the request body is not a valid {MEDIA_TYPE} document: {e}"))
    };
    let unknown = envelope::Unknown::parse(body).map_err(invalid)?;
    if !unknown.content_encoding.is_empty() {
        let mut err = ApiError::unsupported_media_type(MEDIA_TYPE);
        err.message = format!("content encoding {:?} of a protobuf body is not supported", unknown.content_encoding);
        return Err(err);
    }
    to_json::object_of_kind(&unknown, 0).map_err(invalid)
}
