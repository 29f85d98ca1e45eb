//! The test images (tests/images/build.sh): busybox.tar and nginx.tar, OCI archives built from
//! Debian's packages, for nodes to import.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::benches::Ctx;

/// What tests/images/build.sh builds the images from.
pub const PACKAGES: &[&str] = &["busybox-static", "nginx", "wget", "dash"];

/// Runs tests/images/build.sh into `dir`.
pub fn build(ctx: &Ctx, dir: &Path) -> Result<()> {
    let script = ctx.repo_dir().join("tests/images/build.sh");
    let out = std::process::Command::new(&script)
        .arg(dir)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}
