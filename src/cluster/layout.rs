//! Where a local cluster's pieces live and what they are called: its state directory,
//! subnet, bridge, and per node the network namespace, address and directories.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Default home of local clusters.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/onebin-clusters";
/// Clusters get `172.30.<index>.0/24`.
const SUBNET_BASE: [u8; 2] = [172, 30];
/// The first node's last address byte (the host side of the bridge is .1).
const FIRST_NODE_HOST: u8 = 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Server,
    Agent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeLayout {
    pub name: String,
    pub role: Role,
    pub ip: Ipv4Addr,
    pub netns: String,
    /// Host side of the node's veth.
    pub veth: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterLayout {
    pub name: String,
    pub index: u8,
    pub bridge: String,
    pub nodes: Vec<NodeLayout>,
    /// Where the cluster's kubeconfig was written (and which context to remove on delete).
    pub kubeconfig: Option<PathBuf>,
}

impl ClusterLayout {
    /// A new layout for `nodes` nodes (one server, the rest agents) at subnet `index`.
    pub fn new(name: &str, index: u8, nodes: usize, server_args: &[String], agent_args: &[String]) -> Result<Self> {
        check_name(name)?;
        if nodes == 0 || nodes > 100 {
            bail!("--nodes must be between 1 and 100");
        }
        let nodes = (0..nodes)
            .map(|i| {
                let role = if i == 0 { Role::Server } else { Role::Agent };
                let name = match role {
                    Role::Server => format!("{name}-server-0"),
                    Role::Agent => format!("{name}-agent-{}", i - 1),
                };
                NodeLayout {
                    ip: Ipv4Addr::new(SUBNET_BASE[0], SUBNET_BASE[1], index, FIRST_NODE_HOST + i as u8),
                    netns: format!("onebin-{name}"),
                    veth: format!("obc{index}n{i}"),
                    args: if role == Role::Server { server_args.to_vec() } else { agent_args.to_vec() },
                    name,
                    role,
                }
            })
            .collect();
        Ok(Self { name: name.to_string(), index, bridge: format!("obc{index}"), nodes, kubeconfig: None })
    }

    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(SUBNET_BASE[0], SUBNET_BASE[1], self.index, 1)
    }

    pub fn server(&self) -> &NodeLayout {
        &self.nodes[0]
    }

    pub fn server_url(&self) -> String {
        format!("https://{}:6443", self.server().ip)
    }

    pub fn node(&self, name: &str) -> Result<&NodeLayout> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .with_context(|| format!("cluster {} has no node {name:?} (nodes: {})", self.name, self.node_names()))
    }

    fn node_names(&self) -> String {
        self.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    pub fn node_dir(&self, state: &Path, node: &NodeLayout) -> PathBuf {
        cluster_dir(state, &self.name).join(&node.name)
    }

    pub fn save(&self, state: &Path) -> Result<()> {
        let path = cluster_dir(state, &self.name).join("cluster.json");
        crate::server::auth::files::write_private(&path, &serde_json::to_vec_pretty(self)?)
    }

    pub fn load(state: &Path, name: &str) -> Result<Self> {
        let path = cluster_dir(state, name).join("cluster.json");
        let raw = std::fs::read(&path)
            .with_context(|| format!("no cluster named {name:?} (looked for {})", path.display()))?;
        serde_json::from_slice(&raw).with_context(|| format!("reading {}", path.display()))
    }
}

pub fn cluster_dir(state: &Path, name: &str) -> PathBuf {
    state.join(name)
}

/// Every cluster under `state`.
pub fn list(state: &Path) -> Result<Vec<ClusterLayout>> {
    let mut clusters = Vec::new();
    for entry in std::fs::read_dir(state).into_iter().flatten().flatten() {
        if let Ok(layout) = ClusterLayout::load(state, &entry.file_name().to_string_lossy()) {
            clusters.push(layout);
        }
    }
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(clusters)
}

/// The lowest subnet index no existing cluster uses — in this state dir, or on this host
/// (a bridge of that index exists).
pub fn free_index(state: &Path) -> Result<u8> {
    let used: Vec<u8> = list(state)?.iter().map(|c| c.index).collect();
    (0..=254)
        .find(|i| !used.contains(i) && !Path::new("/sys/class/net").join(format!("obc{i}")).exists())
        .context("every local cluster subnet is taken")
}

/// Cluster names become parts of node and device names, so they stay short and DNS-safe.
fn check_name(name: &str) -> Result<()> {
    crate::server::registry::validation::dns1123_label(name)
        .map_err(|why| anyhow::anyhow!("cluster name {name:?}: {why}"))?;
    if name.len() > 20 {
        bail!("cluster name {name:?} is too long (at most 20 characters)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_get_names_addresses_and_devices() {
        let layout = ClusterLayout::new("dev", 3, 4, &["--x".into()], &[]).unwrap();
        let names: Vec<_> = layout.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["dev-server-0", "dev-agent-0", "dev-agent-1", "dev-agent-2"]);
        assert_eq!(layout.nodes[1].ip, Ipv4Addr::new(172, 30, 3, 11));
        assert_eq!(layout.gateway(), Ipv4Addr::new(172, 30, 3, 1));
        assert_eq!(layout.server_url(), "https://172.30.3.10:6443");
        assert_eq!(layout.nodes[0].args, ["--x"]);
        assert!(layout.nodes.iter().all(|n| n.veth.len() <= 15));
        assert!(ClusterLayout::new("Bad_Name", 0, 1, &[], &[]).is_err());
        assert!(ClusterLayout::new("ok", 0, 0, &[], &[]).is_err());
    }
}
