//! Required inter-pod affinity and anti-affinity. A term names the pods it is about (label
//! selector + namespaces) and a topology key: affinity wants such a pod in the candidate
//! node's domain (nodes sharing the key's value), anti-affinity wants none, and an existing
//! pod's anti-affinity keeps matching newcomers out of its own domain.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::framework::{Plugin, Unfit};
use super::node_info::NodeInfo;
use super::pod_info::PodInfo;
use crate::server::registry::label_selector::LabelSelector;

#[derive(Debug, Clone, PartialEq)]
pub struct AffinityTerm {
    /// `None` (no labelSelector) matches no pod.
    selector: Option<LabelSelector>,
    /// Namespaces named by the term; with no selector either, the owning pod's namespace.
    namespaces: Vec<String>,
    /// An empty selector matches every namespace.
    namespace_selector: Option<LabelSelector>,
    pub topology_key: String,
}

impl AffinityTerm {
    fn parse(term: &Value, own_namespace: &str, path: &str) -> Result<Self, String> {
        let selector = |field: &str| -> Result<Option<LabelSelector>, String> {
            match term.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(s) => LabelSelector::from_object(s).map(Some).map_err(|why| format!("{path}.{field}: {why}")),
            }
        };
        let topology_key = term.get("topologyKey").and_then(Value::as_str).unwrap_or_default();
        if topology_key.is_empty() {
            return Err(format!("{path}.topologyKey: Required value: can not be empty"));
        }
        let mut namespaces: Vec<String> = term
            .get("namespaces")
            .and_then(Value::as_array)
            .map(|n| n.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let namespace_selector = selector("namespaceSelector")?;
        if namespaces.is_empty() && namespace_selector.is_none() {
            namespaces.push(own_namespace.to_string());
        }
        Ok(Self {
            selector: selector("labelSelector")?,
            namespaces,
            namespace_selector,
            topology_key: topology_key.into(),
        })
    }

    /// Whether `pod` is one of the pods this term is about.
    fn matches(&self, pod: &PodInfo, namespaces: &NamespaceLabels) -> bool {
        let Some(selector) = &self.selector else { return false };
        selector.matches(&pod.labels)
            && (self.namespaces.contains(&pod.namespace)
                || self.namespace_selector.as_ref().is_some_and(|s| s.matches(&namespaces.get(&pod.namespace))))
    }
}

/// A pod's required terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodAffinity {
    pub affinity: Vec<AffinityTerm>,
    pub anti_affinity: Vec<AffinityTerm>,
}

impl PodAffinity {
    pub fn parse(spec: &Value, own_namespace: &str) -> Result<Self, String> {
        let terms = |kind: &str| -> Result<Vec<AffinityTerm>, String> {
            let field = "requiredDuringSchedulingIgnoredDuringExecution";
            let list = spec.pointer(&format!("/affinity/{kind}/{field}")).and_then(Value::as_array);
            list.into_iter()
                .flatten()
                .enumerate()
                .map(|(i, t)| AffinityTerm::parse(t, own_namespace, &format!("spec.affinity.{kind}.{field}[{i}]")))
                .collect()
        };
        Ok(Self { affinity: terms("podAffinity")?, anti_affinity: terms("podAntiAffinity")? })
    }

    pub fn is_empty(&self) -> bool {
        self.affinity.is_empty() && self.anti_affinity.is_empty()
    }
}

/// Namespace labels for namespaceSelector, each looked up at most once per attempt.
pub struct NamespaceLabels<'a> {
    lookup: &'a dyn Fn(&str) -> BTreeMap<String, String>,
    seen: RefCell<HashMap<String, BTreeMap<String, String>>>,
}

impl<'a> NamespaceLabels<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> BTreeMap<String, String>) -> Self {
        Self { lookup, seen: RefCell::default() }
    }

    fn get(&self, namespace: &str) -> BTreeMap<String, String> {
        self.seen.borrow_mut().entry(namespace.to_string()).or_insert_with(|| (self.lookup)(namespace)).clone()
    }
}

type Domain = (String, String);

/// What one attempt learns from the placed pods before checking nodes.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Domains holding pods that match every affinity term of the incoming pod.
    affinity_domains: HashMap<Domain, u32>,
    /// Domains holding pods that match an anti-affinity term of the incoming pod.
    anti_affinity_domains: HashSet<Domain>,
    /// Domains (by topology key) closed to the pod by placed pods' anti-affinity.
    closed_by_existing: HashMap<String, HashSet<String>>,
    /// The first pod of a group with affinity to itself may go anywhere its terms' keys exist.
    matches_own_terms: bool,
}

