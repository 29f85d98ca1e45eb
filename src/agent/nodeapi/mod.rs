//! The node API (the kubelet's port, 10250 by default): what the API server reaches for a
//! pod's logs, exec, attach and port forwarding, with the kubelet's paths and query options:
//!
//! - `GET /containerLogs/{namespace}/{pod}/{container}`
//! - `/exec/{namespace}/{pod}/{container}?command=…&stdin&stdout&stderr&tty` and
//!   `/attach/{namespace}/{pod}/{container}`: the channel protocol over a WebSocket or SPDY/3.1
//! - `/portForward/{namespace}/{pod}`: SPDY/3.1, directly or tunneled through a WebSocket
//!
//! It is HTTPS with client certificates required (see `tls`), and finds containers through
//! the runtime by the labels the kubelet gives them. Errors are Kubernetes `Status` objects,
//! which the API server passes on to its client.

mod channels;
mod containers;
mod exec;
mod fdio;
mod logs;
mod portforward;
mod spdy;
mod spdy_channels;
mod tls;
mod tunnel;
mod upgrade;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::body::Body;
use futures::StreamExt;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::runtime::service::RuntimeService;
use crate::runtime::types::{ContainerStatus, SandboxState};
use crate::server::api_error::ApiError;
use crate::server::auth::authn::UserInfo;
pub use tls::{NodeApiTls, API_SERVER_CLIENT_USER};
use upgrade::Transport;

/// Serves the node API on `addresses` from now on; fails if one cannot be bound.
pub async fn start(addresses: &[SocketAddr], tls: &NodeApiTls, runtime: RuntimeService) -> Result<()> {
    let acceptor = tls::acceptor(tls)?;
    let api = Arc::new(NodeApi { runtime });
    for address in addresses {
        let listener =
            TcpListener::bind(address).await.with_context(|| format!("listening for the node API on {address}"))?;
        tokio::spawn(accept(listener, acceptor.clone(), api.clone()));
    }
    Ok(())
}

struct NodeApi {
    runtime: RuntimeService,
}

async fn accept(listener: TcpListener, acceptor: TlsAcceptor, api: Arc<NodeApi>) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(connection(tcp, peer, acceptor.clone(), api.clone()));
            }
            Err(err) => {
                tracing::warn!(%err, "node API: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(tcp: tokio::net::TcpStream, peer: SocketAddr, acceptor: TlsAcceptor, api: Arc<NodeApi>) {
    let tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(err) => {
            tracing::debug!(%peer, %err, "node API: TLS handshake failed");
            return;
        }
    };
    let user = tls::peer(tls.get_ref().1.peer_certificates()).map(Arc::new);
    let service = hyper::service::service_fn(move |req| {
        let (api, user) = (api.clone(), user.clone());
        async move { Ok::<_, Infallible>(api.handle(user.as_deref(), req).await) }
    });
    let served =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).with_upgrades();
    if let Err(err) = served.await {
        tracing::debug!(%peer, %err, "node API: connection ended with an error");
    }
}

impl NodeApi {
    async fn handle(&self, user: Option<&UserInfo>, req: Request<Incoming>) -> Response<Body> {
        self.route(user, req).await.unwrap_or_else(|err| error_response(&err))
    }

    async fn route(&self, user: Option<&UserInfo>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
        let user = user.ok_or_else(ApiError::unauthorized)?;
        if !tls::allowed(user) {
            let verb = if req.method() == Method::GET { "get" } else { "create" };
            return Err(ApiError::forbidden(format!(
                "Forbidden (user={}, verb={verb}, resource=nodes, subresource=proxy)",
                user.name
            )));
        }
        let path = req.uri().path().to_string();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let streaming = matches!(*req.method(), Method::GET | Method::POST);
        match segments.as_slice() {
            ["containerLogs", ns, pod, container] if req.method() == Method::GET => {
                self.logs(ns, pod, container, req.uri().query()).await
            }
            ["exec", ns, pod, container] | ["exec", ns, pod, _, container] if streaming => {
                self.exec(ns, pod, container, false, req).await
            }
            ["attach", ns, pod, container] | ["attach", ns, pod, _, container] if streaming => {
                self.exec(ns, pod, container, true, req).await
            }
            ["portForward", ns, pod] | ["portForward", ns, pod, _] if streaming => {
                self.port_forward(ns, pod, req).await
            }
            ["healthz"] => Ok(Response::new(Body::from("ok"))),
            _ => Err(ApiError::no_such_path()),
        }
    }

