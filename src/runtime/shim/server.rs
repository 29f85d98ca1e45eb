//! The shim's single-threaded event loop: requests on the unix socket, container output,
//! child exits (the shim is their subreaper) and stop deadlines, all through one `poll`.
//! libcontainer forks from here, which is safe because nothing else runs in this process.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::container::Managed;
use super::protocol::{self, Request, Response};
use super::signals::Wakeup;
use super::trim;
use crate::runtime::cgroups;

/// A client that sends half a request must not stall the shim for long.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for killed containers to be reaped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Quiet time after the last request before the shim drops its clean pages: requests come
/// in bursts (create then start, exec then resize), and trimming between them would put the
/// smaps walk and the refaults of the code just dropped on the caller's clock.
const TRIM_WHEN_IDLE_FOR: Duration = Duration::from_millis(500);

struct StopWaiter {
    id: String,
    /// When SIGKILL follows; None once sent.
    kill_at: Option<Instant>,
    conn: Option<UnixStream>,
}

struct ExecSession {
    conn: UnixStream,
}

pub struct Server {
    listener: UnixListener,
    wakeup: Wakeup,
    /// libcontainer's state dir for this pod's containers.
    state_root: PathBuf,
    /// Where console sockets and exec process specs go briefly.
    scratch: PathBuf,
    containers: BTreeMap<String, Managed>,
    execs: HashMap<i32, ExecSession>,
    clients: Vec<UnixStream>,
    stops: Vec<StopWaiter>,
    shutdown: Option<UnixStream>,
    /// When the pages used by the last requests are dropped, unless another request comes.
    trim_at: Option<Instant>,
}

#[derive(Clone)]
enum Token {
    Wakeup,
    Listener,
    Output(String, usize),
    AttachWritable(String),
}

/// What one poll found ready: event sources, and apart from them the indexes of clients.
struct Ready {
    sources: Vec<(Token, PollFlags)>,
    clients: Vec<usize>,
}

/// What happens to a connection after its request was handled.
enum After {
    Keep,
    Consumed,
}

fn exit_code(status: WaitStatus) -> Option<(i32, i32)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), code)),
        WaitStatus::Signaled(pid, signal, _) => Some((pid.as_raw(), 128 + signal as i32)),
        _ => None,
    }
}

impl Server {
    pub fn new(listener: UnixListener, wakeup: Wakeup, state_root: PathBuf, scratch: PathBuf) -> Server {
        Server {
            listener,
            wakeup,
            state_root,
            scratch,
            containers: BTreeMap::new(),
            execs: HashMap::new(),
            clients: Vec::new(),
            stops: Vec::new(),
            shutdown: None,
            trim_at: None,
        }
    }

    /// Serves until a shutdown request or SIGTERM; every container is gone afterwards.
    pub fn run(&mut self) -> Result<()> {
        self.listener.set_nonblocking(true)?;
        loop {
            let Ready { sources, clients: mut ready_clients } = self.wait()?;
            for (token, events) in sources {
                self.handle(token, events);
            }
            // Taken out highest index first, so each swap_remove moves only a client that
            // is not ready into the freed slot.
            ready_clients.sort_unstable_by(|a, b| b.cmp(a));
            let conns: Vec<UnixStream> = ready_clients.into_iter().map(|i| self.clients.swap_remove(i)).collect();
            let served = !conns.is_empty();
            for conn in conns {
                self.serve_client(conn);
            }
            if served {
                self.trim_at = Some(Instant::now() + TRIM_WHEN_IDLE_FOR);
            } else if self.trim_at.is_some_and(|at| at <= Instant::now()) {
                self.trim_at = None;
                trim::release_clean_pages();
            }
            self.enforce_stop_deadlines();
            if self.shutdown.is_some() {
                self.stop_everything();
                if let Some(conn) = self.shutdown.take() {
                    let _ = protocol::send(&conn, &Response::Ok, &[]);
                }
                return Ok(());
            }
        }
    }

    /// Polls; returns the ready event sources and, apart, the indexes of ready clients.
    fn wait(&self) -> Result<Ready> {
        let mut fds: Vec<PollFd<'_>> = self.clients.iter().map(|c| PollFd::new(c.as_fd(), PollFlags::POLLIN)).collect();
        let clients = fds.len();
        let mut tokens = vec![Token::Wakeup, Token::Listener];
        fds.push(PollFd::new(self.wakeup.fd().as_fd(), PollFlags::POLLIN));
        fds.push(PollFd::new(self.listener.as_fd(), PollFlags::POLLIN));
        for (id, container) in &self.containers {
            for (i, fd) in container.output_fds().enumerate() {
                tokens.push(Token::Output(id.clone(), i));
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            if let Some(lagging) = container.attached.iter().find(|a| !a.backlog.is_empty()) {
                tokens.push(Token::AttachWritable(id.clone()));
                fds.push(PollFd::new(lagging.conn.as_fd(), PollFlags::POLLOUT));
            }
        }
        let timeout = self
            .stops
            .iter()
            .filter_map(|s| s.kill_at)
            .chain(self.trim_at)
            .min()
            .map(|at| at.saturating_duration_since(Instant::now()))
            .map_or(PollTimeout::NONE, |d| {
                PollTimeout::try_from(d.as_millis().min(60_000) as i32 + 1).unwrap_or(PollTimeout::NONE)
            });
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(err) => return Err(err).context("poll"),
        }
        let ready = |fd: &PollFd<'_>| fd.revents().filter(|r| !r.is_empty());
        let ready_clients =
            fds[..clients].iter().enumerate().filter(|(_, fd)| ready(fd).is_some()).map(|(i, _)| i).collect();
        let ready_sources =
            tokens.into_iter().zip(&fds[clients..]).filter_map(|(token, fd)| ready(fd).map(|r| (token, r))).collect();
        Ok(Ready { sources: ready_sources, clients: ready_clients })
    }

