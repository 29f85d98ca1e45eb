//! Facts about the machine onebin runs on: addresses, name, capacity, OS.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// The address of the interface the default route leaves through (no packet is sent).
pub fn default_route_ip() -> IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.255.255.255:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The host name, lowercased (node names must be DNS subdomains).
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
        .to_lowercase()
}

pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Total memory in bytes, from /proc/meminfo.
pub fn memory_bytes() -> u64 {
    meminfo_field("MemTotal:").unwrap_or(0)
}

/// Memory available for new work in bytes.
pub fn memory_available_bytes() -> u64 {
    meminfo_field("MemAvailable:").unwrap_or(0)
}

fn meminfo_field(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// (total, available) bytes of the filesystem holding `path`.
pub fn filesystem_bytes(path: &Path) -> (u64, u64) {
    match nix::sys::statvfs::statvfs(path) {
        Ok(s) => {
            let block = s.fragment_size();
            (s.blocks() * block, s.blocks_available() * block)
        }
        Err(_) => (0, 0),
    }
}

pub fn kernel_version() -> String {
    nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
}

/// `PRETTY_NAME` from /etc/os-release.
pub fn os_image() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())))
        .unwrap_or_else(|| "Linux".into())
}

pub fn machine_id() -> String {
    std::fs::read_to_string("/etc/machine-id").map(|s| s.trim().to_string()).unwrap_or_default()
}

pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// The number of processes the kernel allows (for PID pressure).
pub fn pid_max() -> u64 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(32768)
}

/// How many processes exist now.
pub fn process_count() -> u64 {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
                .count() as u64
        })
        .unwrap_or(0)
}
