// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::meta_v1;

pub static NAMESPACE: Message = Message {
    definition: "io.k8s.api.core.v1.Namespace",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&NAMESPACE_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&NAMESPACE_STATUS) },
    ],
};

pub static POD: Message = Message {
    definition: "io.k8s.api.core.v1.Pod",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&POD_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&POD_STATUS) },
    ],
};

pub static SERVICE: Message = Message {
    definition: "io.k8s.api.core.v1.Service",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&SERVICE_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&SERVICE_STATUS) },
    ],
};

pub static ENDPOINTS: Message = Message {
    definition: "io.k8s.api.core.v1.Endpoints",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "subsets", card: Repeated, ty: Object(&ENDPOINT_SUBSET) },
    ],
};

pub static NODE: Message = Message {
    definition: "io.k8s.api.core.v1.Node",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&NODE_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&NODE_STATUS) },
    ],
};

pub static CONFIG_MAP: Message = Message {
    definition: "io.k8s.api.core.v1.ConfigMap",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 4, json: "immutable", card: Optional, ty: Bool },
        Field { number: 2, json: "data", card: Optional, ty: Map(&Str) },
        Field { number: 3, json: "binaryData", card: Optional, ty: Map(&Bytes) },
    ],
};

pub static SECRET: Message = Message {
    definition: "io.k8s.api.core.v1.Secret",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 5, json: "immutable", card: Optional, ty: Bool },
        Field { number: 2, json: "data", card: Optional, ty: Map(&Bytes) },
        Field { number: 4, json: "stringData", card: Optional, ty: Map(&Str) },
        Field { number: 3, json: "type", card: OmitEmpty, ty: Str },
    ],
};

pub static SERVICE_ACCOUNT: Message = Message {
    definition: "io.k8s.api.core.v1.ServiceAccount",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "secrets", card: Repeated, ty: Object(&OBJECT_REFERENCE) },
        Field { number: 3, json: "imagePullSecrets", card: Repeated, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 4, json: "automountServiceAccountToken", card: Optional, ty: Bool },
    ],
};

pub static EVENT: Message = Message {
    definition: "io.k8s.api.core.v1.Event",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "involvedObject", card: Optional, ty: Object(&OBJECT_REFERENCE) },
        Field { number: 3, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "message", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "source", card: Optional, ty: Object(&EVENT_SOURCE) },
        Field { number: 6, json: "firstTimestamp", card: Optional, ty: Time },
        Field { number: 7, json: "lastTimestamp", card: Optional, ty: Time },
        Field { number: 8, json: "count", card: OmitEmpty, ty: Int32 },
        Field { number: 9, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 10, json: "eventTime", card: Optional, ty: MicroTime },
        Field { number: 11, json: "series", card: Optional, ty: Object(&EVENT_SERIES) },
        Field { number: 12, json: "action", card: OmitEmpty, ty: Str },
        Field { number: 13, json: "related", card: Optional, ty: Object(&OBJECT_REFERENCE) },
        Field { number: 14, json: "reportingComponent", card: Always, ty: Str },
        Field { number: 15, json: "reportingInstance", card: Always, ty: Str },
    ],
};

pub static REPLICATION_CONTROLLER: Message = Message {
    definition: "io.k8s.api.core.v1.ReplicationController",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&REPLICATION_CONTROLLER_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&REPLICATION_CONTROLLER_STATUS) },
    ],
};

pub static PERSISTENT_VOLUME: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolume",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&PERSISTENT_VOLUME_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&PERSISTENT_VOLUME_STATUS) },
    ],
};

pub static PERSISTENT_VOLUME_CLAIM: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeClaim",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&PERSISTENT_VOLUME_CLAIM_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&PERSISTENT_VOLUME_CLAIM_STATUS) },
    ],
};

pub static LIMIT_RANGE: Message = Message {
    definition: "io.k8s.api.core.v1.LimitRange",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&LIMIT_RANGE_SPEC) },
    ],
};

pub static RESOURCE_QUOTA: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceQuota",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&RESOURCE_QUOTA_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&RESOURCE_QUOTA_STATUS) },
    ],
};

pub static BINDING: Message = Message {
    definition: "io.k8s.api.core.v1.Binding",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "target", card: Optional, ty: Object(&OBJECT_REFERENCE) },
    ],
};

pub static NAMESPACE_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.NamespaceSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "finalizers", card: Repeated, ty: Str },
    ],
};

pub static NAMESPACE_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.NamespaceStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "phase", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "conditions", card: Repeated, ty: Object(&NAMESPACE_CONDITION) },
    ],
};

pub static POD_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.PodSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumes", card: Repeated, ty: Object(&VOLUME) },
        Field { number: 20, json: "initContainers", card: Repeated, ty: Object(&CONTAINER) },
        Field { number: 2, json: "containers", card: Repeated, ty: Object(&CONTAINER) },
        Field { number: 34, json: "ephemeralContainers", card: Repeated, ty: Object(&EPHEMERAL_CONTAINER) },
        Field { number: 3, json: "restartPolicy", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "terminationGracePeriodSeconds", card: Optional, ty: Int64 },
        Field { number: 5, json: "activeDeadlineSeconds", card: Optional, ty: Int64 },
        Field { number: 6, json: "dnsPolicy", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "nodeSelector", card: Optional, ty: Map(&Str) },
        Field { number: 8, json: "serviceAccountName", card: OmitEmpty, ty: Str },
        Field { number: 9, json: "serviceAccount", card: OmitEmpty, ty: Str },
        Field { number: 21, json: "automountServiceAccountToken", card: Optional, ty: Bool },
        Field { number: 10, json: "nodeName", card: OmitEmpty, ty: Str },
        Field { number: 11, json: "hostNetwork", card: OmitEmpty, ty: Bool },
        Field { number: 12, json: "hostPID", card: OmitEmpty, ty: Bool },
        Field { number: 13, json: "hostIPC", card: OmitEmpty, ty: Bool },
        Field { number: 27, json: "shareProcessNamespace", card: Optional, ty: Bool },
        Field { number: 14, json: "securityContext", card: Optional, ty: Object(&POD_SECURITY_CONTEXT) },
        Field { number: 15, json: "imagePullSecrets", card: Repeated, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 16, json: "hostname", card: OmitEmpty, ty: Str },
        Field { number: 17, json: "subdomain", card: OmitEmpty, ty: Str },
        Field { number: 18, json: "affinity", card: Optional, ty: Object(&AFFINITY) },
        Field { number: 19, json: "schedulerName", card: OmitEmpty, ty: Str },
        Field { number: 22, json: "tolerations", card: Repeated, ty: Object(&TOLERATION) },
        Field { number: 23, json: "hostAliases", card: Repeated, ty: Object(&HOST_ALIAS) },
        Field { number: 24, json: "priorityClassName", card: OmitEmpty, ty: Str },
        Field { number: 25, json: "priority", card: Optional, ty: Int32 },
        Field { number: 26, json: "dnsConfig", card: Optional, ty: Object(&POD_DNS_CONFIG) },
        Field { number: 28, json: "readinessGates", card: Repeated, ty: Object(&POD_READINESS_GATE) },
        Field { number: 29, json: "runtimeClassName", card: Optional, ty: Str },
        Field { number: 30, json: "enableServiceLinks", card: Optional, ty: Bool },
        Field { number: 31, json: "preemptionPolicy", card: Optional, ty: Str },
        Field { number: 32, json: "overhead", card: Optional, ty: Map(&Quantity) },
        Field { number: 33, json: "topologySpreadConstraints", card: Repeated, ty: Object(&TOPOLOGY_SPREAD_CONSTRAINT) },
        Field { number: 35, json: "setHostnameAsFQDN", card: Optional, ty: Bool },
        Field { number: 36, json: "os", card: Optional, ty: Object(&POD_OS) },
        Field { number: 37, json: "hostUsers", card: Optional, ty: Bool },
        Field { number: 38, json: "schedulingGates", card: Repeated, ty: Object(&POD_SCHEDULING_GATE) },
        Field { number: 39, json: "resourceClaims", card: Repeated, ty: Object(&POD_RESOURCE_CLAIM) },
        Field { number: 40, json: "resources", card: Optional, ty: Object(&RESOURCE_REQUIREMENTS) },
    ],
};

pub static POD_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.PodStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 17, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 1, json: "phase", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "conditions", card: Repeated, ty: Object(&POD_CONDITION) },
        Field { number: 3, json: "message", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 11, json: "nominatedNodeName", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "hostIP", card: OmitEmpty, ty: Str },
        Field { number: 16, json: "hostIPs", card: Repeated, ty: Object(&HOST_IP) },
        Field { number: 6, json: "podIP", card: OmitEmpty, ty: Str },
        Field { number: 12, json: "podIPs", card: Repeated, ty: Object(&POD_IP) },
        Field { number: 7, json: "startTime", card: Optional, ty: Time },
        Field { number: 10, json: "initContainerStatuses", card: Repeated, ty: Object(&CONTAINER_STATUS) },
        Field { number: 8, json: "containerStatuses", card: Repeated, ty: Object(&CONTAINER_STATUS) },
        Field { number: 9, json: "qosClass", card: OmitEmpty, ty: Str },
        Field { number: 13, json: "ephemeralContainerStatuses", card: Repeated, ty: Object(&CONTAINER_STATUS) },
        Field { number: 14, json: "resize", card: OmitEmpty, ty: Str },
        Field { number: 15, json: "resourceClaimStatuses", card: Repeated, ty: Object(&POD_RESOURCE_CLAIM_STATUS) },
    ],
};

