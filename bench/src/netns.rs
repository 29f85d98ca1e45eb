//! Work inside the network namespace of a node or pod of a local cluster, from the run: a
//! thread that enters it (sockets it creates stay there, whichever thread uses them later),
//! commands run in it, and finding which of a node's pod namespaces holds an address.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use nix::sched::{setns, CloneFlags};

/// Runs `work` on a thread of its own that has entered the network namespace at `netns`, and
/// waits for it. Only that thread changes namespace; the rest of the process stays where it is.
pub fn run_in<T: Send + 'static>(netns: &Path, work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let file = std::fs::File::open(netns).with_context(|| format!("opening {}", netns.display()))?;
    std::thread::spawn(move || {
        setns(&file, CloneFlags::CLONE_NEWNET).context("entering the network namespace")?;
        work()
    })
    .join()
    .map_err(|_| anyhow!("a thread in {} panicked", netns.display()))?
}

/// `program` run in the network namespace at `netns` (nsenter from util-linux).
pub fn command(netns: &Path, program: &str) -> Command {
    let mut command = Command::new("nsenter");
    command.arg(format!("--net={}", netns.display())).arg(program);
    command
}

/// The pod network namespace, among those a node's runtime keeps in `<run-dir>/netns/`, that
/// holds `ip`: binding a socket to an address works only where the address is local.
pub fn of_pod(run_dir: &Path, ip: Ipv4Addr) -> Result<PathBuf> {
    let dir = run_dir.join("netns");
    let candidates = std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
    for path in candidates.flatten().map(|entry| entry.path()) {
        if run_in(&path, move || Ok(UdpSocket::bind((ip, 0)).is_ok()))? {
            return Ok(path);
        }
    }
    Err(anyhow!("no network namespace under {} holds {ip}", dir.display()))
}
