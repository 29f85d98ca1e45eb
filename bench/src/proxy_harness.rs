//! The service proxy's own harness, bench/proxy_sync.rs: a bench target of onebin's crate, so
//! it can drive `onebin::net::proxy` directly, which this tool (a crate of its own) cannot.
//! Built with cargo, run, and the lines it prints read back.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};

/// Builds the harness and runs it with `services` services and `rounds` rounds; returns what
/// it printed.
pub fn run(repo: &Path, services: u32, rounds: usize) -> Result<String> {
    let harness = build(repo)?;
    let out = Command::new(&harness)
        .args([services.to_string(), rounds.to_string()])
        .output()
        .with_context(|| format!("running {}", harness.display()))?;
    if !out.status.success() {
        bail!("bench/proxy_sync.rs failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The median of the line labelled `label`, in milliseconds.
pub fn median_ms(printed: &str, label: &str) -> Result<f64> {
    printed
        .lines()
        .find_map(|line| line.strip_prefix(label)?.strip_prefix(": median ")?.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow!("bench/proxy_sync.rs printed no {label:?} line:\n{printed}"))
}

/// `cargo build` of the bench target (offline: the run has no network, and onebin's own build
/// has fetched everything); returns the executable.
fn build(repo: &Path) -> Result<std::path::PathBuf> {
    let out = cargo(repo, &["--bench", "proxy_sync", "--message-format=json"])?;
    let harness = out
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "proxy_sync")
        .and_then(|m| m["executable"].as_str().map(std::path::PathBuf::from))
        .context("cargo built no proxy_sync executable")?;
    // A bench target builds the crate's binaries too, with the dev-dependencies' features
    // (tokio's test-util): build the release binary again, so target/release/onebin is the
    // product's build for the benchmarks that run after this one. Both builds stay cached.
    cargo(repo, &["--bin", "onebin"])?;
    Ok(harness)
}

fn cargo(repo: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("cargo")
        .args(["build", "--release", "--offline", "--quiet", "--manifest-path"])
        .arg(repo.join("Cargo.toml"))
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .context("running cargo")?;
    if !out.status.success() {
        bail!("cargo build {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
