// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::core_v1;
use super::meta_v1;

pub static JOB: Message = Message {
    definition: "io.k8s.api.batch.v1.Job",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&JOB_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&JOB_STATUS) },
    ],
};

pub static CRON_JOB: Message = Message {
    definition: "io.k8s.api.batch.v1.CronJob",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&CRON_JOB_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&CRON_JOB_STATUS) },
    ],
};

pub static JOB_SPEC: Message = Message {
    definition: "io.k8s.api.batch.v1.JobSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "parallelism", card: Optional, ty: Int32 },
        Field { number: 2, json: "completions", card: Optional, ty: Int32 },
        Field { number: 3, json: "activeDeadlineSeconds", card: Optional, ty: Int64 },
        Field { number: 11, json: "podFailurePolicy", card: Optional, ty: Object(&POD_FAILURE_POLICY) },
        Field { number: 16, json: "successPolicy", card: Optional, ty: Object(&SUCCESS_POLICY) },
        Field { number: 7, json: "backoffLimit", card: Optional, ty: Int32 },
        Field { number: 12, json: "backoffLimitPerIndex", card: Optional, ty: Int32 },
        Field { number: 13, json: "maxFailedIndexes", card: Optional, ty: Int32 },
        Field { number: 4, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 5, json: "manualSelector", card: Optional, ty: Bool },
        Field { number: 6, json: "template", card: Optional, ty: Object(&core_v1::POD_TEMPLATE_SPEC) },
        Field { number: 8, json: "ttlSecondsAfterFinished", card: Optional, ty: Int32 },
        Field { number: 9, json: "completionMode", card: Optional, ty: Str },
        Field { number: 10, json: "suspend", card: Optional, ty: Bool },
        Field { number: 14, json: "podReplacementPolicy", card: Optional, ty: Str },
        Field { number: 15, json: "managedBy", card: Optional, ty: Str },
    ],
};

pub static JOB_STATUS: Message = Message {
    definition: "io.k8s.api.batch.v1.JobStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "conditions", card: Repeated, ty: Object(&JOB_CONDITION) },
        Field { number: 2, json: "startTime", card: Optional, ty: Time },
        Field { number: 3, json: "completionTime", card: Optional, ty: Time },
        Field { number: 4, json: "active", card: OmitEmpty, ty: Int32 },
        Field { number: 5, json: "succeeded", card: OmitEmpty, ty: Int32 },
        Field { number: 6, json: "failed", card: OmitEmpty, ty: Int32 },
        Field { number: 11, json: "terminating", card: Optional, ty: Int32 },
        Field { number: 7, json: "completedIndexes", card: OmitEmpty, ty: Str },
        Field { number: 10, json: "failedIndexes", card: Optional, ty: Str },
        Field { number: 8, json: "uncountedTerminatedPods", card: Optional, ty: Object(&UNCOUNTED_TERMINATED_PODS) },
        Field { number: 9, json: "ready", card: Optional, ty: Int32 },
    ],
};

pub static CRON_JOB_SPEC: Message = Message {
    definition: "io.k8s.api.batch.v1.CronJobSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "schedule", card: Always, ty: Str },
        Field { number: 8, json: "timeZone", card: Optional, ty: Str },
        Field { number: 2, json: "startingDeadlineSeconds", card: Optional, ty: Int64 },
        Field { number: 3, json: "concurrencyPolicy", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "suspend", card: Optional, ty: Bool },
        Field { number: 5, json: "jobTemplate", card: Optional, ty: Object(&JOB_TEMPLATE_SPEC) },
        Field { number: 6, json: "successfulJobsHistoryLimit", card: Optional, ty: Int32 },
        Field { number: 7, json: "failedJobsHistoryLimit", card: Optional, ty: Int32 },
    ],
};

pub static CRON_JOB_STATUS: Message = Message {
    definition: "io.k8s.api.batch.v1.CronJobStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "active", card: Repeated, ty: Object(&core_v1::OBJECT_REFERENCE) },
        Field { number: 4, json: "lastScheduleTime", card: Optional, ty: Time },
        Field { number: 5, json: "lastSuccessfulTime", card: Optional, ty: Time },
    ],
};

pub static POD_FAILURE_POLICY: Message = Message {
    definition: "io.k8s.api.batch.v1.PodFailurePolicy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "rules", card: Repeated, ty: Object(&POD_FAILURE_POLICY_RULE) },
    ],
};

pub static SUCCESS_POLICY: Message = Message {
    definition: "io.k8s.api.batch.v1.SuccessPolicy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "rules", card: Repeated, ty: Object(&SUCCESS_POLICY_RULE) },
    ],
};

pub static JOB_CONDITION: Message = Message {
    definition: "io.k8s.api.batch.v1.JobCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastProbeTime", card: Optional, ty: Time },
        Field { number: 4, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 5, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static UNCOUNTED_TERMINATED_PODS: Message = Message {
    definition: "io.k8s.api.batch.v1.UncountedTerminatedPods",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "succeeded", card: Repeated, ty: Str },
        Field { number: 2, json: "failed", card: Repeated, ty: Str },
    ],
};

pub static JOB_TEMPLATE_SPEC: Message = Message {
    definition: "io.k8s.api.batch.v1.JobTemplateSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&JOB_SPEC) },
    ],
};

pub static POD_FAILURE_POLICY_RULE: Message = Message {
    definition: "io.k8s.api.batch.v1.PodFailurePolicyRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "action", card: Always, ty: Str },
        Field { number: 2, json: "onExitCodes", card: Optional, ty: Object(&POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT) },
        Field { number: 3, json: "onPodConditions", card: Repeated, ty: Object(&POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN) },
    ],
};

pub static SUCCESS_POLICY_RULE: Message = Message {
    definition: "io.k8s.api.batch.v1.SuccessPolicyRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "succeededIndexes", card: Optional, ty: Str },
        Field { number: 2, json: "succeededCount", card: Optional, ty: Int32 },
    ],
};

pub static POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: Message = Message {
    definition: "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "containerName", card: Optional, ty: Str },
        Field { number: 2, json: "operator", card: Always, ty: Str },
        Field { number: 3, json: "values", card: Repeated, ty: Int32 },
    ],
};

pub static POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: Message = Message {
    definition: "io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
    ],
};

