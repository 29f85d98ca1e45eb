//! The pod status the kubelet reports: container statuses, phase and conditions, computed
//! from what the node observes (Kubernetes' rules for phase and readiness).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use crate::server::registry::object::format_time;

/// A container's state as the node sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Waiting { reason: String, message: Option<String> },
    Running { started_at: Timestamp },
    Terminated(Termination),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Termination {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub reason: String,
    pub message: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Timestamp,
    pub container_id: String,
}

/// One container of the pod, observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub name: String,
    pub state: State,
    pub last_termination: Option<Termination>,
    pub ready: bool,
    /// Whether its startup probe (if any) has succeeded.
    pub started: bool,
    pub restart_count: i32,
    pub image: String,
    pub image_id: String,
    /// `onebin://<id>` once a container exists.
    pub container_id: String,
}

impl Observed {
    /// A container not created yet.
    pub fn waiting(name: &str, image: &str, reason: &str, message: Option<String>) -> Self {
        Self {
            name: name.into(),
            state: State::Waiting { reason: reason.into(), message },
            last_termination: None,
            ready: false,
            started: false,
            restart_count: 0,
            image: image.into(),
            image_id: String::new(),
            container_id: String::new(),
        }
    }

    fn succeeded(&self) -> bool {
        matches!(&self.state, State::Terminated(t) if t.exit_code == 0)
    }

    fn to_json(&self) -> Value {
        let state = match &self.state {
            State::Waiting { reason, message } => {
                let mut w = json!({"reason": reason});
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                json!({"waiting": w})
            }
            State::Running { started_at } => json!({"running": {"startedAt": format_time(*started_at)}}),
            State::Terminated(t) => json!({"terminated": termination_json(t)}),
        };
        let mut status = json!({
            "name": self.name, "state": state, "ready": self.ready, "restartCount": self.restart_count,
            "image": self.image, "imageID": self.image_id, "started": self.started && matches!(self.state, State::Running { .. }),
            "lastState": self.last_termination.as_ref().map(|t| json!({"terminated": termination_json(t)})).unwrap_or(json!({})),
        });
        if !self.container_id.is_empty() {
            status["containerID"] = json!(self.container_id);
        }
        status
    }
}

fn termination_json(t: &Termination) -> Value {
    let mut v = json!({"exitCode": t.exit_code, "reason": t.reason, "finishedAt": format_time(t.finished_at)});
    if let Some(s) = t.started_at {
        v["startedAt"] = json!(format_time(s));
    }
    if let Some(sig) = t.signal {
        v["signal"] = json!(sig);
    }
    if let Some(m) = &t.message {
        v["message"] = json!(m);
    }
    if !t.container_id.is_empty() {
        v["containerID"] = json!(t.container_id);
    }
    v
}

/// What the node knows about the whole pod.
pub struct PodObservation<'a> {
    pub init: &'a [Observed],
    pub containers: &'a [Observed],
    pub pod_ip: Option<&'a str>,
    pub host_ip: &'a str,
    pub start_time: Timestamp,
    pub sandbox_ready: bool,
    /// Set when the pod failed for a reason of its own (e.g. activeDeadlineSeconds).
    pub failure: Option<(&'a str, &'a str)>,
}

