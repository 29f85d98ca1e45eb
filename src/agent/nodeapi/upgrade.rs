//! Switching a request to a streaming protocol: a WebSocket (with a subprotocol from the
//! client's `Sec-WebSocket-Protocol`) or SPDY/3.1 (with one from its
//! `X-Stream-Protocol-Version`). Both answer 101 Switching Protocols; the connection is then
//! ours once hyper hands it over.

use axum::body::Body;
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::server::api_error::ApiError;

pub const SEC_WEBSOCKET_PROTOCOL: &str = "sec-websocket-protocol";
pub const STREAM_PROTOCOL_VERSION: &str = "x-stream-protocol-version";
const SPDY: &str = "SPDY/3.1";

/// The protocol a request asks to switch to.
#[derive(Debug, PartialEq)]
pub enum Transport {
    /// With the subprotocols the client offers, preferred first.
    WebSocket(Vec<String>),
    Spdy(Vec<String>),
}

/// What the request wants, or `None` for a plain request.
pub fn requested(headers: &HeaderMap) -> Option<Transport> {
    let connection_upgrade = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    if !connection_upgrade {
        return None;
    }
    let upgrade = headers.get(UPGRADE)?.to_str().ok()?;
    if upgrade.eq_ignore_ascii_case("websocket") {
        Some(Transport::WebSocket(list(headers, SEC_WEBSOCKET_PROTOCOL)))
    } else if upgrade.eq_ignore_ascii_case(SPDY) {
        Some(Transport::Spdy(list(headers, STREAM_PROTOCOL_VERSION)))
    } else {
        None
    }
}

/// Every comma-separated value of every `name` header.
fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The first protocol the client offers that we speak.
pub fn negotiate(offered: &[String], supported: &[&str]) -> Result<String, ApiError> {
    offered.iter().find(|p| supported.contains(&p.as_str())).cloned().ok_or_else(|| {
        ApiError::forbidden(format!(
            "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server accepts {supported:?}"
        ))
    })
}

/// The 101 answer accepting a WebSocket with `protocol`.
pub fn accept_websocket(headers: &HeaderMap, protocol: &str) -> Result<Response<Body>, ApiError> {
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .ok_or_else(|| ApiError::bad_request("a WebSocket upgrade needs a Sec-WebSocket-Key header"))?;
    switching(&[
        (UPGRADE.as_str(), "websocket"),
        (SEC_WEBSOCKET_ACCEPT.as_str(), &derive_accept_key(key.as_bytes())),
        (SEC_WEBSOCKET_PROTOCOL, protocol),
    ])
}

/// The 101 answer accepting SPDY with `protocol`.
pub fn accept_spdy(protocol: &str) -> Result<Response<Body>, ApiError> {
    switching(&[(UPGRADE.as_str(), SPDY), (STREAM_PROTOCOL_VERSION, protocol)])
}

fn switching(headers: &[(&str, &str)]) -> Result<Response<Body>, ApiError> {
    let mut response = Response::builder().status(StatusCode::SWITCHING_PROTOCOLS).header(CONNECTION, "Upgrade");
    for (name, value) in headers {
        response = response.header(*name, HeaderValue::from_str(value).map_err(ApiError::internal)?);
    }
    response.body(Body::empty()).map_err(ApiError::internal)
}

/// The connection after the 101 was sent.
pub type Upgraded = TokioIo<hyper::upgrade::Upgraded>;

/// Waits for hyper to hand over the connection.
pub async fn take(on_upgrade: hyper::upgrade::OnUpgrade) -> Option<Upgraded> {
    match on_upgrade.await {
        Ok(upgraded) => Some(TokioIo::new(upgraded)),
        Err(err) => {
            tracing::debug!(%err, "connection upgrade failed");
            None
        }
    }
}

pub async fn websocket(io: Upgraded) -> WebSocketStream<Upgraded> {
    WebSocketStream::from_raw_socket(io, Role::Server, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_negotiation() {
        let mut headers = HeaderMap::new();
        assert_eq!(requested(&headers), None);
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.append(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("v5.channel.k8s.io, v4.channel.k8s.io"));
        headers.append(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("base64.channel.k8s.io"));
        let Some(Transport::WebSocket(offered)) = requested(&headers) else { panic!("a websocket request") };
        assert_eq!(offered, ["v5.channel.k8s.io", "v4.channel.k8s.io", "base64.channel.k8s.io"]);
        assert_eq!(negotiate(&offered, &["v4.channel.k8s.io"]).unwrap(), "v4.channel.k8s.io");
        assert_eq!(negotiate(&offered, &["portforward.k8s.io"]).unwrap_err().code, 403);

        headers.insert(UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        headers.insert(STREAM_PROTOCOL_VERSION, HeaderValue::from_static("portforward.k8s.io"));
        assert_eq!(requested(&headers), Some(Transport::Spdy(vec!["portforward.k8s.io".into()])));
    }
}
