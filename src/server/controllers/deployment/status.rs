//! A Deployment's status: replica counts summed over its ReplicaSets and the Available and
//! Progressing conditions, including the progress deadline that `kubectl rollout status`
//! reports as "exceeded its progress deadline".

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::fenceposts;
use super::replica_sets::{self as rsets};

pub const AVAILABLE: &str = "Available";
pub const PROGRESSING: &str = "Progressing";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const RS_CREATE_ERROR: &str = "ReplicaSetCreateError";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";

/// Now, at the second precision timestamps are stored with.
pub fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or_else(|_| Timestamp::now())
}

pub fn condition(kind: &str, status: &str, reason: &str, message: String, at: Timestamp) -> DeploymentCondition {
    DeploymentCondition {
        type_: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(Time(at)),
        last_transition_time: Some(Time(at)),
    }
}

pub fn get_condition<'a>(status: &'a DeploymentStatus, kind: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == kind)
}

pub fn reason_of(c: Option<&DeploymentCondition>) -> Option<&str> {
    c.and_then(|c| c.reason.as_deref())
}

/// Adds or replaces a condition; an existing one with the same status and reason is kept as
/// it is, and the transition time only moves when the status does.
pub fn set_condition(status: &mut DeploymentStatus, mut new: DeploymentCondition) {
    if let Some(current) = get_condition(status, &new.type_) {
        if current.status == new.status && current.reason == new.reason {
            return;
        }
        if current.status == new.status {
            new.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &new.type_);
    status.conditions.get_or_insert_with(Vec::new).push(new);
}

pub fn remove_condition(status: &mut DeploymentStatus, kind: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != kind);
        if conditions.is_empty() {
            status.conditions = None;
        }
    }
}

fn count(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

fn status_of(d: &Deployment) -> DeploymentStatus {
    d.status.clone().unwrap_or_default()
}

/// The counts over all ReplicaSets and the Available condition; other conditions are kept.
pub fn calculate(all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>, d: &Deployment, at: Timestamp) -> DeploymentStatus {
    let current = status_of(d);
    let available = rsets::sum_available_replicas(all.iter().copied());
    let total = rsets::sum_spec_replicas(all.iter().copied());
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation.filter(|g| *g != 0),
        replicas: count(rsets::sum_status_replicas(all.iter().copied())),
        updated_replicas: count(new_rs.map(rsets::status_replicas).unwrap_or(0)),
        ready_replicas: count(rsets::sum_ready_replicas(all.iter().copied())),
        available_replicas: count(available),
        unavailable_replicas: count((total - available).max(0)),
        collision_count: current.collision_count,
        conditions: current.conditions.clone(),
        terminating_replicas: None,
    };
    if available >= fenceposts::desired_replicas(d) - fenceposts::max_unavailable(d) {
        let message = "Deployment has minimum availability.".to_string();
        set_condition(&mut status, condition(AVAILABLE, "True", "MinimumReplicasAvailable", message, at));
    } else {
        let message = "Deployment does not have minimum availability.".to_string();
        set_condition(&mut status, condition(AVAILABLE, "False", "MinimumReplicasUnavailable", message, at));
    }
    status
}

pub fn has_progress_deadline(d: &Deployment) -> bool {
    progress_deadline(d).is_some()
}

fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).filter(|s| *s != i32::MAX)
}

fn n(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

/// Every desired pod is updated and available, and the latest spec has been seen.
pub fn is_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let desired = fenceposts::desired_replicas(d);
    n(status.updated_replicas) == desired
        && n(status.replicas) == desired
        && n(status.available_replicas) == desired
        && status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// More pods updated, ready or available than last time, or fewer old ones.
pub fn is_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = status_of(d);
    let old_olds = n(old.replicas) - n(old.updated_replicas);
    let new_olds = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_olds < old_olds
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// No progress was reported for longer than `progressDeadlineSeconds`.
pub fn is_timed_out(d: &Deployment, status: &DeploymentStatus, at: Timestamp) -> bool {
    let Some(deadline) = progress_deadline(d) else { return false };
    let Some(progressing) = get_condition(status, PROGRESSING) else { return false };
    match progressing.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => progressing
            .last_update_time
            .as_ref()
            .is_some_and(|since| since.0 + jiff::SignedDuration::from_secs(deadline.into()) < at),
    }
}

