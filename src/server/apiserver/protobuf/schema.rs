//! The shape of the message table: what each protobuf field number of each Kubernetes message
//! means in the JSON form of the same object.

/// A protobuf message of the Kubernetes API (a Go struct of k8s.io/api or apimachinery).
#[derive(Debug)]
pub struct Message {
    /// The OpenAPI definition of the same type (`io.k8s.api.core.v1.Pod`), by which the
    /// tests check the table against k8s-openapi's schemas.
    #[cfg_attr(not(test), allow(dead_code))]
    pub definition: &'static str,
    pub form: Form,
    pub fields: &'static [Field],
}

#[derive(Debug, PartialEq, Eq)]
pub enum Form {
    /// A JSON object with one member per field.
    Struct,
    /// A Go slice type (`type ExtraValue []string`) wrapped in a message so that it can be a
    /// map value: its one repeated field 1 is the whole JSON value, an array.
    List,
}

#[derive(Debug)]
pub struct Field {
    pub number: u32,
    /// The member name in JSON; unused for [`Card::Inline`].
    pub json: &'static str,
    pub card: Card,
    pub ty: Type,
}

/// How a field's presence on the wire maps to its presence in JSON, following the Go type
/// and its `omitempty`, so the result equals what Go's JSON encoder would have written.
#[derive(Debug, PartialEq, Eq)]
pub enum Card {
    /// A plain Go scalar without `omitempty`: always in JSON, zero when not on the wire.
    Always,
    /// A plain Go scalar with `omitempty`: left out when zero.
    OmitEmpty,
    /// A pointer, struct, map or byte slice: in JSON exactly when on the wire.
    Optional,
    /// A Go slice: a JSON array of the values in wire order.
    Repeated,
    /// An embedded struct whose members JSON flattens into the enclosing object
    /// (`VolumeSource` inside `Volume`), while protobuf keeps it a nested message.
    Inline,
}

/// What a field holds.
#[derive(Debug)]
pub enum Type {
    Str,
    /// `[]byte`: base64 in JSON.
    Bytes,
    Bool,
    Int32,
    Int64,
    Object(&'static Message),
    /// `map[string]V`, sent as repeated entries {key = 1, value = 2}.
    Map(&'static Type),
    /// `resource.Quantity`: {string = 1}, a string in JSON.
    Quantity,
    /// `intstr.IntOrString`: {type = 1, intVal = 2, strVal = 3}, a number or string in JSON.
    IntOrString,
    /// `metav1.Time`: {seconds = 1}, RFC 3339 to the second in JSON.
    Time,
    /// `metav1.MicroTime`: {seconds = 1, nanos = 2}, RFC 3339 to the microsecond in JSON.
    MicroTime,
    /// `runtime.RawExtension`: {raw = 1}, bytes holding an embedded object.
    RawExtension,
    /// `metav1.FieldsV1`: {Raw = 1}, bytes holding a JSON document.
    FieldsV1,
}

/// A kind a request body may carry.
#[derive(Debug)]
pub struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub message: &'static Message,
}

impl Kind {
    pub const fn new(api_version: &'static str, kind: &'static str, message: &'static Message) -> Self {
        Self { api_version, kind, message }
    }
}
