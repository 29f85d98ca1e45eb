//! Which Ingresses this controller serves. An Ingress names its class with
//! `spec.ingressClassName` or the older `kubernetes.io/ingress.class` annotation; onebin
//! serves the class names it is configured with (`--ingress-class`, by default `onebin` and
//! `nginx`, so manifests written for ingress-nginx work unchanged), every IngressClass whose
//! controller is onebin's, and Ingresses that name no class at all (it is the cluster's
//! only controller unless another one is installed).

use serde_json::Value;

/// `spec.controller` of the IngressClass onebin creates.
pub const CONTROLLER: &str = "onebin.io/ingress-controller";
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The class an Ingress asks for, if any.
fn requested_class(ingress: &Value) -> Option<&str> {
    ingress
        .pointer("/spec/ingressClassName")
        .and_then(Value::as_str)
        .or_else(|| {
            ingress.pointer("/metadata/annotations").and_then(|a| a.get(CLASS_ANNOTATION)).and_then(Value::as_str)
        })
        .filter(|class| !class.is_empty())
}

/// Whether onebin serves `ingress`. `class_controller` looks up an IngressClass by name and
/// returns its `spec.controller`.
pub fn served(ingress: &Value, classes: &[String], class_controller: impl Fn(&str) -> Option<String>) -> bool {
    match requested_class(ingress) {
        None => true,
        Some(class) => classes.iter().any(|c| c == class) || class_controller(class).as_deref() == Some(CONTROLLER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classes() -> Vec<String> {
        vec!["onebin".into(), "nginx".into()]
    }

    #[test]
    fn classes_by_field_annotation_or_none() {
        let none = |_: &str| None;
        assert!(served(&json!({"spec": {}}), &classes(), none));
        assert!(served(&json!({"spec": {"ingressClassName": "nginx"}}), &classes(), none));
        assert!(served(&json!({"metadata": {"annotations": {CLASS_ANNOTATION: "nginx"}}}), &classes(), none));
        assert!(!served(
            &json!({"metadata": {"annotations": {CLASS_ANNOTATION: "alicek106-nginx"}}}),
            &classes(),
            none
        ));
        assert!(!served(&json!({"spec": {"ingressClassName": "traefik"}}), &classes(), none));
    }

    #[test]
    fn an_ingress_class_pointing_at_onebin_is_served() {
        let lookup = |name: &str| (name == "edge").then(|| CONTROLLER.to_string());
        assert!(served(&json!({"spec": {"ingressClassName": "edge"}}), &classes(), lookup));
        assert!(!served(&json!({"spec": {"ingressClassName": "other"}}), &classes(), lookup));
    }
}
