//! The Kubernetes objects the benchmarks create, and creating them.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::http::{Conn, Endpoint, Protocol};

/// A pod as `kubectl run NAME --image=busybox` would send it.
pub fn pod(namespace: &str, name: &str) -> Bytes {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "namespace": namespace, "labels": { "run": "bench" } },
        "spec": { "containers": [{ "name": "main", "image": "busybox", "args": ["sleep", "3600"] }] },
    });
    Bytes::from(pod.to_string())
}

/// A small ConfigMap.
pub fn config_map(namespace: &str, name: &str) -> Bytes {
    let map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": name, "namespace": namespace },
        "data": { "key": "value" },
    });
    Bytes::from(map.to_string())
}

pub async fn create_namespace(conn: &mut Conn, api: &Endpoint, name: &str) -> Result<()> {
    let body = json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name } });
    let request = api.request(Method::POST, "/api/v1/namespaces", Some(Bytes::from(body.to_string())));
    conn.expect(request, StatusCode::CREATED).await?;
    Ok(())
}

/// Creates a Service with `spec` in `namespace`; returns the ClusterIP it was given.
pub async fn create_service(
    conn: &mut Conn,
    api: &Endpoint,
    namespace: &str,
    name: &str,
    spec: serde_json::Value,
) -> Result<Ipv4Addr> {
    let service = json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": name }, "spec": spec });
    let path = format!("/api/v1/namespaces/{namespace}/services");
    let request = api.request(Method::POST, &path, Some(Bytes::from(service.to_string())));
    let created: serde_json::Value = serde_json::from_slice(&conn.expect(request, StatusCode::CREATED).await?)?;
    created["spec"]["clusterIP"].as_str().and_then(|ip| ip.parse().ok()).context("the Service got no ClusterIP")
}

/// POSTs `count` objects to `collection`, `in_flight` at a time over one HTTP/2 connection;
/// object `i` is `body(i)`.
pub async fn create_many(
    api: &Endpoint,
    collection: &str,
    count: usize,
    in_flight: usize,
    body: impl Fn(usize) -> Bytes + Send + Sync + 'static,
) -> Result<()> {
    let conn = api.connect(Protocol::Http2).await?;
    let (next, body) = (Arc::new(AtomicUsize::new(0)), Arc::new(body));
    let creators: Vec<JoinHandle<Result<()>>> = (0..in_flight)
        .map(|_| {
            let (mut conn, api, collection, next, body) =
                (conn.share().expect("HTTP/2"), api.clone(), collection.to_string(), next.clone(), body.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok(());
                    }
                    conn.expect(api.request(Method::POST, &collection, Some(body(i))), StatusCode::CREATED).await?;
                }
            })
        })
        .collect();
    for creator in creators {
        creator.await??;
    }
    Ok(())
}