pub static SERVICE_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.ServiceSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ports", card: Repeated, ty: Object(&SERVICE_PORT) },
        Field { number: 2, json: "selector", card: Optional, ty: Map(&Str) },
        Field { number: 3, json: "clusterIP", card: OmitEmpty, ty: Str },
        Field { number: 18, json: "clusterIPs", card: Repeated, ty: Str },
        Field { number: 4, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "externalIPs", card: Repeated, ty: Str },
        Field { number: 7, json: "sessionAffinity", card: OmitEmpty, ty: Str },
        Field { number: 8, json: "loadBalancerIP", card: OmitEmpty, ty: Str },
        Field { number: 9, json: "loadBalancerSourceRanges", card: Repeated, ty: Str },
        Field { number: 10, json: "externalName", card: OmitEmpty, ty: Str },
        Field { number: 11, json: "externalTrafficPolicy", card: OmitEmpty, ty: Str },
        Field { number: 12, json: "healthCheckNodePort", card: OmitEmpty, ty: Int32 },
        Field { number: 13, json: "publishNotReadyAddresses", card: OmitEmpty, ty: Bool },
        Field { number: 14, json: "sessionAffinityConfig", card: Optional, ty: Object(&SESSION_AFFINITY_CONFIG) },
        Field { number: 19, json: "ipFamilies", card: Repeated, ty: Str },
        Field { number: 17, json: "ipFamilyPolicy", card: Optional, ty: Str },
        Field { number: 20, json: "allocateLoadBalancerNodePorts", card: Optional, ty: Bool },
        Field { number: 21, json: "loadBalancerClass", card: Optional, ty: Str },
        Field { number: 22, json: "internalTrafficPolicy", card: Optional, ty: Str },
        Field { number: 23, json: "trafficDistribution", card: Optional, ty: Str },
    ],
};

pub static SERVICE_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.ServiceStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "loadBalancer", card: Optional, ty: Object(&LOAD_BALANCER_STATUS) },
        Field { number: 2, json: "conditions", card: Repeated, ty: Object(&meta_v1::CONDITION) },
    ],
};

pub static ENDPOINT_SUBSET: Message = Message {
    definition: "io.k8s.api.core.v1.EndpointSubset",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "addresses", card: Repeated, ty: Object(&ENDPOINT_ADDRESS) },
        Field { number: 2, json: "notReadyAddresses", card: Repeated, ty: Object(&ENDPOINT_ADDRESS) },
        Field { number: 3, json: "ports", card: Repeated, ty: Object(&ENDPOINT_PORT) },
    ],
};

pub static NODE_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.NodeSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "podCIDR", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "podCIDRs", card: Repeated, ty: Str },
        Field { number: 3, json: "providerID", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "unschedulable", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "taints", card: Repeated, ty: Object(&TAINT) },
        Field { number: 6, json: "configSource", card: Optional, ty: Object(&NODE_CONFIG_SOURCE) },
        Field { number: 2, json: "externalID", card: OmitEmpty, ty: Str },
    ],
};

pub static NODE_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.NodeStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "capacity", card: Optional, ty: Map(&Quantity) },
        Field { number: 2, json: "allocatable", card: Optional, ty: Map(&Quantity) },
        Field { number: 3, json: "phase", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "conditions", card: Repeated, ty: Object(&NODE_CONDITION) },
        Field { number: 5, json: "addresses", card: Repeated, ty: Object(&NODE_ADDRESS) },
        Field { number: 6, json: "daemonEndpoints", card: Optional, ty: Object(&NODE_DAEMON_ENDPOINTS) },
        Field { number: 7, json: "nodeInfo", card: Optional, ty: Object(&NODE_SYSTEM_INFO) },
        Field { number: 8, json: "images", card: Repeated, ty: Object(&CONTAINER_IMAGE) },
        Field { number: 9, json: "volumesInUse", card: Repeated, ty: Str },
        Field { number: 10, json: "volumesAttached", card: Repeated, ty: Object(&ATTACHED_VOLUME) },
        Field { number: 11, json: "config", card: Optional, ty: Object(&NODE_CONFIG_STATUS) },
        Field { number: 12, json: "runtimeHandlers", card: Repeated, ty: Object(&NODE_RUNTIME_HANDLER) },
        Field { number: 13, json: "features", card: Optional, ty: Object(&NODE_FEATURES) },
    ],
};

pub static OBJECT_REFERENCE: Message = Message {
    definition: "io.k8s.api.core.v1.ObjectReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "kind", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "namespace", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "uid", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "apiVersion", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "resourceVersion", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "fieldPath", card: OmitEmpty, ty: Str },
    ],
};

pub static LOCAL_OBJECT_REFERENCE: Message = Message {
    definition: "io.k8s.api.core.v1.LocalObjectReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
    ],
};

pub static EVENT_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.EventSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "component", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "host", card: OmitEmpty, ty: Str },
    ],
};

pub static EVENT_SERIES: Message = Message {
    definition: "io.k8s.api.core.v1.EventSeries",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "count", card: OmitEmpty, ty: Int32 },
        Field { number: 2, json: "lastObservedTime", card: Optional, ty: MicroTime },
    ],
};

pub static REPLICATION_CONTROLLER_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.ReplicationControllerSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Optional, ty: Int32 },
        Field { number: 4, json: "minReadySeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 2, json: "selector", card: Optional, ty: Map(&Str) },
        Field { number: 3, json: "template", card: Optional, ty: Object(&POD_TEMPLATE_SPEC) },
    ],
};

pub static REPLICATION_CONTROLLER_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.ReplicationControllerStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "replicas", card: Always, ty: Int32 },
        Field { number: 2, json: "fullyLabeledReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "readyReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 5, json: "availableReplicas", card: OmitEmpty, ty: Int32 },
        Field { number: 3, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 6, json: "conditions", card: Repeated, ty: Object(&REPLICATION_CONTROLLER_CONDITION) },
    ],
};

pub static PERSISTENT_VOLUME_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "capacity", card: Optional, ty: Map(&Quantity) },
        Field { number: 2, json: "", card: Inline, ty: Object(&PERSISTENT_VOLUME_SOURCE) },
        Field { number: 3, json: "accessModes", card: Repeated, ty: Str },
        Field { number: 4, json: "claimRef", card: Optional, ty: Object(&OBJECT_REFERENCE) },
        Field { number: 5, json: "persistentVolumeReclaimPolicy", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "storageClassName", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "mountOptions", card: Repeated, ty: Str },
        Field { number: 8, json: "volumeMode", card: Optional, ty: Str },
        Field { number: 9, json: "nodeAffinity", card: Optional, ty: Object(&VOLUME_NODE_AFFINITY) },
        Field { number: 10, json: "volumeAttributesClassName", card: Optional, ty: Str },
    ],
};

pub static PERSISTENT_VOLUME_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "phase", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "message", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "lastPhaseTransitionTime", card: Optional, ty: Time },
    ],
};

pub static PERSISTENT_VOLUME_CLAIM_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "accessModes", card: Repeated, ty: Str },
        Field { number: 4, json: "selector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 2, json: "resources", card: Optional, ty: Object(&VOLUME_RESOURCE_REQUIREMENTS) },
        Field { number: 3, json: "volumeName", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "storageClassName", card: Optional, ty: Str },
        Field { number: 6, json: "volumeMode", card: Optional, ty: Str },
        Field { number: 7, json: "dataSource", card: Optional, ty: Object(&TYPED_LOCAL_OBJECT_REFERENCE) },
        Field { number: 8, json: "dataSourceRef", card: Optional, ty: Object(&TYPED_OBJECT_REFERENCE) },
        Field { number: 9, json: "volumeAttributesClassName", card: Optional, ty: Str },
    ],
};

pub static PERSISTENT_VOLUME_CLAIM_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "phase", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "accessModes", card: Repeated, ty: Str },
        Field { number: 3, json: "capacity", card: Optional, ty: Map(&Quantity) },
        Field { number: 4, json: "conditions", card: Repeated, ty: Object(&PERSISTENT_VOLUME_CLAIM_CONDITION) },
        Field { number: 5, json: "allocatedResources", card: Optional, ty: Map(&Quantity) },
        Field { number: 7, json: "allocatedResourceStatuses", card: Optional, ty: Map(&Str) },
        Field { number: 8, json: "currentVolumeAttributesClassName", card: Optional, ty: Str },
        Field { number: 9, json: "modifyVolumeStatus", card: Optional, ty: Object(&MODIFY_VOLUME_STATUS) },
    ],
};

pub static LIMIT_RANGE_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.LimitRangeSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "limits", card: Repeated, ty: Object(&LIMIT_RANGE_ITEM) },
    ],
};

pub static RESOURCE_QUOTA_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceQuotaSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "hard", card: Optional, ty: Map(&Quantity) },
        Field { number: 2, json: "scopes", card: Repeated, ty: Str },
        Field { number: 3, json: "scopeSelector", card: Optional, ty: Object(&SCOPE_SELECTOR) },
    ],
};

pub static RESOURCE_QUOTA_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceQuotaStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "hard", card: Optional, ty: Map(&Quantity) },
        Field { number: 2, json: "used", card: Optional, ty: Map(&Quantity) },
    ],
};

