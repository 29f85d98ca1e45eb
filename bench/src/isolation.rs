//! The run's own network namespace. Every server, peer and client of a run lives in it: the
//! embedded agent's bridge, forwarding and nftables tables stay off the host's network (other
//! onebin nodes may be running there), and all traffic is loopback.

use std::process::Command;

use anyhow::{ensure, Context, Result};
use nix::sched::{unshare, CloneFlags};

/// Moves this process into a new network namespace with loopback up. Must run before any
/// thread is started: the namespace belongs to the calling thread and what it creates later.
pub fn enter_private_network() -> Result<()> {
    unshare(CloneFlags::CLONE_NEWNET).context("creating a network namespace (bench/run must run as root)")?;
    let status = Command::new("ip").args(["link", "set", "lo", "up"]).status().context("running ip (iproute2)")?;
    ensure!(status.success(), "ip link set lo up failed ({status})");
    Ok(())
}
