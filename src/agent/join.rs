//! Joining a cluster: fetch the server's CA, check it against the hash the join token pins,
//! exchange the token for this node's credentials, and keep them so a restart (or a later
//! token rotation) does not need the token again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::https::{request, Trust};
use crate::server::apiserver::join::{ClusterFacts, JoinRequest, JoinResponse};
use crate::server::auth::files::write_private;
use crate::server::auth::pki::CertKey;
use crate::server::auth::token::JoinToken;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// What joining leaves on disk.
pub struct Joined {
    pub kubeconfig: PathBuf,
    pub cluster: ClusterFacts,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    cluster: ClusterFacts,
}

/// Why a join attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The server is not the one the token names, or refused the token: retrying the same
    /// thing will not help until someone fixes the token or the URL.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Unreachable(#[from] anyhow::Error),
}

/// This node's credentials for `server`: the saved ones, or fresh ones from joining,
/// retrying with back-off while the server is unreachable or refuses.
pub async fn credentials(agent_dir: &Path, server: &str, token: &str, node_name: &str) -> Result<Joined> {
    let server = server.trim_end_matches('/').to_string();
    let kubeconfig = agent_dir.join("kubelet.kubeconfig");
    let saved_path = agent_dir.join("join.json");
    if let Ok(saved) = std::fs::read(&saved_path)
        .map_err(anyhow::Error::from)
        .and_then(|raw| Ok(serde_json::from_slice::<Saved>(&raw)?))
    {
        if saved.server == server && kubeconfig.exists() {
            return Ok(Joined { kubeconfig, cluster: saved.cluster });
        }
    }
    let token = JoinToken::parse(token).context("the join token")?;
    let mut delay = Duration::from_secs(1);
    loop {
        match join_once(&server, &token, node_name).await {
            Ok(response) => {
                let cert = CertKey { cert_pem: response.node_cert, key_pem: response.node_key };
                let text = crate::server::auth::kubeconfig::render(&server, &response.server_ca, &cert);
                write_private(&kubeconfig, text.as_bytes())?;
                write_private(&agent_dir.join("client-ca.crt"), response.client_ca.as_bytes())?;
                let saved = Saved { server: server.clone(), cluster: response.cluster.clone() };
                write_private(&saved_path, &serde_json::to_vec_pretty(&saved)?)?;
                tracing::info!(%server, node = node_name, "joined the cluster");
                return Ok(Joined { kubeconfig, cluster: response.cluster });
            }
            Err(JoinError::Refused(why)) => tracing::error!(%server, "cannot join: {why}; retrying in {delay:?}"),
            Err(JoinError::Unreachable(err)) => {
                tracing::warn!(%server, "cannot reach the server: {err:#}; retrying in {delay:?}")
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

async fn join_once(server: &str, token: &JoinToken, node_name: &str) -> Result<JoinResponse, JoinError> {
    let (status, body) =
        request(Trust::Anything, "GET", &format!("{server}/cacerts"), &[], Vec::new(), REQUEST_TIMEOUT).await?;
    if status != 200 {
        return Err(JoinError::Unreachable(anyhow::anyhow!("GET /cacerts answered {status}")));
    }
    let ca = String::from_utf8(body).map_err(|_| JoinError::Refused("the server's CA is not text".into()))?;
    match &token.ca_hash {
        Some(_) if !token.pins(ca.as_bytes()) => {
            return Err(JoinError::Refused(format!(
                "the CA of {server} does not match the hash in the join token (a token for another cluster, or not the server you meant); refusing to trust it"
            )))
        }
        Some(_) => {}
        None => tracing::warn!("the join token pins no CA hash; trusting the server's CA on first use"),
    }
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("node:{}", token.secret));
    let headers = [("Authorization", format!("Basic {credentials}")), ("Content-Type", "application/json".to_string())];
    let body =
        serde_json::to_vec(&JoinRequest { node_name: node_name.to_string() }).context("encoding the join request")?;
    let url = format!("{server}{}", crate::server::apiserver::JOIN_PATH);
    let (status, body) = request(Trust::Ca(&ca), "POST", &url, &headers, body, REQUEST_TIMEOUT).await?;
    match status {
        200 => serde_json::from_slice(&body)
            .map_err(|e| JoinError::Unreachable(anyhow::anyhow!("the join answer is not valid: {e}"))),
        401 | 403 => Err(JoinError::Refused("the server rejected the join token".into())),
        _ => {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|s| s.get("message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            Err(JoinError::Refused(format!("the server refused the join ({status}): {message}")))
        }
    }
}
