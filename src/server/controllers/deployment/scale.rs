//! Scaling a Deployment without rolling it: a single active ReplicaSet takes the new size
//! whole; during a rollout the change is spread over the active ReplicaSets in proportion to
//! their sizes, so a rollout in progress keeps its shape.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::replica_sets::{self as rsets, spec_replicas};
use super::sync::Rollout;
use super::{fenceposts, revisions};
use crate::server::api_error::ApiError;

impl Rollout<'_> {
    /// Whether the Deployment's size changed since its ReplicaSets were last scaled for it.
    pub(super) fn is_scaling_event(&self, new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) -> bool {
        let desired = self.desired();
        new_rs
            .into_iter()
            .chain(old)
            .filter(|rs| rsets::is_active(rs))
            .filter_map(revisions::desired_replicas_annotation)
            .any(|annotated| annotated != desired)
    }

    /// Scales to the Deployment's size (the whole sync of a paused Deployment or of a
    /// scaling event), then updates the status.
    pub(super) async fn sync_scale(
        &mut self,
        new_rs: Option<ReplicaSet>,
        old: Vec<ReplicaSet>,
        paused: bool,
    ) -> Result<(), ApiError> {
        let (new_rs, old) = self.scale(new_rs, old).await?;
        if paused {
            self.cleanup(&old).await?;
        }
        self.sync_status(&old, new_rs.as_ref()).await
    }

    async fn scale(
        &self,
        new_rs: Option<ReplicaSet>,
        mut old: Vec<ReplicaSet>,
    ) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>), ApiError> {
        let desired = self.desired();
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        if let Some(target) = rsets::active_or_latest(new_rs.as_ref(), &old_refs) {
            let target_uid = rsets::uid(target).to_string();
            if spec_replicas(target) == desired {
                return Ok((new_rs, old));
            }
            let (_, scaled) = self.scale_and_record(target, desired).await?;
            return Ok(replace(new_rs, old, scaled, &target_uid));
        }
        if rsets::is_saturated(&self.d, new_rs.as_ref()) {
            // The new ReplicaSet runs everything: the old ones go.
            for rs in old.iter_mut().filter(|rs| rsets::is_active(rs)) {
                *rs = self.scale_and_record(rs, 0).await?.1;
            }
            return Ok((new_rs, old));
        }
        if !fenceposts::is_rolling_update(&self.d) {
            return Ok((new_rs, old));
        }
        let mut all: Vec<ReplicaSet> =
            new_rs.iter().cloned().chain(old.iter().cloned()).filter(rsets::is_active).collect();
        let (sizes, direction) = proportional_sizes(&self.d, &mut all);
        let (mut new_rs, mut old) = (new_rs, old);
        for (rs, size) in all.iter().zip(sizes) {
            let scaled = self.scale_replica_set(rs, size, direction).await?;
            (new_rs, old) = replace(new_rs, old, scaled, rsets::uid(rs));
        }
        Ok((new_rs, old))
    }
}

/// Puts `scaled` in place of the ReplicaSet with `uid`.
fn replace(
    new_rs: Option<ReplicaSet>,
    mut old: Vec<ReplicaSet>,
    scaled: ReplicaSet,
    uid: &str,
) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
    if new_rs.as_ref().is_some_and(|rs| rsets::uid(rs) == uid) {
        return (Some(scaled), old);
    }
    if let Some(slot) = old.iter_mut().find(|rs| rsets::uid(rs) == uid) {
        *slot = scaled;
    }
    (new_rs, old)
}

