//! A real `onebin server` on a fresh data dir and free ports, stopped when dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hyper::{Method, StatusCode};

use crate::benches::Ctx;
use crate::http::{Endpoint, Protocol};
use crate::process;

pub const NODE_NAME: &str = "bench-node";

pub struct Server {
    dir: tempfile::TempDir,
    child: Child,
    /// When the process was spawned: the zero of every start-up timing.
    pub spawned: Instant,
    pub port: u16,
    /// The cgroup the embedded agent was given, removed with the server.
    cgroup_parent: Option<String>,
}

impl Server {
    /// Starts `onebin server`, with its embedded node agent if `agent`, without waiting for it.
    pub fn spawn(ctx: &Ctx, agent: bool) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("onebin-bench-")
            .tempdir_in(&ctx.work_dir)
            .with_context(|| format!("creating a data dir under {}", ctx.work_dir.display()))?;
        let port = free_port()?;
        // An empty config file of our own, so a machine-wide /etc/onebin/config.yaml cannot leak in.
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, "")?;
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut command = Command::new(&ctx.onebin);
        command
            .args(["server", "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--log", "warn"])
            .arg("--https-listen-port")
            .arg(port.to_string())
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--write-kubeconfig")
            .arg(dir.path().join("kubeconfig"))
            .arg("--config")
            .arg(&config);
        let mut cgroup_parent = None;
        if agent {
            command
                .args(["--node-name", NODE_NAME, "--node-ip", "127.0.0.1"])
                .arg("--kubelet-port")
                .arg(free_port()?.to_string())
                .arg("--run-dir")
                .arg(dir.path().join("run"));
            // Flags of later onebins that keep the node to itself: one node needs no overlay,
            // and cgroups (which network namespaces do not separate) get a parent of their own.
            if ctx.capabilities.server_flag("--flannel-backend") {
                command.args(["--flannel-backend", "none"]);
            }
            if ctx.capabilities.server_flag("--cgroup-parent") {
                let parent = format!("/onebin-bench-{}-{port}", std::process::id());
                command.args(["--cgroup-parent", &parent]);
                cgroup_parent = Some(parent);
            }
        } else {
            command.arg("--disable-agent");
        }
        command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).env_remove("KUBECONFIG");
        process::die_with_parent(&mut command);
        let spawned = Instant::now();
        let child = command.spawn().with_context(|| format!("starting {}", ctx.onebin.display()))?;
        Ok(Self { dir, child, spawned, port, cgroup_parent })
    }

    /// Starts a server and waits until it is ready.
    pub async fn start(ctx: &Ctx, agent: bool) -> Result<Self> {
        let mut server = Self::spawn(ctx, agent)?;
        server.wait_ready(Duration::from_secs(60)).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// The URL agents join.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The server's join token, as `onebin token` prints it.
    pub fn token(&self, ctx: &Ctx) -> Result<String> {
        let out =
            Command::new(&ctx.onebin).arg("token").arg("--data-dir").arg(self.dir.path().join("data")).output()?;
        if !out.status.success() {
            bail!("onebin token failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The API server, authenticated as the admin of the kubeconfig it wrote.
    pub fn admin(&self) -> Result<Endpoint> {
        crate::kubeconfig::admin_endpoint(&self.kubeconfig())
    }

    /// Polls `/readyz` until it answers 200; returns the time since spawn.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<Duration> {
        let probe = Endpoint::probe(SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)));
        loop {
            self.fail_if_exited()?;
            if let Ok(mut conn) = probe.connect(Protocol::Http1).await {
                // Keep the connection: later probes cost no handshake.
                while let Ok((status, _)) = conn.call(probe.request(Method::GET, "/readyz", None)).await {
                    if status == StatusCode::OK {
                        return Ok(self.spawned.elapsed());
                    }
                    self.check_deadline(timeout, "/readyz")?;
                    tokio::time::sleep(POLL).await;
                }
            }
            self.check_deadline(timeout, "/readyz")?;
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls this server's node until its Ready condition is True; returns the time since spawn.
    pub async fn wait_node_ready(&mut self, timeout: Duration) -> Result<Duration> {
        let admin = self.admin()?;
        let mut conn = admin.connect(Protocol::Http2).await?;
        let path = format!("/api/v1/nodes/{NODE_NAME}");
        loop {
            self.fail_if_exited()?;
            let (status, body) = conn.call(admin.request(Method::GET, &path, None)).await?;
            if status == StatusCode::OK && node_is_ready(&body) {
                return Ok(self.spawned.elapsed());
            }
            self.check_deadline(timeout, "node Ready")?;
            tokio::time::sleep(POLL).await;
        }
    }

    /// The server's memory now.
    pub fn memory(&self) -> Result<process::Memory> {
        process::Memory::of(self.pid())
    }

    fn fail_if_exited(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("onebin server exited early ({status}); its log ends with:\n{}", self.log_tail());
        }
        Ok(())
    }

    /// What became of the server after a request failed: whether it exits within two seconds,
    /// and the end of its log either way.
    pub async fn post_mortem(&mut self) -> String {
        for _ in 0..40 {
            if let Ok(Some(status)) = self.child.try_wait() {
                // onebin exits 0 only on SIGTERM or SIGINT, which the benchmark had not sent.
                let cause = if status.success() { ", stopped by a signal from outside the benchmark" } else { "" };
                return format!("the server exited ({status}{cause}); its log ends with:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let listening = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok();
        format!(
            "the server is still running and {} on its port; its log ends with:\n{}",
            if listening { "accepting connections" } else { "NOT accepting connections" },
            self.log_tail()
        )
    }

    fn check_deadline(&self, timeout: Duration, what: &str) -> Result<()> {
        if self.spawned.elapsed() > timeout {
            bail!("{what} not reached within {timeout:?}; the server log ends with:\n{}", self.log_tail());
        }
        Ok(())
    }

    fn log_tail(&self) -> String {
        process::log_tail(&self.dir.path().join("server.log"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        process::terminate(&mut self.child);
        if let Some(parent) = &self.cgroup_parent {
            process::remove_cgroup(parent);
        }
    }
}

/// Readiness is polled this often: the resolution of the start-up timings.
const POLL: Duration = Duration::from_millis(5);

pub fn node_is_ready(body: &[u8]) -> bool {
    let Ok(node) = serde_json::from_slice::<serde_json::Value>(body) else { return false };
    node["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| conditions.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}
