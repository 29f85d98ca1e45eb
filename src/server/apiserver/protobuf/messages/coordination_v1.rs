// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static LEASE: Message = Message {
    definition: "io.k8s.api.coordination.v1.Lease",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&LEASE_SPEC) },
    ],
};

pub static LEASE_SPEC: Message = Message {
    definition: "io.k8s.api.coordination.v1.LeaseSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "holderIdentity", card: Optional, ty: Str },
        Field { number: 2, json: "leaseDurationSeconds", card: Optional, ty: Int32 },
        Field { number: 3, json: "acquireTime", card: Optional, ty: MicroTime },
        Field { number: 4, json: "renewTime", card: Optional, ty: MicroTime },
        Field { number: 5, json: "leaseTransitions", card: Optional, ty: Int32 },
        Field { number: 6, json: "strategy", card: Optional, ty: Str },
        Field { number: 7, json: "preferredHolder", card: Optional, ty: Str },
    ],
};

