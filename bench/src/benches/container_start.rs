//! Container start, onebin vs crun and runc: runs bench/container_start.sh (the runtime's own
//! harness: one busybox image, rounds interleaved, medians) and turns what it prints into rows.

use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};

use super::{Bench, Ctx};
use crate::report::{Row, Section};

/// What the script needs besides onebin: the peers and what tests/images/build.sh builds from.
pub const PACKAGES: &[&str] = &["crun", "runc", "python3", "busybox-static", "nginx"];

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let script = ctx.bench_dir.join("container_start.sh");
    if !script.is_file() {
        bail!("{} is missing", script.display());
    }
    let rounds = ctx.rounds(10, 50);
    let onebin = ctx.onebin.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&script).arg(rounds.to_string()).env("ONEBIN", &onebin).output()
    })
    .await?
    .context("running bench/container_start.sh")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("bench/container_start.sh failed ({}): {}", output.status, stderr.trim());
    }
    let ms = |label: &str| -> Result<f64> {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("bench/container_start.sh printed no {label:?} line:\n{stdout}"))
    };
    let (api, cli) = (ms("onebin runtime service (API)")?, ms("onebin run -d --pod (CLI)")?);
    let (crun, runc) = (ms("crun run --detach")?, ms("runc run --detach")?);

    let mut section = ctx.section(
        bench,
        "crun and runc from Debian, each running the same unpacked busybox layer (`crun run --detach`, \
         `runc run --detach`). Debian's podman 4.3 was tried and cannot start a container on these machines \
         (the runtime it drives is refused setting RLIMIT_NPROC and RLIMIT_NOFILE: operation not permitted), \
         so it is not timed",
    );
    for (path, onebin_ms) in [("runtime service, as the kubelet calls it", api), ("`onebin run -d --pod` CLI", cli)] {
        let measure = format!("create → process running, {path} (median of {rounds})");
        section.rows.push(
            Row::new(format!("{measure} vs runc"), format!("{onebin_ms:.1} ms"))
                .peer(format!("runc {runc:.1} ms"), Some(onebin_ms / runc))
                .target("≤ 0.5 × runc", onebin_ms / runc <= 0.5),
        );
        section.rows.push(
            Row::new(format!("{measure} vs crun"), format!("{onebin_ms:.1} ms"))
                .peer(format!("crun {crun:.1} ms"), Some(onebin_ms / crun))
                .target("≤ 1.0 × crun", onebin_ms / crun <= 1.0),
        );
    }
    if let Some(line) = stdout.lines().find(|l| l.starts_with("shim memory:")) {
        let rss = line
            .split("RSS ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok());
        let row = Row::new("per-pod shim memory, one running container", line.trim_start_matches("shim memory: "));
        section.rows.push(match rss {
            Some(mb) => row.target("RSS ≤ 2 MB", mb <= 2.0),
            None => row,
        });
    }
    section
        .notes
        .push("Ratios are of the medians over interleaved rounds, as bench/container_start.sh prints them.".into());
    for note in stderr.lines().filter(|l| l.starts_with("note:")) {
        section.notes.push(format!("The script says: {}", note.trim_start_matches("note:").trim()));
    }
    Ok(section)
}
