//! A real `onebin agent` joined to a benchmark's server with its token, on a data dir, run dir,
//! cgroup parent and bridge of its own: one node that runs pods, or N simulated (hollow) nodes.
//! Stopped and cleaned up when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::benches::Ctx;
use crate::process;
use crate::server::{free_port, Server};

pub struct Agent {
    dir: tempfile::TempDir,
    child: Child,
    pub spawned: Instant,
    cgroup_parent: String,
    bridge: String,
}

pub enum Kind<'a> {
    /// One node named `name` that runs its pods, with these image archives to import at start.
    Real { name: &'a str, images: &'a [PathBuf] },
    /// `count` hollow nodes named `<prefix>-<i>`.
    Simulated { prefix: &'a str, count: u32 },
}

impl Agent {
    pub fn spawn(ctx: &Ctx, server: &Server, kind: Kind<'_>) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("onebin-bench-agent-").tempdir_in(&ctx.work_dir)?;
        let token = dir.path().join("token");
        std::fs::write(&token, server.token(ctx)?)?;
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, "")?;
        let data = dir.path().join("data");
        let port = free_port()?;
        // Interface names are at most 15 bytes; the port keeps concurrent runs apart.
        let bridge = format!("obb{port}");
        let cgroup_parent = format!("/onebin-bench-agent-{}-{port}", std::process::id());
        let mut command = Command::new(&ctx.onebin);
        command
            .args(["agent", "--log", "warn", "--node-ip", "127.0.0.1", "--flannel-backend", "none"])
            .args(["--server", &server.url(), "--bridge", &bridge, "--cgroup-parent", &cgroup_parent])
            .arg("--token-file")
            .arg(&token)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .arg("--run-dir")
            .arg(dir.path().join("run"))
            .arg("--kubelet-port")
            .arg(port.to_string());
        match kind {
            Kind::Real { name, images } => {
                let airgap = data.join("agent").join("images");
                std::fs::create_dir_all(&airgap)?;
                for archive in images {
                    let target = airgap.join(archive.file_name().context("an image archive without a name")?);
                    if std::fs::hard_link(archive, &target).is_err() {
                        std::fs::copy(archive, &target).with_context(|| format!("copying {}", archive.display()))?;
                    }
                }
                command.args(["--node-name", name]);
            }
            Kind::Simulated { prefix, count } => {
                command.args(["--node-name", prefix, "--simulate", &count.to_string()]);
            }
        }
        let log = std::fs::File::create(dir.path().join("agent.log"))?;
        command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).env_remove("KUBECONFIG");
        process::die_with_parent(&mut command);
        let spawned = Instant::now();
        let child = command.spawn().with_context(|| format!("starting {} agent", ctx.onebin.display()))?;
        Ok(Self { dir, child, spawned, cgroup_parent, bridge })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn memory(&self) -> Result<process::Memory> {
        process::Memory::of(self.pid())
    }

    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn fail_if_exited(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("onebin agent exited early ({status}); its log ends with:\n{}", self.log_tail());
        }
        Ok(())
    }

    pub fn log_tail(&self) -> String {
        process::log_tail(&self.dir.path().join("agent.log"))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        process::terminate(&mut self.child);
        // Pods of a real node outlive its agent (as with any kubelet): their containers go
        // with the cgroup, their shims (which name this node's run dir) and mounts after them.
        process::remove_cgroup_processes(&self.cgroup_parent);
        process::kill_processes_naming(&self.run_dir());
        process::unmount_under(&self.run_dir());
        process::unmount_under(&self.dir.path().join("data"));
        process::remove_cgroup(&self.cgroup_parent);
        let _ = Command::new("ip").args(["link", "delete", &self.bridge]).stderr(Stdio::null()).status();
    }
}

/// The time since `since` at which `check` first holds, polling every `every` for at most `timeout`.
pub async fn wait_until(
    since: Instant,
    timeout: Duration,
    every: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Result<bool>,
) -> Result<Duration> {
    loop {
        if check().await? {
            return Ok(since.elapsed());
        }
        if since.elapsed() > timeout {
            bail!("{what} not reached within {timeout:?}");
        }
        tokio::time::sleep(every).await;
    }
}
