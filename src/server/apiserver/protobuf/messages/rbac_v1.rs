// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static ROLE: Message = Message {
    definition: "io.k8s.api.rbac.v1.Role",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "rules", card: Repeated, ty: Object(&POLICY_RULE) },
    ],
};

pub static ROLE_BINDING: Message = Message {
    definition: "io.k8s.api.rbac.v1.RoleBinding",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "subjects", card: Repeated, ty: Object(&SUBJECT) },
        Field { number: 3, json: "roleRef", card: Optional, ty: Object(&ROLE_REF) },
    ],
};

pub static CLUSTER_ROLE: Message = Message {
    definition: "io.k8s.api.rbac.v1.ClusterRole",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "rules", card: Repeated, ty: Object(&POLICY_RULE) },
        Field { number: 3, json: "aggregationRule", card: Optional, ty: Object(&AGGREGATION_RULE) },
    ],
};

pub static CLUSTER_ROLE_BINDING: Message = Message {
    definition: "io.k8s.api.rbac.v1.ClusterRoleBinding",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "subjects", card: Repeated, ty: Object(&SUBJECT) },
        Field { number: 3, json: "roleRef", card: Optional, ty: Object(&ROLE_REF) },
    ],
};

pub static POLICY_RULE: Message = Message {
    definition: "io.k8s.api.rbac.v1.PolicyRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "verbs", card: Repeated, ty: Str },
        Field { number: 2, json: "apiGroups", card: Repeated, ty: Str },
        Field { number: 3, json: "resources", card: Repeated, ty: Str },
        Field { number: 4, json: "resourceNames", card: Repeated, ty: Str },
        Field { number: 5, json: "nonResourceURLs", card: Repeated, ty: Str },
    ],
};

pub static SUBJECT: Message = Message {
    definition: "io.k8s.api.rbac.v1.Subject",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "kind", card: Always, ty: Str },
        Field { number: 2, json: "apiGroup", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "name", card: Always, ty: Str },
        Field { number: 4, json: "namespace", card: OmitEmpty, ty: Str },
    ],
};

pub static ROLE_REF: Message = Message {
    definition: "io.k8s.api.rbac.v1.RoleRef",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "apiGroup", card: Always, ty: Str },
        Field { number: 2, json: "kind", card: Always, ty: Str },
        Field { number: 3, json: "name", card: Always, ty: Str },
    ],
};

pub static AGGREGATION_RULE: Message = Message {
    definition: "io.k8s.api.rbac.v1.AggregationRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "clusterRoleSelectors", card: Repeated, ty: Object(&meta_v1::LABEL_SELECTOR) },
    ],
};