/// New sizes for the active ReplicaSets `all` (sorted here in the order they take or give up
/// replicas) so that together they hold the Deployment's size plus its surge; and the
/// direction of the change for events.
fn proportional_sizes(d: &Deployment, all: &mut [ReplicaSet]) -> (Vec<i32>, &'static str) {
    let desired = fenceposts::desired_replicas(d);
    let allowed = if desired > 0 { desired + fenceposts::max_surge(d) } else { 0 };
    let to_add = allowed - rsets::sum_spec_replicas(all.iter());
    let direction = match to_add {
        n if n > 0 => {
            all.sort_by(rsets::by_size_newer);
            "up"
        }
        n if n < 0 => {
            all.sort_by(rsets::by_size_older);
            "down"
        }
        _ => "",
    };
    let mut added = 0;
    let mut sizes: Vec<i32> = all
        .iter()
        .map(|rs| {
            let share = proportion(rs, d, to_add, added);
            added += share;
            spec_replicas(rs) + share
        })
        .collect();
    // Rounding leftovers go to (or come from) the largest ReplicaSet.
    if let Some(first) = sizes.first_mut() {
        *first = (*first + to_add - added).max(0);
    }
    (sizes, direction)
}

/// The share of `to_add` (of which `added` is handed out) that falls to `rs`.
fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if spec_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// How many replicas `rs` gains (or loses) if it keeps its share of the Deployment, from the
/// Deployment size it was last scaled for.
fn fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    let desired = fenceposts::desired_replicas(d);
    if desired == 0 {
        return -spec_replicas(rs);
    }
    let max_now = desired + fenceposts::max_surge(d);
    let max_before = match revisions::max_replicas_annotation(rs).filter(|m| *m != 0) {
        Some(m) => m,
        None => match d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0) {
            0 => return 0,
            replicas => replicas,
        },
    };
    let scaled = f64::from(spec_replicas(rs)) * f64::from(max_now) / f64::from(max_before);
    scaled.round() as i32 - spec_replicas(rs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::deployment::replica_sets::tests::{deployment, rs};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn annotated(name: &str, replicas: i32, max: i32, created: &str) -> ReplicaSet {
        let mut r = rs(name, replicas, replicas, created);
        r.metadata.annotations = Some(BTreeMap::from([(revisions::MAX_REPLICAS.to_string(), max.to_string())]));
        r
    }

    #[test]
    fn scaling_up_mid_rollout_keeps_proportions() {
        // 10 replicas + 3 surge, rollout at 8 old / 5 new; scaled to 20 (+5 surge = 25).
        let d = deployment(20, json!("25%"), json!("25%"));
        let mut all =
            vec![annotated("old", 8, 13, "2024-01-01T00:00:00Z"), annotated("new", 5, 13, "2024-01-02T00:00:00Z")];
        let (sizes, direction) = proportional_sizes(&d, &mut all);
        assert_eq!(direction, "up");
        let by_name: BTreeMap<&str, i32> = all.iter().map(rsets::name).zip(sizes).collect();
        // 8*25/13 = 15.4 -> 15, 5*25/13 = 9.6 -> 10.
        assert_eq!(by_name, BTreeMap::from([("old", 15), ("new", 10)]));
    }

    #[test]
    fn scaling_down_mid_rollout_keeps_proportions_and_never_goes_negative() {
        let d = deployment(3, json!(1), json!(0));
        let mut all =
            vec![annotated("old", 6, 7, "2024-01-01T00:00:00Z"), annotated("new", 1, 7, "2024-01-02T00:00:00Z")];
        let (sizes, direction) = proportional_sizes(&d, &mut all);
        assert_eq!(direction, "down");
        assert_eq!(sizes.iter().sum::<i32>(), 4);
        assert!(sizes.iter().all(|s| *s >= 0));
        let mut zero = vec![annotated("old", 6, 7, "2024-01-01T00:00:00Z")];
        assert_eq!(proportional_sizes(&deployment(0, json!(1), json!(0)), &mut zero).0, [0]);
    }

    #[test]
    fn missing_annotation_falls_back_to_the_status_size() {
        let mut d = deployment(8, json!(0), json!(1));
        let plain = rs("a", 2, 2, "2024-01-01T00:00:00Z");
        assert_eq!(fraction(&plain, &d), 0);
        d.status = Some(serde_json::from_value(json!({"replicas": 4})).unwrap());
        assert_eq!(fraction(&plain, &d), 2);
    }
}
