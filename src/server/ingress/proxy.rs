//! The HTTP(S) side of the ingress controller: each request is decided by the routing table
//! and forwarded to one of its backend's pods over HTTP/1.1, with the usual forwarding
//! headers; WebSocket and other upgrades are relayed both ways. A pod that refuses the
//! connection is skipped for the next one, as nginx's `proxy_next_upstream error` does.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, HOST, LOCATION};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::backends::Backends;
use super::routes::{Decision, RouteTable};

type Body = BoxBody<Bytes, hyper::Error>;

/// Connecting to a pod that does not answer gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pods tried for one request before answering 502.
const ATTEMPTS: usize = 3;
/// Headers that describe one connection and are not forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "proxy-authorization"];

pub struct Proxy {
    pub table: RwLock<Arc<RouteTable>>,
    pub backends: Backends,
    pub https_port: u16,
}

impl Proxy {
    /// Serves plain HTTP on `listener` until the task is dropped.
    pub async fn serve_http(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Some((tcp, peer)) = accept(&listener).await else { continue };
            let proxy = self.clone();
            tokio::spawn(async move { proxy.serve_connection(TokioIo::new(tcp), peer, false).await });
        }
    }

    /// Serves HTTPS on `listener`, terminating TLS with `acceptor`.
    pub async fn serve_https(self: Arc<Self>, listener: TcpListener, acceptor: TlsAcceptor) {
        loop {
            let Some((tcp, peer)) = accept(&listener).await else { continue };
            let (proxy, acceptor) = (self.clone(), acceptor.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(CONNECT_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => proxy.serve_connection(TokioIo::new(tls), peer, true).await,
                    Ok(Err(err)) => tracing::debug!(%peer, %err, "ingress TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "ingress TLS handshake timed out"),
                }
            });
        }
    }

    async fn serve_connection<S>(self: Arc<Self>, io: TokioIo<S>, peer: SocketAddr, https: bool)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let service = hyper::service::service_fn(move |req| {
            let proxy = self.clone();
            async move { Ok::<_, std::convert::Infallible>(proxy.handle(req, peer, https).await) }
        });
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        if let Err(err) = builder.serve_connection_with_upgrades(io, service).await {
            tracing::debug!(%peer, %err, "ingress connection ended");
        }
    }

    async fn handle(&self, mut req: Request<Incoming>, peer: SocketAddr, https: bool) -> Response<Body> {
        let host = request_host(&req);
        let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
        let table = self.table.read().expect("ingress table").clone();
        let (backend, path_and_query) = match table.decide(&host, &path_and_query, https, self.https_port) {
            Decision::Forward { backend, path_and_query } => (backend, path_and_query),
            Decision::Redirect { status, location } => return redirect(status, &location),
            Decision::NotFound => return error_page(StatusCode::NOT_FOUND),
        };
        let addresses = match self.backends.addresses(&backend) {
            Ok(addresses) => addresses,
            Err(why) => {
                tracing::debug!(?backend, ?why, "ingress backend unavailable");
                return error_page(StatusCode::SERVICE_UNAVAILABLE);
            }
        };
        prepare(&mut req, &path_and_query, peer, https);
        let client_upgrade = hyper::upgrade::on(&mut req);
        for address in addresses.iter().take(ATTEMPTS) {
            let sender = match connect(*address).await {
                Ok(sender) => sender,
                Err(err) => {
                    tracing::debug!(%address, %err, "ingress backend refused");
                    continue;
                }
            };
            return forward(sender, req, client_upgrade).await;
        }
        error_page(StatusCode::BAD_GATEWAY)
    }
}

async fn accept(listener: &TcpListener) -> Option<(TcpStream, SocketAddr)> {
    match listener.accept().await {
        Ok((tcp, peer)) => {
            let _ = tcp.set_nodelay(true);
            Some((tcp, peer))
        }
        Err(err) => {
            tracing::warn!(%err, "ingress accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// The request's host name without port: HTTP/1.1 `Host`, or the HTTP/2 authority.
fn request_host<B>(req: &Request<B>) -> String {
    let raw = req.headers().get(HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().host()).unwrap_or_default();
    if let Some(bracketed) = raw.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default().to_string();
    }
    raw.split(':').next().unwrap_or_default().to_string()
}

/// Turns the incoming request into the one sent to the pod.
fn prepare(req: &mut Request<Incoming>, path_and_query: &str, peer: SocketAddr, https: bool) {
    let original_host = req.headers().get(HOST).cloned().or_else(|| req.uri().authority()?.as_str().parse().ok());
    *req.uri_mut() = path_and_query.parse().unwrap_or_else(|_| hyper::Uri::from_static("/"));
    *req.version_mut() = hyper::Version::HTTP_11;
    let upgrade = req.headers().get(hyper::header::UPGRADE).cloned();
    let headers = req.headers_mut();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if let Some(upgrade) = upgrade {
        headers.insert(hyper::header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(hyper::header::UPGRADE, upgrade);
    }
    if let Some(host) = original_host.clone() {
        headers.insert(HOST, host.clone());
        headers.insert(HeaderName::from_static("x-forwarded-host"), host);
    }
    let client = peer.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {client}"),
        None => client.clone(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded_for) {
        headers.insert(HeaderName::from_static("x-forwarded-for"), value);
    }
    if let Ok(value) = HeaderValue::from_str(&client) {
        headers.insert(HeaderName::from_static("x-real-ip"), value);
    }
    let proto = if https { "https" } else { "http" };
    headers.insert(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static(proto));
}

async fn connect(address: SocketAddr) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Incoming>> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await??;
    let _ = tcp.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        if let Err(err) = connection.with_upgrades().await {
            tracing::debug!(%err, "ingress backend connection ended");
        }
    });
    Ok(sender)
}

async fn forward(
    mut sender: hyper::client::conn::http1::SendRequest<Incoming>,
    req: Request<Incoming>,
    client_upgrade: hyper::upgrade::OnUpgrade,
) -> Response<Body> {
    let mut response = match sender.send_request(req).await {
        Ok(response) => response,
        Err(err) => {
            tracing::debug!(%err, "ingress backend failed");
            return error_page(StatusCode::BAD_GATEWAY);
        }
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let backend_upgrade = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            let (Ok(client), Ok(backend)) = (client_upgrade.await, backend_upgrade.await) else { return };
            let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(client), &mut TokioIo::new(backend)).await;
        });
    } else {
        for name in HOP_BY_HOP {
            response.headers_mut().remove(name);
        }
    }
    response.map(BodyExt::boxed)
}

fn full(text: String) -> Body {
    Full::new(Bytes::from(text)).map_err(|never| match never {}).boxed()
}

/// A small HTML page for errors the controller answers itself, as nginx does.
fn error_page(status: StatusCode) -> Response<Body> {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>onebin</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = Response::new(full(page));
    *response.status_mut() = status;
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

fn redirect(status: u16, location: &str) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
    let mut response = error_page(status);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(host: &str) -> String {
        request_host(&Request::builder().uri("/").header(HOST, host).body(()).unwrap())
    }

    #[test]
    fn host_headers_lose_their_port() {
        assert_eq!(host_of("alicek106.example.com:31000"), "alicek106.example.com");
        assert_eq!(host_of("alicek106.example.com"), "alicek106.example.com");
        assert_eq!(host_of("[fd00::1]:80"), "fd00::1");
        assert_eq!(host_of("10.0.0.1"), "10.0.0.1");
    }
}
