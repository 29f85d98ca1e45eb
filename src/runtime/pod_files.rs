//! What the containers of a pod share besides namespaces: /etc/hostname, /etc/hosts,
//! /etc/resolv.conf and a /dev/shm tmpfs, kept in the sandbox's run dir and bind-mounted
//! into every container.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::mount::{mount, MsFlags};

use super::snapshot::unmount;
use super::spec::PodResources;
use super::types::{DnsConfig, SandboxConfig};

const SHM_SIZE: &str = "size=65536k";

fn shm(dir: &Path) -> PathBuf {
    dir.join("shm")
}

/// The shared paths of the pod whose run dir is `dir`.
pub fn resources(dir: &Path, netns: &Path) -> PodResources {
    PodResources {
        netns: netns.to_path_buf(),
        ipcns: dir.join("ns/ipc"),
        utsns: dir.join("ns/uts"),
        shm: shm(dir),
        hostname_file: dir.join("hostname"),
        hosts_file: dir.join("hosts"),
        resolv_conf: dir.join("resolv.conf"),
    }
}

fn resolv_conf(dns: Option<&DnsConfig>) -> Result<String> {
    let Some(dns) = dns else {
        return fs::read_to_string("/etc/resolv.conf").or_else(|_| Ok(String::new()));
    };
    let mut text = String::new();
    if !dns.searches.is_empty() {
        text.push_str(&format!("search {}\n", dns.searches.join(" ")));
    }
    for server in &dns.servers {
        text.push_str(&format!("nameserver {server}\n"));
    }
    if !dns.options.is_empty() {
        text.push_str(&format!("options {}\n", dns.options.join(" ")));
    }
    Ok(text)
}

/// Writes the pod's files and mounts its /dev/shm.
pub fn create(dir: &Path, config: &SandboxConfig) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(dir.join("hostname"), format!("{}\n", config.hostname))?;
    fs::write(
        dir.join("hosts"),
        format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n127.0.1.1\t{}\n",
            config.hostname
        ),
    )?;
    fs::write(dir.join("resolv.conf"), resolv_conf(config.dns.as_ref())?)?;
    let shm = shm(dir);
    fs::create_dir_all(&shm)?;
    mount(
        Some("shm"),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(format!("mode=1777,{SHM_SIZE}").as_str()),
    )
    .with_context(|| format!("mounting the pod's shm at {}", shm.display()))
}

/// Unmounts /dev/shm; the files go with the run dir.
pub fn release(dir: &Path) -> Result<()> {
    unmount(&shm(dir))
}
