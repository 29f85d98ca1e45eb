//! The onebin process of each node of a local cluster: started inside the node's network
//! namespace as a session of its own (it outlives the command that created it), with its
//! data, run dir and cgroup parent apart from the other nodes'.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::layout::{ClusterLayout, NodeLayout, Role};
use super::network::netns_path;

pub struct NodePaths {
    pub data: PathBuf,
    pub run: PathBuf,
    pub log: PathBuf,
    pub pid: PathBuf,
    pub kubeconfig: PathBuf,
    pub cgroup_parent: String,
}

pub fn paths(state: &Path, layout: &ClusterLayout, node: &NodeLayout) -> NodePaths {
    let dir = layout.node_dir(state, node);
    let index = layout.nodes.iter().position(|n| n.name == node.name).unwrap_or(0);
    NodePaths {
        data: dir.join("data"),
        run: dir.join("run"),
        log: dir.join("onebin.log"),
        pid: dir.join("onebin.pid"),
        kubeconfig: dir.join("kubeconfig.yaml"),
        cgroup_parent: format!("/onebin-{}-{index}", layout.name),
    }
}

/// Starts `node`'s process; agents join with `token`.
pub fn start(state: &Path, layout: &ClusterLayout, node: &NodeLayout, token: Option<&str>) -> Result<u32> {
    let p = paths(state, layout, node);
    std::fs::create_dir_all(&p.data)?;
    let mut args: Vec<String> = match node.role {
        Role::Server => vec![
            "server".into(),
            "--write-kubeconfig".into(),
            p.kubeconfig.display().to_string(),
            "--tls-san".into(),
            node.ip.to_string(),
        ],
        Role::Agent => vec![
            "agent".into(),
            "--server".into(),
            layout.server_url(),
            "--token".into(),
            token.context("agents need the join token")?.to_string(),
        ],
    };
    args.extend([
        "--data-dir".into(),
        p.data.display().to_string(),
        "--run-dir".into(),
        p.run.display().to_string(),
        "--node-name".into(),
        node.name.clone(),
        "--cgroup-parent".into(),
        p.cgroup_parent.clone(),
        // The host's own config file is for the host's node, not for these.
        "--config".into(),
        "/dev/null".into(),
    ]);
    args.extend(node.args.iter().cloned());
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&p.log)?;
    let netns = std::fs::File::open(netns_path(&node.netns))
        .with_context(|| format!("opening the namespace of {}", node.name))?;
    let netns_fd = netns.as_raw_fd();
    let mut command = Command::new(std::env::current_exe()?);
    command.args(&args).stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("ONEBIN_")) {
        command.env_remove(key);
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            if nix::libc::setns(netns_fd, nix::libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            nix::libc::setsid();
            Ok(())
        });
    }
    let child = command.spawn().with_context(|| format!("starting {}", node.name))?;
    let pid = child.id();
    std::fs::write(&p.pid, pid.to_string())?;
    Ok(pid)
}

/// The node's process id if it runs.
pub fn running(state: &Path, layout: &ClusterLayout, node: &NodeLayout) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(paths(state, layout, node).pid).ok()?.trim().parse().ok()?;
    // The pid must still be an onebin process (pids are reused).
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    String::from_utf8_lossy(&cmdline).contains(&node.name).then_some(pid)
}

/// Stops the node's process: `signal`, then SIGKILL after `grace`.
pub fn stop(state: &Path, layout: &ClusterLayout, node: &NodeLayout, signal: Signal, grace: Duration) {
    let Some(pid) = running(state, layout, node) else { return };
    let pid = Pid::from_raw(pid);
    let _ = kill(pid, signal);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && kill(pid, None).is_ok() && !is_zombie(pid) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = kill(pid, Signal::SIGKILL);
    let _ = std::fs::remove_file(paths(state, layout, node).pid);
}

fn is_zombie(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) == Some("Z"))
        .unwrap_or(true)
}
