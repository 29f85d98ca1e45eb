//! Pods: NAME READY STATUS RESTARTS AGE (wide: IP NODE NOMINATED NODE READINESS GATES), with
//! the STATUS kubectl users read at a glance — the phase refined by init progress, container
//! waiting/terminated reasons and deletion.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
use serde_json::{json, Value};

use super::columns::{doc, Column};
use super::fields::{flag, int, is_set, list, text, time};
use super::format::{age, name, or_none, since};
use super::Printer;

pub(super) static PODS: Printer = Printer::new(&COLUMNS, cells).with_conditions(conditions);

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Ready", "Containers ready to serve, out of all the pod's long-running containers."),
        Column::string("Status", "Summary of the pod's phase and the state of its containers."),
        Column::string("Restarts", "Container restarts in this pod, and how long ago the latest one happened."),
        Column::age(),
        Column::string("IP", doc::<PodStatus>("podIP")).wide(),
        Column::string("Node", doc::<PodSpec>("nodeName")).wide(),
        Column::string("Nominated Node", doc::<PodStatus>("nominatedNodeName")).wide(),
        Column::string("Readiness Gates", doc::<PodSpec>("readinessGates")).wide(),
    ]
});

/// Reason the node lifecycle controller gives pods on a node that stopped reporting.
const NODE_LOST: &str = "NodeLost";

/// Restarts of a set of containers, as the RESTARTS cell shows them.
#[derive(Default)]
struct Restarts {
    count: i64,
    /// Latest end of a container run that was followed by a restart.
    last_restart: Option<Timestamp>,
}

impl Restarts {
    fn add(&mut self, status: &Value) {
        self.count += int(status, "/restartCount");
        if is_set(status, "/lastState/terminated") {
            self.last_restart = self.last_restart.max(time(status, "/lastState/terminated/finishedAt"));
        }
    }
}

