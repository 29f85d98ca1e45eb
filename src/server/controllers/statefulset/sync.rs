//! One sync of a StatefulSet: claim its pods and revisions, settle the current and update
//! revisions, carry out the next steps of the plan (creating claims before the pods that
//! use them), trim the history and report the status.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Value};

use super::identity::{self, STATEFUL_SET};
use super::plan::{self, Action, Inputs, Revision};
use super::{status, StatefulSetController};
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::Claimer;
use crate::server::controllers::events::EventType;
use crate::server::controllers::history::RevisionOwner;
use crate::server::controllers::pod_control::namespace_terminating;
use crate::server::controllers::pod_routing::spec_selector;
use crate::server::controllers::status_update::write_status;
use crate::server::registry::options::{DeleteOptions, WriteOptions};
use crate::server::registry::{object, UpdateKind};

/// Revisions hash their template under this label; pods name their revision instead.
const REVISION_HASH_LABEL: &str = "controller.kubernetes.io/hash";

impl StatefulSetController {
    pub(super) async fn sync(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        let Some(set) = self.sets.get_key(key) else { return Ok(None) };
        let Some(selector) = spec_selector(&set) else {
            tracing::warn!(controller = super::COMPONENT, %key, "invalid or empty selector; nothing to manage");
            return Ok(None);
        };
        let set_name = object::name(&set);
        let claimer = Claimer {
            registry: &self.registry,
            owner_rt: self.rt,
            owner: &set,
            kind: STATEFUL_SET,
            child: self.pods_rt,
        };
        let candidates = self.pods.list(Some(object::namespace(&set)));
        let owned = claimer
            .claim(candidates, |pod| selector.matches_object(pod) && identity::ordinal_of(set_name, pod).is_some())
            .await?;
        let revision_owner = RevisionOwner {
            object: &set,
            rt: self.rt,
            kind: STATEFUL_SET,
            selector: &selector,
            hash_label: REVISION_HASH_LABEL,
        };
        let revisions = self.history.claim(&revision_owner).await?;
        let Some(update) = self.history.current(&revision_owner, &revisions).await? else {
            self.bump_collision_count(&set).await?;
            anyhow::bail!("controller revision name collision; retrying with a new collision count");
        };
        let current_name = set.pointer("/status/currentRevision").and_then(Value::as_str).unwrap_or_default();
        let current = revisions
            .iter()
            .find(|r| object::name(r) == current_name)
            .cloned()
            .unwrap_or_else(|| update.revision.clone());
        let min_ready = set.pointer("/spec/minReadySeconds").and_then(Value::as_i64).unwrap_or(0);
        let mut result = Ok(());
        if !object::is_deleting(&set) {
            let with_ordinals: Vec<(i32, Arc<Value>)> =
                owned.iter().filter_map(|p| identity::ordinal_of(set_name, p).map(|o| (o, p.clone()))).collect();
            let inputs = Inputs {
                set_name,
                replicas: int_at(&set, "/spec/replicas").unwrap_or(1),
                start_ordinal: identity::start_ordinal(&set),
                ordered: set.pointer("/spec/podManagementPolicy").and_then(Value::as_str) != Some("Parallel"),
                on_delete: set.pointer("/spec/updateStrategy/type").and_then(Value::as_str) == Some("OnDelete"),
                partition: int_at(&set, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0),
                min_ready_seconds: min_ready,
                update_revision: object::name(&update.revision),
                now: Timestamp::now(),
            };
            let actions = plan::plan(&inputs, &with_ordinals);
            result = self.carry_out(&set, &actions, &current, &update.revision).await;
            let mut live: HashSet<&str> = owned.iter().map(|p| identity::pod_revision(p)).collect();
            live.extend([object::name(&current), object::name(&update.revision)]);
            let limit = set.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64).unwrap_or(10);
            let is_live = |rev: &Value| live.contains(object::name(rev));
            self.history.truncate(&revisions, is_live, usize::try_from(limit).unwrap_or(0)).await?;
        }
        let revision_names =
            status::Revisions { current: object::name(&current), update: object::name(&update.revision) };
        let now = Timestamp::now();
        write_status(&self.registry, self.rt, &set, status::calculate(&set, &owned, &revision_names, min_ready, now))
            .await?;
        result?;
        Ok(status::next_availability_check(&owned, min_ready, now))
    }

    /// Carries out `actions` in order, stopping at the first failure.
    async fn carry_out(
        &self,
        set: &Value,
        actions: &[Action],
        current: &Value,
        update: &Value,
    ) -> Result<(), ApiError> {
        for action in actions {
            match action {
                Action::Create { ordinal, revision } => {
                    let (revision, template) = match revision {
                        Revision::Current => (current, revision_template(current)),
                        Revision::Update => (update, set.pointer("/spec/template").cloned().unwrap_or(Value::Null)),
                    };
                    let pod = identity::new_pod(set, &template, object::name(revision), *ordinal);
                    self.create_pod(set, *ordinal, pod).await?;
                }
                Action::Delete(pod) => self.delete_pod(set, pod).await?,
                Action::Relabel(pod) => self.relabel(set, pod).await?,
            }
        }
        Ok(())
    }

    async fn create_pod(&self, set: &Value, ordinal: i32, pod: Value) -> Result<(), ApiError> {
        let ns = object::namespace(set);
        let pod_name = object::name(&pod).to_string();
        for claim in identity::claims_for(set, ordinal) {
            let claim_name = object::name(&claim).to_string();
            match self.registry.get(self.claims_rt, Some(ns), &claim_name).await {
                Ok(_) => continue,
                Err(err) if err.code == 404 => {}
                Err(err) => return Err(err),
            }
            match self.registry.create(self.claims_rt, Some(ns), claim, &WriteOptions::default()).await {
                Ok(_) => {
                    let message = format!(
                        "create Claim {claim_name} Pod {pod_name} in StatefulSet {} success",
                        object::name(set)
                    );
                    self.recorder.record(set, EventType::Normal, "SuccessfulCreate", &message).await;
                }
                Err(err) if err.reason == "AlreadyExists" => {}
                Err(err) => {
                    let message = format!(
                        "create Claim {claim_name} for Pod {pod_name} in StatefulSet {} failed error: {}",
                        object::name(set),
                        err.message
                    );
                    self.recorder.record(set, EventType::Warning, "FailedCreate", &message).await;
                    return Err(err);
                }
            }
        }
        match self.registry.create(self.pods_rt, Some(ns), pod, &WriteOptions::default()).await {
            Ok(_) => {
                let message = format!("create Pod {pod_name} in StatefulSet {} successful", object::name(set));
                self.recorder.record(set, EventType::Normal, "SuccessfulCreate", &message).await;
                Ok(())
            }
            // Made on an earlier round the cache has not shown yet.
            Err(err) if err.reason == "AlreadyExists" => Ok(()),
            Err(err) if namespace_terminating(&err) => Ok(()),
            Err(err) => {
                let message =
                    format!("create Pod {pod_name} in StatefulSet {} failed error: {}", object::name(set), err.message);
                self.recorder.record(set, EventType::Warning, "FailedCreate", &message).await;
                Err(err)
            }
        }
    }

    async fn delete_pod(&self, set: &Value, pod: &Value) -> Result<(), ApiError> {
        let opts = DeleteOptions { precondition_uid: Some(object::uid(pod).to_string()), ..Default::default() };
        match self.registry.delete(self.pods_rt, Some(object::namespace(pod)), object::name(pod), &opts).await {
            Ok(_) => {
                let message =
                    format!("delete Pod {} in StatefulSet {} successful", object::name(pod), object::name(set));
                self.recorder.record(set, EventType::Normal, "SuccessfulDelete", &message).await;
                Ok(())
            }
            Err(err) if err.code == 404 => Ok(()),
            Err(err) => {
                let message = format!(
                    "delete Pod {} in StatefulSet {} failed error: {}",
                    object::name(pod),
                    object::name(set),
                    err.message
                );
                self.recorder.record(set, EventType::Warning, "FailedDelete", &message).await;
                Err(err)
            }
        }
    }

    async fn relabel(&self, set: &Value, pod: &Value) -> Result<(), ApiError> {
        let uid = object::uid(pod).to_string();
        let set_name = object::name(set).to_string();
        let written = self
            .registry
            .update_with(self.pods_rt, Some(object::namespace(pod)), object::name(pod), UpdateKind::Object, |current| {
                let fix = identity::identity_fix(&set_name, current).filter(|_| object::uid(current) == uid);
                let Some(fix) = fix else { return Ok(None) };
                let mut next = current.clone();
                object::object_field(&mut next["metadata"], "labels").extend(fix);
                Ok(Some(next))
            })
            .await;
        match written {
            Err(err) if err.code != 404 => Err(err),
            _ => Ok(()),
        }
    }

    async fn bump_collision_count(&self, set: &Value) -> Result<(), ApiError> {
        let mut status = set.get("status").filter(|s| s.is_object()).cloned().unwrap_or_else(|| json!({}));
        let count = status.get("collisionCount").and_then(Value::as_i64).unwrap_or(0);
        status["collisionCount"] = json!(count + 1);
        write_status(&self.registry, self.rt, set, status).await.map(|_| ())
    }
}

/// The pod template a revision restores.
fn revision_template(revision: &Value) -> Value {
    let mut template = revision.pointer("/data/spec/template").cloned().unwrap_or(Value::Null);
    if let Some(map) = template.as_object_mut() {
        map.remove("$patch");
    }
    template
}

fn int_at(obj: &Value, pointer: &str) -> Option<i32> {
    obj.pointer(pointer).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_give_back_their_template() {
        let template =
            json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
        let revision = json!({"data": crate::server::controllers::history::template_patch(&template)});
        assert_eq!(revision_template(&revision), template);
    }
}
