//! iperf3 from Debian, run inside network namespaces: a server listening on one address, and
//! TCP throughput measured by a client in another namespace.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{netns, process};

pub const PACKAGE: &str = "iperf3";
/// A port of its own, away from iperf3's default: nothing else of the run listens there.
pub const PORT: u16 = 5301;

/// `iperf3 -s` bound to one address; stopped when dropped.
pub struct Server {
    child: Child,
}

impl Server {
    pub fn start(netns: &Path, address: Ipv4Addr) -> Result<Self> {
        let mut command = netns::command(netns, "iperf3");
        command
            .args(["--server", "--bind", &address.to_string(), "--port", &PORT.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        process::die_with_parent(&mut command);
        // nsenter execs iperf3 itself, so this child is the server.
        Ok(Self { child: command.spawn().context("starting iperf3 --server (is iperf3 installed?)")? })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        process::terminate(&mut self.child);
    }
}

/// Bits per second received by the server at `server` from a client in `netns` sending for
/// `seconds` (the first second, TCP's slow start, not counted). A server that is still
/// starting (connection refused) is retried for a few seconds.
pub fn throughput(netns: &Path, server: Ipv4Addr, seconds: u32) -> Result<f64> {
    let started = Instant::now();
    loop {
        let out = netns::command(netns, "iperf3")
            .args(["--client", &server.to_string(), "--port", &PORT.to_string(), "--json", "--omit", "1"])
            .args(["--time", &seconds.to_string()])
            .output()
            .context("running iperf3 --client")?;
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("iperf3 printed no JSON: {}", String::from_utf8_lossy(&out.stderr).trim()))?;
        if let Some(bits) = report["end"]["sum_received"]["bits_per_second"].as_f64() {
            return Ok(bits);
        }
        let error = report["error"].as_str().unwrap_or("no result").to_string();
        if !error.contains("Connection refused") || started.elapsed() > Duration::from_secs(5) {
            bail!("iperf3 to {server}: {error}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
