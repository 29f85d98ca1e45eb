//! HTTPS connections with keep-alive over HTTP/1.1 or HTTP/2, as the load generator and the
//! benchmarks' own API calls use them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::header::{HeaderValue, HOST};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub type Body = Full<Bytes>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

impl Protocol {
    pub fn alpn(self) -> &'static [u8] {
        match self {
            Protocol::Http1 => b"http/1.1",
            Protocol::Http2 => b"h2",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Protocol::Http1 => "HTTP/1.1",
            Protocol::Http2 => "HTTP/2",
        }
    }
}

/// A TLS server address with the client configuration for each protocol.
#[derive(Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    http1: Arc<ClientConfig>,
    http2: Arc<ClientConfig>,
}

impl Endpoint {
    /// An endpoint authenticating with a client certificate.
    pub fn with_client_cert(addr: SocketAddr, ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        Ok(Self {
            addr,
            http1: crate::tls::client_config(ca_pem, cert_pem, key_pem, Protocol::Http1)?,
            http2: crate::tls::client_config(ca_pem, cert_pem, key_pem, Protocol::Http2)?,
        })
    }

    /// An anonymous endpoint that does not verify the server (readiness probes only).
    pub fn probe(addr: SocketAddr) -> Self {
        let config = crate::tls::probe_config();
        Self { addr, http1: config.clone(), http2: config }
    }

    /// A request for `path` on this endpoint; `body` is sent as JSON.
    pub fn request(&self, method: Method, path: &str, body: Option<Bytes>) -> Request<Body> {
        let uri: Uri = format!("https://{}{}", self.addr, path).parse().expect("endpoint paths are valid URIs");
        let mut builder = Request::builder().method(method).uri(uri).header("accept", "application/json");
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        builder.body(Full::new(body.unwrap_or_default())).expect("request parts are valid")
    }

    pub async fn connect(&self, protocol: Protocol) -> Result<Conn> {
        let tcp = TcpStream::connect(self.addr).await.with_context(|| format!("connecting to {}", self.addr))?;
        tcp.set_nodelay(true)?;
        let config = match protocol {
            Protocol::Http1 => self.http1.clone(),
            Protocol::Http2 => self.http2.clone(),
        };
        let name = ServerName::from(self.addr.ip());
        let tls = TlsConnector::from(config).connect(name, tcp).await.context("TLS handshake")?;
        let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let io = TokioIo::new(tls);
        match protocol {
            Protocol::Http1 => {
                let (sender, connection) = http1::handshake(io).await?;
                tokio::spawn(connection);
                Ok(Conn::Http1(sender))
            }
            Protocol::Http2 => {
                if negotiated.as_deref() != Some(b"h2".as_slice()) {
                    bail!("the server at {} did not negotiate HTTP/2", self.addr);
                }
                let (sender, connection) = http2::Builder::new(TokioExecutor::new()).handshake(io).await?;
                tokio::spawn(connection);
                Ok(Conn::Http2(sender))
            }
        }
    }
}

/// One keep-alive connection. An HTTP/2 connection can be shared by many concurrent streams.
pub enum Conn {
    Http1(http1::SendRequest<Body>),
    Http2(http2::SendRequest<Body>),
}

impl Conn {
    /// Another handle on the same HTTP/2 connection; `None` for HTTP/1.1, which has one
    /// request in flight per connection.
    pub fn share(&self) -> Option<Conn> {
        match self {
            Conn::Http1(_) => None,
            Conn::Http2(sender) => Some(Conn::Http2(sender.clone())),
        }
    }

    pub async fn send(&mut self, mut request: Request<Body>) -> Result<Response<Incoming>> {
        match self {
            Conn::Http1(sender) => {
                // HTTP/1.1 sends the origin form with a Host header, as every client does.
                let authority = request.uri().authority().map(|a| a.to_string()).unwrap_or_default();
                let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or("/".into());
                *request.uri_mut() = path.parse()?;
                request.headers_mut().insert(HOST, HeaderValue::from_str(&authority)?);
                sender.ready().await?;
                Ok(sender.send_request(request).await?)
            }
            Conn::Http2(sender) => {
                sender.ready().await?;
                Ok(sender.send_request(request).await?)
            }
        }
    }

    /// Sends `request` and reads the whole response body.
    pub async fn call(&mut self, request: Request<Body>) -> Result<(StatusCode, Bytes)> {
        let response = self.send(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Like `call`, but an unexpected status is an error carrying the response body.
    pub async fn expect(&mut self, request: Request<Body>, expected: StatusCode) -> Result<Bytes> {
        let what = format!("{} {}", request.method(), request.uri().path());
        let (status, body) = self.call(request).await.with_context(|| what.clone())?;
        if status != expected {
            bail!("{what}: {status} (expected {expected}): {}", String::from_utf8_lossy(&body));
        }
        Ok(body)
    }
}
