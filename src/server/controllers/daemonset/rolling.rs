//! One step of a DaemonSet's rolling update, node by node. Without surge, old pods are
//! deleted (and recreated by the next sync) while at most `maxUnavailable` daemon pods are
//! unavailable; old pods that are unavailable anyway go at once. With surge, a new pod is
//! started next to the old one on up to `maxSurge` nodes, and the old pod goes once the new
//! one is available.

use std::sync::Arc;

use serde_json::Value;

use super::placement::HASH_LABEL;
use crate::server::registry::object;

/// What this step does.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    pub delete: Vec<Arc<Value>>,
    /// Nodes that get a pod of the current revision next to their old one.
    pub surge_onto: Vec<String>,
}

/// At most one live pod of the current revision and one outdated pod on a node.
type NodePair<'a> = (Option<&'a Arc<Value>>, Option<&'a Arc<Value>>);

/// The current (`new`) and outdated (`old`) live pod on one node; `None` when the node has
/// more than one of either, which the regular sync sorts out first.
fn updated_and_old<'a>(pods: &'a [Arc<Value>], hash: &str) -> Option<NodePair<'a>> {
    let (mut new, mut old) = (None, None);
    for pod in pods.iter().filter(|p| !object::is_deleting(p)) {
        let slot = if is_updated(pod, hash) { &mut new } else { &mut old };
        if slot.replace(pod).is_some() {
            return None;
        }
    }
    Some((new, old))
}

pub fn is_updated(pod: &Value, hash: &str) -> bool {
    pod.pointer("/metadata/labels").and_then(|l| l.get(HASH_LABEL)).and_then(Value::as_str) == Some(hash)
}

/// The step for daemon pods grouped by node (in a stable order), given the update budget.
pub fn step(
    by_node: &[(String, Vec<Arc<Value>>)],
    hash: &str,
    max_surge: usize,
    max_unavailable: usize,
    available: impl Fn(&Value) -> bool,
) -> Step {
    if max_surge == 0 {
        without_surge(by_node, hash, max_unavailable, available)
    } else {
        with_surge(by_node, hash, max_surge, available)
    }
}

fn without_surge(
    by_node: &[(String, Vec<Arc<Value>>)],
    hash: &str,
    max_unavailable: usize,
    available: impl Fn(&Value) -> bool,
) -> Step {
    let mut unavailable = 0;
    let mut replace_anyway = Vec::new();
    let mut candidates = Vec::new();
    for (_, pods) in by_node {
        match updated_and_old(pods, hash) {
            // Missing, duplicated or mid-replacement: the regular sync acts here; it counts
            // as unavailable meanwhile.
            None | Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
            Some((Some(new), None)) => {
                if !available(new) {
                    unavailable += 1;
                }
            }
            Some((None, Some(old))) => {
                if !available(old) {
                    replace_anyway.push(old.clone());
                } else if unavailable < max_unavailable {
                    candidates.push(old.clone());
                }
            }
        }
    }
    let budget = max_unavailable.saturating_sub(unavailable).min(candidates.len());
    replace_anyway.extend(candidates.into_iter().take(budget));
    Step { delete: replace_anyway, surge_onto: Vec::new() }
}

fn with_surge(
    by_node: &[(String, Vec<Arc<Value>>)],
    hash: &str,
    max_surge: usize,
    available: impl Fn(&Value) -> bool,
) -> Step {
    let mut surging = 0;
    let mut delete = Vec::new();
    let mut surge_anyway = Vec::new();
    let mut candidates = Vec::new();
    for (node, pods) in by_node {
        match updated_and_old(pods, hash) {
            None => surging += 1,
            Some((_, None)) => {}
            Some((None, Some(old))) => {
                if !available(old) {
                    surge_anyway.push(node.clone());
                } else if surging < max_surge {
                    candidates.push(node.clone());
                }
            }
            Some((Some(new), Some(old))) => {
                if available(new) {
                    delete.push(old.clone());
                } else {
                    surging += 1;
                }
            }
        }
    }
    let budget = max_surge.saturating_sub(surging).min(candidates.len());
    surge_anyway.extend(candidates.into_iter().take(budget));
    Step { delete, surge_onto: surge_anyway }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, hash: &str, available: bool) -> Arc<Value> {
        Arc::new(json!({"metadata": {"name": name, "labels": {HASH_LABEL: hash}}, "available": available}))
    }

    fn available(pod: &Value) -> bool {
        pod["available"] == true
    }

    fn names(pods: &[Arc<Value>]) -> Vec<&str> {
        pods.iter().map(|p| object::name(p)).collect()
    }

    fn nodes(pods: Vec<Vec<Arc<Value>>>) -> Vec<(String, Vec<Arc<Value>>)> {
        pods.into_iter().enumerate().map(|(i, p)| (format!("n{i}"), p)).collect()
    }

    #[test]
    fn without_surge_deletes_within_the_unavailable_budget() {
        let by_node = nodes(vec![
            vec![pod("a", "old", true)],
            vec![pod("b", "old", true)],
            vec![pod("c", "old", false)],
            vec![pod("d", "new", true)],
        ]);
        let step = step(&by_node, "new", 0, 1, available);
        // c is unavailable anyway; a fits the budget of one.
        assert_eq!(names(&step.delete), ["c", "a"]);
        // A new pod that is not yet available uses up the budget.
        let by_node = nodes(vec![vec![pod("a", "old", true)], vec![pod("d", "new", false)]]);
        assert!(super::step(&by_node, "new", 0, 1, available).delete.is_empty());
        // A node without its pod counts as unavailable too.
        let by_node = nodes(vec![vec![pod("a", "old", true)], vec![]]);
        assert!(super::step(&by_node, "new", 0, 1, available).delete.is_empty());
        assert_eq!(names(&super::step(&by_node, "new", 0, 2, available).delete), ["a"]);
    }

    #[test]
    fn with_surge_starts_new_pods_first() {
        let by_node = nodes(vec![
            vec![pod("a", "old", true)],
            vec![pod("b", "old", true)],
            vec![pod("c", "old", true), pod("c2", "new", true)],
            vec![pod("d", "old", true), pod("d2", "new", false)],
        ]);
        let step = step(&by_node, "new", 2, 0, available);
        assert_eq!(names(&step.delete), ["c"]);
        // d is still surging: one more node may surge.
        assert_eq!(step.surge_onto, ["n0"]);
        let unavailable_old = nodes(vec![vec![pod("a", "old", false)]]);
        assert_eq!(super::step(&unavailable_old, "new", 1, 0, available).surge_onto, ["n0"]);
    }

    #[test]
    fn deleting_pods_are_ignored() {
        let mut going = (*pod("a", "old", true)).clone();
        going["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        let by_node = nodes(vec![vec![Arc::new(going), pod("b", "new", true)]]);
        assert_eq!(step(&by_node, "new", 0, 1, available), Step::default());
    }
}
