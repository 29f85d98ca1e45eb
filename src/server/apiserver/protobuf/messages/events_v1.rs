// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::core_v1;
use super::meta_v1;

pub static EVENT: Message = Message {
    definition: "io.k8s.api.events.v1.Event",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "eventTime", card: Optional, ty: MicroTime },
        Field { number: 3, json: "series", card: Optional, ty: Object(&EVENT_SERIES) },
        Field { number: 4, json: "reportingController", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "reportingInstance", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "action", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 8, json: "regarding", card: Optional, ty: Object(&core_v1::OBJECT_REFERENCE) },
        Field { number: 9, json: "related", card: Optional, ty: Object(&core_v1::OBJECT_REFERENCE) },
        Field { number: 10, json: "note", card: OmitEmpty, ty: Str },
        Field { number: 11, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 12, json: "deprecatedSource", card: Optional, ty: Object(&core_v1::EVENT_SOURCE) },
        Field { number: 13, json: "deprecatedFirstTimestamp", card: Optional, ty: Time },
        Field { number: 14, json: "deprecatedLastTimestamp", card: Optional, ty: Time },
        Field { number: 15, json: "deprecatedCount", card: OmitEmpty, ty: Int32 },
    ],
};

pub static EVENT_SERIES: Message = Message {
    definition: "io.k8s.api.events.v1.EventSeries",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "count", card: Always, ty: Int32 },
        Field { number: 2, json: "lastObservedTime", card: Optional, ty: MicroTime },
    ],
};

