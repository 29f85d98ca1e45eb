//! A local cluster of the run (`onebin cluster`: one network namespace per node on a bridge of
//! the run's namespace), with a state dir of its own; deleted when dropped.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::benches::Ctx;

pub struct LocalCluster {
    name: String,
    state: tempfile::TempDir,
    onebin: PathBuf,
}

/// A node as `onebin cluster create` lays it out (its cluster.json).
#[derive(Deserialize)]
pub struct Node {
    pub name: String,
    pub ip: Ipv4Addr,
    /// The name of its network namespace under /run/netns.
    netns: String,
}

#[derive(Deserialize)]
struct Layout {
    nodes: Vec<Node>,
}

impl Node {
    pub fn netns_path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.netns)
    }
}

impl LocalCluster {
    pub fn new(ctx: &Ctx, round: usize) -> Result<Self> {
        let state = tempfile::Builder::new().prefix("onebin-bench-clusters-").tempdir_in(&ctx.work_dir)?;
        // Short: node names, namespace names and interface names are built from it.
        let name = format!("b{}{round}", std::process::id() % 10_000);
        Ok(Self { name, state, onebin: ctx.onebin.clone() })
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.state.path().join("kubeconfig")
    }

    pub fn command(&self, args: &[&str]) -> Result<Output> {
        let mut command = Command::new(&self.onebin);
        command.arg("cluster").arg("--state-dir").arg(self.state_dir()).args(args);
        if args.first() == Some(&"create") {
            // Its own kubeconfig: the machine's ~/.kube/config is not the benchmark's to change.
            command.arg("--kubeconfig").arg(self.kubeconfig());
        }
        command.output().context("running onebin cluster")
    }

    /// Runs `onebin cluster create` with `args` after the name; fails unless it succeeds.
    pub fn create(&self, args: &[&str]) -> Result<()> {
        let out = self.command(&[&["create", self.name.as_str()][..], args].concat())?;
        if !out.status.success() {
            bail!("onebin cluster create failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    /// The nodes, server first.
    pub fn nodes(&self) -> Result<Vec<Node>> {
        let path = self.state_dir().join(&self.name).join("cluster.json");
        let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_slice::<Layout>(&text).with_context(|| format!("parsing {}", path.display()))?.nodes)
    }

    /// The run dir of `node`'s onebin process: its pods' network namespaces are in `netns/`.
    pub fn run_dir(&self, node: &Node) -> PathBuf {
        self.state_dir().join(&self.name).join(&node.name).join("run")
    }

    fn state_dir(&self) -> PathBuf {
        self.state.path().join("state")
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        match self.command(&["delete", &self.name]) {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!("warning: deleting cluster {}: {}", self.name, String::from_utf8_lossy(&out.stderr).trim())
            }
            Err(err) => eprintln!("warning: deleting cluster {}: {err:#}", self.name),
        }
    }
}
