//! Network kernel parameters (`/proc/sys/net/...`), which every network namespace has its own of.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::netns::NetNs;

/// Sets the parameter `key`, written with slashes (`net/ipv4/ip_forward`, so interface names
/// with dots stay unambiguous), to `value` inside `ns`.
pub async fn set(ns: &NetNs, key: &str, value: &str) -> Result<()> {
    let path = proc_path(key)?;
    let value = value.to_string();
    ns.run(move || std::fs::write(&path, value).with_context(|| format!("writing {}", path.display()))).await
}

fn proc_path(key: &str) -> Result<PathBuf> {
    let relative = Path::new(key);
    let plain = relative.components().all(|part| matches!(part, Component::Normal(_)));
    if !plain || !key.starts_with("net/") {
        bail!("invalid network sysctl name {key:?}: expected a relative path like net/ipv4/ip_forward");
    }
    Ok(Path::new("/proc/sys").join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_under_proc_sys_net_only() {
        assert_eq!(proc_path("net/ipv4/ip_forward").unwrap(), Path::new("/proc/sys/net/ipv4/ip_forward"));
        assert_eq!(
            proc_path("net/ipv4/conf/eth0.100/arp_notify").unwrap(),
            Path::new("/proc/sys/net/ipv4/conf/eth0.100/arp_notify")
        );
        for bad in ["kernel/hostname", "/net/ipv4/ip_forward", "net/../kernel/hostname", ""] {
            assert!(proc_path(bad).is_err(), "{bad:?} accepted");
        }
    }
}
