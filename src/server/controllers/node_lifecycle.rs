//! Node lifecycle: a node whose kubelet stops heartbeating (Lease renewals and Ready
//! condition updates) becomes Ready=Unknown and gets the `unreachable` taints; a node
//! reporting NotReady gets the `not-ready` taints; cordoned nodes get the `unschedulable`
//! taint. Pods on NoExecute-tainted nodes that do not tolerate the taint are evicted, at
//! once or after their `tolerationSeconds`.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use super::events::{EventType, Recorder};
use super::informer::{Informer, Informers};
use crate::server::registry::options::DeleteOptions;
use crate::server::registry::{catalog, object, Registry, UpdateKind};

pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// How often nodes are checked.
const MONITOR_PERIOD: Duration = Duration::from_secs(2);

#[derive(Clone, Copy)]
pub struct Settings {
    /// A node not heard from for this long is unreachable (kube-controller-manager: 40 s).
    pub grace_period: Duration,
}

pub fn spawn(informers: &Arc<Informers>, settings: Settings) {
    let nodes = informers.of("", "nodes");
    let leases = informers.of("coordination.k8s.io", "leases");
    let pods = informers.of("", "pods");
    let registry = informers.registry().clone();
    let recorder = Recorder::new(registry.clone(), "node-controller");
    tokio::spawn(async move {
        nodes.wait_synced().await;
        leases.wait_synced().await;
        pods.wait_synced().await;
        loop {
            let now = Timestamp::now();
            for node in nodes.list(None) {
                if let Err(err) = check_node(&registry, &recorder, &leases, &node, now, settings).await {
                    tracing::debug!(node = object::name(&node), %err, "node check failed");
                }
            }
            evict_from_tainted_nodes(&registry, &recorder, &nodes, &pods, now).await;
            tokio::time::sleep(MONITOR_PERIOD).await;
        }
    });
}

fn condition<'a>(node: &'a Value, kind: &str) -> Option<&'a Value> {
    node.pointer("/status/conditions")?.as_array()?.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn time_at(value: Option<&Value>, field: &str) -> Option<Timestamp> {
    value?.get(field)?.as_str().and_then(object::parse_time)
}

/// The newest sign of life: the node's Lease renewal or its Ready condition heartbeat.
fn last_heartbeat(node: &Value, leases: &Informer) -> Option<Timestamp> {
    let lease = leases.get(Some("kube-node-lease"), object::name(node));
    let renewed = lease
        .as_deref()
        .and_then(|l| l.pointer("/spec/renewTime"))
        .and_then(Value::as_str)
        .and_then(object::parse_time);
    let reported = time_at(condition(node, "Ready"), "lastHeartbeatTime");
    renewed
        .max(reported)
        .or_else(|| node.pointer("/metadata/creationTimestamp").and_then(Value::as_str).and_then(object::parse_time))
}

async fn check_node(
    registry: &Registry,
    recorder: &Recorder,
    leases: &Informer,
    node: &Value,
    now: Timestamp,
    settings: Settings,
) -> anyhow::Result<()> {
    let rt = catalog::find("", "v1", "nodes").expect("served");
    let name = object::name(node).to_string();
    let grace = SignedDuration::try_from(settings.grace_period)?;
    let silent = last_heartbeat(node, leases).is_none_or(|t| now.duration_since(t) > grace);
    let ready =
        condition(node, "Ready").and_then(|c| c.get("status")).and_then(Value::as_str).unwrap_or("Unknown").to_string();
    if silent && ready != "Unknown" {
        registry
            .update_with(rt, None, &name, UpdateKind::Status, |n| {
                let mut n = n.clone();
                mark_unknown(&mut n, now);
                Ok(Some(n))
            })
            .await?;
        recorder
            .record(node, EventType::Normal, "NodeNotReady", &format!("Node {name} status is now: NodeNotReady"))
            .await;
    }
    let ready = if silent { "Unknown".to_string() } else { ready };
    let wanted = wanted_taints(&ready, node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false));
    let current = node.pointer("/spec/taints").and_then(Value::as_array).cloned().unwrap_or_default();
    if reconcile_taints(&current, &wanted, now).is_some() {
        registry
            .update_with(rt, None, &name, UpdateKind::Object, |n| {
                let current = n.pointer("/spec/taints").and_then(Value::as_array).cloned().unwrap_or_default();
                let Some(taints) = reconcile_taints(&current, &wanted, now) else { return Ok(None) };
                let mut n = n.clone();
                n["spec"]["taints"] = json!(taints);
                Ok(Some(n))
            })
            .await?;
    }
    Ok(())
}

/// Sets every condition the kubelet owns to Unknown.
fn mark_unknown(node: &mut Value, now: Timestamp) {
    let stamp = object::format_time(now);
    if let Some(conditions) = node.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
        for c in conditions.iter_mut() {
            if c.get("status").and_then(Value::as_str) != Some("Unknown") {
                c["status"] = json!("Unknown");
                c["reason"] = json!("NodeStatusUnknown");
                c["message"] = json!("Kubelet stopped posting node status.");
                c["lastTransitionTime"] = json!(stamp);
            }
        }
    } else {
        node["status"]["conditions"] = json!([{
            "type": "Ready", "status": "Unknown", "reason": "NodeStatusNeverUpdated",
            "message": "Kubelet never posted node status.", "lastHeartbeatTime": null, "lastTransitionTime": stamp,
        }]);
    }
}

