//! From an Ingress backend (a Service and one of its ports) to the pod addresses requests go
//! to: ready endpoints of the Service's EndpointSlices, taken in turn. Requests go straight to
//! the pods, as ingress-nginx does, so the Service's ClusterIP is not involved.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::routes::{Backend, ServicePort};
use crate::server::controllers::endpoints::SERVICE_NAME_LABEL;
use crate::server::controllers::informer::Informer;

/// Why a backend has no address to offer.
#[derive(Debug, PartialEq, Eq)]
pub enum Unavailable {
    ServiceMissing,
    PortMissing,
    NoEndpoints,
}

pub struct Backends {
    pub services: Arc<Informer>,
    pub slices: Arc<Informer>,
    turns: Mutex<HashMap<Backend, Arc<AtomicUsize>>>,
}

impl Backends {
    pub fn new(services: Arc<Informer>, slices: Arc<Informer>) -> Self {
        Self { services, slices, turns: Mutex::default() }
    }

    /// The backend's ready addresses, rotated so that successive calls start at the next one.
    pub fn addresses(&self, backend: &Backend) -> Result<Vec<SocketAddr>, Unavailable> {
        let service =
            self.services.get(Some(&backend.namespace), &backend.service).ok_or(Unavailable::ServiceMissing)?;
        let port_name = service_port_name(&service, &backend.port).ok_or(Unavailable::PortMissing)?;
        let mut addresses: Vec<SocketAddr> = self
            .slices
            .list(Some(&backend.namespace))
            .iter()
            .filter(|slice| {
                slice.pointer("/metadata/labels").and_then(|l| l.get(SERVICE_NAME_LABEL)).and_then(Value::as_str)
                    == Some(backend.service.as_str())
            })
            .flat_map(|slice| ready_addresses(slice, &port_name))
            .collect();
        if addresses.is_empty() {
            return Err(Unavailable::NoEndpoints);
        }
        addresses.sort();
        addresses.dedup();
        let turn = self.turns.lock().expect("backend turns").entry(backend.clone()).or_default().clone();
        let start = turn.fetch_add(1, Ordering::Relaxed) % addresses.len();
        addresses.rotate_left(start);
        Ok(addresses)
    }
}

/// The name of the service port an Ingress refers to by number or name ("" when unnamed).
fn service_port_name(service: &Value, port: &ServicePort) -> Option<String> {
    let ports = service.pointer("/spec/ports")?.as_array()?;
    ports
        .iter()
        .find(|p| match port {
            ServicePort::Number(n) => p.get("port").and_then(Value::as_i64) == Some(i64::from(*n)),
            ServicePort::Name(name) => p.get("name").and_then(Value::as_str) == Some(name.as_str()),
        })
        .map(|p| p.get("name").and_then(Value::as_str).unwrap_or_default().to_string())
}

/// Ready endpoint addresses of one slice for the named port.
fn ready_addresses(slice: &Value, port_name: &str) -> Vec<SocketAddr> {
    let port = slice
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(Value::as_str).unwrap_or_default() == port_name)
        .and_then(|p| p.get("port").and_then(Value::as_u64))
        .and_then(|p| u16::try_from(p).ok());
    let Some(port) = port else { return Vec::new() };
    slice
        .get("endpoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false))
        .flat_map(|e| e.get("addresses").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|a| a.as_str()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_are_found_by_number_or_name() {
        let svc = json!({"spec": {"ports": [{"name": "http", "port": 80}, {"name": "admin", "port": 9000}]}});
        assert_eq!(service_port_name(&svc, &ServicePort::Number(80)).as_deref(), Some("http"));
        assert_eq!(service_port_name(&svc, &ServicePort::Name("admin".into())).as_deref(), Some("admin"));
        assert_eq!(service_port_name(&svc, &ServicePort::Number(81)), None);
        let unnamed = json!({"spec": {"ports": [{"port": 80}]}});
        assert_eq!(service_port_name(&unnamed, &ServicePort::Number(80)).as_deref(), Some(""));
    }

    #[test]
    fn only_ready_endpoints_of_the_named_port() {
        let slice = json!({
            "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9000}],
            "endpoints": [
                {"addresses": ["10.42.0.5"], "conditions": {"ready": true}},
                {"addresses": ["10.42.0.6"], "conditions": {"ready": false}},
                {"addresses": ["10.42.0.7"]},
            ],
        });
        let found = ready_addresses(&slice, "http");
        assert_eq!(found, vec!["10.42.0.5:8080".parse().unwrap(), "10.42.0.7:8080".parse().unwrap()]);
        assert!(ready_addresses(&slice, "other").is_empty());
    }
}