/// Counts, from the placed pods, the domains the incoming pod's terms and the placed pods'
/// anti-affinity terms speak of. `anti_affinity_pods` are the placed pods that have required
/// anti-affinity terms, with their nodes.
pub fn prepare<'n>(
    pod: &PodInfo,
    nodes: impl Iterator<Item = &'n NodeInfo>,
    anti_affinity_pods: impl Iterator<Item = (&'n PodInfo, &'n NodeInfo)>,
    namespaces: &NamespaceLabels,
) -> Prepared {
    let mut prepared = Prepared::default();
    for (placed, node) in anti_affinity_pods {
        for term in placed.pod_affinity.anti_affinity.iter().filter(|t| t.matches(pod, namespaces)) {
            if let Some(value) = node.label(&term.topology_key) {
                prepared.closed_by_existing.entry(term.topology_key.clone()).or_default().insert(value.to_string());
            }
        }
    }
    let own = &pod.pod_affinity;
    if own.is_empty() {
        return prepared;
    }
    prepared.matches_own_terms = !own.affinity.is_empty() && own.affinity.iter().all(|t| t.matches(pod, namespaces));
    for node in nodes.filter(|n| n.spec().is_some()) {
        for placed in node.pods() {
            if !own.affinity.is_empty() && own.affinity.iter().all(|t| t.matches(placed, namespaces)) {
                for term in &own.affinity {
                    if let Some(value) = node.label(&term.topology_key) {
                        *prepared
                            .affinity_domains
                            .entry((term.topology_key.clone(), value.to_string()))
                            .or_default() += 1;
                    }
                }
            }
            for term in own.anti_affinity.iter().filter(|t| t.matches(placed, namespaces)) {
                if let Some(value) = node.label(&term.topology_key) {
                    prepared.anti_affinity_domains.insert((term.topology_key.clone(), value.to_string()));
                }
            }
        }
    }
    prepared
}

pub fn filter(prepared: &Prepared, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
    let Some(spec) = node.spec() else { return Ok(()) };
    let affinity = &pod.pod_affinity.affinity;
    if !affinity.is_empty() {
        let mut domains = Vec::with_capacity(affinity.len());
        for term in affinity {
            // Every topology key must exist on the node, even for the first pod of a group.
            let Some(value) = spec.labels.get(&term.topology_key) else { return Err(affinity_unfit()) };
            domains.push((term.topology_key.clone(), value.clone()));
        }
        let pods_exist = domains.iter().all(|d| prepared.affinity_domains.get(d).is_some_and(|n| *n > 0));
        let first_of_group = prepared.affinity_domains.is_empty() && prepared.matches_own_terms;
        if !pods_exist && !first_of_group {
            return Err(affinity_unfit());
        }
    }
    for term in &pod.pod_affinity.anti_affinity {
        if let Some(value) = spec.labels.get(&term.topology_key) {
            if prepared.anti_affinity_domains.contains(&(term.topology_key.clone(), value.clone())) {
                return Err(Unfit::resolvable(
                    Plugin::InterPodAffinity,
                    "node(s) didn't match pod anti-affinity rules",
                ));
            }
        }
    }
    for (key, closed) in &prepared.closed_by_existing {
        if spec.labels.get(key).is_some_and(|v| closed.contains(v)) {
            return Err(Unfit::resolvable(
                Plugin::InterPodAffinity,
                "node(s) didn't satisfy existing pods anti-affinity rules",
            ));
        }
    }
    Ok(())
}

