//! Idle resident memory: a server with an empty cluster, once its memory has settled, without
//! and with the embedded agent; the agent alone and a pod's shim once onebin has them.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::agent::{self, Agent};
use crate::capability::Capability;
use crate::http::Protocol;
use crate::process::Memory;
use crate::report::{Row, Section};
use crate::server::Server;
use crate::stats::median;
use hyper::{Method, StatusCode};

const TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let rounds = ctx.rounds(1, 3);
    let joins = ctx.capabilities.missing(&[Capability::Agent]).is_none();
    let (mut alone, mut with_agent, mut agent_alone) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        eprintln!("  round {}/{rounds}", round + 1);
        let server = Server::start(ctx, false).await?;
        alone.push(settle(server.pid()).await?);
        if joins {
            agent_alone.push(joined_agent(ctx, &server).await?);
        }
        drop(server);

        let mut server = Server::start(ctx, true).await?;
        server.wait_node_ready(TIMEOUT).await?;
        with_agent.push(settle(server.pid()).await?);
    }
    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    section.rows.push(memory_row(&format!("server, no agent (median of {rounds})"), &alone, Some(40.0)));
    section.rows.push(memory_row(
        &format!("server with agent, node Ready (median of {rounds})"),
        &with_agent,
        Some(60.0),
    ));
    let agent_measure = format!("agent alone (`onebin agent`), joined, node Ready (median of {rounds})");
    section.rows.push(match ctx.capabilities.missing(&[Capability::Agent]) {
        Some(missing) => {
            Row::not_measured(agent_measure, format!("not available yet: this onebin has no {}", missing.describe()))
        }
        None => memory_row(&agent_measure, &agent_alone, None),
    });
    section.rows.push(Row::not_measured(
        "per-pod shim, one running container",
        match ctx.capabilities.missing(&[Capability::Shim, Capability::Runtime]) {
            Some(missing) => format!("not available yet: this onebin has no {}", missing.describe()),
            None => "measured by `container-start` (a runtime pod) and `pod-ready` (pods run by the agent)".into(),
        },
    ));
    section.notes.push(
        "Settled means four samples 0.5 s apart within 1% of each other (at least 3 s after ready, at most 30 s). \
         VmRSS is the resident set then; VmHWM is its peak since exec (start-up included). MiB = 2^20 bytes."
            .into(),
    );
    Ok(section)
}

/// A node agent joined to `server`, once its node is Ready and its memory has settled.
async fn joined_agent(ctx: &Ctx, server: &Server) -> Result<Memory> {
    let mut agent = Agent::spawn(ctx, server, agent::Kind::Real { name: "idle-agent", images: &[] })?;
    let api = server.admin()?;
    let mut conn = api.connect(Protocol::Http2).await?;
    let path = "/api/v1/nodes/idle-agent";
    agent::wait_until(agent.spawned, TIMEOUT, Duration::from_millis(50), "the agent's node Ready", async || {
        let (status, body) = conn.call(api.request(Method::GET, path, None)).await?;
        Ok(status == StatusCode::OK && crate::server::node_is_ready(&body))
    })
    .await
    .map_err(|err| anyhow::anyhow!("{err:#}; the agent's log ends with:\n{}", agent.log_tail()))?;
    let memory = settle(agent.pid()).await?;
    agent.fail_if_exited()?;
    Ok(memory)
}

/// Samples the memory of `pid` until it stops moving.
pub(super) async fn settle(pid: u32) -> Result<Memory> {
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

/// A row of memory samples, against a limit of `limit_mb` megabytes (10^6 bytes, as the issue
/// says) when there is one.
fn memory_row(measure: &str, samples: &[Memory], limit_mb: Option<f64>) -> Row {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rss: Vec<f64> = samples.iter().map(|m| mib(m.rss_kib)).collect();
    let hwm: Vec<f64> = samples.iter().map(|m| mib(m.hwm_kib)).collect();
    let (Some(rss), Some(hwm)) = (median(&rss), median(&hwm)) else { return Row::not_measured(measure, "no samples") };
    let row = Row::new(measure, format!("VmRSS {rss:.1} MiB (VmHWM {hwm:.1} MiB)"));
    match limit_mb {
        Some(limit_mb) => {
            let limit_mib = limit_mb * 1e6 / (1024.0 * 1024.0);
            row.target(format!("VmRSS ≤ {limit_mb:.0} MB ({limit_mib:.1} MiB)"), rss <= limit_mib)
        }
        None => row,
    }
}
