//! Removing everything a node's runtime made: every pod sandbox through the runtime, then
//! whatever a crash left behind — processes in the node's cgroups, mounts under its data and
//! run dirs, the cgroups themselves. Used by `onebin cluster delete` and the killall script.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use super::service::{RuntimeConfig, RuntimeService};

/// Removes all pods of the node whose runtime is configured by `config`.
pub async fn remove_everything(config: RuntimeConfig) -> Result<()> {
    let (data, run, parent) = (config.data_dir.clone(), config.run_dir.clone(), config.cgroup_parent.clone());
    let runtime = RuntimeService::new(config)?;
    for sandbox in runtime.list_sandboxes().await.unwrap_or_default() {
        if let Err(err) = runtime.remove_sandbox(&sandbox.id).await {
            tracing::warn!(sandbox = %sandbox.id, "removing a pod failed: {err:#}");
        }
    }
    tokio::task::spawn_blocking(move || {
        kill_cgroup_processes(&parent);
        unmount_below(&[data, run]);
        remove_cgroups(&parent);
    })
    .await?;
    Ok(())
}

/// Every directory of `parent` in every cgroup hierarchy, deepest first.
fn cgroup_dirs(parent: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), out);
            }
        }
        out.push(dir.to_path_buf());
    }
    let mut out = Vec::new();
    let relative = parent.trim_start_matches('/');
    if relative.is_empty() {
        return out;
    }
    let unified = Path::new("/sys/fs/cgroup").join(relative);
    if unified.join("cgroup.procs").exists() {
        walk(&unified, &mut out);
    }
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
        let dir = hierarchy.path().join(relative);
        if dir.is_dir() && dir != unified {
            walk(&dir, &mut out);
        }
    }
    out
}

fn kill_cgroup_processes(parent: &str) {
    for _ in 0..5 {
        let mut found = false;
        for dir in cgroup_dirs(parent) {
            for pid in std::fs::read_to_string(dir.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                found = true;
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
            }
        }
        if !found {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn unmount_below(roots: &[PathBuf]) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(PathBuf::from)
        .filter(|m| roots.iter().any(|r| m.starts_with(r)))
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    for mount in mounts {
        let _ = nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn remove_cgroups(parent: &str) {
    for dir in cgroup_dirs(parent) {
        let _ = std::fs::remove_dir(&dir);
    }
}
