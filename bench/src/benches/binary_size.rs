//! Size of the onebin binary as built, and after `strip --strip-all` of a copy.

use std::process::Command;

use anyhow::{bail, Context, Result};

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::report::{Row, Section};

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let built = std::fs::metadata(&ctx.onebin).with_context(|| format!("reading {}", ctx.onebin.display()))?.len();
    let dir = tempfile::Builder::new().prefix("onebin-strip-").tempdir_in(&ctx.work_dir)?;
    let stripped_path = dir.path().join("onebin");
    let status = Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(&stripped_path)
        .arg(&ctx.onebin)
        .status()
        .context("running strip (binutils)")?;
    if !status.success() {
        bail!("strip --strip-all failed ({status})");
    }
    let stripped = std::fs::metadata(&stripped_path)?.len();

    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    section.rows.push(Row::new("release build, as built (profile strips symbols)", mib(built)));
    section.rows.push(Row::new("after strip --strip-all", mib(stripped)));
    let scale: Vec<String> = ["/usr/bin/etcd", "/usr/bin/kubectl"]
        .iter()
        .filter_map(|path| Some(format!("{path} {}", mib(std::fs::metadata(path).ok()?.len()))))
        .collect();
    if !scale.is_empty() {
        section.notes.push(format!("For scale only (not peers, they do a fraction of the job): {}.", scale.join(", ")));
    }
    let version = Command::new(&ctx.onebin).arg("--version").output().context("running onebin --version")?;
    section.notes.push(format!("Measured: `{}`.", String::from_utf8_lossy(&version.stdout).trim()));
    Ok(section)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
