//! A pod's `log`, `exec`, `attach` and `portforward` subresources, served by the node that runs
//! the pod: the request (already authenticated and authorized) is sent on to the node API at
//! the node's InternalIP and kubelet port over TLS (the node's certificate checked against the
//! server CA and for the node's name, so an address a node reports cannot lead us to another
//! node; our client certificate presented). Logs stream back as the node sends them; an
//! upgrade (WebSocket or SPDY) is answered with the node's 101 and then the two connections
//! are spliced together.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{header, HeaderName, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio_rustls::TlsConnector;

use super::node_location::kubelet_path;
use super::request_info::RequestInfo;
use super::respond::HttpResponse;
use super::ApiServer;
use crate::server::api_error::ApiError;
use crate::server::auth::pki::CertKey;
use crate::server::registry::catalog::{self, ResourceType};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The node API port when a node does not report one.
const DEFAULT_KUBELET_PORT: u16 = 10250;
/// Request headers that belong to a protocol upgrade and travel on to the node.
const UPGRADE_HEADERS: &[&str] = &[
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "x-stream-protocol-version",
];

/// How the API server reaches node APIs.
pub struct NodeClient {
    tls: TlsConnector,
}

impl NodeClient {
    /// Trusts node certificates signed by `server_ca_pem` and presents `client`.
    pub fn new(server_ca_pem: &str, client: &CertKey) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in super::tls::pem_certs(server_ca_pem)? {
            roots.add(cert)?;
        }
        let key = PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes()).context("the node client key")?;
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(super::tls::pem_certs(&client.cert_pem)?, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { tls: TlsConnector::from(Arc::new(config)) })
    }
}

/// Serves `pods/{name}/{log|exec|attach|portforward}`.
pub async fn handle(
    api: &ApiServer,
    rt: &ResourceType,
    info: &RequestInfo,
    mut req: Request<Body>,
) -> Result<HttpResponse, ApiError> {
    let subresource = info.subresource.as_deref().unwrap_or_default();
    let allowed =
        if subresource == "log" { info.verb == "get" } else { matches!(info.verb.as_str(), "get" | "create") };
    if !allowed {
        return Err(ApiError::method_not_allowed(format!("{} is not supported on pods/{subresource}", info.verb)));
    }
    let name = info.name.as_deref().unwrap_or_default();
    let pod = api.registry.get(rt, info.namespace.as_deref(), name).await?;
    let Some(path) = kubelet_path(&pod, subresource, req.uri().query())? else {
        return Ok(super::respond::raw("text/plain", Vec::new()));
    };
    let node_name = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or_default();
    let (host, port) = node_address(api, node_name).await?;
    let upgrading = req.headers().contains_key(header::UPGRADE);
    let client_upgrade = upgrading.then(|| hyper::upgrade::on(&mut req));

    let mut sender = connect(&api.nodes, node_name, host, port).await.map_err(|err| dial_error(&err))?;
    let mut forward = Request::builder().method(req.method()).uri(&path).header(header::HOST, format!("{host}:{port}"));
    for (name, value) in req.headers() {
        if UPGRADE_HEADERS.contains(&name.as_str()) {
            forward = forward.header(name, value);
        }
    }
    let forward = forward.body(http_body_util::Empty::<bytes::Bytes>::new()).map_err(ApiError::internal)?;
    let mut response = sender.send_request(forward).await.map_err(|err| dial_error(&err.into()))?;

    match client_upgrade {
        Some(client_upgrade) if response.status() == StatusCode::SWITCHING_PROTOCOLS => {
            let mut answer = Response::builder().status(StatusCode::SWITCHING_PROTOCOLS);
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let node_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                let (client, node) = match tokio::join!(client_upgrade, node_upgrade) {
                    (Ok(client), Ok(node)) => (client, node),
                    (client, node) => {
                        tracing::debug!(client = client.is_ok(), node = node.is_ok(), "node proxy: upgrade failed");
                        return;
                    }
                };
                let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(client), &mut TokioIo::new(node)).await;
            });
            answer.body(Body::empty()).map_err(ApiError::internal)
        }
        _ => {
            // The node's answer as it is: a log stream, or a Status saying what went wrong.
            let mut answer = Response::builder().status(response.status());
            for name in [header::CONTENT_TYPE, HeaderName::from_static("cache-control")] {
                if let Some(value) = response.headers().get(&name) {
                    answer = answer.header(name, value);
                }
            }
            answer.body(Body::new(response.into_body())).map_err(ApiError::internal)
        }
    }
}

/// The node's address (InternalIP first) and node API port.
async fn node_address(api: &ApiServer, node_name: &str) -> Result<(IpAddr, u16), ApiError> {
    let nodes = catalog::find("", "v1", "nodes").expect("nodes are served");
    let node = api.registry.get(nodes, None, node_name).await?;
    let addresses = node.pointer("/status/addresses").and_then(Value::as_array).cloned().unwrap_or_default();
    let ip = ["InternalIP", "ExternalIP"]
        .iter()
        .flat_map(|kind| addresses.iter().filter(move |a| a["type"].as_str() == Some(kind)))
        .find_map(|a| a["address"].as_str().and_then(|s| s.parse::<IpAddr>().ok()))
        .ok_or_else(|| ApiError::bad_request(format!("node {node_name} has no InternalIP or ExternalIP address")))?;
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    Ok((ip, port))
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Empty<bytes::Bytes>>;

async fn connect(client: &NodeClient, node_name: &str, host: IpAddr, port: u16) -> Result<Sender> {
    let server_name = ServerName::try_from(node_name.to_string()).context("the node's name")?;
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| anyhow::anyhow!("dial tcp {host}:{port}: i/o timeout"))?
        .with_context(|| format!("dial tcp {host}:{port}"))?;
    let _ = tcp.set_nodelay(true);
    let tls = client.tls.connect(server_name, tcp).await.context("TLS handshake")?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(async move {
        if let Err(err) = connection.with_upgrades().await {
            tracing::debug!(%err, "node proxy: connection to the node ended with an error");
        }
    });
    Ok(sender)
}

fn dial_error(err: &anyhow::Error) -> ApiError {
    let mut error = ApiError::internal("");
    error.message = format!("error dialing backend: {err:#}");
    error
}
