//! Cluster create time: `onebin cluster create NAME --nodes 4` (one server and three agents,
//! each in a network namespace of its own, joined over a bridge of the run's namespace) timed
//! from exec until it returns, which it does once all four nodes are Ready. The cluster is
//! deleted after each round, also when the round fails.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::cluster::LocalCluster;
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
        let elapsed = tokio::task::spawn_blocking(move || -> Result<Duration> {
            let started = Instant::now();
            cluster.create(&["--nodes", &NODES.to_string()])?;
            Ok(started.elapsed())
        })
        .await??;
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
