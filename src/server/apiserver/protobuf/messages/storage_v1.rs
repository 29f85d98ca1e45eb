// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::core_v1;
use super::meta_v1;

pub static STORAGE_CLASS: Message = Message {
    definition: "io.k8s.api.storage.v1.StorageClass",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "provisioner", card: Always, ty: Str },
        Field { number: 3, json: "parameters", card: Optional, ty: Map(&Str) },
        Field { number: 4, json: "reclaimPolicy", card: Optional, ty: Str },
        Field { number: 5, json: "mountOptions", card: Repeated, ty: Str },
        Field { number: 6, json: "allowVolumeExpansion", card: Optional, ty: Bool },
        Field { number: 7, json: "volumeBindingMode", card: Optional, ty: Str },
        Field { number: 8, json: "allowedTopologies", card: Repeated, ty: Object(&core_v1::TOPOLOGY_SELECTOR_TERM) },
    ],
};

