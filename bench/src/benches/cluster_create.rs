//! Cluster create time: `onebin cluster create NAME --nodes 4` (one server and three agents,
//! each in a network namespace of its own, joined over a bridge of the run's namespace) timed
//! from exec until it returns, which it does once all four nodes are Ready. The cluster is
//! deleted after each round, also when the round fails.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::report::{Row, Section};
use crate::stats::Summary;

const NODES: usize = 4;

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let rounds = ctx.rounds(1, 3);
    let mut seconds = Vec::new();
    for round in 0..rounds {
        eprintln!("  round {}/{rounds}", round + 1);
        let cluster = LocalCluster::new(ctx, round)?;
        // The cluster is deleted when the closure ends, after the clock has stopped.
        let (elapsed, out) = tokio::task::spawn_blocking(move || -> Result<(Duration, Output)> {
            let started = Instant::now();
            let out = cluster.command(&["create", &cluster.name, "--nodes", &NODES.to_string()])?;
            Ok((started.elapsed(), out))
        })
        .await??;
        if !out.status.success() {
            bail!("onebin cluster create failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        seconds.push(elapsed.as_secs_f64());
    }
    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    if let Some(s) = Summary::of(&seconds) {
        section.rows.push(
            Row::new(
                format!("`onebin cluster create --nodes {NODES}` → all {NODES} nodes Ready (median of {rounds})"),
                format!("{:.2} s (slowest {:.2} s)", s.median, s.p99),
            )
            .target("≤ 10 s", s.median <= 10.0),
        );
    }
    section.notes.push(
        "From exec of the command until it returns: it creates the network namespaces, the bridge and veths, \
         starts the server, waits for its join token, starts the agents, and returns once every node is Ready. \
         Each round starts from an empty state dir, so the server generates its CAs and certificates."
            .into(),
    );
    Ok(section)
}

/// A cluster name and state dir of this run; the cluster is deleted when dropped.
struct LocalCluster {
    name: String,
    state: tempfile::TempDir,
    onebin: PathBuf,
}

impl LocalCluster {
    fn new(ctx: &Ctx, round: usize) -> Result<Self> {
        let state = tempfile::Builder::new().prefix("onebin-bench-clusters-").tempdir_in(&ctx.work_dir)?;
        // Short: node names, namespace names and interface names are built from it.
        let name = format!("b{}{round}", std::process::id() % 10_000);
        Ok(Self { name, state, onebin: ctx.onebin.clone() })
    }

    fn kubeconfig(&self) -> PathBuf {
        self.state.path().join("kubeconfig")
    }

    fn command(&self, args: &[&str]) -> Result<Output> {
        let mut command = Command::new(&self.onebin);
        command.arg("cluster").arg("--state-dir").arg(self.state.path().join("state")).args(args);
        if args.first() == Some(&"create") {
            // Its own kubeconfig: the machine's ~/.kube/config is not the benchmark's to change.
            command.arg("--kubeconfig").arg(self.kubeconfig());
        }
        command.output().context("running onebin cluster")
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