pub static TOPOLOGY_SELECTOR_TERM: Message = Message {
    definition: "io.k8s.api.core.v1.TopologySelectorTerm",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "matchLabelExpressions", card: Repeated, ty: Object(&TOPOLOGY_SELECTOR_LABEL_REQUIREMENT) },
    ],
};

pub static NAMESPACE_CONDITION: Message = Message {
    definition: "io.k8s.api.core.v1.NamespaceCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 4, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 5, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static VOLUME: Message = Message {
    definition: "io.k8s.api.core.v1.Volume",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "", card: Inline, ty: Object(&VOLUME_SOURCE) },
    ],
};

pub static CONTAINER: Message = Message {
    definition: "io.k8s.api.core.v1.Container",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "image", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "command", card: Repeated, ty: Str },
        Field { number: 4, json: "args", card: Repeated, ty: Str },
        Field { number: 5, json: "workingDir", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "ports", card: Repeated, ty: Object(&CONTAINER_PORT) },
        Field { number: 19, json: "envFrom", card: Repeated, ty: Object(&ENV_FROM_SOURCE) },
        Field { number: 7, json: "env", card: Repeated, ty: Object(&ENV_VAR) },
        Field { number: 8, json: "resources", card: Optional, ty: Object(&RESOURCE_REQUIREMENTS) },
        Field { number: 23, json: "resizePolicy", card: Repeated, ty: Object(&CONTAINER_RESIZE_POLICY) },
        Field { number: 24, json: "restartPolicy", card: Optional, ty: Str },
        Field { number: 9, json: "volumeMounts", card: Repeated, ty: Object(&VOLUME_MOUNT) },
        Field { number: 21, json: "volumeDevices", card: Repeated, ty: Object(&VOLUME_DEVICE) },
        Field { number: 10, json: "livenessProbe", card: Optional, ty: Object(&PROBE) },
        Field { number: 11, json: "readinessProbe", card: Optional, ty: Object(&PROBE) },
        Field { number: 22, json: "startupProbe", card: Optional, ty: Object(&PROBE) },
        Field { number: 12, json: "lifecycle", card: Optional, ty: Object(&LIFECYCLE) },
        Field { number: 13, json: "terminationMessagePath", card: OmitEmpty, ty: Str },
        Field { number: 20, json: "terminationMessagePolicy", card: OmitEmpty, ty: Str },
        Field { number: 14, json: "imagePullPolicy", card: OmitEmpty, ty: Str },
        Field { number: 15, json: "securityContext", card: Optional, ty: Object(&SECURITY_CONTEXT) },
        Field { number: 16, json: "stdin", card: OmitEmpty, ty: Bool },
        Field { number: 17, json: "stdinOnce", card: OmitEmpty, ty: Bool },
        Field { number: 18, json: "tty", card: OmitEmpty, ty: Bool },
    ],
};

pub static EPHEMERAL_CONTAINER: Message = Message {
    definition: "io.k8s.api.core.v1.EphemeralContainer",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&EPHEMERAL_CONTAINER_COMMON) },
        Field { number: 2, json: "targetContainerName", card: OmitEmpty, ty: Str },
    ],
};

pub static POD_SECURITY_CONTEXT: Message = Message {
    definition: "io.k8s.api.core.v1.PodSecurityContext",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "seLinuxOptions", card: Optional, ty: Object(&SE_LINUX_OPTIONS) },
        Field { number: 8, json: "windowsOptions", card: Optional, ty: Object(&WINDOWS_SECURITY_CONTEXT_OPTIONS) },
        Field { number: 2, json: "runAsUser", card: Optional, ty: Int64 },
        Field { number: 6, json: "runAsGroup", card: Optional, ty: Int64 },
        Field { number: 3, json: "runAsNonRoot", card: Optional, ty: Bool },
        Field { number: 4, json: "supplementalGroups", card: Repeated, ty: Int64 },
        Field { number: 12, json: "supplementalGroupsPolicy", card: Optional, ty: Str },
        Field { number: 5, json: "fsGroup", card: Optional, ty: Int64 },
        Field { number: 7, json: "sysctls", card: Repeated, ty: Object(&SYSCTL) },
        Field { number: 9, json: "fsGroupChangePolicy", card: Optional, ty: Str },
        Field { number: 10, json: "seccompProfile", card: Optional, ty: Object(&SECCOMP_PROFILE) },
        Field { number: 11, json: "appArmorProfile", card: Optional, ty: Object(&APP_ARMOR_PROFILE) },
        Field { number: 13, json: "seLinuxChangePolicy", card: Optional, ty: Str },
    ],
};

pub static AFFINITY: Message = Message {
    definition: "io.k8s.api.core.v1.Affinity",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "nodeAffinity", card: Optional, ty: Object(&NODE_AFFINITY) },
        Field { number: 2, json: "podAffinity", card: Optional, ty: Object(&POD_AFFINITY) },
        Field { number: 3, json: "podAntiAffinity", card: Optional, ty: Object(&POD_ANTI_AFFINITY) },
    ],
};

pub static TOLERATION: Message = Message {
    definition: "io.k8s.api.core.v1.Toleration",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "operator", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "value", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "effect", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "tolerationSeconds", card: Optional, ty: Int64 },
    ],
};

pub static HOST_ALIAS: Message = Message {
    definition: "io.k8s.api.core.v1.HostAlias",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ip", card: Always, ty: Str },
        Field { number: 2, json: "hostnames", card: Repeated, ty: Str },
    ],
};

pub static POD_DNS_CONFIG: Message = Message {
    definition: "io.k8s.api.core.v1.PodDNSConfig",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "nameservers", card: Repeated, ty: Str },
        Field { number: 2, json: "searches", card: Repeated, ty: Str },
        Field { number: 3, json: "options", card: Repeated, ty: Object(&POD_DNS_CONFIG_OPTION) },
    ],
};

pub static POD_READINESS_GATE: Message = Message {
    definition: "io.k8s.api.core.v1.PodReadinessGate",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "conditionType", card: Always, ty: Str },
    ],
};

pub static TOPOLOGY_SPREAD_CONSTRAINT: Message = Message {
    definition: "io.k8s.api.core.v1.TopologySpreadConstraint",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "maxSkew", card: Always, ty: Int32 },
        Field { number: 2, json: "topologyKey", card: Always, ty: Str },
        Field { number: 3, json: "whenUnsatisfiable", card: Always, ty: Str },
        Field { number: 4, json: "labelSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 5, json: "minDomains", card: Optional, ty: Int32 },
        Field { number: 6, json: "nodeAffinityPolicy", card: Optional, ty: Str },
        Field { number: 7, json: "nodeTaintsPolicy", card: Optional, ty: Str },
        Field { number: 8, json: "matchLabelKeys", card: Repeated, ty: Str },
    ],
};

pub static POD_OS: Message = Message {
    definition: "io.k8s.api.core.v1.PodOS",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
    ],
};

pub static POD_SCHEDULING_GATE: Message = Message {
    definition: "io.k8s.api.core.v1.PodSchedulingGate",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
    ],
};

pub static POD_RESOURCE_CLAIM: Message = Message {
    definition: "io.k8s.api.core.v1.PodResourceClaim",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 3, json: "resourceClaimName", card: Optional, ty: Str },
        Field { number: 4, json: "resourceClaimTemplateName", card: Optional, ty: Str },
    ],
};

pub static RESOURCE_REQUIREMENTS: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceRequirements",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "limits", card: Optional, ty: Map(&Quantity) },
        Field { number: 2, json: "requests", card: Optional, ty: Map(&Quantity) },
        Field { number: 3, json: "claims", card: Repeated, ty: Object(&RESOURCE_CLAIM) },
    ],
};

pub static POD_CONDITION: Message = Message {
    definition: "io.k8s.api.core.v1.PodCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 7, json: "observedGeneration", card: OmitEmpty, ty: Int64 },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastProbeTime", card: Optional, ty: Time },
        Field { number: 4, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 5, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static HOST_IP: Message = Message {
    definition: "io.k8s.api.core.v1.HostIP",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ip", card: Always, ty: Str },
    ],
};

pub static POD_IP: Message = Message {
    definition: "io.k8s.api.core.v1.PodIP",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ip", card: Always, ty: Str },
    ],
};

pub static CONTAINER_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "state", card: Optional, ty: Object(&CONTAINER_STATE) },
        Field { number: 3, json: "lastState", card: Optional, ty: Object(&CONTAINER_STATE) },
        Field { number: 4, json: "ready", card: Always, ty: Bool },
        Field { number: 5, json: "restartCount", card: Always, ty: Int32 },
        Field { number: 6, json: "image", card: Always, ty: Str },
        Field { number: 7, json: "imageID", card: Always, ty: Str },
        Field { number: 8, json: "containerID", card: OmitEmpty, ty: Str },
        Field { number: 9, json: "started", card: Optional, ty: Bool },
        Field { number: 10, json: "allocatedResources", card: Optional, ty: Map(&Quantity) },
        Field { number: 11, json: "resources", card: Optional, ty: Object(&RESOURCE_REQUIREMENTS) },
        Field { number: 12, json: "volumeMounts", card: Repeated, ty: Object(&VOLUME_MOUNT_STATUS) },
        Field { number: 13, json: "user", card: Optional, ty: Object(&CONTAINER_USER) },
        Field { number: 14, json: "allocatedResourcesStatus", card: Repeated, ty: Object(&RESOURCE_STATUS) },
        Field { number: 15, json: "stopSignal", card: Optional, ty: Str },
    ],
};