/// The status after a rollout step: counts, then the Progressing condition (complete,
/// progressing or timed out), then failures copied from the ReplicaSets.
pub fn rollout(all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>, d: &Deployment, at: Timestamp) -> DeploymentStatus {
    let mut status = calculate(all, new_rs, d, at);
    if !has_progress_deadline(d) {
        remove_condition(&mut status, PROGRESSING);
    }
    let current = status_of(d);
    let current_progressing = get_condition(&current, PROGRESSING);
    let finished =
        status.replicas == status.updated_replicas && reason_of(current_progressing) == Some(NEW_RS_AVAILABLE);
    let subject = match new_rs {
        Some(rs) => format!("ReplicaSet {:?}", rsets::name(rs)),
        None => format!("Deployment {:?}", d.metadata.name.as_deref().unwrap_or_default()),
    };
    if has_progress_deadline(d) && !finished {
        if is_complete(d, &status) {
            let message = format!("{subject} has successfully progressed.");
            set_condition(&mut status, condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message, at));
        } else if is_progressing(d, &status) {
            let mut progressing = condition(PROGRESSING, "True", RS_UPDATED, format!("{subject} is progressing."), at);
            // Progress moves lastUpdateTime even when the reason stays the same.
            if let Some(current) = current_progressing {
                if current.status == "True" {
                    progressing.last_transition_time = current.last_transition_time.clone();
                }
                remove_condition(&mut status, PROGRESSING);
            }
            set_condition(&mut status, progressing);
        } else if is_timed_out(d, &status, at) {
            let message = format!("{subject} has timed out progressing.");
            set_condition(&mut status, condition(PROGRESSING, "False", TIMED_OUT, message, at));
        }
    }
    match replica_failure(all, new_rs) {
        Some(failure) => set_condition(&mut status, failure),
        None => remove_condition(&mut status, REPLICA_FAILURE),
    }
    status
}

/// The ReplicaFailure condition of the new ReplicaSet, else of any other.
fn replica_failure(all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>) -> Option<DeploymentCondition> {
    let failure_of = |rs: &ReplicaSet| {
        rs.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == REPLICA_FAILURE).map(|c| {
            DeploymentCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_transition_time: c.last_transition_time.clone(),
                last_update_time: c.last_transition_time.clone(),
            }
        })
    };
    new_rs.and_then(failure_of).or_else(|| all.iter().find_map(|rs| failure_of(rs)))
}

