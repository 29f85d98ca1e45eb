//! Which pods back a Service, with their resolved ports: what both the Endpoints and the
//! EndpointSlice controllers publish.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::server::registry::label_selector::LabelSelector;
use crate::server::registry::object;

/// One pod behind a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub pod: Arc<Value>,
    pub ip: String,
    pub node: String,
    pub ready: bool,
    pub terminating: bool,
    /// The pod's hostname, published when its subdomain names the service (StatefulSet pods),
    /// so that cluster DNS answers `<hostname>.<service>.<namespace>.svc.<domain>`.
    pub hostname: Option<String>,
    /// (service port name, resolved target port, protocol), in service port order.
    pub ports: Vec<(String, i64, String)>,
}

/// The service's selector, if it has one (services without one are managed by hand).
pub fn selector(service: &Value) -> Option<LabelSelector> {
    let map = service.pointer("/spec/selector")?.as_object()?;
    (!map.is_empty()).then(|| LabelSelector::from_map(map))
}

fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|c| {
        c.iter().any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Ready")
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    })
}

/// The port a service port's targetPort names in `pod`.
fn resolve_port(port: &Value, pod: &Value) -> Option<i64> {
    match port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => {
            if let Ok(n) = name.parse::<i64>() {
                return Some(n);
            }
            let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            pod.pointer("/spec/containers")?
                .as_array()?
                .iter()
                .flat_map(|c| c.get("ports").and_then(Value::as_array).into_iter().flatten())
                .find_map(|p| {
                    let same_name = p.get("name").and_then(Value::as_str) == Some(name.as_str());
                    let same_protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP") == protocol;
                    (same_name && same_protocol).then(|| p.get("containerPort").and_then(Value::as_i64)).flatten()
                })
        }
        _ => port.get("port").and_then(Value::as_i64),
    }
}

fn published_hostname(pod: &Value, service: &str) -> Option<String> {
    let spec = pod.get("spec")?;
    let subdomain = spec.get("subdomain").and_then(Value::as_str)?;
    let hostname = spec.get("hostname").and_then(Value::as_str).filter(|h| !h.is_empty())?;
    (subdomain == service).then(|| hostname.to_string())
}

/// The pods backing `service`, in a stable order (by IP).
pub fn backends(service: &Value, pods: &[Arc<Value>]) -> Vec<Backend> {
    let Some(selector) = selector(service) else { return Vec::new() };
    let publish_not_ready = service.pointer("/spec/publishNotReadyAddresses").and_then(Value::as_bool).unwrap_or(false);
    let ports: Vec<Value> = service.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut found = BTreeMap::new();
    for pod in pods {
        if !selector.matches_object(pod) || object::namespace(pod) != object::namespace(service) {
            continue;
        }
        let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap_or_default();
        let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or_default();
        if ip.is_empty() || matches!(phase, "Succeeded" | "Failed") {
            continue;
        }
        let terminating = object::is_deleting(pod);
        let resolved: Vec<(String, i64, String)> = ports
            .iter()
            .filter_map(|p| {
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string();
                resolve_port(p, pod).map(|n| (name, n, protocol))
            })
            .collect();
        let backend = Backend {
            pod: pod.clone(),
            ip: ip.to_string(),
            node: pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or_default().to_string(),
            ready: publish_not_ready || (pod_ready(pod) && !terminating),
            terminating,
            hostname: published_hostname(pod, object::name(service)),
            ports: resolved,
        };
        found.insert((ip.to_string(), object::name(pod).to_string()), backend);
    }
    found.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_ports_resolve_per_pod_and_readiness_is_kept() {
        let svc = json!({"metadata": {"namespace": "d"}, "spec": {"selector": {"app": "w"},
            "ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]}});
        let pod = |name: &str, ip: &str, ready: &str| {
            Arc::new(json!({"metadata": {"name": name, "namespace": "d", "labels": {"app": "w"}},
            "spec": {"nodeName": "n1", "containers": [{"ports": [{"name": "web", "containerPort": 8080, "protocol": "TCP"}]}]},
            "status": {"podIP": ip, "phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}}))
        };
        let other = Arc::new(
            json!({"metadata": {"name": "x", "namespace": "d", "labels": {"app": "other"}}, "status": {"podIP": "10.0.0.9"}}),
        );
        let got = backends(&svc, &[pod("b", "10.0.0.2", "False"), pod("a", "10.0.0.1", "True"), other]);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].ip.as_str(), got[0].ready, got[0].ports[0].1), ("10.0.0.1", true, 8080));
        assert!(!got[1].ready);
        assert!(backends(&json!({"spec": {"ports": []}}), &[]).is_empty());
    }

    #[test]
    fn hostnames_are_published_for_pods_whose_subdomain_is_the_service() {
        let svc = json!({"metadata": {"name": "web", "namespace": "d"}, "spec": {"selector": {"app": "w"}}});
        let pod = |name: &str, ip: &str, subdomain: &str| {
            Arc::new(json!({"metadata": {"name": name, "namespace": "d", "labels": {"app": "w"}},
            "spec": {"hostname": name, "subdomain": subdomain, "containers": []},
            "status": {"podIP": ip, "phase": "Running"}}))
        };
        let got = backends(&svc, &[pod("web-0", "10.0.0.1", "web"), pod("web-1", "10.0.0.2", "other")]);
        assert_eq!(got[0].hostname.as_deref(), Some("web-0"));
        assert_eq!(got[1].hostname, None);
    }
}
