//! What every cluster has from its first start: the system namespaces and the `kubernetes`
//! Service with endpoints pointing at this API server.

use std::net::IpAddr;

use serde_json::{json, Value};

use crate::server::api_error::ApiError;
use crate::server::registry::catalog;
use crate::server::registry::options::WriteOptions;
use crate::server::registry::{Registry, UpdateKind};

pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates what is missing and corrects the API endpoints if the address changed.
pub async fn ensure(registry: &Registry, advertise: IpAddr, port: u16) -> Result<(), ApiError> {
    let namespaces = catalog::find("", "v1", "namespaces").expect("served");
    for ns in SYSTEM_NAMESPACES {
        create_if_missing(
            registry,
            namespaces,
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    }
    let services = catalog::find("", "v1", "services").expect("served");
    let service_ip = registry.service_allocator().api_service_ip().to_string();
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": service_ip, "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]},
    });
    create_if_missing(registry, services, Some("default"), service).await?;
    let subsets = json!([{"addresses": [{"ip": advertise.to_string()}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]);
    let endpoints = catalog::find("", "v1", "endpoints").expect("served");
    let ep = json!({"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                    "subsets": subsets});
    let slices = catalog::find("discovery.k8s.io", "v1", "endpointslices").expect("served");
    let endpoints_list = json!([{"addresses": [advertise.to_string()], "conditions": {"ready": true, "serving": true, "terminating": false}}]);
    let slice_ports = json!([{"name": "https", "port": port, "protocol": "TCP"}]);
    let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                       "metadata": {"name": "kubernetes", "namespace": "default",
                                    "labels": {"kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "onebin-apiserver"}},
                       "addressType": "IPv4", "endpoints": endpoints_list, "ports": slice_ports});
    create_or_correct(registry, slices, Some("default"), slice, &["/endpoints", "/ports"]).await?;
    create_or_correct(registry, endpoints, Some("default"), ep, &["/subsets"]).await?;
    Ok(())
}

/// Creates `obj` unless it exists; an existing object gets `obj`'s values at `fields` (JSON
/// pointers) where they differ, so what the server owns follows its configuration.
pub(crate) async fn create_or_correct(
    registry: &Registry,
    rt: &catalog::ResourceType,
    ns: Option<&str>,
    obj: Value,
    fields: &[&str],
) -> Result<(), ApiError> {
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
    if create_if_missing(registry, rt, ns, obj.clone()).await? {
        return Ok(());
    }
    registry
        .update_with(rt, ns, &name, UpdateKind::Object, |current| {
            if fields.iter().all(|field| current.pointer(field) == obj.pointer(field)) {
                return Ok(None);
            }
            let mut next = current.clone();
            for field in fields {
                if let (Some(slot), Some(wanted)) = (next.pointer_mut(field), obj.pointer(field)) {
                    *slot = wanted.clone();
                }
            }
            Ok(Some(next))
        })
        .await
        .map(|_| ())
}

/// Creates `obj` unless it exists; returns whether it created it.
pub(crate) async fn create_if_missing(
    registry: &Registry,
    rt: &catalog::ResourceType,
    ns: Option<&str>,
    obj: Value,
) -> Result<bool, ApiError> {
    match registry.create(rt, ns, obj, &WriteOptions::default()).await {
        Ok(_) => Ok(true),
        Err(err) if err.reason == "AlreadyExists" => Ok(false),
        Err(err) => Err(err),
    }
}
