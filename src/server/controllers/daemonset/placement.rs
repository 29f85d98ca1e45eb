//! Where a DaemonSet runs and what its pod for one node looks like. A node is eligible when
//! the pod's node name, node selector and required node affinity match it and every
//! NoSchedule/NoExecute taint is tolerated, judged with the same filters the scheduler uses;
//! a pod already there may stay while only NoSchedule taints are untolerated. Every daemon
//! pod tolerates the node-problem taints (so node trouble never evicts it) and is pinned to
//! its node by a `metadata.name` node-affinity field term, then bound by the scheduler.

use serde_json::{json, Map, Value};

use crate::server::registry::label_selector::labels_of;
use crate::server::registry::object;
use crate::server::scheduler::node_affinity::NodeAffinity;
use crate::server::scheduler::taints::{self, Effect};

/// The label tying a daemon pod to the template revision it was made from.
pub const HASH_LABEL: &str = "controller-revision-hash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// A daemon pod should be created on the node.
    pub should_run: bool,
    /// A daemon pod already on the node may stay.
    pub may_stay: bool,
}

const NOWHERE: Placement = Placement { should_run: false, may_stay: false };

/// Whether the DaemonSet whose pod spec (with the daemon tolerations) is `spec` runs on `node`.
pub fn placement(node: &Value, spec: &Value) -> Placement {
    let node_name = object::name(node);
    let pinned = spec.get("nodeName").and_then(Value::as_str).unwrap_or_default();
    if !pinned.is_empty() && pinned != node_name {
        return NOWHERE;
    }
    // A spec the scheduler could not read places the pod nowhere, as it would.
    let Ok(affinity) = NodeAffinity::parse(spec) else { return NOWHERE };
    if !affinity.required_match(node_name, &labels_of(node)) {
        return NOWHERE;
    }
    let Ok(tolerations) = taints::parse_tolerations(spec) else { return NOWHERE };
    let untolerated: Vec<Effect> = taints::node_taints(node)
        .into_iter()
        .filter(|taint| taint.effect != Effect::PreferNoSchedule)
        .filter(|taint| !tolerations.iter().any(|t| t.tolerates(taint)))
        .map(|taint| taint.effect)
        .collect();
    Placement { should_run: untolerated.is_empty(), may_stay: !untolerated.contains(&Effect::NoExecute) }
}

/// The DaemonSet's pod spec with the tolerations every daemon pod carries.
pub fn daemon_spec(template_spec: &Value) -> Value {
    let mut spec = match template_spec {
        Value::Object(_) => template_spec.clone(),
        _ => json!({}),
    };
    let mut wanted = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        wanted.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    let mut tolerations = spec.get("tolerations").and_then(Value::as_array).cloned().unwrap_or_default();
    for (key, effect) in wanted {
        // Without tolerationSeconds: the pod stays however long the problem lasts.
        let toleration = json!({"key": key, "operator": "Exists", "effect": effect});
        let same = |t: &Value| {
            t.get("key") == toleration.get("key")
                && t.get("operator") == toleration.get("operator")
                && t.get("effect") == toleration.get("effect")
        };
        match tolerations.iter_mut().find(|t| same(t)) {
            Some(existing) => *existing = toleration,
            None => tolerations.push(toleration),
        }
    }
    spec["tolerations"] = Value::Array(tolerations);
    spec
}

/// The template of the daemon pod for `node`: the DaemonSet's template labelled with the
/// revision `hash`, with the daemon tolerations, its required node affinity replaced by one
/// term naming the node.
pub fn pod_template(template: &Value, hash: &str, node: &str) -> Value {
    let mut template = template.clone();
    object::object_field(&mut template, "metadata");
    object::object_field(&mut template["metadata"], "labels").insert(HASH_LABEL.into(), hash.into());
    let mut spec = daemon_spec(template.get("spec").unwrap_or(&Value::Null));
    let term = json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]);
    object_at(&mut spec, &["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"])
        .insert("nodeSelectorTerms".into(), term);
    template["spec"] = spec;
    template
}

/// The object at `path` inside `value`, made (replacing anything that is not an object).
fn object_at<'a>(mut value: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    for key in path {
        let current = value;
        object::object_field(current, key);
        value = current.get_mut(*key).expect("object_field made the field");
    }
    if !value.is_object() {
        *value = json!({});
    }
    value.as_object_mut().expect("just made an object")
}

