//! The node agent: registers the node and keeps it heartbeating, runs the node's pods
//! (kubelet), and serves the node API. It is a remote client of the API server through the
//! `kube` crate, even when embedded in the server process.

pub mod events;
pub mod kubelet;
pub mod node;
pub mod quantity;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Node;
use kube::Api;

pub use node::NodeConfig;

/// Everything an agent needs to run.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub node: NodeConfig,
    /// Kubeconfig with this node's identity (`system:node:<name>`).
    pub kubeconfig: PathBuf,
    pub run_dir: PathBuf,
}

/// The agent's directory under the data dir.
pub fn agent_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("agent")
}

/// This installation's agent id, created on first use.
pub fn agent_id(data_dir: &Path) -> Result<String> {
    let path = agent_dir(data_dir).join("agent-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        _ => {
            let id = uuid::Uuid::new_v4().to_string();
            crate::server::auth::files::write_private(&path, id.as_bytes())?;
            Ok(id)
        }
    }
}

/// A kube client for `kubeconfig`.
pub async fn client(kubeconfig: &Path) -> Result<kube::Client> {
    let text = std::fs::read_to_string(kubeconfig).with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config = kube::config::Kubeconfig::from_yaml(&text).context("parsing the agent kubeconfig")?;
    let config = kube::Config::from_custom_kubeconfig(config, &Default::default())
        .await
        .context("loading the agent kubeconfig")?;
    Ok(kube::Client::try_from(config)?)
}

/// Runs the agent until it fails; registration errors are retried with back-off.
pub async fn run(config: AgentConfig) -> Result<()> {
    let client = client(&config.kubeconfig).await?;
    let nodes: Api<Node> = Api::all(client.clone());
    let mut delay = std::time::Duration::from_millis(200);
    loop {
        match node::register(&nodes, &config.node).await {
            Ok(_) => break,
            Err(err) if err.to_string().contains("already registered by another running agent") => return Err(err),
            Err(err) => {
                tracing::warn!(%err, ?delay, "node registration failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
        }
    }
    tracing::info!(node = %config.node.name, "node registered");
    node::heartbeat(client, config.node, || true).await;
    Ok(())
}
