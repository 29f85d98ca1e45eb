//! Talking to a pod's shim (blocking; the async runtime service calls these on its
//! blocking pool), and starting one.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use super::protocol::{self, CreateRequest, ExecRequest, Request, Response};
use crate::runtime::types::{ContainerState, ContainerStats};

/// Requests answer quickly except `stop`, which waits out the grace period.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ShimClient {
    socket: PathBuf,
}

/// A running exec: wait for its exit code; for a TTY, the pty master to talk through.
pub struct ExecHandle {
    pub pid: i32,
    pub pty_master: Option<OwnedFd>,
    conn: UnixStream,
}

impl ExecHandle {
    /// Blocks until the process exits; returns its exit code (128+N when killed by signal N).
    pub fn wait(self) -> Result<i32> {
        self.conn.set_read_timeout(None)?;
        match protocol::recv::<Response>(&self.conn)? {
            Some((Response::Exited { exit_code }, _)) => Ok(exit_code),
            Some((Response::Error { message }, _)) => bail!("{message}"),
            Some((other, _)) => bail!("unexpected answer from the shim: {other:?}"),
            None => bail!("the shim went away before the process exited"),
        }
    }
}

/// An attach session: the container's stdin (if any) and its output frames on `output`.
pub struct AttachHandle {
    pub stdin: Option<OwnedFd>,
    /// Read [`protocol::read_frame`]s from this until it ends.
    pub output: UnixStream,
}

impl ShimClient {
    pub fn new(socket: &Path) -> ShimClient {
        ShimClient { socket: socket.to_path_buf() }
    }

    fn connect(&self) -> Result<UnixStream> {
        let conn = super::socket_path::connect(&self.socket)
            .with_context(|| format!("connecting to the pod's shim at {}", self.socket.display()))?;
        conn.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        conn.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        Ok(conn)
    }

    fn exchange(&self, conn: &UnixStream, request: &Request, fds: &[i32]) -> Result<(Response, Vec<OwnedFd>)> {
        protocol::send(conn, request, fds).context("sending request to the shim")?;
        match protocol::recv::<Response>(conn).context("reading the shim's answer")? {
            Some((Response::Error { message }, _)) => Err(anyhow!(message)),
            Some(answer) => Ok(answer),
            None => bail!("the shim closed the connection"),
        }
    }

    fn call(&self, request: &Request) -> Result<Response> {
        let conn = self.connect()?;
        Ok(self.exchange(&conn, request, &[])?.0)
    }

    fn state(&self, request: &Request) -> Result<ContainerState> {
        match self.call(request)? {
            Response::Status { state } => Ok(state),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    fn ok(&self, request: &Request) -> Result<()> {
        match self.call(request)? {
            Response::Ok => Ok(()),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    /// The shim's pid, if it answers.
    pub fn ping(&self) -> Option<i32> {
        match self.call(&Request::Ping) {
            Ok(Response::Pong { pid }) => Some(pid),
            _ => None,
        }
    }

    pub fn create(&self, request: CreateRequest) -> Result<ContainerState> {
        self.state(&Request::Create(request))
    }

    pub fn start(&self, id: &str) -> Result<ContainerState> {
        self.state(&Request::Start { id: id.to_string() })
    }

    pub fn stop(&self, id: &str, timeout: Duration) -> Result<()> {
        let conn = self.connect()?;
        conn.set_read_timeout(Some(timeout + REQUEST_TIMEOUT))?;
        match self.exchange(&conn, &Request::Stop { id: id.to_string(), timeout_secs: timeout.as_secs() }, &[])?.0 {
            Response::Ok => Ok(()),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    pub fn kill(&self, id: &str, signal: i32) -> Result<()> {
        self.ok(&Request::Kill { id: id.to_string(), signal })
    }

    pub fn remove(&self, id: &str) -> Result<()> {
        self.ok(&Request::Remove { id: id.to_string() })
    }

    pub fn status(&self, id: &str) -> Result<ContainerState> {
        self.state(&Request::Status { id: id.to_string() })
    }

    pub fn list(&self) -> Result<Vec<ContainerState>> {
        match self.call(&Request::List)? {
            Response::List { containers } => Ok(containers),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    pub fn stats(&self, id: &str) -> Result<ContainerStats> {
        match self.call(&Request::Stats { id: id.to_string() })? {
            Response::Stats { stats } => Ok(stats),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    pub fn reopen_log(&self, id: &str) -> Result<()> {
        self.ok(&Request::ReopenLog { id: id.to_string() })
    }

    /// Starts a process in the container. Without a TTY it uses `stdio` (stdin, stdout,
    /// stderr) directly; with one, the returned handle has the pty master.
    pub fn exec(&self, request: ExecRequest, stdio: Option<[&OwnedFd; 3]>) -> Result<ExecHandle> {
        let conn = self.connect()?;
        let fds: Vec<i32> = stdio.iter().flatten().map(|fd| fd.as_raw_fd()).collect();
        if !request.tty && fds.len() != 3 {
            bail!("a non-TTY exec needs stdin, stdout and stderr");
        }
        let (answer, mut received) = self.exchange(&conn, &Request::Exec(request), &fds)?;
        match answer {
            Response::ExecStarted { pid } => Ok(ExecHandle { pid, pty_master: received.pop(), conn }),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    pub fn attach(&self, id: &str) -> Result<AttachHandle> {
        let conn = self.connect()?;
        let (answer, mut received) = self.exchange(&conn, &Request::Attach { id: id.to_string() }, &[])?;
        match answer {
            Response::Attached { .. } => {
                conn.set_read_timeout(None)?;
                Ok(AttachHandle { stdin: received.pop(), output: conn })
            }
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }

    /// Kills every container of the pod and ends the shim (which releases the namespaces).
    pub fn shutdown(&self) -> Result<()> {
        let conn = self.connect()?;
        conn.set_read_timeout(Some(REQUEST_TIMEOUT * 2))?;
        match self.exchange(&conn, &Request::Shutdown, &[])?.0 {
            Response::Ok => Ok(()),
            other => bail!("unexpected answer from the shim: {other:?}"),
        }
    }
}

/// Starts `onebin shim` for a sandbox with the binary at `exe` and waits until it serves.
pub fn spawn(exe: &Path, run_dir: &Path, sandbox_id: &str, hostname: &str) -> Result<()> {
    let output = Command::new(exe)
        .arg("shim")
        .arg("--run-dir")
        .arg(run_dir)
        .arg("--sandbox-id")
        .arg(sandbox_id)
        .arg("--hostname")
        .arg(hostname)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting {} shim", exe.display()))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr);
        bail!("the pod's shim failed to start: {}", message.trim().trim_start_matches("onebin: "));
    }
    Ok(())
}
