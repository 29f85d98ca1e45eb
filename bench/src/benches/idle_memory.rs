//! Idle resident memory: a server with an empty cluster, once its memory has settled, without
//! and with the embedded agent; the agent alone and a pod's shim once onebin has them.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::capability::Capability;
use crate::process::Memory;
use crate::report::{Row, Section};
use crate::server::Server;
use crate::stats::median;

const TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let rounds = ctx.rounds(1, 3);
    let (mut alone, mut with_agent) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        eprintln!("  round {}/{rounds}", round + 1);
        let server = Server::start(ctx, false).await?;
        alone.push(settle(server.pid()).await?);
        drop(server);

        let mut server = Server::start(ctx, true).await?;
        server.wait_node_ready(TIMEOUT).await?;
        with_agent.push(settle(server.pid()).await?);
    }
    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    section.rows.push(memory_row(&format!("server, no agent (median of {rounds})"), &alone, 40.0));
    section.rows.push(memory_row(&format!("server with agent, node Ready (median of {rounds})"), &with_agent, 60.0));
    for (measure, needs, when_available) in [
        (
            "agent alone, joined to a server",
            &[Capability::Agent][..],
            "onebin now has what it needs; this measurement is still to be written",
        ),
        (
            "per-pod shim, one running container",
            &[Capability::Shim, Capability::Runtime][..],
            "measured by the `container-start` benchmark, which runs a pod",
        ),
    ] {
        let why = match ctx.capabilities.missing(needs) {
            Some(missing) => format!("not available yet: this onebin has no {}", missing.describe()),
            None => when_available.into(),
        };
        section.rows.push(Row::not_measured(measure, why));
    }
    section.notes.push(
        "Settled means four samples 0.5 s apart within 1% of each other (at least 3 s after ready, at most 30 s). \
         VmRSS is the resident set then; VmHWM is its peak since exec (start-up included). MiB = 2^20 bytes."
            .into(),
    );
    Ok(section)
}

/// Samples the memory of `pid` until it stops moving.
async fn settle(pid: u32) -> Result<Memory> {
    let started = Instant::now();
    let mut samples: Vec<Memory> = Vec::new();
    loop {
        samples.push(Memory::of(pid)?);
        let recent = &samples[samples.len().saturating_sub(4)..];
        let (low, high) = recent.iter().fold((u64::MAX, 0), |(lo, hi), m| (lo.min(m.rss_kib), hi.max(m.rss_kib)));
        let steady = recent.len() == 4 && (high - low) as f64 <= high as f64 * 0.01;
        let elapsed = started.elapsed();
        if (steady && elapsed >= Duration::from_secs(3)) || elapsed >= Duration::from_secs(30) {
            return Ok(*samples.last().expect("sampled at least once"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A row of memory samples against a limit of `limit_mb` megabytes (10^6 bytes, as the issue says).
fn memory_row(measure: &str, samples: &[Memory], limit_mb: f64) -> Row {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rss: Vec<f64> = samples.iter().map(|m| mib(m.rss_kib)).collect();
    let hwm: Vec<f64> = samples.iter().map(|m| mib(m.hwm_kib)).collect();
    let (Some(rss), Some(hwm)) = (median(&rss), median(&hwm)) else { return Row::not_measured(measure, "no samples") };
    let limit_mib = limit_mb * 1e6 / (1024.0 * 1024.0);
    Row::new(measure, format!("VmRSS {rss:.1} MiB (VmHWM {hwm:.1} MiB)"))
        .target(format!("VmRSS ≤ {limit_mb:.0} MB ({limit_mib:.1} MiB)"), rss <= limit_mib)
}
