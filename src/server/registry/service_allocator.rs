//! Allocation of Service cluster IPs and node ports.
//!
//! The stored services are the record of what is taken: at start the registry replays them
//! into these in-memory sets, and every create, update and delete of a service claims or
//! frees through here, under one lock, so two services never get the same IP or port.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

use anyhow::{bail, Context};
use ipnet::Ipv4Net;
use serde_json::Value;

pub struct ServiceAllocator {
    network: Ipv4Net,
    ips: Mutex<HashSet<Ipv4Addr>>,
    ports: (u16, u16),
    used_ports: Mutex<HashSet<u16>>,
}

impl ServiceAllocator {
    pub fn new(service_cidr: &str, port_range: &str) -> anyhow::Result<Self> {
        let network: Ipv4Net =
            service_cidr.parse().with_context(|| format!("--service-cidr {service_cidr:?} is not an IPv4 CIDR"))?;
        if network.prefix_len() > 28 {
            bail!("--service-cidr {service_cidr} is too small (at most /28)");
        }
        let (low, high) = port_range
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?)))
            .filter(|(a, b)| a < b)
            .with_context(|| format!("--service-node-port-range {port_range:?} must look like 30000-32767"))?;
        Ok(Self { network, ips: Mutex::default(), ports: (low, high), used_ports: Mutex::default() })
    }

    /// The first address of the range: the `kubernetes` API Service.
    pub fn api_service_ip(&self) -> Ipv4Addr {
        nth(self.network, 1)
    }

    /// The node port range, inclusive.
    pub fn node_port_range(&self) -> (u16, u16) {
        self.ports
    }

    /// Marks what an already stored service uses as taken.
    pub fn reserve_existing(&self, svc: &Value) {
        for ip in cluster_ips(svc) {
            if let Ok(IpAddr::V4(ip)) = ip.parse() {
                self.ips.lock().expect("ip lock").insert(ip);
            }
        }
        for port in node_ports(svc) {
            self.used_ports.lock().expect("port lock").insert(port);
        }
    }

    /// Claims `requested`, or a free address if `None`.
    pub fn allocate_ip(&self, requested: Option<&str>) -> Result<Ipv4Addr, String> {
        let mut ips = self.ips.lock().expect("ip lock");
        if let Some(text) = requested {
            let ip: Ipv4Addr = text.parse().map_err(|_| format!("{text:?} is not a valid IPv4 address"))?;
            if !self.network.contains(&ip) || ip == self.network.network() || ip == self.network.broadcast() {
                return Err(format!("failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}", self.network));
            }
            if !ips.insert(ip) {
                return Err(format!("failed to allocate IP {ip}: provided IP is already allocated"));
            }
            return Ok(ip);
        }
        let size = self.network.hosts().count() as u32;
        // Dynamic allocations start above the low band kept for well-known addresses
        // (the API at .1, DNS at .10), as Kubernetes does.
        let reserved = (size / 16).clamp(16, 256).min(size - 1);
        let start = rand::random_range(reserved..size);
        for offset in (start..size).chain(reserved..start) {
            let ip = nth(self.network, offset + 1);
            if ip != self.network.broadcast() && ips.insert(ip) {
                return Ok(ip);
            }
        }
        Err(format!("failed to allocate a service IP: range {} is full", self.network))
    }

    pub fn release_ip(&self, ip: &str) {
        if let Ok(ip) = ip.parse::<Ipv4Addr>() {
            self.ips.lock().expect("ip lock").remove(&ip);
        }
    }

    /// Claims `requested`, or a free node port if `None`.
    pub fn allocate_port(&self, requested: Option<u16>) -> Result<u16, String> {
        let mut used = self.used_ports.lock().expect("port lock");
        let (low, high) = self.ports;
        if let Some(port) = requested {
            if !(low..=high).contains(&port) {
                return Err(format!(
                    "provided port is not in the valid range. The range of valid ports is {low}-{high}"
                ));
            }
            if !used.insert(port) {
                return Err("provided port is already allocated".into());
            }
            return Ok(port);
        }
        let start = rand::random_range(low..=high);
        for port in (start..=high).chain(low..start) {
            if used.insert(port) {
                return Ok(port);
            }
        }
        Err(format!("range {low}-{high} is full"))
    }

    pub fn release_port(&self, port: u16) {
        self.used_ports.lock().expect("port lock").remove(&port);
    }
}

fn nth(network: Ipv4Net, offset: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(network.network()) + offset)
}

/// Real cluster IPs of a service (not `None`).
pub fn cluster_ips(svc: &Value) -> Vec<String> {
    let mut ips: Vec<String> = svc
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if let Some(ip) = svc.pointer("/spec/clusterIP").and_then(Value::as_str) {
        if !ips.iter().any(|i| i == ip) {
            ips.push(ip.to_string());
        }
    }
    ips.retain(|ip| !ip.is_empty() && ip != "None");
    ips
}

/// Node ports a service holds (its ports' and the health check's).
pub fn node_ports(svc: &Value) -> Vec<u16> {
    let mut ports: Vec<u16> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .filter_map(|p| u16::try_from(p).ok())
        .collect();
    if let Some(port) = svc.pointer("/spec/healthCheckNodePort").and_then(Value::as_u64) {
        ports.extend(u16::try_from(port).ok());
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_and_ports_are_never_handed_out_twice() {
        let alloc = ServiceAllocator::new("10.43.0.0/28", "30000-30003").unwrap();
        assert_eq!(alloc.api_service_ip(), Ipv4Addr::new(10, 43, 0, 1));
        assert!(alloc.allocate_ip(Some("10.43.0.1")).is_ok());
        assert!(alloc.allocate_ip(Some("10.43.0.1")).unwrap_err().contains("already allocated"));
        assert!(alloc.allocate_ip(Some("10.44.0.1")).unwrap_err().contains("not in the valid range"));
        let mut seen = HashSet::new();
        while let Ok(ip) = alloc.allocate_ip(None) {
            assert!(seen.insert(ip));
        }
        assert!(!seen.is_empty());
        let ports: HashSet<u16> = (0..4).map(|_| alloc.allocate_port(None).unwrap()).collect();
        assert_eq!(ports.len(), 4);
        assert!(alloc.allocate_port(None).is_err());
        alloc.release_port(30002);
        assert_eq!(alloc.allocate_port(None).unwrap(), 30002);
        assert!(alloc.allocate_port(Some(29999)).is_err());
    }
}
