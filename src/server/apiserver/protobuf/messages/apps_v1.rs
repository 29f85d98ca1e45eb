// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::core_v1;
use super::meta_v1;

pub static DEPLOYMENT: Message = Message {
    definition: "io.k8s.api.apps.v1.Deployment",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&DEPLOYMENT_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&DEPLOYMENT_STATUS) },
    ],
};

pub static REPLICA_SET: Message = Message {
    definition: "io.k8s.api.apps.v1.ReplicaSet",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&REPLICA_SET_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&REPLICA_SET_STATUS) },
    ],
};

pub static DAEMON_SET: Message = Message {
    definition: "io.k8s.api.apps.v1.DaemonSet",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&DAEMON_SET_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&DAEMON_SET_STATUS) },
    ],
};

pub static STATEFUL_SET: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSet",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&STATEFUL_SET_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&STATEFUL_SET_STATUS) },
    ],
};

pub static CONTROLLER_REVISION: Message = Message {
    definition: "io.k8s.api.apps.v1.ControllerRevision",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "data", card: Optional, ty: RawExtension },
        Field { number: 3, json: "revision", card: Always, ty: Int64 },
    ],
};

pub static DEPLOYMENT_SPEC: Message = Message {
    definition: "io.k8s.api.apps.v1.DeploymentSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Optional, ty: Int32 },
        Field { number: 2, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 3, json: "template", card: Optional, ty: Object(&core_v1::POD_TEMPLATE_SPEC) },
        Field { number: 4, json: "strategy", card: Optional, ty: Object(&DEPLOYMENT_STRATEGY) },
        Field { number: 5, json: "minReadySeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 6, json: "revisionHistoryLimit", card: Optional, ty: Int32 },
        Field { number: 7, json: "paused", card: OmitEmpty, ty: Bool },
        Field { number: 9, json: "progressDeadlineSeconds", card: Optional, ty: Int32 },
    ],
};

pub static DEPLOYMENT_STATUS: Message = Message {
    definition: "io.k8s.api.apps.v1.DeploymentStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 2, json: "replicas", card: OmitEmpty, ty: Int32 },
        Field { number: 3, json: "updatedReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 7, json: "readyReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "availableReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 5, json: "unavailableReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 9, json: "terminatingReplicas", card: Optional, ty: Int32 },
        Field { number: 6, json: "conditions", card: Repeated, ty: Object(&DEPLOYMENT_CONDITION) },
        Field { number: 8, json: "collisionCount", card: Optional, ty: Int32 },
    ],
};

pub static REPLICA_SET_SPEC: Message = Message {
    definition: "io.k8s.api.apps.v1.ReplicaSetSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Optional, ty: Int32 },
        Field { number: 4, json: "minReadySeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 2, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 3, json: "template", card: Optional, ty: Object(&core_v1::POD_TEMPLATE_SPEC) },
    ],
};

pub static REPLICA_SET_STATUS: Message = Message {
    definition: "io.k8s.api.apps.v1.ReplicaSetStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Always, ty: Int32 },
        Field { number: 2, json: "fullyLabeledReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "readyReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 5, json: "availableReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 7, json: "terminatingReplicas", card: Optional, ty: Int32 },
        Field { number: 3, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 6, json: "conditions", card: Repeated, ty: Object(&REPLICA_SET_CONDITION) },
    ],
};

pub static DAEMON_SET_SPEC: Message = Message {
    definition: "io.k8s.api.apps.v1.DaemonSetSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 2, json: "template", card: Optional, ty: Object(&core_v1::POD_TEMPLATE_SPEC) },
        Field { number: 3, json: "updateStrategy", card: Optional, ty: Object(&DAEMON_SET_UPDATE_STRATEGY) },
        Field { number: 4, json: "minReadySeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 6, json: "revisionHistoryLimit", card: Optional, ty: Int32 },
    ],
};

pub static DAEMON_SET_STATUS: Message = Message {
    definition: "io.k8s.api.apps.v1.DaemonSetStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "currentNumberScheduled", card: Always, ty: Int32 },
        Field { number: 2, json: "numberMisscheduled", card: Always, ty: Int32 },
        Field { number: 3, json: "desiredNumberScheduled", card: Always, ty: Int32 },
        Field { number: 4, json: "numberReady", card: Always, ty: Int32 },
        Field { number: 5, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 6, json: "updatedNumberScheduled", card: OmitEmpty, ty: Int32 },
        Field { number: 7, json: "numberAvailable", card: OmitEmpty, ty: Int32 },
        Field { number: 8, json: "numberUnavailable", card: OmitEmpty, ty: Int32 },
        Field { number: 9, json: "collisionCount", card: Optional, ty: Int32 },
        Field { number: 10, json: "conditions", card: Repeated, ty: Object(&DAEMON_SET_CONDITION) },
    ],
};

