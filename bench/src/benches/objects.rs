//! The Kubernetes objects the benchmarks create, and creating them.

use anyhow::Result;
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;

use crate::http::{Conn, Endpoint};

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