/// The node a daemon pod is meant for: its node name once bound, else the node named by its
/// affinity field term.
pub fn intended_node(pod: &Value) -> Option<&str> {
    let bound = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty());
    bound.or_else(|| {
        let terms = pod
            .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")?
            .as_array()?;
        terms.iter().find_map(|term| {
            term.get("matchFields")?.as_array()?.iter().find_map(|field| {
                let names = field.get("values")?.as_array()?;
                (field.get("key")?.as_str()? == "metadata.name"
                    && field.get("operator")?.as_str()? == "In"
                    && names.len() == 1)
                    .then(|| names[0].as_str())
                    .flatten()
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, labels: Value, taints: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    }

    #[test]
    fn selector_affinity_and_taints_decide() {
        let spec = daemon_spec(&json!({"nodeSelector": {"disk": "ssd"}, "containers": []}));
        let ssd = node("a", json!({"disk": "ssd"}), json!([]));
        assert_eq!(placement(&ssd, &spec), Placement { should_run: true, may_stay: true });
        assert_eq!(placement(&node("b", json!({}), json!([])), &spec), NOWHERE);
        let tainted = node("c", json!({"disk": "ssd"}), json!([{"key": "gpu", "effect": "NoSchedule"}]));
        assert_eq!(placement(&tainted, &spec), Placement { should_run: false, may_stay: true });
        let evicting = node("d", json!({"disk": "ssd"}), json!([{"key": "gpu", "effect": "NoExecute"}]));
        assert_eq!(placement(&evicting, &spec), NOWHERE);
        let mut tolerant = spec.clone();
        tolerant["tolerations"].as_array_mut().unwrap().push(json!({"key": "gpu", "operator": "Exists"}));
        assert!(placement(&evicting, &tolerant).should_run);
        let pinned = daemon_spec(&json!({"nodeName": "a", "containers": []}));
        assert!(placement(&ssd, &pinned).should_run);
        assert_eq!(placement(&node("b", json!({}), json!([])), &pinned), NOWHERE);
    }

    #[test]
    fn node_problems_and_cordons_are_tolerated() {
        let spec = daemon_spec(&json!({"containers": []}));
        let troubled = node(
            "a",
            json!({}),
            json!([
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
                {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"},
            ]),
        );
        assert!(placement(&troubled, &spec).should_run);
        // Not ready: the scheduler's implied NoSchedule taint keeps new pods off, old ones stay.
        let mut not_ready = node("b", json!({}), json!([]));
        not_ready["status"]["conditions"][0]["status"] = json!("False");
        assert_eq!(placement(&not_ready, &spec), Placement { should_run: false, may_stay: true });
        let network = json!({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"});
        let no_network = node("c", json!({}), json!([network]));
        assert!(!placement(&no_network, &spec).should_run);
        assert!(placement(&no_network, &daemon_spec(&json!({"hostNetwork": true, "containers": []}))).should_run);
    }

    #[test]
    fn tolerations_are_added_once_without_seconds() {
        let spec = daemon_spec(&json!({"tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
            {"key": "custom", "operator": "Exists"},
        ]}));
        let tolerations = spec["tolerations"].as_array().unwrap();
        assert_eq!(tolerations.len(), 7);
        assert_eq!(
            tolerations[0],
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"})
        );
        assert_eq!(daemon_spec(&spec), spec, "idempotent");
    }

    #[test]
    fn pods_are_pinned_to_their_node() {
        let template = json!({"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]}},
                "podAntiAffinity": {}}}});
        let pod = pod_template(&template, "h1", "n1");
        assert_eq!(pod["metadata"]["labels"], json!({"app": "d", "controller-revision-hash": "h1"}));
        assert_eq!(
            pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                ["nodeSelectorTerms"],
            json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}])
        );
        assert_eq!(pod["spec"]["affinity"]["podAntiAffinity"], json!({}));
        assert_eq!(intended_node(&pod), Some("n1"));
        let mut bound = pod.clone();
        bound["spec"]["nodeName"] = json!("n2");
        assert_eq!(intended_node(&bound), Some("n2"));
        assert_eq!(intended_node(&json!({"spec": {}})), None);
    }
}
