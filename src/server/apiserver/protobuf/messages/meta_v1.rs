// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};

pub static DELETE_OPTIONS: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "gracePeriodSeconds", card: Optional, ty: Int64 },
        Field { number: 2, json: "preconditions", card: Optional, ty: Object(&PRECONDITIONS) },
        Field { number: 3, json: "orphanDependents", card: Optional, ty: Bool },
        Field { number: 4, json: "propagationPolicy", card: Optional, ty: Str },
        Field { number: 5, json: "dryRun", card: Repeated, ty: Str },
        Field { number: 6, json: "ignoreStoreReadErrorWithClusterBreakingPotential", card: Optional, ty: Bool },
    ],
};

pub static OBJECT_META: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "generateName", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "namespace", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "selfLink", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "uid", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "resourceVersion", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "generation", card: OmitEmpty, ty: Int64 },
        Field { number: 8, json: "creationTimestamp", card: Optional, ty: Time },
        Field { number: 9, json: "deletionTimestamp", card: Optional, ty: Time },
        Field { number: 10, json: "deletionGracePeriodSeconds", card: Optional, ty: Int64 },
        Field { number: 11, json: "labels", card: Optional, ty: Map(&Str) },
        Field { number: 12, json: "annotations", card: Optional, ty: Map(&Str) },
        Field { number: 13, json: "ownerReferences", card: Repeated, ty: Object(&OWNER_REFERENCE) },
        Field { number: 14, json: "finalizers", card: Repeated, ty: Str },
        Field { number: 17, json: "managedFields", card: Repeated, ty: Object(&MANAGED_FIELDS_ENTRY) },
    ],
};

pub static PRECONDITIONS: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "uid", card: Optional, ty: Str },
        Field { number: 2, json: "resourceVersion", card: Optional, ty: Str },
    ],
};

pub static OWNER_REFERENCE: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    form: Form::Struct,
    fields: &[
        Field { number: 5, json: "apiVersion", card: Always, ty: Str },
        Field { number: 1, json: "kind", card: Always, ty: Str },
        Field { number: 3, json: "name", card: Always, ty: Str },
        Field { number: 4, json: "uid", card: Always, ty: Str },
        Field { number: 6, json: "controller", card: Optional, ty: Bool },
        Field { number: 7, json: "blockOwnerDeletion", card: Optional, ty: Bool },
    ],
};

pub static MANAGED_FIELDS_ENTRY: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "manager", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "operation", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "apiVersion", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "time", card: Optional, ty: Time },
        Field { number: 6, json: "fieldsType", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "fieldsV1", card: Optional, ty: FieldsV1 },
        Field { number: 8, json: "subresource", card: OmitEmpty, ty: Str },
    ],
};

pub static CONDITION: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 4, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 5, json: "reason", card: Always, ty: Str },
        Field { number: 6, json: "message", card: Always, ty: Str },
    ],
};

pub static LABEL_SELECTOR: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "matchLabels", card: Optional, ty: Map(&Str) },
        Field { number: 2, json: "matchExpressions", card: Repeated, ty: Object(&LABEL_SELECTOR_REQUIREMENT) },
    ],
};

pub static LABEL_SELECTOR_REQUIREMENT: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: Always, ty: Str },
        Field { number: 2, json: "operator", card: Always, ty: Str },
        Field { number: 3, json: "values", card: Repeated, ty: Str },
    ],
};

pub static FIELD_SELECTOR_REQUIREMENT: Message = Message {
    definition: "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: Always, ty: Str },
        Field { number: 2, json: "operator", card: Always, ty: Str },
        Field { number: 3, json: "values", card: Repeated, ty: Str },
    ],
};