fn affinity_unfit() -> Unfit {
    Unfit::unresolvable(Plugin::InterPodAffinity, "node(s) didn't match pod affinity rules")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::testing::{node, placed, pod};
    use serde_json::json;

    const HOSTNAME: &str = "kubernetes.io/hostname";

    fn labelled_node(name: &str, zone: &str) -> NodeInfo {
        node(json!({"metadata": {"name": name, "labels": {HOSTNAME: name, "zone": zone}}}))
    }

    fn with_terms(name: &str, labels: Value, kind: &str, terms: Value) -> PodInfo {
        pod(json!({
            "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"containers": [], "affinity": {kind: {"requiredDuringSchedulingIgnoredDuringExecution": terms}}},
        }))
    }

    fn term(app: &str, key: &str) -> Value {
        json!({"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key})
    }

    fn check(pod: &PodInfo, nodes: &[NodeInfo]) -> Vec<Result<(), String>> {
        let no_labels = |_: &str| BTreeMap::new();
        let namespaces = NamespaceLabels::new(&no_labels);
        let anti = nodes.iter().flat_map(|n| n.pods().map(move |p| (p.as_ref(), n)));
        let anti = anti.filter(|(p, _)| !p.pod_affinity.anti_affinity.is_empty());
        let prepared = prepare(pod, nodes.iter(), anti, &namespaces);
        nodes.iter().map(|n| filter(&prepared, pod, n).map_err(|u| u.reasons[0].clone())).collect()
    }

    #[test]
    fn anti_affinity_keeps_matching_pods_apart() {
        let mut nodes = vec![labelled_node("a", "z1"), labelled_node("b", "z1"), labelled_node("c", "z2")];
        nodes[0].add_pod(placed(
            json!({"metadata": {"name": "db-0", "namespace": "default", "labels": {"app": "db"}}}),
            "a",
        ));
        let incoming = with_terms("db-1", json!({"app": "db"}), "podAntiAffinity", json!([term("db", HOSTNAME)]));
        let results = check(&incoming, &nodes);
        assert_eq!(results[0], Err("node(s) didn't match pod anti-affinity rules".to_string()));
        assert_eq!(results[1..], [Ok(()), Ok(())]);
        let by_zone = with_terms("db-1", json!({"app": "db"}), "podAntiAffinity", json!([term("db", "zone")]));
        assert_eq!(check(&by_zone, &nodes)[1..], [Err("node(s) didn't match pod anti-affinity rules".into()), Ok(())]);
    }

    #[test]
    fn existing_pods_anti_affinity_is_respected() {
        let mut nodes = vec![labelled_node("a", "z1"), labelled_node("b", "z2")];
        let loner = with_terms("loner", json!({"app": "loner"}), "podAntiAffinity", json!([term("web", HOSTNAME)]));
        nodes[0].add_pod(std::sync::Arc::new(PodInfo { node_name: "a".into(), ..loner }));
        let web = pod(json!({"metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}}}));
        assert_eq!(
            check(&web, &nodes),
            [Err("node(s) didn't satisfy existing pods anti-affinity rules".into()), Ok(())]
        );
        let other = pod(json!({"metadata": {"name": "x", "namespace": "default", "labels": {"app": "other"}}}));
        assert_eq!(check(&other, &nodes), [Ok(()), Ok(())]);
    }

    #[test]
    fn affinity_follows_matching_pods_and_lets_the_first_one_in() {
        let mut nodes = vec![labelled_node("a", "z1"), labelled_node("b", "z1"), labelled_node("c", "z2")];
        let follower = with_terms("web", json!({"app": "web"}), "podAffinity", json!([term("cache", "zone")]));
        let unfit = Err("node(s) didn't match pod affinity rules".to_string());
        assert_eq!(check(&follower, &nodes), [unfit.clone(), unfit.clone(), unfit.clone()], "no cache pod anywhere");
        nodes[0].add_pod(placed(
            json!({"metadata": {"name": "cache", "namespace": "default", "labels": {"app": "cache"}}}),
            "a",
        ));
        assert_eq!(check(&follower, &nodes), [Ok(()), Ok(()), unfit.clone()]);
        let first = with_terms("cache-0", json!({"app": "group"}), "podAffinity", json!([term("group", "zone")]));
        assert_eq!(check(&first, &nodes), [Ok(()), Ok(()), Ok(())], "a pod matching its own terms starts the group");
        let keyless = with_terms("cache-0", json!({"app": "group"}), "podAffinity", json!([term("group", "rack")]));
        assert_eq!(check(&keyless, &nodes), [unfit.clone(), unfit.clone(), unfit]);
    }

    #[test]
    fn terms_cover_their_namespaces() {
        let mut nodes = vec![labelled_node("a", "z1")];
        nodes[0]
            .add_pod(placed(json!({"metadata": {"name": "db", "namespace": "prod", "labels": {"app": "db"}}}), "a"));
        let same_ns = with_terms("x", json!({}), "podAntiAffinity", json!([term("db", HOSTNAME)]));
        assert_eq!(check(&same_ns, &nodes), [Ok(())], "the term covers only the pod's own namespace");
        let mut listed = term("db", HOSTNAME);
        listed["namespaces"] = json!(["prod"]);
        assert!(check(&with_terms("x", json!({}), "podAntiAffinity", json!([listed])), &nodes)[0].is_err());
        let mut every = term("db", HOSTNAME);
        every["namespaceSelector"] = json!({});
        assert!(check(&with_terms("x", json!({}), "podAntiAffinity", json!([every])), &nodes)[0].is_err());
    }

    #[test]
    fn terms_without_topology_key_are_invalid() {
        let spec = json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}}});
        assert!(PodAffinity::parse(&spec, "default").is_err());
    }
}
