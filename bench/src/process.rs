//! Child processes the benchmarks start: their memory, and stopping them.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{sysconf, Pid, SysconfVar};

/// Resident memory of a process, from /proc/PID/status.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size so far ("high water mark"), KiB.
    pub hwm_kib: u64,
}

impl Memory {
    pub fn of(pid: u32) -> Result<Self> {
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("reading process {pid}"))?;
        let field = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow!("process {pid} reports no {name}"))
        };
        Ok(Self { rss_kib: field("VmRSS:")?, hwm_kib: field("VmHWM:")? })
    }
}

/// CPU time (user and system) process `pid` has used so far, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("reading process {pid}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces; utime and
    // stime are fields 14 and 15 of the whole line.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
        return Err(anyhow!("process {pid} has an unreadable /proc/PID/stat"));
    };
    let per_second = sysconf(SysconfVar::CLK_TCK).ok().flatten().filter(|&t| t > 0).unwrap_or(100) as f64;
    Ok(Duration::from_secs_f64((user + system) as f64 / per_second))
}

/// The last lines of a child's log file, for error messages.
pub fn log_tail(path: &std::path::Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Makes the child started by `command` get SIGTERM when this process dies, so a benchmark
/// killed halfway leaves no server behind.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory shared with the parent.
    unsafe {
        command.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from));
    }
}

/// Removes the cgroup `parent` (a path below each hierarchy's root) and everything under it,
/// in every hierarchy, once its processes are gone. What cannot be removed is reported.
pub fn remove_cgroup(parent: &str) {
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else { return };
    for hierarchy in hierarchies.flatten() {
        let root = hierarchy.path().join(parent.trim_start_matches('/'));
        if root.is_dir() {
            remove_cgroup_dir(&root);
        }
    }
}

/// SIGKILLs every process in the cgroup `parent` and below, in every hierarchy: what a node's
/// pods leave running when their agent is gone.
pub fn remove_cgroup_processes(parent: &str) {
    fn kill_in(dir: &std::path::Path) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                kill_in(&entry.path());
            }
        }
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else { return };
    for hierarchy in hierarchies.flatten() {
        let root = hierarchy.path().join(parent.trim_start_matches('/'));
        if root.is_dir() {
            kill_in(&root);
        }
    }
    // The killed processes must be gone before their cgroups can be removed.
    std::thread::sleep(Duration::from_millis(200));
}

/// SIGKILLs every process whose command line names `path` (a node's shims carry its run dir).
pub fn kill_processes_naming(path: &std::path::Path) {
    let needle = path.as_os_str().as_encoded_bytes();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if cmdline.windows(needle.len()).any(|w| w == needle) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Detaches every mount at or below `dir` (pod rootfs, volumes, network namespaces), deepest first.
pub fn unmount_under(dir: &std::path::Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else { return };
    // The fifth field is the mount point, with spaces and the like escaped as octal.
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| p.replace("\\040", " "))
        .filter(|p| std::path::Path::new(p).starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = nix::mount::umount2(point.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}

fn remove_cgroup_dir(dir: &std::path::Path) {
    if let Ok(children) = std::fs::read_dir(dir) {
        for child in children.flatten() {
            if child.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_dir(&child.path());
            }
        }
    }
    if let Err(err) = std::fs::remove_dir(dir) {
        eprintln!("warning: cannot remove cgroup {}: {err}", dir.display());
    }
}

/// Stops a child with SIGTERM, then SIGKILL if it has not exited after ten seconds.
pub fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_memory_and_cpu() {
        let memory = Memory::of(std::process::id()).unwrap();
        assert!(memory.rss_kib > 0 && memory.hwm_kib >= memory.rss_kib, "{memory:?}");
        // Spinning must show up as CPU time within a few seconds, even on a busy machine.
        let before = cpu_time(std::process::id()).unwrap();
        let spin = Instant::now();
        while cpu_time(std::process::id()).unwrap() <= before {
            assert!(spin.elapsed() < Duration::from_secs(10), "no CPU time counted while spinning");
        }
        assert!(Memory::of(u32::MAX).is_err());
    }
}