pub static POD_RESOURCE_CLAIM_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.PodResourceClaimStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "resourceClaimName", card: Optional, ty: Str },
    ],
};

pub static SERVICE_PORT: Message = Message {
    definition: "io.k8s.api.core.v1.ServicePort",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "protocol", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "appProtocol", card: Optional, ty: Str },
        Field { number: 3, json: "port", card: Always, ty: Int32 },
        Field { number: 4, json: "targetPort", card: Optional, ty: IntOrString },
        Field { number: 5, json: "nodePort", card: OmitEmpty, ty: Int32 },
    ],
};

pub static SESSION_AFFINITY_CONFIG: Message = Message {
    definition: "io.k8s.api.core.v1.SessionAffinityConfig",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "clientIP", card: Optional, ty: Object(&CLIENT_IP_CONFIG) },
    ],
};

pub static LOAD_BALANCER_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.LoadBalancerStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ingress", card: Repeated, ty: Object(&LOAD_BALANCER_INGRESS) },
    ],
};

pub static ENDPOINT_ADDRESS: Message = Message {
    definition: "io.k8s.api.core.v1.EndpointAddress",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ip", card: Always, ty: Str },
        Field { number: 3, json: "hostname", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "nodeName", card: Optional, ty: Str },
        Field { number: 2, json: "targetRef", card: Optional, ty: Object(&OBJECT_REFERENCE) },
    ],
};

pub static ENDPOINT_PORT: Message = Message {
    definition: "io.k8s.api.core.v1.EndpointPort",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "port", card: Always, ty: Int32 },
        Field { number: 3, json: "protocol", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "appProtocol", card: Optional, ty: Str },
    ],
};

pub static TAINT: Message = Message {
    definition: "io.k8s.api.core.v1.Taint",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: Always, ty: Str },
        Field { number: 2, json: "value", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "effect", card: Always, ty: Str },
        Field { number: 4, json: "timeAdded", card: Optional, ty: Time },
    ],
};

pub static NODE_CONFIG_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.NodeConfigSource",
    form: Form::Struct,
    fields: &[
        Field { number: 2, json: "configMap", card: Optional, ty: Object(&CONFIG_MAP_NODE_CONFIG_SOURCE) },
    ],
};

pub static NODE_CONDITION: Message = Message {
    definition: "io.k8s.api.core.v1.NodeCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastHeartbeatTime", card: Optional, ty: Time },
        Field { number: 4, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 5, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static NODE_ADDRESS: Message = Message {
    definition: "io.k8s.api.core.v1.NodeAddress",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "address", card: Always, ty: Str },
    ],
};

pub static NODE_DAEMON_ENDPOINTS: Message = Message {
    definition: "io.k8s.api.core.v1.NodeDaemonEndpoints",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "kubeletEndpoint", card: Optional, ty: Object(&DAEMON_ENDPOINT) },
    ],
};

pub static NODE_SYSTEM_INFO: Message = Message {
    definition: "io.k8s.api.core.v1.NodeSystemInfo",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "machineID", card: Always, ty: Str },
        Field { number: 2, json: "systemUUID", card: Always, ty: Str },
        Field { number: 3, json: "bootID", card: Always, ty: Str },
        Field { number: 4, json: "kernelVersion", card: Always, ty: Str },
        Field { number: 5, json: "osImage", card: Always, ty: Str },
        Field { number: 6, json: "containerRuntimeVersion", card: Always, ty: Str },
        Field { number: 7, json: "kubeletVersion", card: Always, ty: Str },
        Field { number: 8, json: "kubeProxyVersion", card: Always, ty: Str },
        Field { number: 9, json: "operatingSystem", card: Always, ty: Str },
        Field { number: 10, json: "architecture", card: Always, ty: Str },
        Field { number: 11, json: "swap", card: Optional, ty: Object(&NODE_SWAP_STATUS) },
    ],
};

pub static CONTAINER_IMAGE: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerImage",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "names", card: Repeated, ty: Str },
        Field { number: 2, json: "sizeBytes", card: OmitEmpty, ty: Int64 },
    ],
};

pub static ATTACHED_VOLUME: Message = Message {
    definition: "io.k8s.api.core.v1.AttachedVolume",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "devicePath", card: Always, ty: Str },
    ],
};

pub static NODE_CONFIG_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.NodeConfigStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "assigned", card: Optional, ty: Object(&NODE_CONFIG_SOURCE) },
        Field { number: 2, json: "active", card: Optional, ty: Object(&NODE_CONFIG_SOURCE) },
        Field { number: 3, json: "lastKnownGood", card: Optional, ty: Object(&NODE_CONFIG_SOURCE) },
        Field { number: 4, json: "error", card: OmitEmpty, ty: Str },
    ],
};

pub static NODE_RUNTIME_HANDLER: Message = Message {
    definition: "io.k8s.api.core.v1.NodeRuntimeHandler",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "features", card: Optional, ty: Object(&NODE_RUNTIME_HANDLER_FEATURES) },
    ],
};

pub static NODE_FEATURES: Message = Message {
    definition: "io.k8s.api.core.v1.NodeFeatures",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "supplementalGroupsPolicy", card: Optional, ty: Bool },
    ],
};

pub static POD_TEMPLATE_SPEC: Message = Message {
    definition: "io.k8s.api.core.v1.PodTemplateSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&POD_SPEC) },
    ],
};

pub static REPLICATION_CONTROLLER_CONDITION: Message = Message {
    definition: "io.k8s.api.core.v1.ReplicationControllerCondition",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
        Field { number: 3, json: "lastTransitionTime", card: Optional, ty: Time },
        Field { number: 4, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "gcePersistentDisk", card: Optional, ty: Object(&GCE_PERSISTENT_DISK_VOLUME_SOURCE) },
        Field { number: 2, json: "awsElasticBlockStore", card: Optional, ty: Object(&AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE) },
        Field { number: 3, json: "hostPath", card: Optional, ty: Object(&HOST_PATH_VOLUME_SOURCE) },
        Field { number: 4, json: "glusterfs", card: Optional, ty: Object(&GLUSTERFS_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 5, json: "nfs", card: Optional, ty: Object(&NFS_VOLUME_SOURCE) },
        Field { number: 6, json: "rbd", card: Optional, ty: Object(&RBD_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 7, json: "iscsi", card: Optional, ty: Object(&ISCSI_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 8, json: "cinder", card: Optional, ty: Object(&CINDER_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 9, json: "cephfs", card: Optional, ty: Object(&CEPH_FS_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 10, json: "fc", card: Optional, ty: Object(&FC_VOLUME_SOURCE) },
        Field { number: 11, json: "flocker", card: Optional, ty: Object(&FLOCKER_VOLUME_SOURCE) },
        Field { number: 12, json: "flexVolume", card: Optional, ty: Object(&FLEX_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 13, json: "azureFile", card: Optional, ty: Object(&AZURE_FILE_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 14, json: "vsphereVolume", card: Optional, ty: Object(&VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE) },
        Field { number: 15, json: "quobyte", card: Optional, ty: Object(&QUOBYTE_VOLUME_SOURCE) },
        Field { number: 16, json: "azureDisk", card: Optional, ty: Object(&AZURE_DISK_VOLUME_SOURCE) },
        Field { number: 17, json: "photonPersistentDisk", card: Optional, ty: Object(&PHOTON_PERSISTENT_DISK_VOLUME_SOURCE) },
        Field { number: 18, json: "portworxVolume", card: Optional, ty: Object(&PORTWORX_VOLUME_SOURCE) },
        Field { number: 19, json: "scaleIO", card: Optional, ty: Object(&SCALE_IO_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 20, json: "local", card: Optional, ty: Object(&LOCAL_VOLUME_SOURCE) },
        Field { number: 21, json: "storageos", card: Optional, ty: Object(&STORAGE_OS_PERSISTENT_VOLUME_SOURCE) },
        Field { number: 22, json: "csi", card: Optional, ty: Object(&CSI_PERSISTENT_VOLUME_SOURCE) },
    ],
};

pub static VOLUME_NODE_AFFINITY: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeNodeAffinity",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "required", card: Optional, ty: Object(&NODE_SELECTOR) },
    ],
};

pub static VOLUME_RESOURCE_REQUIREMENTS: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeResourceRequirements",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "limits", card: Optional, ty: Map(&Quantity) },
        Field { number: 2, json: "requests", card: Optional, ty: Map(&Quantity) },
    ],
};

pub static TYPED_LOCAL_OBJECT_REFERENCE: Message = Message {
    definition: "io.k8s.api.core.v1.TypedLocalObjectReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "apiGroup", card: Optional, ty: Str },
        Field { number: 2, json: "kind", card: Always, ty: Str },
        Field { number: 3, json: "name", card: Always, ty: Str },
    ],
};

pub static TYPED_OBJECT_REFERENCE: Message = Message {
    definition: "io.k8s.api.core.v1.TypedObjectReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "apiGroup", card: Optional, ty: Str },
        Field { number: 2, json: "kind", card: Always, ty: Str },
        Field { number: 3, json: "name", card: Always, ty: Str },
        Field { number: 4, json: "namespace", card: Optional, ty: Str },
    ],
};

pub static PERSISTENT_VOLUME_CLAIM_CONDITION: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeClaimCondition",
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

pub static MODIFY_VOLUME_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.ModifyVolumeStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "targetVolumeAttributesClassName", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "status", card: Always, ty: Str },
    ],
};

