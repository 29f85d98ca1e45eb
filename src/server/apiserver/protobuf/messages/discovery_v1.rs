// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::core_v1;
use super::meta_v1;

pub static ENDPOINT_SLICE: Message = Message {
    definition: "io.k8s.api.discovery.v1.EndpointSlice",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 4, json: "addressType", card: Always, ty: Str },
        Field { number: 2, json: "endpoints", card: Repeated, ty: Object(&ENDPOINT) },
        Field { number: 3, json: "ports", card: Repeated, ty: Object(&ENDPOINT_PORT) },
    ],
};

pub static ENDPOINT: Message = Message {
    definition: "io.k8s.api.discovery.v1.Endpoint",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "addresses", card: Repeated, ty: Str },
        Field { number: 2, json: "conditions", card: Optional, ty: Object(&ENDPOINT_CONDITIONS) },
        Field { number: 3, json: "hostname", card: Optional, ty: Str },
        Field { number: 4, json: "targetRef", card: Optional, ty: Object(&core_v1::OBJECT_REFERENCE) },
        Field { number: 5, json: "deprecatedTopology", card: Optional, ty: Map(&Str) },
        Field { number: 6, json: "nodeName", card: Optional, ty: Str },
        Field { number: 7, json: "zone", card: Optional, ty: Str },
        Field { number: 8, json: "hints", card: Optional, ty: Object(&ENDPOINT_HINTS) },
    ],
};

pub static ENDPOINT_PORT: Message = Message {
    definition: "io.k8s.api.discovery.v1.EndpointPort",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Optional, ty: Str },
        Field { number: 2, json: "protocol", card: Optional, ty: Str },
        Field { number: 3, json: "port", card: Optional, ty: Int32 },
        Field { number: 4, json: "appProtocol", card: Optional, ty: Str },
    ],
};

pub static ENDPOINT_CONDITIONS: Message = Message {
    definition: "io.k8s.api.discovery.v1.EndpointConditions",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ready", card: Optional, ty: Bool },
        Field { number: 2, json: "serving", card: Optional, ty: Bool },
        Field { number: 3, json: "terminating", card: Optional, ty: Bool },
    ],
};

pub static ENDPOINT_HINTS: Message = Message {
    definition: "io.k8s.api.discovery.v1.EndpointHints",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "forZones", card: Repeated, ty: Object(&FOR_ZONE) },
        Field { number: 2, json: "forNodes", card: Repeated, ty: Object(&FOR_NODE) },
    ],
};

pub static FOR_ZONE: Message = Message {
    definition: "io.k8s.api.discovery.v1.ForZone",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
    ],
};

pub static FOR_NODE: Message = Message {
    definition: "io.k8s.api.discovery.v1.ForNode",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
    ],
};

