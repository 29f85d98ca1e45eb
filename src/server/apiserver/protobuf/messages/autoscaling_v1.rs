// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static SCALE: Message = Message {
    definition: "io.k8s.api.autoscaling.v1.Scale",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&SCALE_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&SCALE_STATUS) },
    ],
};

pub static SCALE_SPEC: Message = Message {
    definition: "io.k8s.api.autoscaling.v1.ScaleSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: OmitEmpty, ty: Int32 },
    ],
};

pub static SCALE_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v1.ScaleStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Always, ty: Int32 },
        Field { number: 2, json: "selector", card: OmitEmpty, ty: Str },
    ],
};

