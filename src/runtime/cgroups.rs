//! Reading and removing container and pod cgroups, on cgroup v1 (legacy or hybrid) and v2.
//! libcontainer creates a container's cgroup from its spec; this covers what comes after:
//! stats, OOM-kill detection and removing the pod cgroup that holds the containers'.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use jiff::Timestamp;
use libcgroups::common::{create_cgroup_manager, get_cgroup_setup, CgroupConfig, CgroupManager, CgroupSetup};

use super::types::ContainerStats;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// cgroup v1 reports "no limit" as the largest page-aligned i64.
const V1_UNLIMITED: u64 = 0x7fff_ffff_ffff_f000;
/// How long removal waits for killed processes to be reaped.
const REMOVE_PATIENCE: Duration = Duration::from_secs(10);

pub fn is_unified() -> bool {
    matches!(get_cgroup_setup(), Ok(CgroupSetup::Unified))
}

fn manager(cgroup_path: &Path) -> Result<libcgroups::common::AnyCgroupManager> {
    create_cgroup_manager(CgroupConfig {
        cgroup_path: cgroup_path.to_path_buf(),
        systemd_cgroup: false,
        container_name: String::new(),
    })
    .map_err(|e| anyhow!("cgroup {}: {e}", cgroup_path.display()))
}

/// The memory controller's directory for `cgroup_path` (absolute, like `/onebin/pod1/c1`).
fn memory_dir(cgroup_path: &Path) -> PathBuf {
    let relative = cgroup_path.strip_prefix("/").unwrap_or(cgroup_path);
    if is_unified() {
        Path::new(CGROUP_ROOT).join(relative)
    } else {
        Path::new(CGROUP_ROOT).join("memory").join(relative)
    }
}

/// How many times the kernel OOM killer killed a process in the cgroup.
pub fn oom_kills(cgroup_path: &Path) -> u64 {
    let dir = memory_dir(cgroup_path);
    let file = if is_unified() { "memory.events" } else { "memory.oom_control" };
    fs::read_to_string(dir.join(file))
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| line.strip_prefix("oom_kill ").and_then(|n| n.trim().parse().ok()))
        })
        .unwrap_or(0)
}

pub fn stats(cgroup_path: &Path) -> Result<ContainerStats> {
    let stats =
        manager(cgroup_path)?.stats().map_err(|e| anyhow!("reading stats of {}: {e}", cgroup_path.display()))?;
    let usage = stats.memory.memory.usage;
    let inactive_file = stats
        .memory
        .stats
        .get("total_inactive_file")
        .or_else(|| stats.memory.stats.get("inactive_file"))
        .copied()
        .unwrap_or(0);
    let limit = stats.memory.memory.limit;
    Ok(ContainerStats {
        timestamp: Some(Timestamp::now()),
        cpu_usage_nanos: stats.cpu.usage.usage_total,
        memory_usage_bytes: usage,
        memory_working_set_bytes: usage.saturating_sub(inactive_file),
        memory_limit_bytes: (limit != 0 && limit < V1_UNLIMITED && limit != u64::MAX).then_some(limit),
        pids: stats.pids.current,
    })
}

/// Kills whatever is left in the cgroup and its children (containers whose shim died hold
/// theirs still) and removes them all from every hierarchy.
pub fn remove(cgroup_path: &Path) -> Result<()> {
    for child in children(cgroup_path) {
        remove(&child)?;
    }
    // Killed processes keep a cgroup busy until they are reaped. Orphans (of a shim that
    // died) are reaped by init, which may take a moment.
    let deadline = Instant::now() + REMOVE_PATIENCE;
    loop {
        match manager(cgroup_path)?.remove() {
            Ok(()) => return Ok(()),
            Err(err) if Instant::now() >= deadline => {
                return Err(anyhow!("removing cgroup {}: {err}", cgroup_path.display()));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Child cgroups of `cgroup_path` in any hierarchy.
fn children(cgroup_path: &Path) -> BTreeSet<PathBuf> {
    let relative = cgroup_path.strip_prefix("/").unwrap_or(cgroup_path);
    let hierarchies: Vec<PathBuf> = if is_unified() {
        vec![PathBuf::from(CGROUP_ROOT)]
    } else {
        fs::read_dir(CGROUP_ROOT).into_iter().flatten().flatten().map(|e| e.path()).collect()
    };
    let mut children = BTreeSet::new();
    for hierarchy in hierarchies {
        for entry in fs::read_dir(hierarchy.join(relative)).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                children.insert(cgroup_path.join(entry.file_name()));
            }
        }
    }
    children
}
