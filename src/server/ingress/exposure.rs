//! How the ingress controller is reached from every node, as k3s exposes Traefik: a
//! LoadBalancer Service `kube-system/onebin-ingress` without a selector, whose EndpointSlice
//! points at the controller's listeners on the server. ServiceLB gives it the nodes' addresses
//! and every node's service proxy forwards its HTTP and HTTPS ports to the server, so an
//! Ingress answers on any node IP. Like k3s with Traefik, a later LoadBalancer Service asking
//! for the same ports stays `<pending>` (start the server with `--disable-ingress` to free them).

use std::net::IpAddr;

use serde_json::{json, Value};

use crate::server::api_error::ApiError;
use crate::server::bootstrap::create_or_correct;
use crate::server::controllers::endpoints::{MANAGED_BY_LABEL, SERVICE_NAME_LABEL};
use crate::server::registry::{catalog, Registry};

pub const NAMESPACE: &str = "kube-system";
pub const SERVICE: &str = "onebin-ingress";
const MANAGED_BY: &str = "onebin-ingress-controller";

/// Creates the Service and points its EndpointSlice at `server:http`/`server:https`,
/// correcting both when the address or ports changed since the last start.
pub async fn ensure(registry: &Registry, server: IpAddr, http: u16, https: u16) -> Result<(), ApiError> {
    let services = catalog::find("", "v1", "services").expect("services are served");
    let ports = json!([
        {"name": "http", "port": http, "protocol": "TCP", "targetPort": http},
        {"name": "https", "port": https, "protocol": "TCP", "targetPort": https},
    ]);
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY}},
        "spec": {"type": "LoadBalancer", "ports": ports, "externalTrafficPolicy": "Cluster"},
    });
    create_or_correct(registry, services, Some(NAMESPACE), service, &["/spec/ports"]).await?;

    let slices = catalog::find("discovery.k8s.io", "v1", "endpointslices").expect("endpointslices are served");
    let endpoints = json!([{"addresses": [server.to_string()], "conditions": {"ready": true, "serving": true, "terminating": false}}]);
    let slice_ports = json!([
        {"name": "http", "port": http, "protocol": "TCP"},
        {"name": "https", "port": https, "protocol": "TCP"},
    ]);
    let family = if server.is_ipv4() { "IPv4" } else { "IPv6" };
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE,
                     "labels": {SERVICE_NAME_LABEL: SERVICE, MANAGED_BY_LABEL: MANAGED_BY}},
        "addressType": family, "endpoints": endpoints, "ports": slice_ports,
    });
    create_or_correct(registry, slices, Some(NAMESPACE), slice, &["/endpoints", "/ports"]).await
}

/// The addresses Ingresses are reachable on: the Service's load-balancer addresses once
/// ServiceLB has given them, else the server's own.
pub fn addresses(service: Option<&Value>, server: IpAddr) -> Vec<IpAddr> {
    let assigned: Vec<IpAddr> = service
        .and_then(|s| s.pointer("/status/loadBalancer/ingress"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("ip")?.as_str()?.parse().ok())
        .collect();
    if assigned.is_empty() {
        vec![server]
    } else {
        assigned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_addresses_replace_the_server_address_once_given() {
        let server: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(addresses(None, server), vec![server]);
        assert_eq!(addresses(Some(&json!({"status": {"loadBalancer": {}}})), server), vec![server]);
        let given =
            json!({"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.2", "ipMode": "VIP"}, {"ip": "10.0.0.3"}]}}});
        assert_eq!(
            addresses(Some(&given), server),
            vec!["10.0.0.2".parse::<IpAddr>().unwrap(), "10.0.0.3".parse().unwrap()]
        );
    }
}
