// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static TOKEN_REQUEST: Message = Message {
    definition: "io.k8s.api.authentication.v1.TokenRequest",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&TOKEN_REQUEST_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&TOKEN_REQUEST_STATUS) },
    ],
};

pub static TOKEN_REVIEW: Message = Message {
    definition: "io.k8s.api.authentication.v1.TokenReview",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&TOKEN_REVIEW_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&TOKEN_REVIEW_STATUS) },
    ],
};

pub static SELF_SUBJECT_REVIEW: Message = Message {
    definition: "io.k8s.api.authentication.v1.SelfSubjectReview",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "status", card: Optional, ty: Object(&SELF_SUBJECT_REVIEW_STATUS) },
    ],
};

pub static TOKEN_REQUEST_SPEC: Message = Message {
    definition: "io.k8s.api.authentication.v1.TokenRequestSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "audiences", card: Repeated, ty: Str },
        Field { number: 4, json: "expirationSeconds", card: Optional, ty: Int64 },
        Field { number: 3, json: "boundObjectRef", card: Optional, ty: Object(&BOUND_OBJECT_REFERENCE) },
    ],
};

pub static TOKEN_REQUEST_STATUS: Message = Message {
    definition: "io.k8s.api.authentication.v1.TokenRequestStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "token", card: Always, ty: Str },
        Field { number: 2, json: "expirationTimestamp", card: Optional, ty: Time },
    ],
};

pub static TOKEN_REVIEW_SPEC: Message = Message {
    definition: "io.k8s.api.authentication.v1.TokenReviewSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "token", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "audiences", card: Repeated, ty: Str },
    ],
};

pub static TOKEN_REVIEW_STATUS: Message = Message {
    definition: "io.k8s.api.authentication.v1.TokenReviewStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "authenticated", card: OmitEmpty, ty: Bool },
        Field { number: 2, json: "user", card: Optional, ty: Object(&USER_INFO) },
        Field { number: 4, json: "audiences", card: Repeated, ty: Str },
        Field { number: 3, json: "error", card: OmitEmpty, ty: Str },
    ],
};

pub static SELF_SUBJECT_REVIEW_STATUS: Message = Message {
    definition: "io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "userInfo", card: Optional, ty: Object(&USER_INFO) },
    ],
};

pub static BOUND_OBJECT_REFERENCE: Message = Message {
    definition: "io.k8s.api.authentication.v1.BoundObjectReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "kind", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "apiVersion", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "uid", card: OmitEmpty, ty: Str },
    ],
};

pub static USER_INFO: Message = Message {
    definition: "io.k8s.api.authentication.v1.UserInfo",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "username", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "uid", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "groups", card: Repeated, ty: Str },
        Field { number: 4, json: "extra", card: Optional, ty: Map(&Object(&EXTRA_VALUE)) },
    ],
};

pub static EXTRA_VALUE: Message = Message {
    definition: "io.k8s.api.authentication.v1.ExtraValue",
    form: Form::List,
    fields: &[
        Field { number: 1, json: "items", card: Repeated, ty: Str },
    ],
};