/// The phase by Kubernetes' rules.
pub fn phase(pod: &Pod, obs: &PodObservation<'_>) -> &'static str {
    if obs.failure.is_some() {
        return "Failed";
    }
    let restart = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always");
    let spec_init = pod.spec.as_ref().and_then(|s| s.init_containers.as_ref()).map(Vec::len).unwrap_or(0);
    let init_done = obs.init.len() >= spec_init && obs.init.iter().all(Observed::succeeded);
    if !init_done {
        let init_failed = obs.init.iter().any(|c| matches!(&c.state, State::Terminated(t) if t.exit_code != 0));
        return if init_failed && restart == "Never" { "Failed" } else { "Pending" };
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in obs.containers {
        match &c.state {
            State::Running { .. } => running += 1,
            State::Terminated(t) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            State::Waiting { .. } if c.last_termination.is_some() => stopped += 1,
            State::Waiting { .. } => waiting += 1,
        }
    }
    if waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped == 0 {
        return "Pending";
    }
    match restart {
        "Always" => "Running",
        _ if succeeded == stopped => "Succeeded",
        "OnFailure" => "Running",
        _ => "Failed",
    }
}

/// The status to report, keeping transition times of conditions that did not change.
pub fn pod_status(pod: &Pod, obs: &PodObservation<'_>, now: Timestamp) -> Value {
    let phase = phase(pod, obs);
    let previous = pod.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let spec_init = pod.spec.as_ref().and_then(|s| s.init_containers.as_ref()).map(Vec::len).unwrap_or(0);
    let initialized = obs.init.len() >= spec_init && obs.init.iter().all(Observed::succeeded);
    let terminal = matches!(phase, "Succeeded" | "Failed");
    let containers_ready = !terminal && !obs.containers.is_empty() && obs.containers.iter().all(|c| c.ready);
    let gates_ok = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_ref())
        .into_iter()
        .flatten()
        .all(|g| previous.iter().any(|c| c.type_ == g.condition_type && c.status == "True"));
    let not_ready_names: Vec<&str> = obs.containers.iter().filter(|c| !c.ready).map(|c| c.name.as_str()).collect();
    let not_ready_message = format!("containers with unready status: [{}]", not_ready_names.join(" "));
    let pending_init: Vec<&str> = obs.init.iter().filter(|c| !c.succeeded()).map(|c| c.name.as_str()).collect();
    let mut conditions = vec![
        condition("PodReadyToStartContainers", obs.sandbox_ready, None, None),
        condition(
            "Initialized",
            initialized,
            (!initialized).then_some("ContainersNotInitialized"),
            (!initialized).then(|| format!("containers with incomplete status: [{}]", pending_init.join(" "))),
        ),
        condition(
            "Ready",
            containers_ready && gates_ok,
            (!containers_ready).then_some(if terminal { "PodCompleted" } else { "ContainersNotReady" }),
            (!containers_ready && !terminal).then(|| not_ready_message.clone()),
        ),
        condition(
            "ContainersReady",
            containers_ready,
            (!containers_ready).then_some(if terminal { "PodCompleted" } else { "ContainersNotReady" }),
            (!containers_ready && !terminal).then(|| not_ready_message.clone()),
        ),
    ];
    // Conditions the kubelet does not own (PodScheduled, readiness gates) are kept.
    for c in &previous {
        if !conditions.iter().any(|n| n["type"] == c.type_.as_str()) {
            conditions.push(serde_json::to_value(c).unwrap_or(Value::Null));
        }
    }
    let stamp = format_time(now);
    for c in conditions.iter_mut() {
        let kind = c["type"].as_str().unwrap_or_default().to_string();
        let old = previous.iter().find(|p| p.type_ == kind);
        let same = old.is_some_and(|p| c["status"] == p.status.as_str());
        let time = match (same, old.and_then(|p| p.last_transition_time.as_ref())) {
            (true, Some(t)) => format_time(t.0),
            _ => stamp.clone(),
        };
        if c.get("lastTransitionTime").is_none_or(Value::is_null) || !same {
            c["lastTransitionTime"] = json!(time);
        }
        if c.get("lastProbeTime").is_none() {
            c["lastProbeTime"] = Value::Null;
        }
    }
    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": obs.host_ip,
        "hostIPs": [{"ip": obs.host_ip}],
        "startTime": format_time(obs.start_time),
        "containerStatuses": obs.containers.iter().map(Observed::to_json).collect::<Vec<_>>(),
        "qosClass": pod.status.as_ref().and_then(|s| s.qos_class.clone()).unwrap_or_else(|| "BestEffort".into()),
    });
    if !obs.init.is_empty() {
        status["initContainerStatuses"] = json!(obs.init.iter().map(Observed::to_json).collect::<Vec<_>>());
    }
    if let Some(ip) = obs.pod_ip {
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    if let Some((reason, message)) = obs.failure {
        status["reason"] = json!(reason);
        status["message"] = json!(message);
    }
    status
}

fn condition(kind: &str, ok: bool, reason: Option<&str>, message: Option<String>) -> Value {
    let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(restart: &str) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": restart, "containers": [{"name": "c"}]},
            "status": {"conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}))
        .unwrap()
    }

    fn running(ready: bool) -> Observed {
        let mut o = Observed::waiting("c", "nginx", "", None);
        o.state = State::Running { started_at: Timestamp::now() };
        o.ready = ready;
        o
    }

    fn exited(code: i32) -> Observed {
        let mut o = Observed::waiting("c", "nginx", "", None);
        o.state = State::Terminated(Termination {
            exit_code: code,
            signal: None,
            reason: if code == 0 { "Completed".into() } else { "Error".into() },
            message: None,
            started_at: None,
            finished_at: Timestamp::now(),
            container_id: String::new(),
        });
        o
    }

    fn obs<'a>(containers: &'a [Observed]) -> PodObservation<'a> {
        PodObservation {
            init: &[],
            containers,
            pod_ip: Some("10.42.0.5"),
            host_ip: "192.0.2.2",
            start_time: Timestamp::now(),
            sandbox_ready: true,
            failure: None,
        }
    }

    #[test]
    fn phases_follow_kubernetes() {
        assert_eq!(phase(&pod("Always"), &obs(&[running(true)])), "Running");
        assert_eq!(phase(&pod("Always"), &obs(&[Observed::waiting("c", "i", "ContainerCreating", None)])), "Pending");
        assert_eq!(phase(&pod("Always"), &obs(&[exited(1)])), "Running");
        assert_eq!(phase(&pod("Never"), &obs(&[exited(0)])), "Succeeded");
        assert_eq!(phase(&pod("Never"), &obs(&[exited(2)])), "Failed");
        assert_eq!(phase(&pod("OnFailure"), &obs(&[exited(2)])), "Running");
        let mut crashing = Observed::waiting("c", "i", "CrashLoopBackOff", None);
        crashing.last_termination = Some(match exited(1).state {
            State::Terminated(t) => t,
            _ => unreachable!(),
        });
        assert_eq!(phase(&pod("Always"), &obs(&[crashing])), "Running");
    }

    #[test]
    fn readiness_conditions_and_kept_transition_times() {
        let p = pod("Always");
        let status = pod_status(&p, &obs(&[running(false)]), Timestamp::now());
        let find = |t: &str| status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == t).unwrap().clone();
        assert_eq!(find("Ready")["status"], "False");
        assert_eq!(find("Ready")["message"], "containers with unready status: [c]");
        assert_eq!(find("PodScheduled")["lastTransitionTime"], "2026-01-01T00:00:00Z");
        assert_eq!(status["podIP"], "10.42.0.5");
        let ready = pod_status(&p, &obs(&[running(true)]), Timestamp::now());
        assert!(ready["conditions"].as_array().unwrap().iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
    }
}
