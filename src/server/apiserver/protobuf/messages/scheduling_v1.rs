// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static PRIORITY_CLASS: Message = Message {
    definition: "io.k8s.api.scheduling.v1.PriorityClass",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "value", card: Always, ty: Int32 },
        Field { number: 3, json: "globalDefault", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "description", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "preemptionPolicy", card: Optional, ty: Str },
    ],
};