pub static STATEFUL_SET_SPEC: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSetSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Optional, ty: Int32 },
        Field { number: 2, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 3, json: "template", card: Optional, ty: Object(&core_v1::POD_TEMPLATE_SPEC) },
        Field { number: 4, json: "volumeClaimTemplates", card: Repeated, ty: Object(&core_v1::PERSISTENT_VOLUME_CLAIM) },
        Field { number: 5, json: "serviceName", card: Always, ty: Str },
        Field { number: 6, json: "podManagementPolicy", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "updateStrategy", card: Optional, ty: Object(&STATEFUL_SET_UPDATE_STRATEGY) },
        Field { number: 8, json: "revisionHistoryLimit", card: Optional, ty: Int32 },
        Field { number: 9, json: "minReadySeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 10, json: "persistentVolumeClaimRetentionPolicy", card: Optional, ty: Object(&STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY) },
        Field { number: 11, json: "ordinals", card: Optional, ty: Object(&STATEFUL_SET_ORDINALS) },
    ],
};

pub static STATEFUL_SET_STATUS: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSetStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 2, json: "replicas", card: Always, ty: Int32 },
        Field { number: 3, json: "readyReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "currentReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 5, json: "updatedReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 6, json: "currentRevision", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "updateRevision", card: OmitEmpty, ty: Str },
        Field { number: 9, json: "collisionCount", card: Optional, ty: Int32 },
        Field { number: 10, json: "conditions", card: Repeated, ty: Object(&STATEFUL_SET_CONDITION) },
        Field { number: 11, json: "availableReplicas", card: Always, ty: Int32 },
    ],
};

pub static DEPLOYMENT_STRATEGY: Message = Message {
    definition: "io.k8s.api.apps.v1.DeploymentStrategy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "rollingUpdate", card: Optional, ty: Object(&ROLLING_UPDATE_DEPLOYMENT) },
    ],
};

pub static DEPLOYMENT_CONDITION: Message = Message {
    definition: "io.k8s.api.apps.v1.DeploymentCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 6, json: "lastUpdateTime", card: Optional, ty: Time },
        Field { number: 7, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static REPLICA_SET_CONDITION: Message = Message {
    definition: "io.k8s.api.apps.v1.ReplicaSetCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static DAEMON_SET_UPDATE_STRATEGY: Message = Message {
    definition: "io.k8s.api.apps.v1.DaemonSetUpdateStrategy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "rollingUpdate", card: Optional, ty: Object(&ROLLING_UPDATE_DAEMON_SET) },
    ],
};

pub static DAEMON_SET_CONDITION: Message = Message {
    definition: "io.k8s.api.apps.v1.DaemonSetCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static STATEFUL_SET_UPDATE_STRATEGY: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "rollingUpdate", card: Optional, ty: Object(&ROLLING_UPDATE_STATEFUL_SET_STRATEGY) },
    ],
};

pub static STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "whenDeleted", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "whenScaled", card: OmitEmpty, ty: Str },
    ],
};

pub static STATEFUL_SET_ORDINALS: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSetOrdinals",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "start", card: Always, ty: Int32 },
    ],
};

pub static STATEFUL_SET_CONDITION: Message = Message {
    definition: "io.k8s.api.apps.v1.StatefulSetCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static ROLLING_UPDATE_DEPLOYMENT: Message = Message {
    definition: "io.k8s.api.apps.v1.RollingUpdateDeployment",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "maxUnavailable", card: Optional, ty: IntOrString },
        Field { number: 2, json: "maxSurge", card: Optional, ty: IntOrString },
    ],
};

pub static ROLLING_UPDATE_DAEMON_SET: Message = Message {
    definition: "io.k8s.api.apps.v1.RollingUpdateDaemonSet",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "maxUnavailable", card: Optional, ty: IntOrString },
        Field { number: 2, json: "maxSurge", card: Optional, ty: IntOrString },
    ],
};

pub static ROLLING_UPDATE_STATEFUL_SET_STRATEGY: Message = Message {
    definition: "io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "partition", card: Optional, ty: Int32 },
        Field { number: 2, json: "maxUnavailable", card: Optional, ty: IntOrString },
    ],
};

