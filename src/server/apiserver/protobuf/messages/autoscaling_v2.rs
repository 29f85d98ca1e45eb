// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static HORIZONTAL_POD_AUTOSCALER: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&HORIZONTAL_POD_AUTOSCALER_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&HORIZONTAL_POD_AUTOSCALER_STATUS) },
    ],
};

pub static HORIZONTAL_POD_AUTOSCALER_SPEC: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "scaleTargetRef", card: Optional, ty: Object(&CROSS_VERSION_OBJECT_REFERENCE) },
        Field { number: 2, json: "minReplicas", card: Optional, ty: Int32 },
        Field { number: 3, json: "maxReplicas", card: Always, ty: Int32 },
        Field { number: 4, json: "metrics", card: Repeated, ty: Object(&METRIC_SPEC) },
        Field { number: 5, json: "behavior", card: Optional, ty: Object(&HORIZONTAL_POD_AUTOSCALER_BEHAVIOR) },
    ],
};

pub static HORIZONTAL_POD_AUTOSCALER_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "observedGeneration", card: Optional, ty: Int64 },
        Field { number: 2, json: "lastScaleTime", card: Optional, ty: Time },
        Field { number: 3, json: "currentReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "desiredReplicas", card: Always, ty: Int32 },
        Field { number: 5, json: "currentMetrics", card: Repeated, ty: Object(&METRIC_STATUS) },
        Field { number: 6, json: "conditions", card: Repeated, ty: Object(&HORIZONTAL_POD_AUTOSCALER_CONDITION) },
    ],
};

pub static CROSS_VERSION_OBJECT_REFERENCE: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.CrossVersionObjectReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "kind", card: Always, ty: Str },
        Field { number: 2, json: "name", card: Always, ty: Str },
        Field { number: 3, json: "apiVersion", card: OmitEmpty, ty: Str },
    ],
};

pub static METRIC_SPEC: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.MetricSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "object", card: Optional, ty: Object(&OBJECT_METRIC_SOURCE) },
        Field { number: 3, json: "pods", card: Optional, ty: Object(&PODS_METRIC_SOURCE) },
        Field { number: 4, json: "resource", card: Optional, ty: Object(&RESOURCE_METRIC_SOURCE) },
        Field { number: 7, json: "containerResource", card: Optional, ty: Object(&CONTAINER_RESOURCE_METRIC_SOURCE) },
        Field { number: 5, json: "external", card: Optional, ty: Object(&EXTERNAL_METRIC_SOURCE) },
    ],
};

pub static HORIZONTAL_POD_AUTOSCALER_BEHAVIOR: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "scaleUp", card: Optional, ty: Object(&HPA_SCALING_RULES) },
        Field { number: 2, json: "scaleDown", card: Optional, ty: Object(&HPA_SCALING_RULES) },
    ],
};

pub static METRIC_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.MetricStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "object", card: Optional, ty: Object(&OBJECT_METRIC_STATUS) },
        Field { number: 3, json: "pods", card: Optional, ty: Object(&PODS_METRIC_STATUS) },
        Field { number: 4, json: "resource", card: Optional, ty: Object(&RESOURCE_METRIC_STATUS) },
        Field { number: 7, json: "containerResource", card: Optional, ty: Object(&CONTAINER_RESOURCE_METRIC_STATUS) },
        Field { number: 5, json: "external", card: Optional, ty: Object(&EXTERNAL_METRIC_STATUS) },
    ],
};

pub static HORIZONTAL_POD_AUTOSCALER_CONDITION: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static OBJECT_METRIC_SOURCE: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ObjectMetricSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "describedObject", card: Optional, ty: Object(&CROSS_VERSION_OBJECT_REFERENCE) },
        Field { number: 2, json: "target", card: Optional, ty: Object(&METRIC_TARGET) },
        Field { number: 3, json: "metric", card: Optional, ty: Object(&METRIC_IDENTIFIER) },
    ],
};

pub static PODS_METRIC_SOURCE: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.PodsMetricSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metric", card: Optional, ty: Object(&METRIC_IDENTIFIER) },
        Field { number: 2, json: "target", card: Optional, ty: Object(&METRIC_TARGET) },
    ],
};

pub static RESOURCE_METRIC_SOURCE: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ResourceMetricSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "target", card: Optional, ty: Object(&METRIC_TARGET) },
    ],
};

pub static CONTAINER_RESOURCE_METRIC_SOURCE: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ContainerResourceMetricSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "target", card: Optional, ty: Object(&METRIC_TARGET) },
        Field { number: 3, json: "container", card: Always, ty: Str },
    ],
};

pub static EXTERNAL_METRIC_SOURCE: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ExternalMetricSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metric", card: Optional, ty: Object(&METRIC_IDENTIFIER) },
        Field { number: 2, json: "target", card: Optional, ty: Object(&METRIC_TARGET) },
    ],
};

pub static HPA_SCALING_RULES: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HPAScalingRules",
    form: Form::Struct,
    fields: &[
        Field { number: 3, json: "stabilizationWindowSeconds", card: Optional, ty: Int32 },
        Field { number: 1, json: "selectPolicy", card: Optional, ty: Str },
        Field { number: 2, json: "policies", card: Repeated, ty: Object(&HPA_SCALING_POLICY) },
        Field { number: 4, json: "tolerance", card: Optional, ty: Quantity },
    ],
};

pub static OBJECT_METRIC_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ObjectMetricStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metric", card: Optional, ty: Object(&METRIC_IDENTIFIER) },
        Field { number: 2, json: "current", card: Optional, ty: Object(&METRIC_VALUE_STATUS) },
        Field { number: 3, json: "describedObject", card: Optional, ty: Object(&CROSS_VERSION_OBJECT_REFERENCE) },
    ],
};

pub static PODS_METRIC_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.PodsMetricStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metric", card: Optional, ty: Object(&METRIC_IDENTIFIER) },
        Field { number: 2, json: "current", card: Optional, ty: Object(&METRIC_VALUE_STATUS) },
    ],
};

pub static RESOURCE_METRIC_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ResourceMetricStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "current", card: Optional, ty: Object(&METRIC_VALUE_STATUS) },
    ],
};

pub static CONTAINER_RESOURCE_METRIC_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ContainerResourceMetricStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "current", card: Optional, ty: Object(&METRIC_VALUE_STATUS) },
        Field { number: 3, json: "container", card: Always, ty: Str },
    ],
};

pub static EXTERNAL_METRIC_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.ExternalMetricStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metric", card: Optional, ty: Object(&METRIC_IDENTIFIER) },
        Field { number: 2, json: "current", card: Optional, ty: Object(&METRIC_VALUE_STATUS) },
    ],
};

pub static METRIC_TARGET: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.MetricTarget",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "value", card: Optional, ty: Quantity },
        Field { number: 3, json: "averageValue", card: Optional, ty: Quantity },
        Field { number: 4, json: "averageUtilization", card: Optional, ty: Int32 },
    ],
};

pub static METRIC_IDENTIFIER: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.MetricIdentifier",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
    ],
};

pub static HPA_SCALING_POLICY: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.HPAScalingPolicy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "value", card: Always, ty: Int32 },
        Field { number: 3, json: "periodSeconds", card: Always, ty: Int32 },
    ],
};

pub static METRIC_VALUE_STATUS: Message = Message {
    definition: "io.k8s.api.autoscaling.v2.MetricValueStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "value", card: Optional, ty: Quantity },
        Field { number: 2, json: "averageValue", card: Optional, ty: Quantity },
        Field { number: 3, json: "averageUtilization", card: Optional, ty: Int32 },
    ],
};