pub static LIMIT_RANGE_ITEM: Message = Message {
    definition: "io.k8s.api.core.v1.LimitRangeItem",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "max", card: Optional, ty: Map(&Quantity) },
        Field { number: 3, json: "min", card: Optional, ty: Map(&Quantity) },
        Field { number: 4, json: "default", card: Optional, ty: Map(&Quantity) },
        Field { number: 5, json: "defaultRequest", card: Optional, ty: Map(&Quantity) },
        Field { number: 6, json: "maxLimitRequestRatio", card: Optional, ty: Map(&Quantity) },
    ],
};

pub static SCOPE_SELECTOR: Message = Message {
    definition: "io.k8s.api.core.v1.ScopeSelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "matchExpressions", card: Repeated, ty: Object(&SCOPED_RESOURCE_SELECTOR_REQUIREMENT) },
    ],
};

pub static TOPOLOGY_SELECTOR_LABEL_REQUIREMENT: Message = Message {
    definition: "io.k8s.api.core.v1.TopologySelectorLabelRequirement",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: Always, ty: Str },
        Field { number: 2, json: "values", card: Repeated, ty: Str },
    ],
};

pub static VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "hostPath", card: Optional, ty: Object(&HOST_PATH_VOLUME_SOURCE) },
        Field { number: 2, json: "emptyDir", card: Optional, ty: Object(&EMPTY_DIR_VOLUME_SOURCE) },
        Field { number: 3, json: "gcePersistentDisk", card: Optional, ty: Object(&GCE_PERSISTENT_DISK_VOLUME_SOURCE) },
        Field { number: 4, json: "awsElasticBlockStore", card: Optional, ty: Object(&AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE) },
        Field { number: 5, json: "gitRepo", card: Optional, ty: Object(&GIT_REPO_VOLUME_SOURCE) },
        Field { number: 6, json: "secret", card: Optional, ty: Object(&SECRET_VOLUME_SOURCE) },
        Field { number: 7, json: "nfs", card: Optional, ty: Object(&NFS_VOLUME_SOURCE) },
        Field { number: 8, json: "iscsi", card: Optional, ty: Object(&ISCSI_VOLUME_SOURCE) },
        Field { number: 9, json: "glusterfs", card: Optional, ty: Object(&GLUSTERFS_VOLUME_SOURCE) },
        Field { number: 10, json: "persistentVolumeClaim", card: Optional, ty: Object(&PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE) },
        Field { number: 11, json: "rbd", card: Optional, ty: Object(&RBD_VOLUME_SOURCE) },
        Field { number: 12, json: "flexVolume", card: Optional, ty: Object(&FLEX_VOLUME_SOURCE) },
        Field { number: 13, json: "cinder", card: Optional, ty: Object(&CINDER_VOLUME_SOURCE) },
        Field { number: 14, json: "cephfs", card: Optional, ty: Object(&CEPH_FS_VOLUME_SOURCE) },
        Field { number: 15, json: "flocker", card: Optional, ty: Object(&FLOCKER_VOLUME_SOURCE) },
        Field { number: 16, json: "downwardAPI", card: Optional, ty: Object(&DOWNWARD_API_VOLUME_SOURCE) },
        Field { number: 17, json: "fc", card: Optional, ty: Object(&FC_VOLUME_SOURCE) },
        Field { number: 18, json: "azureFile", card: Optional, ty: Object(&AZURE_FILE_VOLUME_SOURCE) },
        Field { number: 19, json: "configMap", card: Optional, ty: Object(&CONFIG_MAP_VOLUME_SOURCE) },
        Field { number: 20, json: "vsphereVolume", card: Optional, ty: Object(&VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE) },
        Field { number: 21, json: "quobyte", card: Optional, ty: Object(&QUOBYTE_VOLUME_SOURCE) },
        Field { number: 22, json: "azureDisk", card: Optional, ty: Object(&AZURE_DISK_VOLUME_SOURCE) },
        Field { number: 23, json: "photonPersistentDisk", card: Optional, ty: Object(&PHOTON_PERSISTENT_DISK_VOLUME_SOURCE) },
        Field { number: 26, json: "projected", card: Optional, ty: Object(&PROJECTED_VOLUME_SOURCE) },
        Field { number: 24, json: "portworxVolume", card: Optional, ty: Object(&PORTWORX_VOLUME_SOURCE) },
        Field { number: 25, json: "scaleIO", card: Optional, ty: Object(&SCALE_IO_VOLUME_SOURCE) },
        Field { number: 27, json: "storageos", card: Optional, ty: Object(&STORAGE_OS_VOLUME_SOURCE) },
        Field { number: 28, json: "csi", card: Optional, ty: Object(&CSI_VOLUME_SOURCE) },
        Field { number: 29, json: "ephemeral", card: Optional, ty: Object(&EPHEMERAL_VOLUME_SOURCE) },
        Field { number: 30, json: "image", card: Optional, ty: Object(&IMAGE_VOLUME_SOURCE) },
    ],
};

pub static CONTAINER_PORT: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerPort",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "hostPort", card: OmitEmpty, ty: Int32 },
        Field { number: 3, json: "containerPort", card: Always, ty: Int32 },
        Field { number: 4, json: "protocol", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "hostIP", card: OmitEmpty, ty: Str },
    ],
};

pub static ENV_FROM_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.EnvFromSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "prefix", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "configMapRef", card: Optional, ty: Object(&CONFIG_MAP_ENV_SOURCE) },
        Field { number: 3, json: "secretRef", card: Optional, ty: Object(&SECRET_ENV_SOURCE) },
    ],
};

pub static ENV_VAR: Message = Message {
    definition: "io.k8s.api.core.v1.EnvVar",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "value", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "valueFrom", card: Optional, ty: Object(&ENV_VAR_SOURCE) },
    ],
};

pub static CONTAINER_RESIZE_POLICY: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerResizePolicy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "resourceName", card: Always, ty: Str },
        Field { number: 2, json: "restartPolicy", card: Always, ty: Str },
    ],
};

pub static VOLUME_MOUNT: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeMount",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 7, json: "recursiveReadOnly", card: Optional, ty: Str },
        Field { number: 3, json: "mountPath", card: Always, ty: Str },
        Field { number: 4, json: "subPath", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "mountPropagation", card: Optional, ty: Str },
        Field { number: 6, json: "subPathExpr", card: OmitEmpty, ty: Str },
    ],
};

pub static VOLUME_DEVICE: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeDevice",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "devicePath", card: Always, ty: Str },
    ],
};

pub static PROBE: Message = Message {
    definition: "io.k8s.api.core.v1.Probe",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&PROBE_HANDLER) },
        Field { number: 2, json: "initialDelaySeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 3, json: "timeoutSeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "periodSeconds", card: OmitEmpty, ty: Int32 },
        Field { number: 5, json: "successThreshold", card: OmitEmpty, ty: Int32 },
        Field { number: 6, json: "failureThreshold", card: OmitEmpty, ty: Int32 },
        Field { number: 7, json: "terminationGracePeriodSeconds", card: Optional, ty: Int64 },
    ],
};

pub static LIFECYCLE: Message = Message {
    definition: "io.k8s.api.core.v1.Lifecycle",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "postStart", card: Optional, ty: Object(&LIFECYCLE_HANDLER) },
        Field { number: 2, json: "preStop", card: Optional, ty: Object(&LIFECYCLE_HANDLER) },
        Field { number: 3, json: "stopSignal", card: Optional, ty: Str },
    ],
};

pub static SECURITY_CONTEXT: Message = Message {
    definition: "io.k8s.api.core.v1.SecurityContext",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "capabilities", card: Optional, ty: Object(&CAPABILITIES) },
        Field { number: 2, json: "privileged", card: Optional, ty: Bool },
        Field { number: 3, json: "seLinuxOptions", card: Optional, ty: Object(&SE_LINUX_OPTIONS) },
        Field { number: 10, json: "windowsOptions", card: Optional, ty: Object(&WINDOWS_SECURITY_CONTEXT_OPTIONS) },
        Field { number: 4, json: "runAsUser", card: Optional, ty: Int64 },
        Field { number: 8, json: "runAsGroup", card: Optional, ty: Int64 },
        Field { number: 5, json: "runAsNonRoot", card: Optional, ty: Bool },
        Field { number: 6, json: "readOnlyRootFilesystem", card: Optional, ty: Bool },
        Field { number: 7, json: "allowPrivilegeEscalation", card: Optional, ty: Bool },
        Field { number: 9, json: "procMount", card: Optional, ty: Str },
        Field { number: 11, json: "seccompProfile", card: Optional, ty: Object(&SECCOMP_PROFILE) },
        Field { number: 12, json: "appArmorProfile", card: Optional, ty: Object(&APP_ARMOR_PROFILE) },
    ],
};

