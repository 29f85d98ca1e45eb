//! One sync of a DaemonSet: claim its pods and revisions, find the revision of its current
//! template, put a pod on every fitting node and take pods off the others, advance a rolling
//! update, trim the history and report the status.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use serde_json::{json, Value};

use super::per_node::decide;
use super::placement::{self, HASH_LABEL};
use super::{rolling, status, DaemonSetController, NodePods, DAEMON_SET};
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::{self, Claimer};
use crate::server::controllers::deployment::fenceposts::scaled_value;
use crate::server::controllers::history::RevisionOwner;
use crate::server::controllers::informer::cache_key;
use crate::server::controllers::pod_control::{in_slow_start_batches, namespace_terminating};
use crate::server::controllers::pod_routing::spec_selector;
use crate::server::controllers::pods;
use crate::server::controllers::status_update::write_status;
use crate::server::registry::label_selector::labels_of;
use crate::server::registry::object;

/// What one round changes: pods to create (by node) and pods to delete.
#[derive(Default)]
struct Changes {
    create_on: Vec<String>,
    delete: Vec<Arc<Value>>,
    /// Failed pods held back by their back-off: look again then.
    retry_after: Option<Duration>,
}

impl DaemonSetController {
    pub(super) async fn sync(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        let Some(ds) = self.daemon_sets.get_key(key) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        let Some(selector) = spec_selector(&ds) else {
            tracing::warn!(controller = super::COMPONENT, %key, "invalid or empty selector; nothing to manage");
            return Ok(None);
        };
        // The garbage collector removes the pods of a DaemonSet being deleted.
        if object::is_deleting(&ds) {
            return Ok(None);
        }
        // Read before listing pods: expectations met now mean the pod cache is new enough.
        let needs_sync = self.expectations.satisfied(key);
        let claimer =
            Claimer { registry: &self.registry, owner_rt: self.rt, owner: &ds, kind: DAEMON_SET, child: self.pods_rt };
        let candidates = self.pods.list(Some(object::namespace(&ds)));
        let owned = claimer.claim(candidates, |pod| selector.matches_object(pod)).await?;
        let revision_owner =
            RevisionOwner { object: &ds, rt: self.rt, kind: DAEMON_SET, selector: &selector, hash_label: HASH_LABEL };
        let revisions = self.history.claim(&revision_owner).await?;
        let Some(current) = self.history.current(&revision_owner, &revisions).await? else {
            self.bump_collision_count(&ds).await?;
            anyhow::bail!("controller revision name collision; retrying with a new collision count");
        };
        let hash = current.hash.as_str();
        let (nodes, stray) = self.group_by_node(&ds, &owned);
        let mut retry_after = None;
        let mut result = Ok(());
        if needs_sync {
            let mut changes = self.manage(&ds, &nodes, stray, hash);
            retry_after = changes.retry_after.take();
            let nothing_to_manage = changes.create_on.is_empty() && changes.delete.is_empty();
            result = if nothing_to_manage && is_rolling_update(&ds) {
                let step = self.rolling_step(&ds, &nodes, hash);
                self.apply(
                    key,
                    &ds,
                    Changes { create_on: step.surge_onto, delete: step.delete, retry_after: None },
                    hash,
                )
                .await
            } else {
                self.apply(key, &ds, changes, hash).await
            };
            let live: HashSet<String> = owned.iter().map(|p| label(p, HASH_LABEL)).collect();
            let limit = ds.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64).unwrap_or(10);
            let is_live = |rev: &Value| {
                object::uid(rev) == object::uid(&current.revision) || live.contains(&label(rev, HASH_LABEL))
            };
            self.history.truncate(&revisions, is_live, usize::try_from(limit).unwrap_or(0)).await?;
        }
        let now = Timestamp::now();
        write_status(&self.registry, self.rt, &ds, status::calculate(&ds, &nodes, hash, now)).await?;
        result?;
        Ok([status::next_availability_check(&ds, &nodes, now), retry_after].into_iter().flatten().min())
    }

    /// Every node with the DaemonSet's placement there and its pods meant for it (sorted by
    /// node name), and the pods meant for nodes that no longer exist.
    fn group_by_node(&self, ds: &Value, owned: &[Arc<Value>]) -> (Vec<NodePods>, Vec<Arc<Value>>) {
        let spec = placement::daemon_spec(ds.pointer("/spec/template/spec").unwrap_or(&Value::Null));
        let mut by_node: BTreeMap<String, NodePods> = self
            .nodes
            .list(None)
            .iter()
            .map(|node| {
                let name = object::name(node).to_string();
                (name.clone(), NodePods { name, placement: placement::placement(node, &spec), pods: Vec::new() })
            })
            .collect();
        let mut stray = Vec::new();
        for pod in owned {
            // Finished pods that are going away no longer hold their node.
            if !pods::is_active(pod) && object::is_deleting(pod) {
                continue;
            }
            match placement::intended_node(pod).and_then(|n| by_node.get_mut(n)) {
                Some(node) => node.pods.push(pod.clone()),
                None => stray.push(pod.clone()),
            }
        }
        (by_node.into_values().collect(), stray)
    }

    fn manage(&self, ds: &Value, nodes: &[NodePods], stray: Vec<Arc<Value>>, hash: &str) -> Changes {
        let surge = is_rolling_update(ds) && self.budget(ds, nodes).0 > 0;
        let min_ready = status::min_ready_seconds(ds);
        let now = Timestamp::now();
        let mut changes =
            Changes { delete: stray.into_iter().filter(|p| !object::is_deleting(p)).collect(), ..Default::default() };
        for node in nodes {
            let decision = decide(node, hash, surge, min_ready, now);
            if decision.create {
                changes.create_on.push(node.name.clone());
            }
            changes.delete.extend(decision.delete);
            for failed in decision.failed {
                match self.failed_backoff.try_replace(&format!("{}/{}", object::uid(ds), node.name), Instant::now()) {
                    Ok(()) => changes.delete.push(failed),
                    Err(wait) => {
                        changes.retry_after = Some(changes.retry_after.map_or(wait, |w: Duration| w.min(wait)))
                    }
                }
            }
        }
        changes
    }

    /// (maxSurge, maxUnavailable) resolved against the number of nodes that should run a pod.
    fn budget(&self, ds: &Value, nodes: &[NodePods]) -> (usize, usize) {
        let desired = nodes.iter().filter(|n| n.placement.should_run).count();
        let resolve = |field: &str| {
            ds.pointer(&format!("/spec/updateStrategy/rollingUpdate/{field}"))
                .and_then(|v| IntOrString::deserialize(v).ok())
                .and_then(|v| scaled_value(&v, i32::try_from(desired).unwrap_or(i32::MAX), true).ok())
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(0)
        };
        let (surge, unavailable) = (resolve("maxSurge"), resolve("maxUnavailable"));
        // Neither would stall the update for good.
        if desired > 0 && surge == 0 && unavailable == 0 {
            return (0, 1);
        }
        (surge, unavailable)
    }

    fn rolling_step(&self, ds: &Value, nodes: &[NodePods], hash: &str) -> rolling::Step {
        let (max_surge, max_unavailable) = self.budget(ds, nodes);
        let min_ready = status::min_ready_seconds(ds);
        let now = Timestamp::now();
        let by_node: Vec<(String, Vec<Arc<Value>>)> =
            nodes.iter().filter(|n| n.placement.should_run).map(|n| (n.name.clone(), n.pods.clone())).collect();
        rolling::step(&by_node, hash, max_surge, max_unavailable, |pod| pods::is_available(pod, min_ready, now))
    }

    /// Creates and deletes pods, telling the expectations what to wait for.
    async fn apply(&self, key: &str, ds: &Value, changes: Changes, hash: &str) -> Result<(), ApiError> {
        if changes.create_on.is_empty() && changes.delete.is_empty() {
            return Ok(());
        }
        self.expectations.expect(key, changes.create_on.len(), changes.delete.iter().map(|p| cache_key(p)));
        let template = ds.pointer("/spec/template").cloned().unwrap_or(Value::Null);
        let reference = controller_ref::new_controller_ref(DAEMON_SET, object::name(ds), object::uid(ds));
        let mut targets = changes.create_on.iter();
        let (created, created_result) = in_slow_start_batches(changes.create_on.len(), || {
            let node = targets.next().cloned().unwrap_or_default();
            let (template, reference) = (&template, &reference);
            async move {
                let pod_template = placement::pod_template(template, hash, &node);
                match self.pod_control.create(ds, &pod_template, reference).await {
                    Err(err) if namespace_terminating(&err) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        })
        .await;
        // Pods never created will never be observed.
        for _ in created..changes.create_on.len() {
            self.expectations.creation_observed(key);
        }
        let deleted = futures::future::join_all(changes.delete.iter().map(|pod| async move {
            let result = self.pod_control.delete(ds, pod).await;
            if result.is_err() {
                self.expectations.deletion_observed(key, &cache_key(pod));
            }
            match result {
                Err(err) if err.code == 404 => Ok(()),
                other => other,
            }
        }))
        .await;
        created_result?;
        deleted.into_iter().collect()
    }

    async fn bump_collision_count(&self, ds: &Value) -> Result<(), ApiError> {
        let mut status = ds.get("status").filter(|s| s.is_object()).cloned().unwrap_or_else(|| json!({}));
        let count = status.get("collisionCount").and_then(Value::as_i64).unwrap_or(0);
        status["collisionCount"] = json!(count + 1);
        write_status(&self.registry, self.rt, ds, status).await.map(|_| ())
    }
}

fn is_rolling_update(ds: &Value) -> bool {
    ds.pointer("/spec/updateStrategy/type").and_then(Value::as_str).unwrap_or("RollingUpdate") == "RollingUpdate"
}

fn label(obj: &Value, key: &str) -> String {
    labels_of(obj).remove(key).unwrap_or_default()
}
