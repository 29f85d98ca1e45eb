//! One container inside the shim: created and started with libcontainer from a bundle the
//! runtime service prepared, its output copied into its CRI log (and to attached clients),
//! its exit recorded.

use std::fs;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use jiff::Timestamp;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::protocol::{self, CreateRequest, ExecRequest, STREAM_STDERR, STREAM_STDOUT};
use crate::runtime::cgroups;
use crate::runtime::logs::{LogWriter, Stream};
use crate::runtime::types::{ContainerState, ContainerStatus};

/// How long libcontainer gets to hand over a pty master.
const CONSOLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Attached clients that fall this far behind are dropped rather than stalling the shim.
const MAX_ATTACH_BACKLOG: usize = 4 * 1024 * 1024;

/// A client attached to the container's output.
pub struct Attached {
    pub conn: UnixStream,
    pub backlog: Vec<u8>,
}

/// A stream of container output the shim reads.
pub struct Output {
    pub fd: OwnedFd,
    pub stream: Stream,
}

pub struct Managed {
    pub request: CreateRequest,
    container: Container,
    pub state: ContainerState,
    log: LogWriter,
    pub outputs: Vec<Output>,
    /// Our end of the container's stdin (pipe writer or pty master), if it has one.
    stdin: Option<OwnedFd>,
    pub attached: Vec<Attached>,
    oom_kills_before: u64,
}

fn nonblocking(fd: &OwnedFd) -> Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).context("creating pipe")
}

/// A listening socket for libcontainer's console handover, at a fresh path in `dir`.
fn console_socket(dir: &Path) -> Result<(UnixListener, PathBuf)> {
    let path = dir.join(format!("console-{:016x}.sock", rand::random::<u64>()));
    let listener = super::socket_path::bind(&path).with_context(|| format!("binding {}", path.display()))?;
    Ok((listener, path))
}

/// Waits for libcontainer's init to send the pty master over the console socket.
fn receive_pty_master(listener: &UnixListener, path: &Path) -> Result<OwnedFd> {
    let result = (|| {
        listener.set_nonblocking(true)?;
        let deadline = Instant::now() + CONSOLE_TIMEOUT;
        let conn = loop {
            match listener.accept() {
                Ok((conn, _)) => break conn,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(err) => return Err(anyhow!("waiting for the container's terminal: {err}")),
            }
        };
        conn.set_nonblocking(false)?;
        conn.set_read_timeout(Some(CONSOLE_TIMEOUT))?;
        receive_fd(&conn)
    })();
    let _ = fs::remove_file(path);
    result
}

/// libcontainer sends the pty master with a raw (unframed) message.
fn receive_fd(conn: &UnixStream) -> Result<OwnedFd> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::FromRawFd;
    let mut buf = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(conn.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)?;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this descriptor for us.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    bail!("the container's terminal did not arrive")
}

fn builder(id: &str, state_root: &Path) -> Result<ContainerBuilder> {
    ContainerBuilder::new(id.to_string(), SyscallType::Linux).with_root_path(state_root).map_err(|e| anyhow!("{e}"))
}

impl Managed {
    /// Creates the container (its init waits for `start`), wiring stdio to pipes or a pty.
    pub fn create(request: CreateRequest, state_root: &Path, scratch: &Path) -> Result<Managed> {
        let log = LogWriter::open(&request.log_path, request.log_max_size, request.log_max_files)
            .with_context(|| format!("opening log {}", request.log_path.display()))?;
        let mut builder = builder(&request.id, state_root)?;
        let mut outputs = Vec::new();
        let mut stdin = None;
        let console = if request.tty {
            let (listener, path) = console_socket(scratch)?;
            builder = builder.with_console_socket(Some(&path));
            Some((listener, path))
        } else {
            let (out_read, out_write) = pipe()?;
            let (err_read, err_write) = pipe()?;
            builder = builder.with_stdout(out_write).with_stderr(err_write);
            outputs.push(Output { fd: out_read, stream: Stream::Stdout });
            outputs.push(Output { fd: err_read, stream: Stream::Stderr });
            if request.stdin {
                let (in_read, in_write) = pipe()?;
                builder = builder.with_stdin(in_read);
                stdin = Some(in_write);
            }
            None
        };
        let result = builder
            .as_init(&request.bundle)
            .with_systemd(false)
            .with_detach(true)
            .build()
            .map_err(|e| anyhow!("creating container: {e}"));
        let mut container = match result {
            Ok(container) => container,
            Err(err) => {
                if let Some((_, path)) = &console {
                    let _ = fs::remove_file(path);
                }
                return Err(err);
            }
        };
        let wired = (|| {
            if let Some((listener, path)) = console {
                let master = receive_pty_master(&listener, &path)?;
                if request.stdin {
                    stdin = Some(master.try_clone()?);
                }
                outputs.push(Output { fd: master, stream: Stream::Stdout });
            }
            outputs.iter().try_for_each(|output| nonblocking(&output.fd))
        })();
        if let Err(err) = wired {
            // Its init waits for a start that will not come; take it down with its cgroup.
            let _ = container.delete(true);
            return Err(err);
        }
        let pid = container.pid().map(|p| p.as_raw());
        let managed = Managed {
            oom_kills_before: cgroups::oom_kills(&request.cgroup_path),
            state: ContainerState {
                id: request.id.clone(),
                status: ContainerStatus::Created,
                pid,
                exit_code: None,
                reason: None,
                created_at: Timestamp::now(),
                started_at: None,
                finished_at: None,
            },
            request,
            container,
            log,
            outputs,
            stdin,
            attached: Vec::new(),
        };
        managed.save_state();
        Ok(managed)
    }

