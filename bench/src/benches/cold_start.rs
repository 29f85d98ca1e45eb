//! Cold start: exec of `onebin server` on an empty data dir until `/readyz` answers, without
//! the agent; and with the embedded agent, until its node is Ready.

use std::time::Duration;

use anyhow::Result;

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::report::{Row, Section};
use crate::server::Server;
use crate::stats::Summary;

const TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let rounds = ctx.rounds(10, 20);
    let (mut ready, mut agent_ready, mut node_ready) = (Vec::new(), Vec::new(), Vec::new());
    // Rounds alternate the two kinds so a burst of noise on the machine hits both alike.
    for round in 0..rounds {
        eprintln!("  round {}/{rounds}", round + 1);
        let mut server = Server::spawn(ctx, false)?;
        ready.push(ms(server.wait_ready(TIMEOUT).await?));
        drop(server);

        let mut server = Server::spawn(ctx, true)?;
        agent_ready.push(ms(server.wait_ready(TIMEOUT).await?));
        node_ready.push(ms(server.wait_node_ready(TIMEOUT).await?));
    }
    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    section.rows.push(timing(
        &format!("exec → /readyz OK, no agent (median of {rounds})"),
        &ready,
        Some(("≤ 1 s", 1000.0)),
    ));
    section.rows.push(timing(&format!("exec → /readyz OK, with agent (median of {rounds})"), &agent_ready, None));
    section.rows.push(timing(
        &format!("exec → node Ready, with agent (median of {rounds})"),
        &node_ready,
        Some(("≤ 2 s", 2000.0)),
    ));
    section.notes.push(
        "Each round starts on an empty data dir, so the time includes generating the CAs, the serving and \
         client certificates and the store; readiness is polled every 5 ms over one kept-alive connection."
            .into(),
    );
    Ok(section)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// A row of start-up times; `target` is its text and the limit the median must stay within.
fn timing(measure: &str, samples_ms: &[f64], target: Option<(&str, f64)>) -> Row {
    let Some(summary) = Summary::of(samples_ms) else { return Row::not_measured(measure, "no samples") };
    let row = Row::new(measure, format!("{:.0} ms (p99 {:.0} ms)", summary.median, summary.p99));
    match target {
        Some((text, limit_ms)) => row.target(text, summary.median <= limit_ms),
        None => row,
    }
}
