//! A Job's conditions as Kubernetes 1.33 reports them: the interim SuccessCriteriaMet or
//! FailureTarget as soon as the outcome is known, then Complete or Failed once no pod is
//! left running or uncounted; Suspended while suspended.

use serde_json::{json, Value};

pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";
pub const SUSPENDED: &str = "Suspended";
pub const FAILURE_TARGET: &str = "FailureTarget";
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";

/// How the Job ends, once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub success: bool,
    pub reason: String,
    pub message: String,
}

impl Outcome {
    pub fn success() -> Self {
        Self {
            success: true,
            reason: "CompletionsReached".into(),
            message: "Reached expected number of succeeded pods".into(),
        }
    }

    pub fn failure(reason: &str, message: impl Into<String>) -> Self {
        Self { success: false, reason: reason.into(), message: message.into() }
    }

    pub fn interim_type(&self) -> &'static str {
        if self.success {
            SUCCESS_CRITERIA_MET
        } else {
            FAILURE_TARGET
        }
    }

    pub fn final_type(&self) -> &'static str {
        if self.success {
            COMPLETE
        } else {
            FAILED
        }
    }
}

pub fn find<'a>(conditions: &'a [Value], kind: &str) -> Option<&'a Value> {
    conditions.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub fn is_true(conditions: &[Value], kind: &str) -> bool {
    find(conditions, kind).and_then(|c| c.get("status")).and_then(Value::as_str) == Some("True")
}

/// The outcome an interim condition already recorded.
pub fn recorded_outcome(conditions: &[Value]) -> Option<Outcome> {
    [(SUCCESS_CRITERIA_MET, true), (FAILURE_TARGET, false)].into_iter().find_map(|(kind, success)| {
        let condition = find(conditions, kind).filter(|_| is_true(conditions, kind))?;
        let text = |field: &str| condition.get(field).and_then(Value::as_str).unwrap_or_default().to_string();
        Some(Outcome { success, reason: text("reason"), message: text("message") })
    })
}

/// Whether the Job has finished (Complete or Failed).
pub fn finished(job: &Value) -> bool {
    let conditions = list(job);
    is_true(&conditions, COMPLETE) || is_true(&conditions, FAILED)
}

pub fn list(job: &Value) -> Vec<Value> {
    job.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Sets condition `kind` to `status` with `reason` and `message`; a False condition is only
/// written over an existing one. Returns whether anything changed.
pub fn set(conditions: &mut Vec<Value>, kind: &str, status: &str, reason: &str, message: &str, now: &str) -> bool {
    let fresh = json!({"type": kind, "status": status, "lastProbeTime": now, "lastTransitionTime": now,
                       "reason": reason, "message": message});
    match conditions.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some(kind)) {
        Some(existing) => {
            let same = |field: &str, value: &str| existing.get(field).and_then(Value::as_str) == Some(value);
            if same("status", status) && same("reason", reason) && same("message", message) {
                return false;
            }
            *existing = fresh;
            true
        }
        None if status == "True" => {
            conditions.push(fresh);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_set_once_and_false_only_over_existing_ones() {
        let mut conditions = Vec::new();
        assert!(!set(&mut conditions, SUSPENDED, "False", "JobResumed", "Job resumed", "t0"));
        assert!(conditions.is_empty());
        assert!(set(&mut conditions, SUSPENDED, "True", "JobSuspended", "Job suspended", "t1"));
        assert!(!set(&mut conditions, SUSPENDED, "True", "JobSuspended", "Job suspended", "t2"));
        assert!(set(&mut conditions, SUSPENDED, "False", "JobResumed", "Job resumed", "t3"));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0]["lastTransitionTime"], "t3");
        let outcome = Outcome::failure("BackoffLimitExceeded", "Job has reached the specified backoff limit");
        assert!(set(&mut conditions, outcome.interim_type(), "True", &outcome.reason, &outcome.message, "t4"));
        assert_eq!(recorded_outcome(&conditions), Some(outcome));
        assert!(!finished(&json!({"status": {"conditions": conditions}})));
        set(&mut conditions, FAILED, "True", "BackoffLimitExceeded", "", "t5");
        assert!(finished(&json!({"status": {"conditions": conditions}})));
    }
}
