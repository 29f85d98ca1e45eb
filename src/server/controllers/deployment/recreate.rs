//! The Recreate strategy: scale every old ReplicaSet to zero, wait until none of their pods
//! is left running, then bring the new ReplicaSet up to the full size.

use std::collections::HashSet;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::replica_sets::{self as rsets};
use super::status;
use super::sync::Rollout;
use crate::server::api_error::ApiError;
use crate::server::controllers::{controller_ref, pods};

impl Rollout<'_> {
    pub(super) async fn rollout_recreate(
        &mut self,
        new_rs: Option<ReplicaSet>,
        mut old: Vec<ReplicaSet>,
        rs_list: &[ReplicaSet],
    ) -> Result<Option<Duration>, ApiError> {
        let mut scaled_down = false;
        for rs in old.iter_mut().filter(|rs| rsets::is_active(rs)) {
            let (scaled, updated) = self.scale_and_record(rs, 0).await?;
            scaled_down |= scaled;
            *rs = updated;
        }
        if scaled_down || self.old_pods_running(new_rs.as_ref(), &old, rs_list) {
            return self.sync_rollout_status(&old, new_rs.as_ref()).await;
        }
        let new_rs = match new_rs {
            Some(rs) => rs,
            None => self.create_new_replica_set(&old).await?,
        };
        let desired = self.desired();
        let (_, new_rs) = self.scale_and_record(&new_rs, desired).await?;
        if status::is_complete(&self.d, &self.d.status.clone().unwrap_or_default()) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&old, Some(&new_rs)).await
    }

    /// Whether any pod of an old ReplicaSet may still run (including ones being deleted).
    fn old_pods_running(&self, new_rs: Option<&ReplicaSet>, old: &[ReplicaSet], rs_list: &[ReplicaSet]) -> bool {
        if rsets::sum_status_replicas(old.iter()) > 0 {
            return true;
        }
        let new_uid = new_rs.map(rsets::uid);
        let old_uids: HashSet<&str> = rs_list.iter().map(rsets::uid).filter(|uid| Some(*uid) != new_uid).collect();
        self.ctl.pods.list(Some(self.d.metadata.namespace.as_deref().unwrap_or_default())).iter().any(|pod| {
            controller_ref::controller_uid(pod).is_some_and(|uid| old_uids.contains(uid))
                && !matches!(pods::phase(pod), "Succeeded" | "Failed")
        })
    }
}
