//! Joining agents. `GET /cacerts` hands out the server CA, which the agent checks against
//! the hash its join token pins before trusting anything else; `POST /v1-onebin/join`
//! exchanges the token's secret (HTTP basic auth, user `node`) for the node's credentials
//! and the cluster settings the agent needs.
//!
//! Agents behind NAT: the server reaches node APIs directly today. The plan for edge boxes
//! that cannot be dialled is a tunnel the agent opens to the server (an HTTP/2 or WebSocket
//! connection made from the agent, multiplexing the server's node-API requests back over
//! it), registered under the node name and preferred by the node proxy when present.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{header, HeaderMap};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::server::api_error::{ApiError, Cause};
use crate::server::auth::node_authorizer::{NODES_GROUP, NODE_USER_PREFIX};
use crate::server::auth::pki::{ClientIdentity, Pki};
use crate::server::auth::token::{token_path, JoinToken};

/// What an agent learns about the cluster when it joins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFacts {
    pub cluster_cidr: String,
    pub service_cidr: String,
    pub cluster_dns: String,
    pub cluster_domain: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    pub node_name: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinResponse {
    pub server_ca: String,
    pub client_ca: String,
    /// Client certificate and key of `system:node:<name>`.
    pub node_cert: String,
    pub node_key: String,
    pub cluster: ClusterFacts,
}

pub struct JoinService {
    pub pki: Arc<Pki>,
    pub data_dir: PathBuf,
    pub cluster: ClusterFacts,
}

impl JoinService {
    pub fn ca_pem(&self) -> String {
        self.pki.server_ca.cert_pem.clone()
    }

    /// Checks the caller's token and issues the node's credentials.
    pub fn join(&self, headers: &HeaderMap, body: &[u8]) -> Result<JoinResponse, ApiError> {
        self.check_token(headers)?;
        let request: JoinRequest = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the join request is not valid JSON: {e}")))?;
        let name = request.node_name.trim();
        crate::server::registry::validation::dns1123_subdomain(name)
            .map_err(|why| ApiError::invalid("", "Node", name, vec![Cause::invalid("nodeName", name, why)]))?;
        let user = format!("{NODE_USER_PREFIX}{name}");
        let cert = self
            .pki
            .client_cert(&format!("client-kubelet-{name}"), ClientIdentity { user: &user, groups: &[NODES_GROUP] })
            .map_err(ApiError::internal)?;
        Ok(JoinResponse {
            server_ca: self.pki.server_ca.cert_pem.clone(),
            client_ca: self.pki.client_ca.cert_pem.clone(),
            node_cert: cert.cert_pem,
            node_key: cert.key_pem,
            cluster: self.cluster.clone(),
        })
    }

    /// The secret must be the one in the server's token file now (read per request, so
    /// `onebin token rotate` takes effect at once).
    fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| text.split_once(':').map(|(_, secret)| secret.to_string()))
            .ok_or_else(ApiError::unauthorized)?;
        let given = JoinToken::parse(&given).map_err(|_| ApiError::unauthorized())?;
        let stored = std::fs::read_to_string(token_path(&self.data_dir)).map_err(ApiError::internal)?;
        let stored = JoinToken::parse(&stored).map_err(ApiError::internal)?;
        let pins_ok = given.pins(self.pki.server_ca.cert_pem.as_bytes());
        if !pins_ok || !constant_time_eq(given.secret.as_bytes(), stored.secret.as_bytes()) {
            return Err(ApiError::unauthorized());
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(dir: &std::path::Path) -> JoinService {
        let pki = Arc::new(Pki::load_or_create(dir).unwrap());
        crate::server::auth::token::load_or_create(dir, Some("s3cret"), pki.server_ca.cert_pem.as_bytes()).unwrap();
        let cluster = ClusterFacts {
            cluster_cidr: "10.42.0.0/16".into(),
            service_cidr: "10.43.0.0/16".into(),
            cluster_dns: "10.43.0.10".into(),
            cluster_domain: "cluster.local".into(),
        };
        JoinService { pki, data_dir: dir.to_path_buf(), cluster }
    }

    fn basic(secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("node:{secret}")));
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn the_right_secret_gets_node_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let join = service(dir.path());
        let body = br#"{"nodeName": "edge-1"}"#;
        let response = join.join(&basic("s3cret"), body).unwrap();
        assert!(response.node_cert.contains("BEGIN CERTIFICATE"));
        assert_eq!(response.cluster.cluster_dns, "10.43.0.10");
        assert_eq!(join.join(&basic("wrong"), body).unwrap_err().code, 401);
        assert_eq!(join.join(&HeaderMap::new(), body).unwrap_err().code, 401);
        let other_ca = JoinToken::full("s3cret", b"another CA");
        assert_eq!(join.join(&basic(&other_ca), body).unwrap_err().code, 401);
        assert_eq!(join.join(&basic("s3cret"), br#"{"nodeName": "Bad_Name"}"#).unwrap_err().code, 422);
    }
}