    fn handle(&mut self, token: Token, events: PollFlags) {
        match token {
            Token::Wakeup => {
                if self.wakeup.drain() && self.shutdown.is_none() {
                    tracing::info!("terminating on signal");
                    // No one to answer: an unconnected socket pair stands in.
                    self.shutdown = UnixStream::pair().ok().map(|(a, _)| a);
                }
                self.reap();
            }
            Token::Listener => self.accept(),
            Token::Output(id, i) => {
                if let Some(container) = self.containers.get_mut(&id) {
                    if i < container.outputs.len() && !container.pump_output(i) {
                        container.outputs.remove(i);
                        if container.outputs.is_empty() {
                            container.attached.clear();
                        }
                    }
                }
            }
            Token::AttachWritable(id) => {
                if events.intersects(PollFlags::POLLOUT | PollFlags::POLLERR | PollFlags::POLLHUP) {
                    if let Some(container) = self.containers.get_mut(&id) {
                        container.flush_attached();
                    }
                }
            }
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((conn, _)) => {
                    let configured = conn
                        .set_nonblocking(false)
                        .and_then(|_| conn.set_read_timeout(Some(CLIENT_TIMEOUT)))
                        .and_then(|_| conn.set_write_timeout(Some(CLIENT_TIMEOUT)));
                    if configured.is_ok() {
                        self.clients.push(conn);
                    }
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(err) => {
                    tracing::warn!("accept: {err}");
                    return;
                }
            }
        }
    }

    fn serve_client(&mut self, conn: UnixStream) {
        let (request, fds) = match protocol::recv::<Request>(&conn) {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(err) => {
                tracing::debug!("dropping client: {err}");
                return;
            }
        };
        tracing::debug!(?request, "request");
        match self.dispatch(request, fds, &conn) {
            Ok(After::Keep) => self.clients.push(conn),
            Ok(After::Consumed) => {}
            Err(err) => {
                let message = format!("{err:#}");
                tracing::info!("request failed: {message}");
                if protocol::send(&conn, &Response::Error { message }, &[]).is_ok() {
                    self.clients.push(conn);
                }
            }
        }
    }

    fn container(&mut self, id: &str) -> Result<&mut Managed> {
        self.containers.get_mut(id).ok_or_else(|| anyhow!("container {id} not found in this pod"))
    }

    fn dispatch(&mut self, request: Request, fds: Vec<OwnedFd>, conn: &UnixStream) -> Result<After> {
        let reply =
            |response: Response| protocol::send(conn, &response, &[]).map(|_| After::Keep).map_err(anyhow::Error::from);
        match request {
            Request::Ping => reply(Response::Pong { pid: std::process::id() as i32 }),
            Request::Create(create) => {
                if self.containers.contains_key(&create.id) {
                    bail!("container {} already exists", create.id);
                }
                let started = Instant::now();
                let managed = Managed::create(create, &self.state_root, &self.scratch)?;
                tracing::info!(id = %managed.state.id, elapsed = ?started.elapsed(), "created");
                let state = managed.state.clone();
                self.containers.insert(state.id.clone(), managed);
                reply(Response::Status { state })
            }
            Request::Start { id } => {
                let container = self.container(&id)?;
                container.start()?;
                let state = container.state.clone();
                reply(Response::Status { state })
            }
            Request::Stop { id, timeout_secs } => {
                let container = self.container(&id)?;
                if !container.is_live() {
                    return reply(Response::Ok);
                }
                let signal = Signal::try_from(container.request.stop_signal).unwrap_or(Signal::SIGTERM);
                let kill_at = if timeout_secs == 0 {
                    container.kill_all()?;
                    None
                } else {
                    container.signal(signal)?;
                    Some(Instant::now() + Duration::from_secs(timeout_secs))
                };
                let conn = conn.try_clone()?;
                self.stops.push(StopWaiter { id, kill_at, conn: Some(conn) });
                Ok(After::Consumed)
            }
            Request::Kill { id, signal } => {
                let signal = Signal::try_from(signal).map_err(|_| anyhow!("invalid signal number {signal}"))?;
                let container = self.container(&id)?;
                if signal == Signal::SIGKILL {
                    container.kill_all()?;
                } else {
                    container.signal(signal)?;
                }
                reply(Response::Ok)
            }
            Request::Remove { id } => {
                self.remove(&id)?;
                reply(Response::Ok)
            }
            Request::Status { id } => {
                let state = self.container(&id)?.state.clone();
                reply(Response::Status { state })
            }
            Request::List => {
                reply(Response::List { containers: self.containers.values().map(|c| c.state.clone()).collect() })
            }
            Request::Stats { id } => {
                let container = self.container(&id)?;
                if !container.is_live() {
                    bail!("container {id} is not running");
                }
                let stats = cgroups::stats(&container.request.cgroup_path)?;
                reply(Response::Stats { stats })
            }
            Request::Exec(exec) => {
                let (state_root, scratch) = (self.state_root.clone(), self.scratch.clone());
                let container = self.container(&exec.id)?;
                let (pid, master) = container.exec(&state_root, &scratch, &exec, fds)?;
                let fds: Vec<i32> = master.iter().map(|m| m.as_raw_fd()).collect();
                protocol::send(conn, &Response::ExecStarted { pid }, &fds)?;
                self.execs.insert(pid, ExecSession { conn: conn.try_clone()? });
                Ok(After::Consumed)
            }
            Request::Attach { id } => {
                let conn = conn.try_clone()?;
                let container = self.container(&id)?;
                if container.outputs.is_empty() {
                    bail!("container {id} has exited; nothing to attach to");
                }
                container.attach(conn)?;
                Ok(After::Consumed)
            }
            Request::ReopenLog { id } => {
                self.container(&id)?.reopen_log()?;
                reply(Response::Ok)
            }
            Request::Shutdown => {
                self.shutdown = Some(conn.try_clone()?);
                Ok(After::Consumed)
            }
        }
    }