    async fn logs(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        query: Option<&str>,
    ) -> Result<Response<Body>, ApiError> {
        let options = logs::LogOptions::from_query(query, jiff::Timestamp::now())?;
        let streamer = logs::open(&self.runtime, ns, pod, container, options).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(streamer.run(tx));
        let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<_, Infallible>));
        Response::builder().header(CONTENT_TYPE, "text/plain").body(body).map_err(ApiError::internal)
    }

    /// `exec` (or `attach`, which has no command).
    async fn exec(
        &self,
        ns: &str,
        pod: &str,
        name: &str,
        attach: bool,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, ApiError> {
        let (options, command) = exec::StreamOptions::from_query(req.uri().query())?;
        if !attach && command.is_empty() {
            return Err(ApiError::bad_request("you must specify at least one command for the container"));
        }
        let container = containers::current(&self.runtime, ns, pod, name).await?;
        if container.state.status != ContainerStatus::Running {
            return Err(ApiError::bad_request(format!("container {name:?} in pod {pod:?} is not running")));
        }
        let transport = upgrade::requested(req.headers());
        let response = match &transport {
            Some(Transport::WebSocket(offered)) => {
                upgrade::accept_websocket(req.headers(), &upgrade::negotiate(offered, channels::PROTOCOLS)?)?
            }
            Some(Transport::Spdy(offered)) => {
                upgrade::accept_spdy(&upgrade::negotiate(offered, spdy_channels::PROTOCOLS)?)?
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "{} needs an upgrade to a WebSocket or SPDY/3.1",
                    if attach { "attach" } else { "exec" },
                )))
            }
        };
        let on_upgrade = hyper::upgrade::on(req);
        let runtime = self.runtime.clone();
        tokio::spawn(async move {
            let Some(io) = upgrade::take(on_upgrade).await else { return };
            let session = match transport {
                Some(Transport::Spdy(_)) => match spdy_channels::start(io, options).await {
                    Ok(session) => session,
                    Err(err) => return tracing::debug!(%err, "exec over SPDY: no session"),
                },
                _ => channels::Session::start(upgrade::websocket(io).await),
            };
            if attach {
                exec::attach(runtime, container.id, options, session).await;
            } else {
                exec::exec(runtime, container.id, command, options, session).await;
            }
        });
        Ok(response)
    }

    async fn port_forward(&self, ns: &str, pod: &str, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
        let sandbox = containers::sandbox(&self.runtime, ns, pod).await?;
        if sandbox.state != SandboxState::Ready {
            return Err(ApiError::bad_request(format!("pod {pod:?} is not running")));
        }
        let target = portforward::Target { pod: pod.to_string(), netns: sandbox.netns_path };
        let (response, tunneled) = match upgrade::requested(req.headers()) {
            Some(Transport::WebSocket(offered)) => {
                let protocol = upgrade::negotiate(&offered, &[portforward::TUNNELED_PROTOCOL])?;
                (upgrade::accept_websocket(req.headers(), &protocol)?, true)
            }
            Some(Transport::Spdy(offered)) => {
                let protocol = upgrade::negotiate(&offered, &[portforward::PROTOCOL])?;
                (upgrade::accept_spdy(&protocol)?, false)
            }
            None => return Err(ApiError::bad_request("port forwarding needs an upgrade to SPDY/3.1 or a WebSocket")),
        };
        let on_upgrade = hyper::upgrade::on(req);
        tokio::spawn(async move {
            let Some(io) = upgrade::take(on_upgrade).await else { return };
            if tunneled {
                portforward::serve(tunnel::bytes_of(upgrade::websocket(io).await), target).await;
            } else {
                portforward::serve(io, target).await;
            }
        });
        Ok(response)
    }
}

fn error_response(err: &ApiError) -> Response<Body> {
    let mut response = Response::new(Body::from(err.to_status().to_string()));
    *response.status_mut() = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}
