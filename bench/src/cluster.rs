//! A local cluster of the run (`onebin cluster`: one network namespace per node on a bridge of
//! the run's namespace), with a state dir of its own; deleted when dropped.

use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

use crate::benches::Ctx;

pub struct LocalCluster {
    name: String,
    state: tempfile::TempDir,
    onebin: PathBuf,
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
