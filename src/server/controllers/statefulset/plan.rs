//! What a StatefulSet does next, decided from its pods alone. Ordinals in range that have
//! no pod get one; finished pods are replaced; ordinals past the end are removed, highest
//! first; then a rolling update replaces pods of other revisions from the highest ordinal
//! down to the partition, one at a time, each once the one above is healthy again. With
//! OrderedReady management every step waits until all pods before it are running, ready and
//! available; with Parallel management creations and removals do not wait.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use super::identity::{identity_fix, pod_revision};
use crate::server::controllers::pods;
use crate::server::registry::object;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    Current,
    Update,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        ordinal: i32,
        revision: Revision,
    },
    Delete(Arc<Value>),
    /// Restore the identity labels of a pod.
    Relabel(Arc<Value>),
}

pub struct Inputs<'a> {
    pub set_name: &'a str,
    pub replicas: i32,
    pub start_ordinal: i32,
    /// OrderedReady management.
    pub ordered: bool,
    /// The OnDelete update strategy.
    pub on_delete: bool,
    /// Ordinals (from the start) below this keep the current revision.
    pub partition: i32,
    pub min_ready_seconds: i64,
    pub update_revision: &'a str,
    pub now: Timestamp,
}

impl Inputs<'_> {
    fn available(&self, pod: &Value) -> bool {
        pods::is_available(pod, self.min_ready_seconds, self.now)
    }

    fn healthy(&self, pod: &Value) -> bool {
        is_running_and_ready(pod) && !object::is_deleting(pod)
    }
}

pub fn is_running_and_ready(pod: &Value) -> bool {
    pods::phase(pod) == "Running" && pods::is_ready(pod)
}

fn finished(pod: &Value) -> bool {
    matches!(pods::phase(pod), "Succeeded" | "Failed")
}

