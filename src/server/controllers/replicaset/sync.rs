//! One sync of a ReplicaSet: claim its pods, create the shortfall or delete the surplus
//! (unless writes it made are still unobserved), and write its status.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::{delete_order, status, ReplicaSetController};
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::{self, Claimer};
use crate::server::controllers::informer::cache_key;
use crate::server::controllers::pod_control::{in_slow_start_batches, namespace_terminating};
use crate::server::controllers::pods;
use crate::server::registry::{object, UpdateKind};

/// At most this many pods are created or deleted in one sync.
const BURST_REPLICAS: usize = 500;

impl ReplicaSetController {
    pub(super) async fn sync(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        let Some(owner) = self.owners.get_key(key) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        // Read before listing pods: expectations met now mean the pod cache is new enough.
        let needs_sync = self.expectations.satisfied(key);
        let Some(selector) = self.kind.selector(&owner) else {
            tracing::warn!(controller = self.kind.component, %key, "invalid or empty selector; nothing to manage");
            return Ok(None);
        };
        let active: Vec<Arc<Value>> =
            self.pods.list(Some(object::namespace(&owner))).into_iter().filter(|p| pods::is_active(p)).collect();
        let claimer = Claimer {
            registry: &self.registry,
            owner_rt: self.rt,
            owner: &owner,
            kind: self.kind.owner,
            child: self.pods_rt,
        };
        let owned = claimer.claim(active, |pod| selector.matches_object(pod)).await?;
        let managed = if needs_sync && !object::is_deleting(&owner) {
            self.manage_replicas(key, &owner, &owned).await
        } else {
            Ok(())
        };
        let now = Timestamp::now();
        let new_status = status::calculate(&owner, &owned, managed.as_ref().err(), now);
        self.write_status(&owner, new_status).await?;
        managed?;
        Ok(status::next_availability_check(&owner, &owned, now))
    }

    /// Creates or deletes pods to bring `owned` to the desired count.
    async fn manage_replicas(&self, key: &str, owner: &Value, owned: &[Arc<Value>]) -> Result<(), ApiError> {
        let wanted = usize::try_from(status::desired_replicas(owner)).unwrap_or(0);
        if owned.len() < wanted {
            let count = (wanted - owned.len()).min(BURST_REPLICAS);
            self.expectations.expect_creations(key, count);
            let template = owner.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            let reference =
                controller_ref::new_controller_ref(self.kind.owner, object::name(owner), object::uid(owner));
            let (created, result) = in_slow_start_batches(count, || async {
                match self.pod_control.create(owner, &template, &reference).await {
                    // Nothing can be created in a namespace that is going away; not worth retrying.
                    Err(err) if namespace_terminating(&err) => Ok(()),
                    other => other.map(|_| ()),
                }
            })
            .await;
            // Pods never created will never be observed.
            for _ in created..count {
                self.expectations.creation_observed(key);
            }
            result
        } else if owned.len() > wanted {
            let count = (owned.len() - wanted).min(BURST_REPLICAS);
            let victims = delete_order::choose(owned, &self.related_pods(owner, owned), count, Timestamp::now());
            self.expectations.expect_deletions(key, victims.iter().map(|p| cache_key(p)));
            let results = futures::future::join_all(victims.iter().map(|pod| async move {
                let result = self.pod_control.delete(owner, pod).await;
                if result.is_err() {
                    // A failed (or already done) deletion will never be observed as ours.
                    self.expectations.deletion_observed(key, &cache_key(pod));
                }
                match result {
                    Err(err) if err.code == 404 => Ok(()),
                    other => other,
                }
            }))
            .await;
            results.into_iter().collect()
        } else {
            Ok(())
        }
    }

    /// The active pods of every owner that shares this owner's controller (the ReplicaSets of
    /// one Deployment), or this owner's own pods.
    fn related_pods(&self, owner: &Value, owned: &[Arc<Value>]) -> Vec<Arc<Value>> {
        let Some(controller) = controller_ref::controller_uid(owner) else { return owned.to_vec() };
        let ns = object::namespace(owner);
        let siblings: HashSet<String> = self
            .owners
            .list(Some(ns))
            .iter()
            .filter(|o| controller_ref::controller_uid(o) == Some(controller))
            .map(|o| object::uid(o).to_string())
            .collect();
        self.pods
            .list(Some(ns))
            .into_iter()
            .filter(|p| pods::is_active(p) && controller_ref::controller_uid(p).is_some_and(|u| siblings.contains(u)))
            .collect()
    }

    async fn write_status(&self, owner: &Value, new_status: Value) -> Result<(), ApiError> {
        if owner.get("status") == Some(&new_status) {
            return Ok(());
        }
        let uid = object::uid(owner);
        let written = self
            .registry
            .update_with(self.rt, Some(object::namespace(owner)), object::name(owner), UpdateKind::Status, |current| {
                if object::uid(current) != uid || current.get("status") == Some(&new_status) {
                    return Ok(None);
                }
                let mut next = current.clone();
                next["status"] = new_status.clone();
                Ok(Some(next))
            })
            .await;
        match written {
            Err(err) if err.code != 404 => Err(err),
            _ => Ok(()),
        }
    }
}
