//! The RollingUpdate strategy: grow the new ReplicaSet as far as maxSurge allows and shrink
//! the old ones as far as maxUnavailable allows, so a rollout that never becomes available
//! (a bad image) never takes more than maxUnavailable of the old pods with it.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::replica_sets::{self as rsets, available_replicas, spec_replicas};
use super::sync::Rollout;
use super::{fenceposts, status};
use crate::server::api_error::ApiError;

impl Rollout<'_> {
    pub(super) async fn rollout_rolling(
        &mut self,
        new_rs: Option<ReplicaSet>,
        old: Vec<ReplicaSet>,
    ) -> Result<Option<Duration>, ApiError> {
        let new_rs = match new_rs {
            Some(rs) => rs,
            None => self.create_new_replica_set(&old).await?,
        };
        let (scaled_up, new_rs) = self.reconcile_new(&old, &new_rs).await?;
        if scaled_up {
            return self.sync_rollout_status(&old, Some(&new_rs)).await;
        }
        let mut old = old;
        if self.reconcile_old(&mut old, &new_rs).await? {
            return self.sync_rollout_status(&old, Some(&new_rs)).await;
        }
        if status::is_complete(&self.d, &self.d.status.clone().unwrap_or_default()) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&old, Some(&new_rs)).await
    }

    /// Grows the new ReplicaSet within the surge (or shrinks it to the desired size).
    async fn reconcile_new(&self, old: &[ReplicaSet], new_rs: &ReplicaSet) -> Result<(bool, ReplicaSet), ApiError> {
        let desired = self.desired();
        let current = spec_replicas(new_rs);
        if current == desired {
            return Ok((false, new_rs.clone()));
        }
        if current > desired {
            return self.scale_and_record(new_rs, desired).await;
        }
        let all: Vec<&ReplicaSet> = old.iter().chain([new_rs]).collect();
        let target = rsets::new_rs_replicas(&self.d, &all, new_rs);
        self.scale_and_record(new_rs, target).await
    }

    /// Shrinks old ReplicaSets: first their unavailable pods, then available ones while
    /// enough stay available. Returns whether anything shrank.
    async fn reconcile_old(&self, old: &mut [ReplicaSet], new_rs: &ReplicaSet) -> Result<bool, ApiError> {
        if rsets::sum_spec_replicas(old.iter()) == 0 {
            return Ok(false);
        }
        let max_scale_down = scale_down_budget(&self.d, old, new_rs);
        if max_scale_down <= 0 {
            return Ok(false);
        }
        old.sort_by(rsets::by_creation);
        let cleaned = self.scale_down_unhealthy(old, max_scale_down).await?;
        let scaled = self.scale_down_available(old, new_rs).await?;
        Ok(cleaned + scaled > 0)
    }

    /// Removes old pods that are not available anyway (oldest ReplicaSets first), at most `max`.
    async fn scale_down_unhealthy(&self, old: &mut [ReplicaSet], max: i32) -> Result<i32, ApiError> {
        let mut total = 0;
        for rs in old.iter_mut() {
            if total >= max {
                break;
            }
            let unhealthy = spec_replicas(rs) - available_replicas(rs);
            if spec_replicas(rs) == 0 || unhealthy <= 0 {
                continue;
            }
            let down = unhealthy.min(max - total);
            *rs = self.scale_and_record(rs, spec_replicas(rs) - down).await?.1;
            total += down;
        }
        Ok(total)
    }

    /// Removes available old pods while more than the minimum stay available.
    async fn scale_down_available(&self, old: &mut [ReplicaSet], new_rs: &ReplicaSet) -> Result<i32, ApiError> {
        let min_available = self.desired() - fenceposts::max_unavailable(&self.d);
        let available = rsets::sum_available_replicas(old.iter().chain([new_rs]));
        if available <= min_available {
            return Ok(0);
        }
        let allowed = available - min_available;
        let mut total = 0;
        for rs in old.iter_mut() {
            if total >= allowed {
                break;
            }
            if spec_replicas(rs) == 0 {
                continue;
            }
            let down = spec_replicas(rs).min(allowed - total);
            *rs = self.scale_and_record(rs, spec_replicas(rs) - down).await?.1;
            total += down;
        }
        Ok(total)
    }
}

/// How many old pods may go now: everything beyond the minimum that must stay available,
/// counting the new ReplicaSet's pods that are not available yet as already missing.
fn scale_down_budget(d: &Deployment, old: &[ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let all_pods = rsets::sum_spec_replicas(old.iter()) + spec_replicas(new_rs);
    let min_available = fenceposts::desired_replicas(d) - fenceposts::max_unavailable(d);
    let new_unavailable = spec_replicas(new_rs) - available_replicas(new_rs);
    all_pods - min_available - new_unavailable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::deployment::replica_sets::tests::{deployment, rs};
    use serde_json::json;

    #[test]
    fn a_rollout_that_never_becomes_available_stops_at_max_unavailable() {
        // 4 replicas, 25%: surge 1, unavailable 1.
        let d = deployment(4, json!("25%"), json!("25%"));
        let old = rs("old", 4, 4, "2024-01-01T00:00:00Z");
        let new = rs("new", 1, 0, "2024-01-02T00:00:00Z");
        // 5 pods, 3 must stay available, the new one is not: one old pod may go.
        assert_eq!(scale_down_budget(&d, std::slice::from_ref(&old), &new), 1);
        // Old at 3, new grown to 2 (still unavailable): nothing more may go.
        let old = rs("old", 3, 3, "2024-01-01T00:00:00Z");
        let new = rs("new", 2, 0, "2024-01-02T00:00:00Z");
        assert_eq!(scale_down_budget(&d, std::slice::from_ref(&old), &new), 0);
        // Once the new pods are available, the old ones can follow.
        let new = rs("new", 2, 2, "2024-01-02T00:00:00Z");
        assert_eq!(scale_down_budget(&d, std::slice::from_ref(&old), &new), 2);
    }
}