pub static EPHEMERAL_CONTAINER_COMMON: Message = Message {
    definition: "io.k8s.api.core.v1.EphemeralContainerCommon",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "image", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "command", card: Repeated, ty: Str },
        Field { number: 4, json: "args", card: Repeated, ty: Str },
        Field { number: 5, json: "workingDir", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "ports", card: Repeated, ty: Object(&CONTAINER_PORT) },
        Field { number: 19, json: "envFrom", card: Repeated, ty: Object(&ENV_FROM_SOURCE) },
        Field { number: 7, json: "env", card: Repeated, ty: Object(&ENV_VAR) },
        Field { number: 8, json: "resources", card: Optional, ty: Object(&RESOURCE_REQUIREMENTS) },
        Field { number: 23, json: "resizePolicy", card: Repeated, ty: Object(&CONTAINER_RESIZE_POLICY) },
        Field { number: 24, json: "restartPolicy", card: Optional, ty: Str },
        Field { number: 9, json: "volumeMounts", card: Repeated, ty: Object(&VOLUME_MOUNT) },
        Field { number: 21, json: "volumeDevices", card: Repeated, ty: Object(&VOLUME_DEVICE) },
        Field { number: 10, json: "livenessProbe", card: Optional, ty: Object(&PROBE) },
        Field { number: 11, json: "readinessProbe", card: Optional, ty: Object(&PROBE) },
        Field { number: 22, json: "startupProbe", card: Optional, ty: Object(&PROBE) },
        Field { number: 12, json: "lifecycle", card: Optional, ty: Object(&LIFECYCLE) },
        Field { number: 13, json: "terminationMessagePath", card: OmitEmpty, ty: Str },
        Field { number: 20, json: "terminationMessagePolicy", card: OmitEmpty, ty: Str },
        Field { number: 14, json: "imagePullPolicy", card: OmitEmpty, ty: Str },
        Field { number: 15, json: "securityContext", card: Optional, ty: Object(&SECURITY_CONTEXT) },
        Field { number: 16, json: "stdin", card: OmitEmpty, ty: Bool },
        Field { number: 17, json: "stdinOnce", card: OmitEmpty, ty: Bool },
        Field { number: 18, json: "tty", card: OmitEmpty, ty: Bool },
    ],
};

pub static SE_LINUX_OPTIONS: Message = Message {
    definition: "io.k8s.api.core.v1.SELinuxOptions",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "role", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "type", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "level", card: OmitEmpty, ty: Str },
    ],
};

pub static WINDOWS_SECURITY_CONTEXT_OPTIONS: Message = Message {
    definition: "io.k8s.api.core.v1.WindowsSecurityContextOptions",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "gmsaCredentialSpecName", card: Optional, ty: Str },
        Field { number: 2, json: "gmsaCredentialSpec", card: Optional, ty: Str },
        Field { number: 3, json: "runAsUserName", card: Optional, ty: Str },
        Field { number: 4, json: "hostProcess", card: Optional, ty: Bool },
    ],
};

pub static SYSCTL: Message = Message {
    definition: "io.k8s.api.core.v1.Sysctl",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "value", card: Always, ty: Str },
    ],
};

pub static SECCOMP_PROFILE: Message = Message {
    definition: "io.k8s.api.core.v1.SeccompProfile",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "localhostProfile", card: Optional, ty: Str },
    ],
};

pub static APP_ARMOR_PROFILE: Message = Message {
    definition: "io.k8s.api.core.v1.AppArmorProfile",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "type", card: Always, ty: Str },
        Field { number: 2, json: "localhostProfile", card: Optional, ty: Str },
    ],
};

pub static NODE_AFFINITY: Message = Message {
    definition: "io.k8s.api.core.v1.NodeAffinity",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "requiredDuringSchedulingIgnoredDuringExecution", card: Optional, ty: Object(&NODE_SELECTOR) },
        Field { number: 2, json: "preferredDuringSchedulingIgnoredDuringExecution", card: Repeated, ty: Object(&PREFERRED_SCHEDULING_TERM) },
    ],
};

pub static POD_AFFINITY: Message = Message {
    definition: "io.k8s.api.core.v1.PodAffinity",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "requiredDuringSchedulingIgnoredDuringExecution", card: Repeated, ty: Object(&POD_AFFINITY_TERM) },
        Field { number: 2, json: "preferredDuringSchedulingIgnoredDuringExecution", card: Repeated, ty: Object(&WEIGHTED_POD_AFFINITY_TERM) },
    ],
};

pub static POD_ANTI_AFFINITY: Message = Message {
    definition: "io.k8s.api.core.v1.PodAntiAffinity",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "requiredDuringSchedulingIgnoredDuringExecution", card: Repeated, ty: Object(&POD_AFFINITY_TERM) },
        Field { number: 2, json: "preferredDuringSchedulingIgnoredDuringExecution", card: Repeated, ty: Object(&WEIGHTED_POD_AFFINITY_TERM) },
    ],
};

pub static POD_DNS_CONFIG_OPTION: Message = Message {
    definition: "io.k8s.api.core.v1.PodDNSConfigOption",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "value", card: Optional, ty: Str },
    ],
};

pub static RESOURCE_CLAIM: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceClaim",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "request", card: OmitEmpty, ty: Str },
    ],
};

pub static CONTAINER_STATE: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerState",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "waiting", card: Optional, ty: Object(&CONTAINER_STATE_WAITING) },
        Field { number: 2, json: "running", card: Optional, ty: Object(&CONTAINER_STATE_RUNNING) },
        Field { number: 3, json: "terminated", card: Optional, ty: Object(&CONTAINER_STATE_TERMINATED) },
    ],
};

pub static VOLUME_MOUNT_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeMountStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "mountPath", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "recursiveReadOnly", card: Optional, ty: Str },
    ],
};

pub static CONTAINER_USER: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerUser",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "linux", card: Optional, ty: Object(&LINUX_CONTAINER_USER) },
    ],
};

pub static RESOURCE_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "resources", card: Repeated, ty: Object(&RESOURCE_HEALTH) },
    ],
};

pub static CLIENT_IP_CONFIG: Message = Message {
    definition: "io.k8s.api.core.v1.ClientIPConfig",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "timeoutSeconds", card: Optional, ty: Int32 },
    ],
};

pub static LOAD_BALANCER_INGRESS: Message = Message {
    definition: "io.k8s.api.core.v1.LoadBalancerIngress",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ip", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "hostname", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "ipMode", card: Optional, ty: Str },
        Field { number: 4, json: "ports", card: Repeated, ty: Object(&PORT_STATUS) },
    ],
};

pub static CONFIG_MAP_NODE_CONFIG_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ConfigMapNodeConfigSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "namespace", card: Always, ty: Str },
        Field { number: 2, json: "name", card: Always, ty: Str },
        Field { number: 3, json: "uid", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "resourceVersion", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "kubeletConfigKey", card: Always, ty: Str },
    ],
};

pub static DAEMON_ENDPOINT: Message = Message {
    definition: "io.k8s.api.core.v1.DaemonEndpoint",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "Port", card: Always, ty: Int32 },
    ],
};

pub static NODE_SWAP_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.NodeSwapStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "capacity", card: Optional, ty: Int64 },
    ],
};

pub static NODE_RUNTIME_HANDLER_FEATURES: Message = Message {
    definition: "io.k8s.api.core.v1.NodeRuntimeHandlerFeatures",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "recursiveReadOnlyMounts", card: Optional, ty: Bool },
        Field { number: 2, json: "userNamespaces", card: Optional, ty: Bool },
    ],
};

pub static GCE_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "pdName", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "partition", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeID", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "partition", card: OmitEmpty, ty: Int32 },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static HOST_PATH_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.HostPathVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "path", card: Always, ty: Str },
        Field { number: 2, json: "type", card: Optional, ty: Str },
    ],
};

pub static GLUSTERFS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.GlusterfsPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "endpoints", card: Always, ty: Str },
        Field { number: 2, json: "path", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "endpointsNamespace", card: Optional, ty: Str },
    ],
};

pub static NFS_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.NFSVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "server", card: Always, ty: Str },
        Field { number: 2, json: "path", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static RBD_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.RBDPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "monitors", card: Repeated, ty: Str },
        Field { number: 2, json: "image", card: Always, ty: Str },
        Field { number: 3, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "pool", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "keyring", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "secretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 8, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static ISCSI_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ISCSIPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "targetPortal", card: Always, ty: Str },
        Field { number: 2, json: "iqn", card: Always, ty: Str },
        Field { number: 3, json: "lun", card: Always, ty: Int32 },
        Field { number: 4, json: "iscsiInterface", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 7, json: "portals", card: Repeated, ty: Str },
        Field { number: 8, json: "chapAuthDiscovery", card: OmitEmpty, ty: Bool },
        Field { number: 11, json: "chapAuthSession", card: OmitEmpty, ty: Bool },
        Field { number: 10, json: "secretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 12, json: "initiatorName", card: Optional, ty: Str },
    ],
};

pub static CINDER_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.CinderPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeID", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "secretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
    ],
};

pub static CEPH_FS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.CephFSPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "monitors", card: Repeated, ty: Str },
        Field { number: 2, json: "path", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "secretFile", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "secretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 6, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static FC_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.FCVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "targetWWNs", card: Repeated, ty: Str },
        Field { number: 2, json: "lun", card: Optional, ty: Int32 },
        Field { number: 3, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "wwids", card: Repeated, ty: Str },
    ],
};

pub static FLOCKER_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.FlockerVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "datasetName", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "datasetUUID", card: OmitEmpty, ty: Str },
    ],
};

pub static FLEX_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.FlexPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "driver", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "secretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "options", card: Optional, ty: Map(&Str) },
    ],
};

pub static AZURE_FILE_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.AzureFilePersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "secretName", card: Always, ty: Str },
        Field { number: 2, json: "shareName", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "secretNamespace", card: Optional, ty: Str },
    ],
};

pub static VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumePath", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "storagePolicyName", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "storagePolicyID", card: OmitEmpty, ty: Str },
    ],
};