/// When to look at a rollout again to see whether it ran out of time.
pub fn deadline_check_after(d: &Deployment, status: &DeploymentStatus, at: Timestamp) -> Option<Duration> {
    let deadline = progress_deadline(d)?;
    let current = status_of(d);
    let progressing = get_condition(&current, PROGRESSING)?;
    if is_complete(d, status) || progressing.reason.as_deref() == Some(TIMED_OUT) {
        return None;
    }
    let since = progressing.last_update_time.as_ref()?.0;
    let remaining = (since + jiff::SignedDuration::from_secs(deadline.into())).duration_since(at);
    let remaining = Duration::try_from(remaining).unwrap_or_default();
    // A second of slack so the check lands after the deadline, not on it.
    Some(if remaining < Duration::from_secs(1) { Duration::from_secs(1) } else { remaining + Duration::from_secs(1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::controllers::deployment::replica_sets::tests::{deployment, rs};
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn with_deadline(seconds: i32) -> Deployment {
        let mut d = deployment(3, json!(1), json!(0));
        d.spec.as_mut().unwrap().progress_deadline_seconds = Some(seconds);
        d
    }

    #[test]
    fn counts_and_availability() {
        let d = deployment(4, json!(1), json!(1));
        let old = rs("old", 2, 2, "2024-01-01T00:00:00Z");
        let new = rs("new", 3, 1, "2024-01-02T00:00:00Z");
        let status = calculate(&[&old, &new], Some(&new), &d, at("2024-01-03T00:00:00Z"));
        assert_eq!(status.replicas, Some(5));
        assert_eq!(status.updated_replicas, Some(3));
        assert_eq!(status.available_replicas, Some(3));
        assert_eq!(status.unavailable_replicas, Some(2));
        assert_eq!(status.observed_generation, Some(1));
        // 3 available >= 4 desired - 1 unavailable allowed.
        assert_eq!(get_condition(&status, AVAILABLE).unwrap().status, "True");
        let status = calculate(&[&rs("x", 4, 2, "2024-01-01T00:00:00Z")], None, &d, at("2024-01-03T00:00:00Z"));
        assert_eq!(get_condition(&status, AVAILABLE).unwrap().reason.as_deref(), Some("MinimumReplicasUnavailable"));
        assert_eq!(status.updated_replicas, None);
    }

    #[test]
    fn progress_then_completion() {
        let t0 = at("2024-01-01T00:00:00Z");
        let mut d = with_deadline(600);
        let new = rs("new", 3, 1, "2024-01-01T00:00:00Z");
        let status = rollout(&[&new], Some(&new), &d, t0);
        let progressing = get_condition(&status, PROGRESSING).unwrap();
        assert_eq!(progressing.reason.as_deref(), Some(RS_UPDATED));
        assert_eq!(progressing.message.as_deref(), Some("ReplicaSet \"new\" is progressing."));
        d.status = Some(status);
        let done = rs("new", 3, 3, "2024-01-01T00:00:00Z");
        let status = rollout(&[&done], Some(&done), &d, t0);
        assert_eq!(reason_of(get_condition(&status, PROGRESSING)), Some(NEW_RS_AVAILABLE));
        assert!(is_complete(&d, &status));
        assert_eq!(deadline_check_after(&d, &status, t0), None);
    }

    #[test]
    fn no_progress_past_the_deadline_times_out() {
        let t0 = at("2024-01-01T00:00:00Z");
        let mut d = with_deadline(10);
        let stuck = rs("new", 3, 0, "2024-01-01T00:00:00Z");
        let mut status = calculate(&[&stuck], Some(&stuck), &d, t0);
        set_condition(&mut status, condition(PROGRESSING, "True", NEW_RS_CREATED, "created".into(), t0));
        d.status = Some(status);
        // Nothing changed, 5 s later: still within the deadline; look again after it.
        let later = rollout(&[&stuck], Some(&stuck), &d, at("2024-01-01T00:00:05Z"));
        assert_eq!(reason_of(get_condition(&later, PROGRESSING)), Some(NEW_RS_CREATED));
        assert_eq!(deadline_check_after(&d, &later, at("2024-01-01T00:00:05Z")), Some(Duration::from_secs(6)));
        let late = rollout(&[&stuck], Some(&stuck), &d, at("2024-01-01T00:00:11Z"));
        let progressing = get_condition(&late, PROGRESSING).unwrap();
        assert_eq!((progressing.status.as_str(), progressing.reason.as_deref()), ("False", Some(TIMED_OUT)));
    }

    #[test]
    fn set_condition_keeps_transition_time_for_same_status() {
        let mut status = DeploymentStatus::default();
        let t0 = at("2024-01-01T00:00:00Z");
        let t1 = at("2024-01-01T00:01:00Z");
        set_condition(&mut status, condition(PROGRESSING, "True", NEW_RS_CREATED, "a".into(), t0));
        set_condition(&mut status, condition(PROGRESSING, "True", NEW_RS_CREATED, "b".into(), t1));
        assert_eq!(get_condition(&status, PROGRESSING).unwrap().message.as_deref(), Some("a"));
        set_condition(&mut status, condition(PROGRESSING, "True", RS_UPDATED, "c".into(), t1));
        let c = get_condition(&status, PROGRESSING).unwrap();
        assert_eq!(c.last_transition_time, Some(Time(t0)));
        assert_eq!(c.last_update_time, Some(Time(t1)));
        assert_eq!(status.conditions.as_ref().unwrap().len(), 1);
    }
}
