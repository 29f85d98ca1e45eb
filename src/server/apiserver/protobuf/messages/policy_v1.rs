// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static POD_DISRUPTION_BUDGET: Message = Message {
    definition: "io.k8s.api.policy.v1.PodDisruptionBudget",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&POD_DISRUPTION_BUDGET_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&POD_DISRUPTION_BUDGET_STATUS) },
    ],
};

pub static EVICTION: Message = Message {
    definition: "io.k8s.api.policy.v1.Eviction",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "deleteOptions", card: Optional, ty: Object(&meta_v1::DELETE_OPTIONS) },
    ],
};

pub static POD_DISRUPTION_BUDGET_SPEC: Message = Message {
    definition: "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "minAvailable", card: Optional, ty: IntOrString },
        Field { number: 2, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 3, json: "maxUnavailable", card: Optional, ty: IntOrString },
        Field { number: 4, json: "unhealthyPodEvictionPolicy", card: Optional, ty: Str },
    ],
};

pub static POD_DISRUPTION_BUDGET_STATUS: Message = Message {
    definition: "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 2, json: "disruptedPods", card: Optional, ty: Map(&Time) },
        Field { number: 3, json: "disruptionsAllowed", card: Always, ty: Int32 },
        Field { number: 4, json: "currentHealthy", card: Always, ty: Int32 },
        Field { number: 5, json: "desiredHealthy", card: Always, ty: Int32 },
        Field { number: 6, json: "expectedPods", card: Always, ty: Int32 },
        Field { number: 7, json: "conditions", card: Repeated, ty: Object(&meta_v1::CONDITION) },
    ],
};