pub static QUOBYTE_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.QuobyteVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "registry", card: Always, ty: Str },
        Field { number: 2, json: "volume", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "group", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "tenant", card: OmitEmpty, ty: Str },
    ],
};

pub static AZURE_DISK_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.AzureDiskVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "diskName", card: Always, ty: Str },
        Field { number: 2, json: "diskURI", card: Always, ty: Str },
        Field { number: 3, json: "cachingMode", card: Optional, ty: Str },
        Field { number: 4, json: "fsType", card: Optional, ty: Str },
        Field { number: 5, json: "readOnly", card: Optional, ty: Bool },
        Field { number: 6, json: "kind", card: Optional, ty: Str },
    ],
};

pub static PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "pdID", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
    ],
};

pub static PORTWORX_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.PortworxVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeID", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static SCALE_IO_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ScaleIOPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "gateway", card: Always, ty: Str },
        Field { number: 2, json: "system", card: Always, ty: Str },
        Field { number: 3, json: "secretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 4, json: "sslEnabled", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "protectionDomain", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "storagePool", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "storageMode", card: OmitEmpty, ty: Str },
        Field { number: 8, json: "volumeName", card: OmitEmpty, ty: Str },
        Field { number: 9, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 10, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static LOCAL_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.LocalVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "path", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: Optional, ty: Str },
    ],
};

pub static STORAGE_OS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.StorageOSPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeName", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "volumeNamespace", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "secretRef", card: Optional, ty: Object(&OBJECT_REFERENCE) },
    ],
};

pub static CSI_PERSISTENT_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.CSIPersistentVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "driver", card: Always, ty: Str },
        Field { number: 2, json: "volumeHandle", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "volumeAttributes", card: Optional, ty: Map(&Str) },
        Field { number: 6, json: "controllerPublishSecretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 7, json: "nodeStageSecretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 8, json: "nodePublishSecretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 9, json: "controllerExpandSecretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
        Field { number: 10, json: "nodeExpandSecretRef", card: Optional, ty: Object(&SECRET_REFERENCE) },
    ],
};

pub static NODE_SELECTOR: Message = Message {
    definition: "io.k8s.api.core.v1.NodeSelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "nodeSelectorTerms", card: Repeated, ty: Object(&NODE_SELECTOR_TERM) },
    ],
};

pub static SCOPED_RESOURCE_SELECTOR_REQUIREMENT: Message = Message {
    definition: "io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "scopeName", card: Always, ty: Str },
        Field { number: 2, json: "operator", card: Always, ty: Str },
        Field { number: 3, json: "values", card: Repeated, ty: Str },
    ],
};

pub static EMPTY_DIR_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.EmptyDirVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "medium", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "sizeLimit", card: Optional, ty: Quantity },
    ],
};

pub static GIT_REPO_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.GitRepoVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "repository", card: Always, ty: Str },
        Field { number: 2, json: "revision", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "directory", card: OmitEmpty, ty: Str },
    ],
};

pub static SECRET_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.SecretVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "secretName", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "items", card: Repeated, ty: Object(&KEY_TO_PATH) },
        Field { number: 3, json: "defaultMode", card: Optional, ty: Int32 },
        Field { number: 4, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static ISCSI_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ISCSIVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "targetPortal", card: Always, ty: Str },
        Field { number: 2, json: "iqn", card: Always, ty: Str },
        Field { number: 3, json: "lun", card: Always, ty: Int32 },
        Field { number: 4, json: "iscsiInterface", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 7, json: "portals", card: Repeated, ty: Str },
        Field { number: 8, json: "chapAuthDiscovery", card: OmitEmpty, ty: Bool },
        Field { number: 11, json: "chapAuthSession", card: OmitEmpty, ty: Bool },
        Field { number: 10, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 12, json: "initiatorName", card: Optional, ty: Str },
    ],
};

pub static GLUSTERFS_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.GlusterfsVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "endpoints", card: Always, ty: Str },
        Field { number: 2, json: "path", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "claimName", card: Always, ty: Str },
        Field { number: 2, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static RBD_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.RBDVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "monitors", card: Repeated, ty: Str },
        Field { number: 2, json: "image", card: Always, ty: Str },
        Field { number: 3, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "pool", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "keyring", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 8, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static FLEX_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.FlexVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "driver", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "options", card: Optional, ty: Map(&Str) },
    ],
};

pub static CINDER_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.CinderVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeID", card: Always, ty: Str },
        Field { number: 2, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 4, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
    ],
};

pub static CEPH_FS_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.CephFSVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "monitors", card: Repeated, ty: Str },
        Field { number: 2, json: "path", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "user", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "secretFile", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 6, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static DOWNWARD_API_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.DownwardAPIVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "items", card: Repeated, ty: Object(&DOWNWARD_API_VOLUME_FILE) },
        Field { number: 2, json: "defaultMode", card: Optional, ty: Int32 },
    ],
};

pub static AZURE_FILE_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.AzureFileVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "secretName", card: Always, ty: Str },
        Field { number: 2, json: "shareName", card: Always, ty: Str },
        Field { number: 3, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static CONFIG_MAP_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ConfigMapVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "items", card: Repeated, ty: Object(&KEY_TO_PATH) },
        Field { number: 3, json: "defaultMode", card: Optional, ty: Int32 },
        Field { number: 4, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static PROJECTED_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ProjectedVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "sources", card: Repeated, ty: Object(&VOLUME_PROJECTION) },
        Field { number: 2, json: "defaultMode", card: Optional, ty: Int32 },
    ],
};

pub static SCALE_IO_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ScaleIOVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "gateway", card: Always, ty: Str },
        Field { number: 2, json: "system", card: Always, ty: Str },
        Field { number: 3, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 4, json: "sslEnabled", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "protectionDomain", card: OmitEmpty, ty: Str },
        Field { number: 6, json: "storagePool", card: OmitEmpty, ty: Str },
        Field { number: 7, json: "storageMode", card: OmitEmpty, ty: Str },
        Field { number: 8, json: "volumeName", card: OmitEmpty, ty: Str },
        Field { number: 9, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 10, json: "readOnly", card: OmitEmpty, ty: Bool },
    ],
};

pub static STORAGE_OS_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.StorageOSVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeName", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "volumeNamespace", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "fsType", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "readOnly", card: OmitEmpty, ty: Bool },
        Field { number: 5, json: "secretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
    ],
};

pub static CSI_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.CSIVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "driver", card: Always, ty: Str },
        Field { number: 2, json: "readOnly", card: Optional, ty: Bool },
        Field { number: 3, json: "fsType", card: Optional, ty: Str },
        Field { number: 4, json: "volumeAttributes", card: Optional, ty: Map(&Str) },
        Field { number: 5, json: "nodePublishSecretRef", card: Optional, ty: Object(&LOCAL_OBJECT_REFERENCE) },
    ],
};

pub static EPHEMERAL_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.EphemeralVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "volumeClaimTemplate", card: Optional, ty: Object(&PERSISTENT_VOLUME_CLAIM_TEMPLATE) },
    ],
};

pub static IMAGE_VOLUME_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ImageVolumeSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "reference", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "pullPolicy", card: OmitEmpty, ty: Str },
    ],
};

pub static CONFIG_MAP_ENV_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.ConfigMapEnvSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static SECRET_ENV_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.SecretEnvSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static ENV_VAR_SOURCE: Message = Message {
    definition: "io.k8s.api.core.v1.EnvVarSource",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "fieldRef", card: Optional, ty: Object(&OBJECT_FIELD_SELECTOR) },
        Field { number: 2, json: "resourceFieldRef", card: Optional, ty: Object(&RESOURCE_FIELD_SELECTOR) },
        Field { number: 3, json: "configMapKeyRef", card: Optional, ty: Object(&CONFIG_MAP_KEY_SELECTOR) },
        Field { number: 4, json: "secretKeyRef", card: Optional, ty: Object(&SECRET_KEY_SELECTOR) },
    ],
};

pub static PROBE_HANDLER: Message = Message {
    definition: "io.k8s.api.core.v1.ProbeHandler",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "exec", card: Optional, ty: Object(&EXEC_ACTION) },
        Field { number: 2, json: "httpGet", card: Optional, ty: Object(&HTTP_GET_ACTION) },
        Field { number: 3, json: "tcpSocket", card: Optional, ty: Object(&TCP_SOCKET_ACTION) },
        Field { number: 4, json: "grpc", card: Optional, ty: Object(&GRPC_ACTION) },
    ],
};

pub static LIFECYCLE_HANDLER: Message = Message {
    definition: "io.k8s.api.core.v1.LifecycleHandler",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "exec", card: Optional, ty: Object(&EXEC_ACTION) },
        Field { number: 2, json: "httpGet", card: Optional, ty: Object(&HTTP_GET_ACTION) },
        Field { number: 3, json: "tcpSocket", card: Optional, ty: Object(&TCP_SOCKET_ACTION) },
        Field { number: 4, json: "sleep", card: Optional, ty: Object(&SLEEP_ACTION) },
    ],
};

pub static CAPABILITIES: Message = Message {
    definition: "io.k8s.api.core.v1.Capabilities",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "add", card: Repeated, ty: Str },
        Field { number: 2, json: "drop", card: Repeated, ty: Str },
    ],
};

pub static PREFERRED_SCHEDULING_TERM: Message = Message {
    definition: "io.k8s.api.core.v1.PreferredSchedulingTerm",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "weight", card: Always, ty: Int32 },
        Field { number: 2, json: "preference", card: Optional, ty: Object(&NODE_SELECTOR_TERM) },
    ],
};

