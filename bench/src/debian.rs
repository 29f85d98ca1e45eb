//! Peers come from Debian: installed with apt-get when a benchmark needs them.

use std::process::{Command, Stdio};

use anyhow::{bail, Result};

/// Installs the packages of `names` that are not installed yet.
pub fn ensure(names: &[&str]) -> Result<()> {
    let missing: Vec<&str> = names.iter().copied().filter(|name| !installed(name)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing from Debian: {}", missing.join(" "));
    if !apt_install(&missing) {
        // The package lists may be stale or absent on a fresh machine.
        let _ = Command::new("apt-get").args(["update", "-q"]).stdout(Stdio::null()).status();
        if !apt_install(&missing) {
            bail!("apt-get could not install {}", missing.join(" "));
        }
    }
    Ok(())
}

fn installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

fn apt_install(names: &[&str]) -> bool {
    Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(names)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