fn cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let phase = text(pod, "/status/phase");
    let mut reason = match text(pod, "/status/reason") {
        "" => phase.to_string(),
        reason => reason.to_string(),
    };
    let conditions = list(pod, "/status/conditions");
    if conditions.iter().any(|c| text(c, "/type") == "PodScheduled" && text(c, "/reason") == "SchedulingGated") {
        reason = "SchedulingGated".into();
    }

    let init_specs = list(pod, "/spec/initContainers");
    // Sidecars (init containers that keep running) count as regular containers.
    let is_sidecar =
        |name: &str| init_specs.iter().any(|c| text(c, "/name") == name && text(c, "/restartPolicy") == "Always");
    let sidecars = init_specs.iter().filter(|c| text(c, "/restartPolicy") == "Always").count();
    let total = list(pod, "/spec/containers").len() + sidecars;

    // All init containers' restarts count while the pod initializes; only sidecars' after.
    let mut all_init = Restarts::default();
    let mut sidecar_restarts = Restarts::default();
    let mut ready = 0;
    let mut initializing = false;
    for (index, status) in list(pod, "/status/initContainerStatuses").iter().enumerate() {
        let sidecar = is_sidecar(text(status, "/name"));
        all_init.add(status);
        if sidecar {
            sidecar_restarts.add(status);
        }
        let terminated = is_set(status, "/state/terminated");
        if terminated && int(status, "/state/terminated/exitCode") == 0 {
            continue;
        }
        if sidecar && flag(status, "/started") == Some(true) {
            if flag(status, "/ready") == Some(true) {
                ready += 1;
            }
            continue;
        }
        let waiting = text(status, "/state/waiting/reason");
        reason = if terminated {
            format!("Init:{}", terminated_reason(status))
        } else if !waiting.is_empty() && waiting != "PodInitializing" {
            format!("Init:{waiting}")
        } else {
            format!("Init:{index}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    let mut restarts = all_init;
    if !initializing || condition_is_true(conditions, "Initialized") {
        restarts = sidecar_restarts;
        let mut has_running = false;
        // The first container's state wins, so walk them from last to first.
        for status in list(pod, "/status/containerStatuses").iter().rev() {
            restarts.add(status);
            let waiting = text(status, "/state/waiting/reason");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if is_set(status, "/state/terminated") {
                reason = terminated_reason(status);
            } else if flag(status, "/ready") == Some(true) && is_set(status, "/state/running") {
                has_running = true;
                ready += 1;
            }
        }
        // A container that completed next to ones still running leaves the pod running.
        if reason == "Completed" && has_running {
            reason = if any_condition_true(conditions, "Ready") { "Running".into() } else { "NotReady".into() };
        }
    }

    if is_set(pod, "/metadata/deletionTimestamp") {
        if text(pod, "/status/reason") == NODE_LOST {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }

    let restarts = match restarts.last_restart {
        Some(last) if restarts.count != 0 => {
            format!("{} ({} ago)", restarts.count, since(Some(last), now))
        }
        _ => restarts.count.to_string(),
    };

    let pod_ip = list(pod, "/status/podIPs").first().map_or("", |ip| text(ip, "/ip"));
    vec![
        name(pod),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts.into(),
        age(pod, now),
        or_none(pod_ip).into(),
        or_none(text(pod, "/spec/nodeName")).into(),
        or_none(text(pod, "/status/nominatedNodeName")).into(),
        readiness_gates(pod).into(),
    ]
}

/// `OOMKilled`, `Completed`, … or, when the runtime gave no reason, `Signal:9` / `ExitCode:2`.
fn terminated_reason(status: &Value) -> String {
    let reason = text(status, "/state/terminated/reason");
    let signal = int(status, "/state/terminated/signal");
    if !reason.is_empty() {
        reason.to_string()
    } else if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int(status, "/state/terminated/exitCode"))
    }
}

/// Whether the first condition of type `kind` is True.
fn condition_is_true(conditions: &[Value], kind: &str) -> bool {
    conditions.iter().find(|c| text(c, "/type") == kind).is_some_and(|c| text(c, "/status") == "True")
}

/// Whether any condition of type `kind` is True.
fn any_condition_true(conditions: &[Value], kind: &str) -> bool {
    conditions.iter().any(|c| text(c, "/type") == kind && text(c, "/status") == "True")
}

/// `1/2`: readiness gates whose condition is True, out of all gates; `<none>` without gates.
fn readiness_gates(pod: &Value) -> String {
    let gates = list(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".into();
    }
    let conditions = list(pod, "/status/conditions");
    let met = gates.iter().filter(|gate| condition_is_true(conditions, text(gate, "/conditionType"))).count();
    format!("{met}/{}", gates.len())
}

/// Finished pods carry a `Completed` row condition.
fn conditions(pod: &Value) -> Vec<Value> {
    let (reason, message) = match text(pod, "/status/phase") {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return Vec::new(),
    };
    vec![json!({"type": "Completed", "status": "True", "reason": reason, "message": message})]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn pod(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": "2024-05-01T11:55:00Z"},
            "spec": spec,
            "status": status,
        })
    }

    fn one_container() -> Value {
        json!({"containers": [{"name": "web", "image": "nginx"}]})
    }

    /// READY, STATUS and RESTARTS cells.
    fn summary(pod: &Value) -> (String, String, String) {
        let cells = cells(pod, now());
        let s = |i: usize| cells[i].as_str().unwrap().to_string();
        (s(1), s(2), s(3))
    }

    fn status_of(pod: &Value) -> String {
        summary(pod).1
    }

    fn running(ready: bool, restarts: i64) -> Value {
        json!({"name": "web", "ready": ready, "restartCount": restarts, "started": true,
               "state": {"running": {"startedAt": "2024-05-01T11:56:00Z"}}})
    }

    #[test]
    fn running_pod_all_columns() {
        let pod = pod(
            json!({"containers": [{"name": "web", "image": "nginx"}], "nodeName": "node-1"}),
            json!({"phase": "Running", "podIP": "10.42.0.7", "podIPs": [{"ip": "10.42.0.7"}],
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [running(true, 0)]}),
        );
        assert_eq!(
            cells(&pod, now()),
            vec![
                json!("web-0"),
                json!("1/1"),
                json!("Running"),
                json!("0"),
                json!("5m"),
                json!("10.42.0.7"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
        assert!(conditions(&pod).is_empty());
    }

    #[test]
    fn pending_pod_without_statuses() {
        let pod = pod(one_container(), json!({"phase": "Pending"}));
        let cells = cells(&pod, now());
        assert_eq!(cells[1], "0/1");
        assert_eq!(cells[2], "Pending");
        assert_eq!(cells[5], "<none>");
        assert_eq!(cells[6], "<none>");
    }

    #[test]
    fn waiting_reasons_replace_the_phase() {
        for reason in ["ContainerCreating", "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff"] {
            let pod = pod(
                one_container(),
                json!({"phase": "Pending", "containerStatuses": [
                    {"name": "web", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}
                ]}),
            );
            assert_eq!(status_of(&pod), reason);
        }
    }

    #[test]
    fn terminated_reasons_signals_and_exit_codes() {
        let terminated = |state: Value| {
            pod(
                one_container(),
                json!({"phase": "Running", "containerStatuses": [
                    {"name": "web", "ready": false, "restartCount": 0, "state": {"terminated": state}}
                ]}),
            )
        };
        assert_eq!(status_of(&terminated(json!({"exitCode": 0, "reason": "Completed"}))), "Completed");
        assert_eq!(status_of(&terminated(json!({"exitCode": 1, "reason": "Error"}))), "Error");
        assert_eq!(status_of(&terminated(json!({"exitCode": 137, "reason": "OOMKilled"}))), "OOMKilled");
        assert_eq!(status_of(&terminated(json!({"exitCode": 137, "signal": 9}))), "Signal:9");
        assert_eq!(status_of(&terminated(json!({"exitCode": 2}))), "ExitCode:2");
    }

    #[test]
    fn crash_looping_pod_shows_restarts_with_age_of_last_one() {
        let pod = pod(
            one_container(),
            json!({"phase": "Running", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                              "finishedAt": "2024-05-01T11:58:00Z"}}
            }]}),
        );
        assert_eq!(summary(&pod), ("0/1".into(), "CrashLoopBackOff".into(), "3 (2m ago)".into()));
    }

    #[test]
    fn restarts_without_a_finish_time_are_a_bare_count() {
        let pod = pod(one_container(), json!({"phase": "Running", "containerStatuses": [running(true, 2)]}));
        assert_eq!(summary(&pod).2, "2");
    }

    #[test]
    fn init_containers_progress() {
        let spec = json!({
            "initContainers": [{"name": "init-a", "image": "busybox"}, {"name": "init-b", "image": "busybox"}],
            "containers": [{"name": "web", "image": "nginx"}]
        });
        let done = json!({"name": "init-a", "ready": true, "restartCount": 0,
                          "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}});
        let running_init = json!({"name": "init-b", "ready": false, "restartCount": 0,
                                  "state": {"running": {"startedAt": "2024-05-01T11:56:00Z"}}});
        let waiting_main = json!({"name": "web", "ready": false, "restartCount": 0,
                                  "state": {"waiting": {"reason": "PodInitializing"}}});

        let first = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [
                {"name": "init-a", "ready": false, "restartCount": 0, "state": {"running": {}}},
                {"name": "init-b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
            ], "containerStatuses": [waiting_main.clone()]}),
        );
        assert_eq!(status_of(&first), "Init:0/2");

        let second = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [done.clone(), running_init],
                   "containerStatuses": [waiting_main.clone()]}),
        );
        assert_eq!(status_of(&second), "Init:1/2");

        let failed = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [done.clone(), {
                "name": "init-b", "ready": false, "restartCount": 2,
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-05-01T11:59:00Z"}}
            }], "containerStatuses": [waiting_main.clone()]}),
        );
        assert_eq!(summary(&failed), ("0/1".into(), "Init:Error".into(), "2 (60s ago)".into()));

        let killed = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [{
                "name": "init-a", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "signal": 9}}
            }]}),
        );
        assert_eq!(status_of(&killed), "Init:Signal:9");

        let exit_code = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [{
                "name": "init-a", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 3}}
            }]}),
        );
        assert_eq!(status_of(&exit_code), "Init:ExitCode:3");

        let backoff = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [{
                "name": "init-a", "ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}
            }]}),
        );
        assert_eq!(status_of(&backoff), "Init:CrashLoopBackOff");

        // Init done, main container still being created: the main container's reason shows.
        let initialized = pod(
            spec,
            json!({"phase": "Pending",
                   "conditions": [{"type": "Initialized", "status": "True"}],
                   "initContainerStatuses": [done.clone(), {"name": "init-b", "ready": true, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                   "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
        );
        assert_eq!(status_of(&initialized), "ContainerCreating");
    }

    #[test]
    fn pod_initializing_when_main_containers_wait_for_init() {
        let pod = pod(
            json!({"initContainers": [{"name": "init", "image": "busybox"}],
                   "containers": [{"name": "web", "image": "nginx"}]}),
            json!({"phase": "Pending",
                   "initContainerStatuses": [{"name": "init", "ready": true, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                   "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "PodInitializing"}}}]}),
        );
        assert_eq!(status_of(&pod), "PodInitializing");
    }

    #[test]
    fn sidecars_count_as_containers() {
        let pod = pod(
            json!({"initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
                   "containers": [{"name": "web", "image": "nginx"}]}),
            json!({"phase": "Running",
                   "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                   "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                        "state": {"running": {}},
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:50:00Z"}}}],
                   "containerStatuses": [running(true, 0)]}),
        );
        assert_eq!(summary(&pod), ("2/2".into(), "Running".into(), "1 (10m ago)".into()));
    }

    #[test]
    fn ready_sidecar_counts_while_later_init_containers_run() {
        let pod = pod(
            json!({"initContainers": [
                        {"name": "proxy", "image": "envoy", "restartPolicy": "Always"},
                        {"name": "migrate", "image": "migrate"}],
                   "containers": [{"name": "web", "image": "nginx"}]}),
            json!({"phase": "Pending",
                   "initContainerStatuses": [
                       {"name": "proxy", "ready": true, "started": true, "restartCount": 0, "state": {"running": {}}},
                       {"name": "migrate", "ready": false, "restartCount": 1, "state": {"running": {}},
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:59:30Z"}}}],
                   "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "PodInitializing"}}}]}),
        );
        assert_eq!(summary(&pod), ("1/2".into(), "Init:1/2".into(), "1 (30s ago)".into()));
    }

    #[test]
    fn completed_container_next_to_a_running_one() {
        let status = |ready_condition: &str| {
            json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": ready_condition}],
            "containerStatuses": [
                running(true, 0),
                {"name": "job", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]})
        };
        let spec = json!({"containers": [{"name": "web", "image": "nginx"}, {"name": "job", "image": "busybox"}]});
        assert_eq!(summary(&pod(spec.clone(), status("True"))), ("1/2".into(), "Running".into(), "0".into()));
        assert_eq!(status_of(&pod(spec, status("False"))), "NotReady");
    }

    #[test]
    fn deletion_shows_terminating_or_unknown() {
        let mut terminating =
            pod(one_container(), json!({"phase": "Running", "containerStatuses": [running(true, 0)]}));
        terminating["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(status_of(&terminating), "Terminating");

        let mut lost = pod(one_container(), json!({"phase": "Running", "reason": "NodeLost"}));
        lost["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(status_of(&lost), "Unknown");

        let mut finished = pod(one_container(), json!({"phase": "Succeeded"}));
        finished["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(status_of(&finished), "Succeeded");
    }

    #[test]
    fn status_reason_and_scheduling_gates() {
        let evicted = pod(one_container(), json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(status_of(&evicted), "Evicted");
        assert_eq!(conditions(&evicted)[0]["reason"], "Failed");

        let gated = pod(
            one_container(),
            json!({"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
            ]}),
        );
        assert_eq!(status_of(&gated), "SchedulingGated");
    }

    #[test]
    fn succeeded_pods_carry_a_completed_condition() {
        let done = pod(one_container(), json!({"phase": "Succeeded"}));
        assert_eq!(
            conditions(&done),
            vec![json!({"type": "Completed", "status": "True", "reason": "Succeeded",
                        "message": "The pod has completed successfully."})]
        );
    }

    #[test]
    fn readiness_gates_count_true_conditions() {
        let pod = pod(
            json!({"containers": [{"name": "web", "image": "nginx"}],
                   "readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]}),
            json!({"phase": "Running", "conditions": [
                {"type": "example.com/lb", "status": "True"},
                {"type": "example.com/dns", "status": "False"}
            ]}),
        );
        assert_eq!(cells(&pod, now())[8], "1/2");
    }
}