    pub fn start(&mut self) -> Result<()> {
        if self.state.status != ContainerStatus::Created {
            bail!("container {} is {}, not Created", self.state.id, self.state.status.as_str());
        }
        self.container.start().map_err(|e| anyhow!("starting container: {e}"))?;
        self.state.status = ContainerStatus::Running;
        self.state.started_at = Some(Timestamp::now());
        self.save_state();
        Ok(())
    }

    pub fn is_live(&self) -> bool {
        matches!(self.state.status, ContainerStatus::Created | ContainerStatus::Running)
    }

    /// Signals the container's init process.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let pid = self.state.pid.context("container has no process")?;
        match kill(Pid::from_raw(pid), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(err) => Err(err).context("signalling container"),
        }
    }

    /// SIGKILL to every process in the container's cgroup.
    pub fn kill_all(&mut self) -> Result<()> {
        self.signal(Signal::SIGKILL)?;
        if self.is_live() {
            self.container.kill(Signal::SIGKILL, true).map_err(|e| anyhow!("killing container: {e}"))?;
        }
        Ok(())
    }

    /// The init process ended with `exit_code`.
    pub fn exited(&mut self, exit_code: i32) {
        let oom = cgroups::oom_kills(&self.request.cgroup_path) > self.oom_kills_before;
        self.state.status = ContainerStatus::Exited;
        self.state.exit_code = Some(exit_code);
        self.state.finished_at = Some(Timestamp::now());
        self.state.reason = Some(
            match (oom, exit_code) {
                (true, _) => "OOMKilled",
                (false, 0) => "Completed",
                (false, _) => "Error",
            }
            .to_string(),
        );
        self.stdin = None;
        self.save_state();
    }

    /// Deletes what libcontainer made (state dir, cgroup). The process must be gone.
    pub fn delete(mut self) -> Result<()> {
        self.drain_outputs();
        self.container.delete(true).map_err(|e| anyhow!("deleting container: {e}"))
    }

    /// Copies what is readable from output `index` into the log and to attached clients.
    /// Returns false once the stream ended.
    pub fn pump_output(&mut self, index: usize) -> bool {
        let mut buf = [0u8; 64 * 1024];
        loop {
            let output = &self.outputs[index];
            match nix::unistd::read(output.fd.as_raw_fd(), &mut buf) {
                Ok(0) => return self.end_output(index),
                Ok(n) => {
                    let stream = output.stream;
                    if let Err(err) = self.log.write(stream, &buf[..n]) {
                        tracing::warn!(id = %self.state.id, "writing log: {err}");
                    }
                    let frame = protocol::encode_frame(
                        if stream == Stream::Stdout { STREAM_STDOUT } else { STREAM_STDERR },
                        &buf[..n],
                    );
                    for client in &mut self.attached {
                        client.backlog.extend_from_slice(&frame);
                    }
                    self.flush_attached();
                }
                Err(nix::errno::Errno::EAGAIN) => return true,
                Err(nix::errno::Errno::EINTR) => continue,
                // A pty master reads EIO once the last slave holder is gone.
                Err(_) => return self.end_output(index),
            }
        }
    }

    fn end_output(&mut self, index: usize) -> bool {
        let stream = self.outputs[index].stream;
        if let Err(err) = self.log.finish(stream) {
            tracing::warn!(id = %self.state.id, "writing log: {err}");
        }
        false
    }

    /// Reads whatever output is left (the container is gone) and closes the streams.
    pub fn drain_outputs(&mut self) {
        while !self.outputs.is_empty() {
            if self.pump_output(0) {
                // Still open with nothing to read: a leftover process holds the other end.
                let _ = self.end_output(0);
            }
            self.outputs.remove(0);
        }
        self.attached.clear();
    }

    /// Sends what attached clients can take now; drops the ones that hung up or lag.
    pub fn flush_attached(&mut self) {
        self.attached.retain_mut(|client| {
            while !client.backlog.is_empty() {
                match nix::sys::socket::send(
                    client.conn.as_raw_fd(),
                    &client.backlog,
                    nix::sys::socket::MsgFlags::MSG_DONTWAIT | nix::sys::socket::MsgFlags::MSG_NOSIGNAL,
                ) {
                    Ok(n) => {
                        client.backlog.drain(..n);
                    }
                    Err(nix::errno::Errno::EAGAIN) => return client.backlog.len() <= MAX_ATTACH_BACKLOG,
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => return false,
                }
            }
            true
        });
    }

    /// A new attach client: gets the stdin writer (or pty master) and, from now on, output.
    pub fn attach(&mut self, conn: UnixStream) -> Result<()> {
        let stdin_fd = self.stdin.as_ref().map(|fd| fd.try_clone()).transpose()?;
        let fds: Vec<i32> = stdin_fd.iter().map(|fd| fd.as_raw_fd()).collect();
        protocol::send(&conn, &protocol::Response::Attached { has_stdin: stdin_fd.is_some() }, &fds)?;
        if self.request.stdin_once && !self.request.tty {
            // The client's copy is now the only writer: its close is the container's EOF.
            self.stdin = None;
        }
        conn.set_nonblocking(true)?;
        self.attached.push(Attached { conn, backlog: Vec::new() });
        Ok(())
    }

    pub fn reopen_log(&mut self) -> Result<()> {
        self.log.reopen().context("reopening log")
    }

    /// Runs a process in the container (libcontainer's tenant path). Non-TTY processes get
    /// `stdio`; a TTY process's pty master is returned.
    pub fn exec(
        &self,
        state_root: &Path,
        scratch: &Path,
        request: &ExecRequest,
        stdio: Vec<OwnedFd>,
    ) -> Result<(i32, Option<OwnedFd>)> {
        if self.state.status != ContainerStatus::Running {
            bail!("container {} is {}, not Running", self.state.id, self.state.status.as_str());
        }
        let spec =
            oci_spec::runtime::Spec::load(self.request.bundle.join("config.json")).context("reading container spec")?;
        let mut process = spec.process().clone().context("container spec has no process")?;
        let mut env = process.env().clone().unwrap_or_default();
        for entry in &request.env {
            let name = entry.split('=').next().unwrap_or_default();
            env.retain(|e| e.split('=').next() != Some(name));
            env.push(entry.clone());
        }
        process
            .set_args(Some(request.args.clone()))
            .set_env(Some(env))
            .set_terminal(Some(request.tty))
            .set_console_size(None);
        if let Some(cwd) = &request.cwd {
            process.set_cwd(PathBuf::from(cwd));
        }
        let process_file = scratch.join(format!("exec-{:016x}.json", rand::random::<u64>()));
        fs::write(&process_file, serde_json::to_vec(&process)?).context("writing exec process spec")?;
        let mut builder = builder(&self.state.id, state_root)?;
        let console = if request.tty {
            let (listener, path) = console_socket(scratch)?;
            builder = builder.with_console_socket(Some(&path));
            Some((listener, path))
        } else {
            let mut stdio = stdio.into_iter();
            let (Some(stdin), Some(stdout), Some(stderr)) = (stdio.next(), stdio.next(), stdio.next()) else {
                let _ = fs::remove_file(&process_file);
                bail!("a non-TTY exec needs stdin, stdout and stderr descriptors");
            };
            builder = builder.with_stdin(stdin).with_stdout(stdout).with_stderr(stderr);
            None
        };
        let result = builder.as_tenant().with_process(Some(&process_file)).with_detach(true).build();
        let _ = fs::remove_file(&process_file);
        let pid = match result {
            Ok(pid) => pid.as_raw(),
            Err(err) => {
                if let Some((_, path)) = &console {
                    let _ = fs::remove_file(path);
                }
                bail!("exec in container {}: {err}", self.state.id);
            }
        };
        let master = match console {
            Some((listener, path)) => Some(receive_pty_master(&listener, &path)?),
            None => None,
        };
        Ok((pid, master))
    }

    /// Persists the state next to the bundle, where the runtime service finds it even if
    /// this shim is gone.
    fn save_state(&self) {
        let path = self.request.bundle.join("state.json");
        let result = serde_json::to_vec(&self.state).map_err(anyhow::Error::from).and_then(|data| {
            let temp = path.with_extension("json.tmp");
            fs::write(&temp, data)?;
            fs::rename(&temp, &path)?;
            Ok(())
        });
        if let Err(err) = result {
            tracing::warn!(id = %self.state.id, "saving state: {err:#}");
        }
    }

    pub fn output_fds(&self) -> impl Iterator<Item = std::os::fd::BorrowedFd<'_>> {
        self.outputs.iter().map(|o| o.fd.as_fd())
    }
}
