//! `nft monitor` from Debian's nftables: every set element the kernel's nftables commit adds or
//! deletes, as the kernel announces it, each line stamped when it was read. It shows when a
//! rule change is really in the kernel without listing a large ruleset again and again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub const PACKAGE: &str = "nftables";

/// A running `nft monitor elements` in the run's network namespace; stopped when dropped.
pub struct Monitor {
    child: Child,
    lines: UnboundedReceiver<(Instant, String)>,
}

impl Monitor {
    pub fn start() -> Result<Self> {
        let mut command = Command::new("nft");
        command.args(["monitor", "elements"]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        crate::process::die_with_parent(&mut command);
        let mut child = command.spawn().context("starting nft monitor (is nftables installed?)")?;
        let stdout = child.stdout.take().context("nft monitor's output")?;
        let (sender, lines) = unbounded_channel();
        // nft writes each event as it comes; the thread ends when nft does.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Ok(Self { child, lines })
    }

    /// When the first line read after `since` that satisfies `wanted` was read; fails after
    /// `timeout`. Earlier lines are skipped.
    pub async fn wait(
        &mut self,
        since: Instant,
        timeout: Duration,
        what: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Instant> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.lines.recv())
                .await
                .map_err(|_| anyhow!("nft monitor showed no {what} within {timeout:?}"))?;
            let (read, line) = next.ok_or_else(|| anyhow!("nft monitor ended"))?;
            if read >= since && wanted(&line) {
                return Ok(read);
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
