//! One sync of a Deployment: claim its ReplicaSets, find (or create) the one running the
//! current template with the next revision, then hand over to scaling, the rollout strategy
//! or a status update. The writes every step shares live here too.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Deserialize;
use serde_json::Value;

use super::replica_sets::{self as rsets, spec_replicas};
use super::template_hash::{self, HASH_LABEL};
use super::{fenceposts, revisions, status, DeploymentController, DEPLOYMENT};
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::Claimer;
use crate::server::controllers::events::EventType;
use crate::server::controllers::pod_control::namespace_terminating;
use crate::server::registry::label_selector::LabelSelector;
use crate::server::registry::options::{DeleteOptions, PropagationPolicy, WriteOptions};
use crate::server::registry::{object, UpdateKind};

/// The Deployment being synced, kept current as this sync writes it.
pub(super) struct Rollout<'a> {
    pub(super) ctl: &'a DeploymentController,
    /// The Deployment as cached, the subject of events.
    object: Arc<Value>,
    pub(super) d: Deployment,
}

impl<'a> Rollout<'a> {
    pub fn new(ctl: &'a DeploymentController, object: Arc<Value>) -> anyhow::Result<Self> {
        let d = Deployment::deserialize(object.as_ref())?;
        Ok(Self { ctl, object, d })
    }

    fn namespace(&self) -> &str {
        object::namespace(&self.object)
    }

    fn name(&self) -> &str {
        object::name(&self.object)
    }

    pub(super) fn desired(&self) -> i32 {
        fenceposts::desired_replicas(&self.d)
    }

    fn current_status(&self) -> DeploymentStatus {
        self.d.status.clone().unwrap_or_default()
    }

    pub async fn run(mut self) -> anyhow::Result<Option<Duration>> {
        let selector = self.object.pointer("/spec/selector").map(LabelSelector::from_object);
        let selector = match selector {
            Some(Ok(s)) if !s.is_empty() => s,
            _ => {
                self.record(
                    EventType::Warning,
                    "SelectingAll",
                    "This deployment is selecting all pods. A non-empty selector is required.",
                )
                .await;
                let mut current = self.current_status();
                if current.observed_generation < self.d.metadata.generation {
                    current.observed_generation = self.d.metadata.generation;
                    self.write_status(current).await?;
                }
                return Ok(None);
            }
        };
        let rs_list = self.claim_replica_sets(&selector).await?;
        let (new_rs, old) = self.sync_revision(&rs_list).await?;
        if self.d.metadata.deletion_timestamp.is_some() {
            self.sync_status(&old, new_rs.as_ref()).await?;
            return Ok(None);
        }
        self.check_paused_conditions().await?;
        let paused = self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused || self.is_scaling_event(new_rs.as_ref(), &old) {
            self.sync_scale(new_rs, old, paused).await?;
            return Ok(None);
        }
        let result = if fenceposts::is_rolling_update(&self.d) {
            self.rollout_rolling(new_rs, old).await
        } else {
            self.rollout_recreate(new_rs, old, &rs_list).await
        };
        Ok(result?)
    }

    /// The ReplicaSets this Deployment owns, adopting and releasing by its selector.
    async fn claim_replica_sets(&self, selector: &LabelSelector) -> Result<Vec<ReplicaSet>, ApiError> {
        let claimer = Claimer {
            registry: &self.ctl.registry,
            owner_rt: self.ctl.deployments_rt,
            owner: &self.object,
            kind: DEPLOYMENT,
            child: self.ctl.replica_sets_rt,
        };
        let candidates = self.ctl.replica_sets.list(Some(self.namespace()));
        let owned = claimer.claim(candidates, |rs| selector.matches_object(rs)).await?;
        owned.iter().map(|rs| decode_rs(rs)).collect()
    }

