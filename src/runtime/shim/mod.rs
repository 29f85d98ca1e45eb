//! The per-pod shim: `onebin shim`, the same binary re-executed by the runtime service.
//!
//! It daemonises (the process that was started exits once the shim is ready, so whoever
//! started it has nothing to reap and the shim outlives it), becomes the child subreaper,
//! creates the pod's network, IPC and UTS namespaces by unsharing them itself (no pause
//! container), and bind-mounts them so they outlive any one container: the network
//! namespace at `<run-dir>/netns/<sandbox-id>` for the network code. Then it serves
//! [`protocol`] requests until told to shut down, as the parent of all the pod's containers.
//!
//! It stays single-threaded: libcontainer forks, which is only safe here.

pub mod client;
mod container;
pub mod protocol;
mod server;
mod signals;
mod socket_path;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{fork, setsid, ForkResult};

use super::paths::RuntimePaths;
use super::snapshot::unmount;

/// What `onebin shim` is started with.
#[derive(Debug, Clone)]
pub struct ShimOptions {
    pub sandbox_id: String,
    pub run_dir: PathBuf,
    pub hostname: String,
}

/// The namespaces the shim holds for the pod, and where each is bind-mounted.
fn namespace_mounts(paths: &RuntimePaths, sandbox_id: &str) -> [(&'static str, PathBuf); 3] {
    let dir = paths.sandbox_run_dir(sandbox_id);
    [("net", paths.netns(sandbox_id)), ("ipc", dir.join("ns/ipc")), ("uts", dir.join("ns/uts"))]
}

/// Entry point of `onebin shim`. Returns in the original process once the daemon is ready
/// (or failed); the daemon itself exits the process when done.
pub fn run(options: ShimOptions) -> Result<()> {
    let (ready_read, ready_write) = nix::unistd::pipe().context("creating readiness pipe")?;
    // SAFETY: nothing else runs in this process yet (the shim is started single-threaded),
    // so the child may do anything after fork.
    match unsafe { fork() }.context("forking the shim")? {
        ForkResult::Parent { .. } => {
            drop(ready_write);
            let mut message = String::new();
            File::from(ready_read).read_to_string(&mut message).context("waiting for the shim")?;
            match message.strip_prefix("ready") {
                Some(_) => Ok(()),
                None if message.is_empty() => bail!("the shim died while starting"),
                None => bail!("{message}"),
            }
        }
        ForkResult::Child => {
            drop(ready_read);
            let mut ready = Some(File::from(ready_write));
            let code = match daemon(&options, &mut ready) {
                Ok(()) => 0,
                Err(err) => {
                    tracing::error!("shim failed: {err:#}");
                    if let Some(ready) = ready.as_mut() {
                        let _ = write!(ready, "{err:#}");
                    }
                    1
                }
            };
            std::process::exit(code);
        }
    }
}

/// `ready` is the write end of the readiness pipe; dropped once the shim serves.
fn daemon(options: &ShimOptions, ready: &mut Option<File>) -> Result<()> {
    setsid().context("setsid")?;
    std::env::set_current_dir("/")?;
    let devnull = fs::OpenOptions::new().read(true).write(true).open("/dev/null")?;
    for fd in 0..3 {
        nix::unistd::dup2(devnull.as_raw_fd(), fd).context("redirecting stdio")?;
    }
    // SAFETY: prctl with these arguments only sets a flag on this process.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        bail!("becoming child subreaper: {}", std::io::Error::last_os_error());
    }

    let paths = RuntimePaths::new(Path::new("/nonexistent"), &options.run_dir);
    let dir = paths.sandbox_run_dir(&options.sandbox_id);
    fs::create_dir_all(dir.join("ns")).with_context(|| format!("creating {}", dir.display()))?;
    init_logging(&dir.join("shim.log"));

    let namespaces = namespace_mounts(&paths, &options.sandbox_id);
    let result = serve(options, &dir, &namespaces, ready);
    for (_, target) in &namespaces {
        if let Err(err) = unmount(target).and_then(|_| remove_if_exists(target)) {
            tracing::warn!("releasing {}: {err:#}", target.display());
        }
    }
    for file in ["shim.sock", "shim.pid"] {
        let _ = fs::remove_file(dir.join(file));
    }
    result
}

fn serve(options: &ShimOptions, dir: &Path, namespaces: &[(&str, PathBuf)], ready: &mut Option<File>) -> Result<()> {
    unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS)
        .context("creating pod namespaces")?;
    nix::unistd::sethostname(&options.hostname).with_context(|| format!("setting hostname {:?}", options.hostname))?;
    loopback_up().context("bringing up the pod's loopback interface")?;
    for (kind, target) in namespaces {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        File::create(target).with_context(|| format!("creating {}", target.display()))?;
        let source = format!("/proc/self/ns/{kind}");
        mount(Some(source.as_str()), target, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .with_context(|| format!("bind-mounting the {kind} namespace at {}", target.display()))?;
    }

    let wakeup = signals::Wakeup::install()?;
    let socket = dir.join("shim.sock");
    let _ = fs::remove_file(&socket);
    let listener = socket_path::bind(&socket).with_context(|| format!("binding {}", socket.display()))?;
    fs::write(dir.join("shim.pid"), std::process::id().to_string())?;
    let state_root = dir.join("state");
    fs::create_dir_all(&state_root)?;

    // Writing and closing our end ends the starting process's wait.
    if let Some(mut ready) = ready.take() {
        ready.write_all(b"ready")?;
    }
    tracing::info!(sandbox = %options.sandbox_id, "shim ready");
    server::Server::new(listener, wakeup, state_root, dir.to_path_buf()).run()
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", path.display())),
    }
}

fn loopback_up() -> Result<()> {
    let socket = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in request.ifr_name.iter_mut().zip(b"lo") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we pass, which outlives the calls.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
    }
    Ok(())
}

/// The shim logs to a file in its run dir: its own events from info up, libcontainer's
/// chatter only from warnings up. (A plain target filter: no regex engine in the shim.)
fn init_logging(path: &Path) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let Ok(file) = fs::OpenOptions::new().create(true).append(true).open(path) else {
        return;
    };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN)
        .with_target("onebin", tracing::Level::INFO);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(file)))
        .with(filter)
        .try_init();
}
