// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static SELF_SUBJECT_ACCESS_REVIEW: Message = Message {
    definition: "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&SELF_SUBJECT_ACCESS_REVIEW_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&SUBJECT_ACCESS_REVIEW_STATUS) },
    ],
};

pub static SELF_SUBJECT_RULES_REVIEW: Message = Message {
    definition: "io.k8s.api.authorization.v1.SelfSubjectRulesReview",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&SELF_SUBJECT_RULES_REVIEW_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&SUBJECT_RULES_REVIEW_STATUS) },
    ],
};

pub static SUBJECT_ACCESS_REVIEW: Message = Message {
    definition: "io.k8s.api.authorization.v1.SubjectAccessReview",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&SUBJECT_ACCESS_REVIEW_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&SUBJECT_ACCESS_REVIEW_STATUS) },
    ],
};

pub static LOCAL_SUBJECT_ACCESS_REVIEW: Message = Message {
    definition: "io.k8s.api.authorization.v1.LocalSubjectAccessReview",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&SUBJECT_ACCESS_REVIEW_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&SUBJECT_ACCESS_REVIEW_STATUS) },
    ],
};

pub static SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    definition: "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "resourceAttributes", card: Optional, ty: Object(&RESOURCE_ATTRIBUTES) },
        Field { number: 2, json: "nonResourceAttributes", card: Optional, ty: Object(&NON_RESOURCE_ATTRIBUTES) },
    ],
};

pub static SUBJECT_ACCESS_REVIEW_STATUS: Message = Message {
    definition: "io.k8s.api.authorization.v1.SubjectAccessReviewStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "allowed", card: Always, ty: Bool },
        Field { number: 4, json: "denied", card: OmitEmpty, ty: Bool },
        Field { number: 2, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "evaluationError", card: OmitEmpty, ty: Str },
    ],
};

pub static SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message {
    definition: "io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "namespace", card: OmitEmpty, ty: Str },
    ],
};

pub static SUBJECT_RULES_REVIEW_STATUS: Message = Message {
    definition: "io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "resourceRules", card: Repeated, ty: Object(&RESOURCE_RULE) },
        Field { number: 2, json: "nonResourceRules", card: Repeated, ty: Object(&NON_RESOURCE_RULE) },
        Field { number: 3, json: "incomplete", card: Always, ty: Bool },
        Field { number: 4, json: "evaluationError", card: OmitEmpty, ty: Str },
    ],
};

pub static SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    definition: "io.k8s.api.authorization.v1.SubjectAccessReviewSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "resourceAttributes", card: Optional, ty: Object(&RESOURCE_ATTRIBUTES) },
        Field { number: 2, json: "nonResourceAttributes", card: Optional, ty: Object(&NON_RESOURCE_ATTRIBUTES) },
        Field { number: 3, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "groups", card: Repeated, ty: Str },
        Field { number: 5, json: "extra", card: Optional, ty: Map(&Object(&EXTRA_VALUE)) },
        Field { number: 6, json: "uid", card: OmitEmpty, ty: Str },
    ],
};

pub static RESOURCE_ATTRIBUTES: Message = Message {
    definition: "io.k8s.api.authorization.v1.ResourceAttributes",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "namespace", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "verb", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "group", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "version", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "resource", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "subresource", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 8, json: "fieldSelector", card: Optional, ty: Object(&FIELD_SELECTOR_ATTRIBUTES) },
        Field { number: 9, json: "labelSelector", card: Optional, ty: Object(&LABEL_SELECTOR_ATTRIBUTES) },
    ],
};

pub static NON_RESOURCE_ATTRIBUTES: Message = Message {
    definition: "io.k8s.api.authorization.v1.NonResourceAttributes",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "path", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "verb", card: OmitEmpty, ty: Str },
    ],
};

pub static RESOURCE_RULE: Message = Message {
    definition: "io.k8s.api.authorization.v1.ResourceRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "verbs", card: Repeated, ty: Str },
        Field { number: 2, json: "apiGroups", card: Repeated, ty: Str },
        Field { number: 3, json: "resources", card: Repeated, ty: Str },
        Field { number: 4, json: "resourceNames", card: Repeated, ty: Str },
    ],
};

pub static NON_RESOURCE_RULE: Message = Message {
    definition: "io.k8s.api.authorization.v1.NonResourceRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "verbs", card: Repeated, ty: Str },
        Field { number: 2, json: "nonResourceURLs", card: Repeated, ty: Str },
    ],
};

pub static EXTRA_VALUE: Message = Message {
    definition: "io.k8s.api.authorization.v1.ExtraValue",
    form: Form::List,
    fields: &[
        Field { number: 1, json: "items", card: Repeated, ty: Str },
    ],
};

pub static FIELD_SELECTOR_ATTRIBUTES: Message = Message {
    definition: "io.k8s.api.authorization.v1.FieldSelectorAttributes",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "rawSelector", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "requirements", card: Repeated, ty: Object(&meta_v1::FIELD_SELECTOR_REQUIREMENT) },
    ],
};

pub static LABEL_SELECTOR_ATTRIBUTES: Message = Message {
    definition: "io.k8s.api.authorization.v1.LabelSelectorAttributes",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "rawSelector", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "requirements", card: Repeated, ty: Object(&meta_v1::LABEL_SELECTOR_REQUIREMENT) },
    ],
};