    /// Removes a container, killing it first if it still runs.
    fn remove(&mut self, id: &str) -> Result<()> {
        let container = self.container(id)?;
        if container.is_live() {
            container.kill_all()?;
            let pid = container.state.pid;
            if let Some(pid) = pid {
                self.wait_for(pid, SHUTDOWN_GRACE);
            }
        }
        let container = self.containers.remove(id).expect("looked up above");
        self.stops.retain(|s| s.id != id);
        container.delete()
    }

    /// Waits (bounded) until `pid` was reaped, reaping everything else on the way.
    fn wait_for(&mut self, pid: i32, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.reap();
            let still_running = self.containers.values().any(|c| c.state.pid == Some(pid) && c.is_live());
            if !still_running {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        tracing::warn!(pid, "process did not exit in time");
    }

    /// Collects every exited child: containers record their exit, exec sessions are told.
    fn reap(&mut self) {
        loop {
            let status = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(status) => status,
            };
            let Some((pid, code)) = exit_code(status) else {
                continue;
            };
            if let Some(session) = self.execs.remove(&pid) {
                let _ = protocol::send(&session.conn, &Response::Exited { exit_code: code }, &[]);
                continue;
            }
            let Some(container) = self.containers.values_mut().find(|c| c.state.pid == Some(pid) && c.is_live()) else {
                continue;
            };
            tracing::info!(id = %container.state.id, code, "container exited");
            container.exited(code);
            // Every process of the container is gone (its PID namespace died with its init),
            // so the rest of its output is in the pipes now.
            container.drain_outputs();
            let id = container.state.id.clone();
            for waiter in self.stops.iter_mut().filter(|s| s.id == id) {
                if let Some(conn) = waiter.conn.take() {
                    let _ = protocol::send(&conn, &Response::Ok, &[]);
                }
            }
            self.stops.retain(|s| s.id != id);
        }
    }

    fn enforce_stop_deadlines(&mut self) {
        let now = Instant::now();
        for waiter in &mut self.stops {
            if waiter.kill_at.is_some_and(|at| at <= now) {
                waiter.kill_at = None;
                if let Some(container) = self.containers.get_mut(&waiter.id) {
                    tracing::info!(id = %waiter.id, "grace period over, killing");
                    if let Err(err) = container.kill_all() {
                        tracing::warn!(id = %waiter.id, "kill: {err:#}");
                    }
                }
            }
        }
    }

    /// Kills and deletes every container (shim shutdown).
    fn stop_everything(&mut self) {
        for container in self.containers.values_mut().filter(|c| c.is_live()) {
            if let Err(err) = container.kill_all() {
                tracing::warn!(id = %container.state.id, "kill: {err:#}");
            }
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while self.containers.values().any(|c| c.is_live()) && Instant::now() < deadline {
            self.reap();
            std::thread::sleep(Duration::from_millis(5));
        }
        for (id, container) in std::mem::take(&mut self.containers) {
            if let Err(err) = container.delete() {
                tracing::warn!(%id, "delete: {err:#}");
            }
        }
        for (_, session) in self.execs.drain() {
            let _ = protocol::send(&session.conn, &Response::Error { message: "the pod is shutting down".into() }, &[]);
        }
        self.reap();
    }
}
