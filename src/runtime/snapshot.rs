//! Container root filesystems: one overlayfs mount per container, the image's unpacked
//! layers as read-only lower dirs and a per-container writable upper dir. The snapshot's
//! record names the layers it uses, so image garbage collection keeps them while the
//! container exists.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde::{Deserialize, Serialize};

use super::image::digest::Digest;

const RECORD: &str = "snapshot.json";

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotRecord {
    layers: Vec<Digest>,
}

/// The writable layer of one container, under `<agent>/snapshots/<container id>/`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    dir: PathBuf,
}

impl Snapshot {
    pub fn new(snapshots_dir: &Path, container_id: &str) -> Snapshot {
        Snapshot { dir: snapshots_dir.join(container_id) }
    }

    /// Creates the upper and work dirs and mounts the overlay at `mountpoint`.
    /// `lower` is the image's layers, bottom first.
    pub fn mount(&self, layers: &[(Digest, PathBuf)], mountpoint: &Path) -> Result<()> {
        let upper = self.dir.join("upper");
        let work = self.dir.join("work");
        let empty = self.dir.join("empty");
        // overlayfs lists the topmost lower dir first. An image without layers still needs one.
        let mut lower: Vec<String> = layers.iter().rev().map(|(_, p)| overlay_path(p)).collect::<Result<_>>()?;
        if lower.is_empty() {
            lower.push(overlay_path(&empty)?);
        }
        // Each directory made once, parents first: on a busy disk every mkdir counts.
        let mut dirs = vec![self.dir.as_path(), &upper, &work];
        if layers.is_empty() {
            dirs.push(&empty);
        }
        dirs.push(mountpoint);
        for dir in dirs {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let record = SnapshotRecord { layers: layers.iter().map(|(d, _)| d.clone()).collect() };
        fs::write(self.dir.join(RECORD), serde_json::to_vec(&record)?).context("writing snapshot record")?;
        let options =
            format!("lowerdir={},upperdir={},workdir={}", lower.join(":"), overlay_path(&upper)?, overlay_path(&work)?);
        // The kernel takes at most a page of mount options.
        if options.len() >= 4096 {
            bail!("overlay mount options for {} layers are too long ({} bytes)", layers.len(), options.len());
        }
        mount(Some("overlay"), mountpoint, Some("overlay"), MsFlags::empty(), Some(options.as_str()))
            .with_context(|| format!("mounting overlay at {}", mountpoint.display()))
    }

    /// Unmounts `mountpoint` (if mounted) and deletes the container's writable layer.
    pub fn remove(&self, mountpoint: &Path) -> Result<()> {
        unmount(mountpoint)?;
        match fs::remove_dir(mountpoint) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("removing {}", mountpoint.display())),
        }
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err).with_context(|| format!("removing {}", self.dir.display())),
        }
    }
}

/// Unmounts `path` if it is a mount point; a lazy detach so a process still holding a
/// file there cannot keep the container from being removed.
pub fn unmount(path: &Path) -> Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => Ok(()),
        Err(err) => Err(err).with_context(|| format!("unmounting {}", path.display())),
    }
}

/// Paths in overlay options are separated by `:` and `,`; neither may appear in one.
fn overlay_path(path: &Path) -> Result<String> {
    let s = path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))?;
    if s.contains([':', ',']) {
        bail!("{s} contains ':' or ',', which overlayfs options cannot carry");
    }
    Ok(s.to_string())
}

/// The layers every existing snapshot uses (kept by image garbage collection).
pub fn layers_in_use(snapshots_dir: &Path) -> Result<Vec<Digest>> {
    let entries = match fs::read_dir(snapshots_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("listing {}", snapshots_dir.display())),
    };
    let mut layers = Vec::new();
    for entry in entries {
        let path = entry?.path().join(RECORD);
        if let Ok(data) = fs::read(&path) {
            let record: SnapshotRecord =
                serde_json::from_slice(&data).with_context(|| format!("parsing {}", path.display()))?;
            layers.extend(record.layers);
        }
    }
    Ok(layers)
}