/// The actions of this round, in order; `pods` are the set's pods with their ordinals.
pub fn plan(inputs: &Inputs, pods: &[(i32, Arc<Value>)]) -> Vec<Action> {
    let count = usize::try_from(inputs.replicas).unwrap_or(0);
    let mut replicas: Vec<Option<&Arc<Value>>> = vec![None; count];
    let mut condemned: Vec<(i32, &Arc<Value>)> = Vec::new();
    for (ordinal, pod) in pods {
        match usize::try_from(ordinal - inputs.start_ordinal).ok().filter(|i| *i < count) {
            Some(index) => replicas[index] = Some(pod),
            None => condemned.push((*ordinal, pod)),
        }
    }
    condemned.sort_by_key(|(ordinal, _)| *ordinal);
    let first_unhealthy = replicas
        .iter()
        .flatten()
        .copied()
        .chain(condemned.iter().map(|(_, p)| *p))
        .find(|p| !inputs.healthy(p))
        .map(|p| object::uid(p).to_string());
    let mut actions = Vec::new();
    for (index, slot) in replicas.iter().enumerate() {
        let ordinal = inputs.start_ordinal + index as i32;
        let Some(pod) = slot else {
            let keeps_current = !inputs.on_delete && ordinal < inputs.start_ordinal + inputs.partition;
            let revision = if keeps_current { Revision::Current } else { Revision::Update };
            actions.push(Action::Create { ordinal, revision });
            if inputs.ordered {
                return actions;
            }
            continue;
        };
        if finished(pod) {
            // Replaced on the sync after it is gone.
            if !object::is_deleting(pod) {
                actions.push(Action::Delete((*pod).clone()));
            }
            if inputs.ordered {
                return actions;
            }
            continue;
        }
        if inputs.ordered && (object::is_deleting(pod) || !is_running_and_ready(pod) || !inputs.available(pod)) {
            return actions;
        }
        if identity_fix(inputs.set_name, pod).is_some() {
            actions.push(Action::Relabel((*pod).clone()));
        }
    }
    for (_, pod) in condemned.iter().rev() {
        if object::is_deleting(pod) {
            if inputs.ordered {
                return actions;
            }
            continue;
        }
        let is_first_unhealthy = first_unhealthy.as_deref() == Some(object::uid(pod));
        if inputs.ordered && (!is_running_and_ready(pod) || !inputs.available(pod)) && !is_first_unhealthy {
            return actions;
        }
        actions.push(Action::Delete((*pod).clone()));
        if inputs.ordered {
            return actions;
        }
    }
    if inputs.on_delete {
        return actions;
    }
    let update_min = usize::try_from(inputs.partition).unwrap_or(0);
    for index in (update_min..count).rev() {
        let Some(pod) = replicas[index] else { return actions };
        if pod_revision(pod) != inputs.update_revision && !object::is_deleting(pod) {
            actions.push(Action::Delete(pod.clone()));
            return actions;
        }
        if !inputs.healthy(pod) || !inputs.available(pod) {
            return actions;
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::statefulset::identity::{POD_INDEX_LABEL, POD_NAME_LABEL, REVISION_LABEL};
    use serde_json::json;

    fn pod(ordinal: i32, revision: &str, ready: bool) -> (i32, Arc<Value>) {
        let name = format!("web-{ordinal}");
        let status = if ready { "True" } else { "False" };
        let pod = json!({"metadata": {"name": name, "uid": name,
                "labels": {POD_NAME_LABEL: name, POD_INDEX_LABEL: ordinal.to_string(), REVISION_LABEL: revision}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": status,
                "lastTransitionTime": "2024-01-01T00:00:00Z"}]}});
        (ordinal, Arc::new(pod))
    }

    fn inputs(replicas: i32, ordered: bool) -> Inputs<'static> {
        Inputs {
            set_name: "web",
            replicas,
            start_ordinal: 0,
            ordered,
            on_delete: false,
            partition: 0,
            min_ready_seconds: 0,
            update_revision: "new",
            now: "2024-01-01T01:00:00Z".parse().unwrap(),
        }
    }

    fn describe(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::Create { ordinal, revision } => format!("create {ordinal} {revision:?}"),
                Action::Delete(p) => format!("delete {}", object::name(p)),
                Action::Relabel(p) => format!("relabel {}", object::name(p)),
            })
            .collect()
    }

    #[test]
    fn ordered_scale_up_waits_for_each_pod() {
        assert_eq!(describe(&plan(&inputs(3, true), &[])), ["create 0 Update"]);
        assert!(plan(&inputs(3, true), &[pod(0, "new", false)]).is_empty(), "web-0 is not ready yet");
        assert_eq!(describe(&plan(&inputs(3, true), &[pod(0, "new", true)])), ["create 1 Update"]);
        assert_eq!(describe(&plan(&inputs(3, false), &[])), ["create 0 Update", "create 1 Update", "create 2 Update"]);
    }

    #[test]
    fn scale_down_removes_the_highest_ordinal_first() {
        let pods = [pod(0, "new", true), pod(1, "new", true), pod(2, "new", true), pod(3, "new", true)];
        assert_eq!(describe(&plan(&inputs(2, true), &pods)), ["delete web-3"]);
        assert_eq!(describe(&plan(&inputs(2, false), &pods)), ["delete web-3", "delete web-2"]);
        // An unhealthy pod that stays blocks ordered removal; an unhealthy one that goes does not.
        let pods = [pod(0, "new", true), pod(1, "new", false), pod(2, "new", true)];
        assert!(plan(&inputs(2, true), &pods).is_empty());
        let pods = [pod(0, "new", true), pod(1, "new", true), pod(2, "new", false)];
        assert_eq!(describe(&plan(&inputs(2, true), &pods)), ["delete web-2"]);
    }

    #[test]
    fn rolling_update_goes_down_to_the_partition_one_at_a_time() {
        let pods = [pod(0, "old", true), pod(1, "old", true), pod(2, "old", true)];
        assert_eq!(describe(&plan(&inputs(3, true), &pods)), ["delete web-2"]);
        let pods = [pod(0, "old", true), pod(1, "old", true), pod(2, "new", false)];
        assert!(plan(&inputs(3, true), &pods).is_empty(), "waits for web-2");
        let pods = [pod(0, "old", true), pod(1, "old", true), pod(2, "new", true)];
        assert_eq!(describe(&plan(&inputs(3, true), &pods)), ["delete web-1"]);
        let mut partitioned = inputs(3, true);
        partitioned.partition = 2;
        let pods = [pod(0, "old", true), pod(1, "old", true), pod(2, "new", true)];
        assert!(plan(&partitioned, &pods).is_empty());
        assert_eq!(describe(&plan(&partitioned, &pods[..2])), ["create 2 Update"]);
        assert_eq!(describe(&plan(&partitioned, &[pods[0].clone()])), ["create 1 Current"]);
        let mut on_delete = inputs(3, true);
        on_delete.on_delete = true;
        let pods = [pod(0, "old", true), pod(2, "old", true)];
        assert_eq!(describe(&plan(&on_delete, &pods)), ["create 1 Update"]);
        assert!(plan(&on_delete, &[pod(0, "old", true), pod(1, "old", true), pod(2, "old", true)]).is_empty());
    }

    #[test]
    fn finished_pods_are_replaced_and_identity_restored() {
        let (_, done) = pod(0, "new", false);
        let mut done = (*done).clone();
        done["status"]["phase"] = json!("Failed");
        assert_eq!(describe(&plan(&inputs(1, true), &[(0, Arc::new(done))])), ["delete web-0"]);
        let (_, unlabelled) = pod(0, "new", true);
        let mut unlabelled = (*unlabelled).clone();
        unlabelled["metadata"]["labels"].as_object_mut().unwrap().remove(POD_INDEX_LABEL);
        assert_eq!(describe(&plan(&inputs(1, true), &[(0, Arc::new(unlabelled))])), ["relabel web-0"]);
    }
}