    /// Splits the ReplicaSets into the new one (if it exists) and the old ones, and brings the
    /// revision annotations of the new one and the Deployment up to date.
    async fn sync_revision(
        &mut self,
        rs_list: &[ReplicaSet],
    ) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>), ApiError> {
        let new_uid = rsets::find_new(&self.d, rs_list).map(|rs| rsets::uid(rs).to_string());
        let (new, old): (Vec<ReplicaSet>, Vec<ReplicaSet>) =
            rs_list.iter().cloned().partition(|rs| Some(rsets::uid(rs)) == new_uid.as_deref());
        let Some(existing) = new.into_iter().next() else { return Ok((None, old)) };
        let next_revision = revisions::max_revision(&old) + 1;
        let surge = fenceposts::max_surge(&self.d);
        let min_ready = self.d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        let mut wanted = existing.clone();
        let annotations_changed = revisions::set_new_rs_annotations(&self.d, &mut wanted, next_revision, true, surge);
        if annotations_changed || existing.spec.as_ref().and_then(|s| s.min_ready_seconds) != min_ready {
            let d = self.d.clone();
            let updated = self
                .update_replica_set(&existing, |rs| {
                    revisions::set_new_rs_annotations(&d, rs, next_revision, true, surge);
                    if let Some(spec) = rs.spec.as_mut() {
                        spec.min_ready_seconds = min_ready;
                    }
                })
                .await?;
            // The Deployment's revision follows on the sync this update triggers.
            return Ok((Some(updated), old));
        }
        let revision = existing.metadata.annotations.as_ref().and_then(|a| a.get(revisions::REVISION)).cloned();
        if revisions::set_deployment_revision(&mut self.d, revision.as_deref().unwrap_or_default()) {
            self.write_revision().await?;
        }
        let mut current = self.current_status();
        if status::has_progress_deadline(&self.d) && status::get_condition(&current, status::PROGRESSING).is_none() {
            let message = format!("Found new replica set {:?}", rsets::name(&existing));
            let found = status::condition(status::PROGRESSING, "True", status::FOUND_NEW_RS, message, status::now());
            status::set_condition(&mut current, found);
            self.write_status(current).await?;
        }
        Ok((Some(existing), old))
    }

    /// Creates the ReplicaSet for the current template, sized as the strategy allows.
    pub(super) async fn create_new_replica_set(&mut self, old: &[ReplicaSet]) -> Result<ReplicaSet, ApiError> {
        let spec = self.d.spec.clone().unwrap_or_default();
        let collision_count = self.d.status.as_ref().and_then(|s| s.collision_count);
        let hash = template_hash::compute(&spec.template, collision_count);
        let mut template = spec.template.clone();
        let meta = template.metadata.get_or_insert_with(Default::default);
        meta.labels.get_or_insert_with(Default::default).insert(HASH_LABEL.into(), hash.clone());
        let labels = meta.labels.clone();
        let mut selector = spec.selector.clone();
        selector.match_labels.get_or_insert_with(Default::default).insert(HASH_LABEL.into(), hash.clone());
        let name = format!("{}-{hash}", self.name());
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.namespace().to_string()),
                labels,
                owner_references: Some(vec![OwnerReference {
                    api_version: DEPLOYMENT.api_version.into(),
                    kind: DEPLOYMENT.kind.into(),
                    name: self.name().to_string(),
                    uid: object::uid(&self.object).to_string(),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let all: Vec<&ReplicaSet> = old.iter().chain([&rs]).collect();
        let replicas = rsets::new_rs_replicas(&self.d, &all, &rs);
        if let Some(spec) = rs.spec.as_mut() {
            spec.replicas = Some(replicas);
        }
        let next_revision = revisions::max_revision(old) + 1;
        revisions::set_new_rs_annotations(&self.d, &mut rs, next_revision, false, fenceposts::max_surge(&self.d));
        let body = serde_json::to_value(&rs).map_err(ApiError::internal)?;
        let rt = self.ctl.replica_sets_rt;
        let (created, already_existed) =
            match self.ctl.registry.create(rt, Some(self.namespace()), body, &WriteOptions::default()).await {
                Ok(written) => (decode_rs(&written.object)?, false),
                Err(err) if err.reason == "AlreadyExists" => (self.existing_new_replica_set(&name).await?, true),
                Err(err) if namespace_terminating(&err) => return Err(err),
                Err(err) => {
                    let message = format!("Failed to create new replica set {name:?}: {}", err.message);
                    if status::has_progress_deadline(&self.d) {
                        let mut current = self.current_status();
                        let failed = status::condition(
                            status::PROGRESSING,
                            "False",
                            status::RS_CREATE_ERROR,
                            message.clone(),
                            status::now(),
                        );
                        status::set_condition(&mut current, failed);
                        // The creation error is the one worth reporting.
                        let _ = self.write_status(current).await;
                    }
                    self.record(EventType::Warning, status::RS_CREATE_ERROR, &message).await;
                    return Err(err);
                }
            };
        if !already_existed && replicas > 0 {
            self.record(
                EventType::Normal,
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {replicas}"),
            )
            .await;
        }
        if revisions::set_deployment_revision(&mut self.d, &next_revision.to_string()) {
            self.write_revision().await?;
        }
        if !already_existed && status::has_progress_deadline(&self.d) {
            let mut current = self.current_status();
            let message = format!("Created new replica set {name:?}");
            let created_condition =
                status::condition(status::PROGRESSING, "True", status::NEW_RS_CREATED, message, status::now());
            status::set_condition(&mut current, created_condition);
            self.write_status(current).await?;
        }
        Ok(created)
    }

    /// The ReplicaSet that already has the new one's name: ours if this Deployment controls
    /// it and it runs the same template (a cache that was behind); otherwise the hash
    /// collided, and the next attempt hashes with a higher collision count.
    async fn existing_new_replica_set(&mut self, name: &str) -> Result<ReplicaSet, ApiError> {
        let rt = self.ctl.replica_sets_rt;
        let existing = decode_rs(&self.ctl.registry.get(rt, Some(self.namespace()), name).await?)?;
        let ours = existing
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|r| r.controller == Some(true) && r.uid == object::uid(&self.object));
        let template = &self.d.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let same = existing
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| template_hash::equal_ignoring_hash(t, template));
        if ours && same {
            return Ok(existing);
        }
        let mut current = self.current_status();
        current.collision_count = Some(current.collision_count.unwrap_or(0) + 1);
        self.write_status(current).await?;
        Err(ApiError::already_exists(rt.group, rt.plural, name))
    }

    /// Scales `rs` to `replicas` unless it is there; returns whether it scaled.
    pub(super) async fn scale_and_record(
        &self,
        rs: &ReplicaSet,
        replicas: i32,
    ) -> Result<(bool, ReplicaSet), ApiError> {
        let current = spec_replicas(rs);
        if current == replicas {
            return Ok((false, rs.clone()));
        }
        let direction = if current < replicas { "up" } else { "down" };
        Ok((true, self.scale_replica_set(rs, replicas, direction).await?))
    }

    /// Sets a ReplicaSet's size and the Deployment size it is scaled for.
    pub(super) async fn scale_replica_set(
        &self,
        rs: &ReplicaSet,
        replicas: i32,
        direction: &str,
    ) -> Result<ReplicaSet, ApiError> {
        let desired = self.desired();
        let max = desired + fenceposts::max_surge(&self.d);
        let resized = spec_replicas(rs) != replicas;
        if !resized && !revisions::replicas_annotations_need_update(rs, desired, max) {
            return Ok(rs.clone());
        }
        let updated = self
            .update_replica_set(rs, |rs| {
                if let Some(spec) = rs.spec.as_mut() {
                    spec.replicas = Some(replicas);
                }
                revisions::set_replicas_annotations(rs, desired, max);
            })
            .await?;
        if resized {
            let message =
                format!("Scaled {direction} replica set {} from {} to {replicas}", rsets::name(rs), spec_replicas(rs));
            self.record(EventType::Normal, "ScalingReplicaSet", &message).await;
        }
        Ok(updated)
    }

    /// Applies `change` to the stored ReplicaSet, unless its size moved since it was read (then
    /// the sync starts over from fresher data).
    async fn update_replica_set(
        &self,
        rs: &ReplicaSet,
        mut change: impl FnMut(&mut ReplicaSet),
    ) -> Result<ReplicaSet, ApiError> {
        let rt = self.ctl.replica_sets_rt;
        let (uid, replicas) = (rsets::uid(rs).to_string(), spec_replicas(rs));
        let written = self
            .ctl
            .registry
            .update_with(rt, Some(self.namespace()), rsets::name(rs), UpdateKind::Object, |current| {
                let mut fresh = decode_rs(current)?;
                if rsets::uid(&fresh) != uid {
                    return Err(ApiError::not_found(rt.group, rt.plural, rsets::name(&fresh)));
                }
                if spec_replicas(&fresh) != replicas {
                    return Err(ApiError::stale(rt.group, rt.plural, rsets::name(&fresh)));
                }
                change(&mut fresh);
                serde_json::to_value(&fresh).map(Some).map_err(ApiError::internal)
            })
            .await?;
        decode_rs(&written)
    }

    /// Deletes old ReplicaSets beyond `revisionHistoryLimit`.
    pub(super) async fn cleanup(&self, old: &[ReplicaSet]) -> Result<(), ApiError> {
        let Some(limit) = self.d.spec.as_ref().and_then(|s| s.revision_history_limit) else { return Ok(()) };
        let old: Vec<&ReplicaSet> = old.iter().collect();
        for rs in revisions::beyond_history_limit(&old, limit) {
            let opts = DeleteOptions {
                propagation_policy: Some(PropagationPolicy::Background),
                precondition_uid: Some(rsets::uid(rs).to_string()),
                ..Default::default()
            };
            match self
                .ctl
                .registry
                .delete(self.ctl.replica_sets_rt, Some(self.namespace()), rsets::name(rs), &opts)
                .await
            {
                Err(err) if err.code != 404 => return Err(err),
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes the status after a rollout step; returns when to check the progress deadline.
    pub(super) async fn sync_rollout_status(
        &mut self,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<Option<Duration>, ApiError> {
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs).collect();
        let at = status::now();
        let next = status::rollout(&all, new_rs, &self.d, at);
        if next == self.current_status() {
            return Ok(status::deadline_check_after(&self.d, &next, at));
        }
        // Writing the status brings the Deployment back through a sync that schedules the check.
        self.write_status(next).await?;
        Ok(None)
    }

    /// Writes the counts and availability, without judging progress.
    pub(super) async fn sync_status(
        &mut self,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<(), ApiError> {
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs).collect();
        let next = status::calculate(&all, new_rs, &self.d, status::now());
        if next != self.current_status() {
            self.write_status(next).await?;
        }
        Ok(())
    }

    /// Marks a paused (or resumed) Deployment so that time spent paused does not count against
    /// its progress deadline.
    async fn check_paused_conditions(&mut self) -> Result<(), ApiError> {
        if !status::has_progress_deadline(&self.d) {
            return Ok(());
        }
        let mut current = self.current_status();
        let reason = status::reason_of(status::get_condition(&current, status::PROGRESSING)).map(str::to_string);
        if reason.as_deref() == Some(status::TIMED_OUT) {
            return Ok(());
        }
        let paused = self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let marked_paused = reason.as_deref() == Some(status::PAUSED);
        let (why, message) = match (paused, marked_paused) {
            (true, false) => (status::PAUSED, "Deployment is paused"),
            (false, true) => (status::RESUMED, "Deployment is resumed"),
            _ => return Ok(()),
        };
        let condition = status::condition(status::PROGRESSING, "Unknown", why, message.into(), status::now());
        status::set_condition(&mut current, condition);
        self.write_status(current).await
    }

    async fn write_status(&mut self, next: DeploymentStatus) -> Result<(), ApiError> {
        let body = serde_json::to_value(&next).map_err(ApiError::internal)?;
        let uid = object::uid(&self.object).to_string();
        let rt = self.ctl.deployments_rt;
        self.ctl
            .registry
            .update_with(rt, Some(self.namespace()), self.name(), UpdateKind::Status, |current| {
                if object::uid(current) != uid {
                    return Err(ApiError::not_found(rt.group, rt.plural, object::name(current)));
                }
                if current.get("status") == Some(&body) {
                    return Ok(None);
                }
                let mut updated = current.clone();
                updated["status"] = body.clone();
                Ok(Some(updated))
            })
            .await?;
        self.d.status = Some(next);
        Ok(())
    }

    /// Writes the Deployment's revision annotation as `self.d` has it.
    async fn write_revision(&self) -> Result<(), ApiError> {
        let revision =
            self.d.metadata.annotations.as_ref().and_then(|a| a.get(revisions::REVISION)).cloned().unwrap_or_default();
        let uid = object::uid(&self.object).to_string();
        let rt = self.ctl.deployments_rt;
        self.ctl
            .registry
            .update_with(rt, Some(self.namespace()), self.name(), UpdateKind::Object, |current| {
                if object::uid(current) != uid {
                    return Err(ApiError::not_found(rt.group, rt.plural, object::name(current)));
                }
                if current.pointer("/metadata/annotations/deployment.kubernetes.io~1revision").and_then(Value::as_str)
                    == Some(revision.as_str())
                {
                    return Ok(None);
                }
                let mut updated = current.clone();
                object::object_field(&mut updated["metadata"], "annotations")
                    .insert(revisions::REVISION.into(), revision.clone().into());
                Ok(Some(updated))
            })
            .await
            .map(|_| ())
    }

    pub(super) async fn record(&self, event_type: EventType, reason: &str, message: &str) {
        self.ctl.recorder.record(&self.object, event_type, reason, message).await;
    }
}

fn decode_rs(value: &Value) -> Result<ReplicaSet, ApiError> {
    ReplicaSet::deserialize(value).map_err(|e| ApiError::internal(format!("malformed ReplicaSet: {e}")))
}