pub static POD_AFFINITY_TERM: Message = Message {
    definition: "io.k8s.api.core.v1.PodAffinityTerm",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "labelSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 2, json: "namespaces", card: Repeated, ty: Str },
        Field { number: 3, json: "topologyKey", card: Always, ty: Str },
        Field { number: 4, json: "namespaceSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 5, json: "matchLabelKeys", card: Repeated, ty: Str },
        Field { number: 6, json: "mismatchLabelKeys", card: Repeated, ty: Str },
    ],
};

pub static WEIGHTED_POD_AFFINITY_TERM: Message = Message {
    definition: "io.k8s.api.core.v1.WeightedPodAffinityTerm",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "weight", card: Always, ty: Int32 },
        Field { number: 2, json: "podAffinityTerm", card: Optional, ty: Object(&POD_AFFINITY_TERM) },
    ],
};

pub static CONTAINER_STATE_WAITING: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerStateWaiting",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "message", card: OmitEmpty, ty: Str },
    ],
};

pub static CONTAINER_STATE_RUNNING: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerStateRunning",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "startedAt", card: Optional, ty: Time },
    ],
};

pub static CONTAINER_STATE_TERMINATED: Message = Message {
    definition: "io.k8s.api.core.v1.ContainerStateTerminated",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "exitCode", card: Always, ty: Int32 },
        Field { number: 2, json: "signal", card: OmitEmpty, ty: Int32 },
        Field { number: 3, json: "reason", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "message", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "startedAt", card: Optional, ty: Time },
        Field { number: 6, json: "finishedAt", card: Optional, ty: Time },
        Field { number: 7, json: "containerID", card: OmitEmpty, ty: Str },
    ],
};

pub static LINUX_CONTAINER_USER: Message = Message {
    definition: "io.k8s.api.core.v1.LinuxContainerUser",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "uid", card: Always, ty: Int64 },
        Field { number: 2, json: "gid", card: Always, ty: Int64 },
        Field { number: 3, json: "supplementalGroups", card: Repeated, ty: Int64 },
    ],
};

pub static RESOURCE_HEALTH: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceHealth",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "resourceID", card: Always, ty: Str },
        Field { number: 2, json: "health", card: OmitEmpty, ty: Str },
    ],
};

pub static PORT_STATUS: Message = Message {
    definition: "io.k8s.api.core.v1.PortStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "port", card: Always, ty: Int32 },
        Field { number: 2, json: "protocol", card: Always, ty: Str },
        Field { number: 3, json: "error", card: Optional, ty: Str },
    ],
};

pub static SECRET_REFERENCE: Message = Message {
    definition: "io.k8s.api.core.v1.SecretReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "namespace", card: OmitEmpty, ty: Str },
    ],
};

pub static NODE_SELECTOR_TERM: Message = Message {
    definition: "io.k8s.api.core.v1.NodeSelectorTerm",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "matchExpressions", card: Repeated, ty: Object(&NODE_SELECTOR_REQUIREMENT) },
        Field { number: 2, json: "matchFields", card: Repeated, ty: Object(&NODE_SELECTOR_REQUIREMENT) },
    ],
};

pub static KEY_TO_PATH: Message = Message {
    definition: "io.k8s.api.core.v1.KeyToPath",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: Always, ty: Str },
        Field { number: 2, json: "path", card: Always, ty: Str },
        Field { number: 3, json: "mode", card: Optional, ty: Int32 },
    ],
};

pub static DOWNWARD_API_VOLUME_FILE: Message = Message {
    definition: "io.k8s.api.core.v1.DownwardAPIVolumeFile",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "path", card: Always, ty: Str },
        Field { number: 2, json: "fieldRef", card: Optional, ty: Object(&OBJECT_FIELD_SELECTOR) },
        Field { number: 3, json: "resourceFieldRef", card: Optional, ty: Object(&RESOURCE_FIELD_SELECTOR) },
        Field { number: 4, json: "mode", card: Optional, ty: Int32 },
    ],
};

pub static VOLUME_PROJECTION: Message = Message {
    definition: "io.k8s.api.core.v1.VolumeProjection",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "secret", card: Optional, ty: Object(&SECRET_PROJECTION) },
        Field { number: 2, json: "downwardAPI", card: Optional, ty: Object(&DOWNWARD_API_PROJECTION) },
        Field { number: 3, json: "configMap", card: Optional, ty: Object(&CONFIG_MAP_PROJECTION) },
        Field { number: 4, json: "serviceAccountToken", card: Optional, ty: Object(&SERVICE_ACCOUNT_TOKEN_PROJECTION) },
        Field { number: 5, json: "clusterTrustBundle", card: Optional, ty: Object(&CLUSTER_TRUST_BUNDLE_PROJECTION) },
    ],
};

pub static PERSISTENT_VOLUME_CLAIM_TEMPLATE: Message = Message {
    definition: "io.k8s.api.core.v1.PersistentVolumeClaimTemplate",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&PERSISTENT_VOLUME_CLAIM_SPEC) },
    ],
};

pub static OBJECT_FIELD_SELECTOR: Message = Message {
    definition: "io.k8s.api.core.v1.ObjectFieldSelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "apiVersion", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "fieldPath", card: Always, ty: Str },
    ],
};

pub static RESOURCE_FIELD_SELECTOR: Message = Message {
    definition: "io.k8s.api.core.v1.ResourceFieldSelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "containerName", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "resource", card: Always, ty: Str },
        Field { number: 3, json: "divisor", card: Optional, ty: Quantity },
    ],
};

pub static CONFIG_MAP_KEY_SELECTOR: Message = Message {
    definition: "io.k8s.api.core.v1.ConfigMapKeySelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "key", card: Always, ty: Str },
        Field { number: 3, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static SECRET_KEY_SELECTOR: Message = Message {
    definition: "io.k8s.api.core.v1.SecretKeySelector",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "key", card: Always, ty: Str },
        Field { number: 3, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static EXEC_ACTION: Message = Message {
    definition: "io.k8s.api.core.v1.ExecAction",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "command", card: Repeated, ty: Str },
    ],
};

pub static HTTP_GET_ACTION: Message = Message {
    definition: "io.k8s.api.core.v1.HTTPGetAction",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "path", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "port", card: Optional, ty: IntOrString },
        Field { number: 3, json: "host", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "scheme", card: OmitEmpty, ty: Str },
        Field { number: 5, json: "httpHeaders", card: Repeated, ty: Object(&HTTP_HEADER) },
    ],
};

pub static TCP_SOCKET_ACTION: Message = Message {
    definition: "io.k8s.api.core.v1.TCPSocketAction",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "port", card: Optional, ty: IntOrString },
        Field { number: 2, json: "host", card: OmitEmpty, ty: Str },
    ],
};

pub static GRPC_ACTION: Message = Message {
    definition: "io.k8s.api.core.v1.GRPCAction",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "port", card: Always, ty: Int32 },
        Field { number: 2, json: "service", card: Optional, ty: Str },
    ],
};

pub static SLEEP_ACTION: Message = Message {
    definition: "io.k8s.api.core.v1.SleepAction",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "seconds", card: Always, ty: Int64 },
    ],
};

pub static NODE_SELECTOR_REQUIREMENT: Message = Message {
    definition: "io.k8s.api.core.v1.NodeSelectorRequirement",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "key", card: Always, ty: Str },
        Field { number: 2, json: "operator", card: Always, ty: Str },
        Field { number: 3, json: "values", card: Repeated, ty: Str },
    ],
};

pub static SECRET_PROJECTION: Message = Message {
    definition: "io.k8s.api.core.v1.SecretProjection",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "items", card: Repeated, ty: Object(&KEY_TO_PATH) },
        Field { number: 4, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static DOWNWARD_API_PROJECTION: Message = Message {
    definition: "io.k8s.api.core.v1.DownwardAPIProjection",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "items", card: Repeated, ty: Object(&DOWNWARD_API_VOLUME_FILE) },
    ],
};

pub static CONFIG_MAP_PROJECTION: Message = Message {
    definition: "io.k8s.api.core.v1.ConfigMapProjection",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "", card: Inline, ty: Object(&LOCAL_OBJECT_REFERENCE) },
        Field { number: 2, json: "items", card: Repeated, ty: Object(&KEY_TO_PATH) },
        Field { number: 4, json: "optional", card: Optional, ty: Bool },
    ],
};

pub static SERVICE_ACCOUNT_TOKEN_PROJECTION: Message = Message {
    definition: "io.k8s.api.core.v1.ServiceAccountTokenProjection",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "audience", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "expirationSeconds", card: Optional, ty: Int64 },
        Field { number: 3, json: "path", card: Always, ty: Str },
    ],
};

pub static CLUSTER_TRUST_BUNDLE_PROJECTION: Message = Message {
    definition: "io.k8s.api.core.v1.ClusterTrustBundleProjection",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Optional, ty: Str },
        Field { number: 2, json: "signerName", card: Optional, ty: Str },
        Field { number: 3, json: "labelSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 5, json: "optional", card: Optional, ty: Bool },
        Field { number: 4, json: "path", card: Always, ty: Str },
    ],
};

pub static HTTP_HEADER: Message = Message {
    definition: "io.k8s.api.core.v1.HTTPHeader",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "value", card: Always, ty: Str },
    ],
};

