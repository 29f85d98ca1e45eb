//! Host ports: two pods cannot bind the same protocol and port on the same address of a node,
//! and the wildcard address 0.0.0.0 overlaps every address.

use std::collections::HashMap;

use serde_json::Value;

use super::framework::{Plugin, Unfit};
use super::node_info::NodeInfo;
use super::pod_info::PodInfo;

const WILDCARD: &str = "0.0.0.0";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub ip: String,
    pub protocol: String,
    pub port: i64,
}

/// The host ports of a pod's containers and sidecars (restartable init containers), which run
/// for the pod's whole life; plain init containers run one at a time and are not counted, as
/// upstream does.
pub fn pod_host_ports(spec: &Value) -> Vec<HostPort> {
    let containers = spec.get("containers").and_then(Value::as_array).into_iter().flatten();
    let sidecars = spec
        .get("initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("restartPolicy").and_then(Value::as_str) == Some("Always"));
    containers
        .chain(sidecars)
        .flat_map(|c| c.get("ports").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|p| {
            let port = p.get("hostPort").and_then(Value::as_i64).filter(|p| *p > 0)?;
            let text = |field: &str, default: &str| {
                p.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(default).to_string()
            };
            Some(HostPort { ip: text("hostIP", WILDCARD), protocol: text("protocol", "TCP"), port })
        })
        .collect()
}

/// The host ports in use on one node, as (protocol, port) → address → pods using it.
#[derive(Debug, Default)]
pub struct UsedPorts(HashMap<(String, i64), HashMap<String, u32>>);

impl UsedPorts {
    pub fn add(&mut self, ports: &[HostPort]) {
        for p in ports {
            *self.0.entry((p.protocol.clone(), p.port)).or_default().entry(p.ip.clone()).or_default() += 1;
        }
    }

    pub fn remove(&mut self, ports: &[HostPort]) {
        for p in ports {
            let slot = (p.protocol.clone(), p.port);
            let Some(addresses) = self.0.get_mut(&slot) else { continue };
            if let Some(n) = addresses.get_mut(&p.ip) {
                *n -= 1;
                if *n == 0 {
                    addresses.remove(&p.ip);
                }
            }
            if addresses.is_empty() {
                self.0.remove(&slot);
            }
        }
    }

    pub fn conflicts(&self, wanted: &HostPort) -> bool {
        let Some(addresses) = self.0.get(&(wanted.protocol.clone(), wanted.port)) else { return false };
        wanted.ip == WILDCARD || addresses.contains_key(WILDCARD) || addresses.contains_key(&wanted.ip)
    }
}

pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
    if pod.host_ports.iter().any(|p| node.ports.conflicts(p)) {
        return Err(Unfit::resolvable(Plugin::NodePorts, "node(s) didn't have free ports for the requested pod ports"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn port(ip: &str, protocol: &str, port: i64) -> HostPort {
        HostPort { ip: ip.into(), protocol: protocol.into(), port }
    }

    #[test]
    fn host_ports_come_from_containers_and_sidecars() {
        let spec = json!({
            "initContainers": [
                {"name": "setup", "ports": [{"containerPort": 1, "hostPort": 1}]},
                {"name": "proxy", "restartPolicy": "Always", "ports": [{"containerPort": 2, "hostPort": 2, "protocol": "UDP"}]},
            ],
            "containers": [{"name": "web", "ports": [
                {"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"},
                {"containerPort": 443},
            ]}],
        });
        assert_eq!(pod_host_ports(&spec), [port("10.0.0.1", "TCP", 8080), port(WILDCARD, "UDP", 2)]);
    }

    #[test]
    fn conflicts_follow_protocol_port_and_address() {
        let mut used = UsedPorts::default();
        used.add(&[port("10.0.0.1", "TCP", 80)]);
        assert!(used.conflicts(&port("10.0.0.1", "TCP", 80)));
        assert!(used.conflicts(&port(WILDCARD, "TCP", 80)), "the wildcard overlaps every address");
        assert!(!used.conflicts(&port("10.0.0.2", "TCP", 80)));
        assert!(!used.conflicts(&port("10.0.0.1", "UDP", 80)));
        assert!(!used.conflicts(&port("10.0.0.1", "TCP", 81)));
        used.add(&[port(WILDCARD, "UDP", 53)]);
        assert!(used.conflicts(&port("10.0.0.9", "UDP", 53)));
        used.remove(&[port(WILDCARD, "UDP", 53), port("10.0.0.1", "TCP", 80)]);
        assert!(!used.conflicts(&port(WILDCARD, "TCP", 80)));
        assert!(used.0.is_empty());
    }
}