/// The (key, effect) taints the node's state calls for.
fn wanted_taints(ready: &str, unschedulable: bool) -> Vec<(&'static str, &'static str)> {
    let mut taints = match ready {
        "True" => vec![],
        "False" => vec![(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")],
        _ => vec![(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")],
    };
    if unschedulable {
        taints.push((UNSCHEDULABLE, "NoSchedule"));
    }
    taints
}

/// The node's taints with the controller-managed ones set to `wanted`, or `None` if they
/// already are.
fn reconcile_taints(current: &[Value], wanted: &[(&str, &str)], now: Timestamp) -> Option<Vec<Value>> {
    let managed =
        |t: &Value| matches!(t.get("key").and_then(Value::as_str), Some(UNREACHABLE | NOT_READY | UNSCHEDULABLE));
    let has = |key: &str, effect: &str| {
        current.iter().any(|t| {
            t.get("key").and_then(Value::as_str) == Some(key) && t.get("effect").and_then(Value::as_str) == Some(effect)
        })
    };
    let present: Vec<(&str, &str)> = current
        .iter()
        .filter(|t| managed(t))
        .map(|t| {
            (
                t.get("key").and_then(Value::as_str).unwrap_or_default(),
                t.get("effect").and_then(Value::as_str).unwrap_or_default(),
            )
        })
        .collect();
    if present.len() == wanted.len() && wanted.iter().all(|(k, e)| has(k, e)) {
        return None;
    }
    let mut taints: Vec<Value> = current
        .iter()
        .filter(|t| {
            !managed(t)
                || wanted.iter().any(|(k, e)| {
                    t.get("key").and_then(Value::as_str) == Some(k)
                        && t.get("effect").and_then(Value::as_str) == Some(e)
                })
        })
        .cloned()
        .collect();
    for (key, effect) in wanted {
        if !has(key, effect) {
            let mut taint = json!({"key": key, "effect": effect});
            if *effect == "NoExecute" {
                taint["timeAdded"] = json!(object::format_time(now));
            }
            taints.push(taint);
        }
    }
    Some(taints)
}

/// Whether `toleration` tolerates `taint`.
pub fn tolerates(toleration: &Value, taint: &Value) -> bool {
    let field = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
    let effect = field(toleration, "effect");
    if !effect.is_empty() && effect != field(taint, "effect") {
        return false;
    }
    let key = field(toleration, "key");
    match field(toleration, "operator").as_str() {
        "Exists" => key.is_empty() || key == field(taint, "key"),
        _ => key == field(taint, "key") && field(toleration, "value") == field(taint, "value"),
    }
}

/// When a pod on a node with `taint` must go: `None` = never, `Some(t)` = at t.
fn eviction_time(pod: &Value, taint: &Value) -> Option<Option<Timestamp>> {
    let added =
        taint.get("timeAdded").and_then(Value::as_str).and_then(object::parse_time).unwrap_or_else(Timestamp::now);
    let tolerations = pod.pointer("/spec/tolerations").and_then(Value::as_array).cloned().unwrap_or_default();
    let matching: Vec<&Value> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
    if matching.is_empty() {
        return Some(Some(added));
    }
    // The shortest tolerationSeconds among the matching tolerations wins; if none sets one,
    // the pod stays forever.
    let shortest = matching.iter().filter_map(|t| t.get("tolerationSeconds").and_then(Value::as_i64)).min()?;
    Some(Some(added + SignedDuration::from_secs(shortest.max(0))))
}

async fn evict_from_tainted_nodes(
    registry: &Registry,
    recorder: &Recorder,
    nodes: &Informer,
    pods: &Informer,
    now: Timestamp,
) {
    let pods_rt = catalog::find("", "v1", "pods").expect("served");
    for node in nodes.list(None) {
        let taints: Vec<Value> = node
            .pointer("/spec/taints")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter().filter(|t| t.get("effect").and_then(Value::as_str) == Some("NoExecute")).cloned().collect()
            })
            .unwrap_or_default();
        if taints.is_empty() {
            continue;
        }
        let node_name = object::name(&node);
        for pod in
            pods.list(None).iter().filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node_name))
        {
            if object::is_deleting(pod) {
                continue;
            }
            let due = taints.iter().filter_map(|t| eviction_time(pod, t)).flatten().min();
            if due.is_some_and(|t| t <= now) {
                let ns = object::namespace(pod);
                recorder
                    .record(
                        pod,
                        EventType::Normal,
                        "TaintManagerEviction",
                        &format!("Marking for deletion Pod {ns}/{}", object::name(pod)),
                    )
                    .await;
                if let Err(err) = registry.delete(pods_rt, Some(ns), object::name(pod), &DeleteOptions::default()).await
                {
                    tracing::debug!(%err, "taint eviction failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_follow_readiness_and_cordon() {
        let now = Timestamp::now();
        let current = vec![json!({"key": "dedicated", "value": "x", "effect": "NoSchedule"})];
        let wanted = wanted_taints("Unknown", false);
        let taints = reconcile_taints(&current, &wanted, now).unwrap();
        assert_eq!(taints.len(), 3);
        assert!(reconcile_taints(&taints, &wanted, now).is_none());
        let back = reconcile_taints(&taints, &wanted_taints("True", true), now).unwrap();
        let keys: Vec<_> = back.iter().map(|t| t["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["dedicated", UNSCHEDULABLE]);
    }

    #[test]
    fn tolerations_delay_or_prevent_eviction() {
        let added = "2026-01-01T00:00:00Z";
        let taint = json!({"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": added});
        let start = object::parse_time(added).unwrap();
        let none = json!({"spec": {}});
        assert_eq!(eviction_time(&none, &taint), Some(Some(start)));
        let five_minutes = json!({"spec": {"tolerations": [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]}});
        assert_eq!(eviction_time(&five_minutes, &taint), Some(Some(start + SignedDuration::from_secs(300))));
        let forever = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        assert_eq!(eviction_time(&forever, &taint), None);
    }
}
