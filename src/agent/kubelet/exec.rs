//! Running a command in a container and collecting its output: what exec probes and
//! lifecycle hooks need.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::runtime::service::{ExecOptions, RuntimeService};

/// Output kept from a probe or hook (as upstream, a probe's output is capped).
const MAX_OUTPUT: usize = 10 * 1024;

/// Runs `command` in container `id`; returns (exit code, combined output). A command still
/// running after `timeout` is reported as an error.
pub async fn run(runtime: &RuntimeService, id: &str, command: Vec<String>, timeout: Duration) -> Result<(i32, String)> {
    let (out_read, out_write) = nix::unistd::pipe().context("creating a pipe")?;
    let null_in: OwnedFd = std::fs::File::open("/dev/null")?.into();
    let err_write = out_write.try_clone()?;
    let handle = runtime
        .exec(
            id,
            ExecOptions { args: command, env: Vec::new(), cwd: None, tty: false },
            Some([null_in, out_write, err_write]),
        )
        .await?;
    let reader = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::from(out_read);
        let mut output = Vec::new();
        let _ = file.by_ref().take(MAX_OUTPUT as u64).read_to_end(&mut output);
        // Drain the rest so the process never blocks on a full pipe.
        let _ = std::io::copy(&mut file, &mut std::io::sink());
        String::from_utf8_lossy(&output).into_owned()
    });
    let waiter = tokio::task::spawn_blocking(move || handle.wait());
    let code = tokio::time::timeout(timeout, waiter)
        .await
        .map_err(|_| anyhow::anyhow!("command timed out after {timeout:?}"))?
        .context("exec task failed")??;
    let output =
        tokio::time::timeout(Duration::from_secs(1), reader).await.ok().and_then(Result::ok).unwrap_or_default();
    Ok((code, output))
}
