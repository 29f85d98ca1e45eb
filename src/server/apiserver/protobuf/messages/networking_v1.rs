// Derived from the `protobuf:"…"` and `json:"…"` struct tags of k8s.io/api and
// k8s.io/apimachinery v0.33.9, with field types from their generated.proto files. Data only:
// derive it again the same way for a newer Kubernetes; the tests in protobuf/table_tests.rs
// check it against k8s-openapi's definitions.

use super::super::schema::{Card::*, Field, Form, Message, Type::*};
use super::core_v1;
use super::meta_v1;

pub static INGRESS: Message = Message {
    definition: "io.k8s.api.networking.v1.Ingress",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&INGRESS_SPEC) },
        Field { number: 3, json: "status", card: Optional, ty: Object(&INGRESS_STATUS) },
    ],
};

pub static INGRESS_CLASS: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressClass",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&INGRESS_CLASS_SPEC) },
    ],
};

pub static NETWORK_POLICY: Message = Message {
    definition: "io.k8s.api.networking.v1.NetworkPolicy",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "metadata", card: Optional, ty: Object(&meta_v1::OBJECT_META) },
        Field { number: 2, json: "spec", card: Optional, ty: Object(&NETWORK_POLICY_SPEC) },
    ],
};

pub static INGRESS_SPEC: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 4, json: "ingressClassName", card: Optional, ty: Str },
        Field { number: 1, json: "defaultBackend", card: Optional, ty: Object(&INGRESS_BACKEND) },
        Field { number: 2, json: "tls", card: Repeated, ty: Object(&INGRESS_TLS) },
        Field { number: 3, json: "rules", card: Repeated, ty: Object(&INGRESS_RULE) },
    ],
};

pub static INGRESS_STATUS: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "loadBalancer", card: Optional, ty: Object(&INGRESS_LOAD_BALANCER_STATUS) },
    ],
};

pub static INGRESS_CLASS_SPEC: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressClassSpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "controller", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "parameters", card: Optional, ty: Object(&INGRESS_CLASS_PARAMETERS_REFERENCE) },
    ],
};

pub static NETWORK_POLICY_SPEC: Message = Message {
    definition: "io.k8s.api.networking.v1.NetworkPolicySpec",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "podSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 2, json: "ingress", card: Repeated, ty: Object(&NETWORK_POLICY_INGRESS_RULE) },
        Field { number: 3, json: "egress", card: Repeated, ty: Object(&NETWORK_POLICY_EGRESS_RULE) },
        Field { number: 4, json: "policyTypes", card: Repeated, ty: Str },
    ],
};

pub static INGRESS_BACKEND: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressBackend",
    form: Form::Struct,
    fields: &[
        Field { number: 4, json: "service", card: Optional, ty: Object(&INGRESS_SERVICE_BACKEND) },
        Field { number: 3, json: "resource", card: Optional, ty: Object(&core_v1::TYPED_LOCAL_OBJECT_REFERENCE) },
    ],
};

pub static INGRESS_TLS: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressTLS",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "hosts", card: Repeated, ty: Str },
        Field { number: 2, json: "secretName", card: OmitEmpty, ty: Str },
    ],
};

pub static INGRESS_RULE: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "host", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "", card: Inline, ty: Object(&INGRESS_RULE_VALUE) },
    ],
};

pub static INGRESS_LOAD_BALANCER_STATUS: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressLoadBalancerStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ingress", card: Repeated, ty: Object(&INGRESS_LOAD_BALANCER_INGRESS) },
    ],
};

pub static INGRESS_CLASS_PARAMETERS_REFERENCE: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressClassParametersReference",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "apiGroup", card: Optional, ty: Str },
        Field { number: 2, json: "kind", card: Always, ty: Str },
        Field { number: 3, json: "name", card: Always, ty: Str },
        Field { number: 4, json: "scope", card: Optional, ty: Str },
        Field { number: 5, json: "namespace", card: Optional, ty: Str },
    ],
};

pub static NETWORK_POLICY_INGRESS_RULE: Message = Message {
    definition: "io.k8s.api.networking.v1.NetworkPolicyIngressRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ports", card: Repeated, ty: Object(&NETWORK_POLICY_PORT) },
        Field { number: 2, json: "from", card: Repeated, ty: Object(&NETWORK_POLICY_PEER) },
    ],
};

pub static NETWORK_POLICY_EGRESS_RULE: Message = Message {
    definition: "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ports", card: Repeated, ty: Object(&NETWORK_POLICY_PORT) },
        Field { number: 2, json: "to", card: Repeated, ty: Object(&NETWORK_POLICY_PEER) },
    ],
};

pub static INGRESS_SERVICE_BACKEND: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressServiceBackend",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: Always, ty: Str },
        Field { number: 2, json: "port", card: Optional, ty: Object(&SERVICE_BACKEND_PORT) },
    ],
};

pub static INGRESS_RULE_VALUE: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressRuleValue",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "http", card: Optional, ty: Object(&HTTP_INGRESS_RULE_VALUE) },
    ],
};

pub static INGRESS_LOAD_BALANCER_INGRESS: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressLoadBalancerIngress",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "ip", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "hostname", card: OmitEmpty, ty: Str },
        Field { number: 4, json: "ports", card: Repeated, ty: Object(&INGRESS_PORT_STATUS) },
    ],
};

pub static NETWORK_POLICY_PORT: Message = Message {
    definition: "io.k8s.api.networking.v1.NetworkPolicyPort",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "protocol", card: Optional, ty: Str },
        Field { number: 2, json: "port", card: Optional, ty: IntOrString },
        Field { number: 3, json: "endPort", card: Optional, ty: Int32 },
    ],
};

pub static NETWORK_POLICY_PEER: Message = Message {
    definition: "io.k8s.api.networking.v1.NetworkPolicyPeer",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "podSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 2, json: "namespaceSelector", card: Optional, ty: Object(&meta_v1::LABEL_SELECTOR) },
        Field { number: 3, json: "ipBlock", card: Optional, ty: Object(&IP_BLOCK) },
    ],
};

pub static SERVICE_BACKEND_PORT: Message = Message {
    definition: "io.k8s.api.networking.v1.ServiceBackendPort",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "name", card: OmitEmpty, ty: Str },
        Field { number: 2, json: "number", card: OmitEmpty, ty: Int32 },
    ],
};

pub static HTTP_INGRESS_RULE_VALUE: Message = Message {
    definition: "io.k8s.api.networking.v1.HTTPIngressRuleValue",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "paths", card: Repeated, ty: Object(&HTTP_INGRESS_PATH) },
    ],
};

pub static INGRESS_PORT_STATUS: Message = Message {
    definition: "io.k8s.api.networking.v1.IngressPortStatus",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "port", card: Always, ty: Int32 },
        Field { number: 2, json: "protocol", card: Always, ty: Str },
        Field { number: 3, json: "error", card: Optional, ty: Str },
    ],
};

pub static IP_BLOCK: Message = Message {
    definition: "io.k8s.api.networking.v1.IPBlock",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "cidr", card: Always, ty: Str },
        Field { number: 2, json: "except", card: Repeated, ty: Str },
    ],
};

pub static HTTP_INGRESS_PATH: Message = Message {
    definition: "io.k8s.api.networking.v1.HTTPIngressPath",
    form: Form::Struct,
    fields: &[
        Field { number: 1, json: "path", card: OmitEmpty, ty: Str },
        Field { number: 3, json: "pathType", card: Optional, ty: Str },
        Field { number: 2, json: "backend", card: Optional, ty: Object(&INGRESS_BACKEND) },
    ],
};

