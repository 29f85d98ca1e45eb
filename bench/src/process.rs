//! Child processes the benchmarks start: their memory, and stopping them.

use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Resident memory of a process, from /proc/PID/status.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size so far ("high water mark"), KiB.
    pub hwm_kib: u64,
}

impl Memory {
    pub fn of(pid: u32) -> Result<Self> {
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("reading process {pid}"))?;
        let field = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow!("process {pid} reports no {name}"))
        };
        Ok(Self { rss_kib: field("VmRSS:")?, hwm_kib: field("VmHWM:")? })
    }
}

/// Stops a child with SIGTERM, then SIGKILL if it has not exited after ten seconds.
pub fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
