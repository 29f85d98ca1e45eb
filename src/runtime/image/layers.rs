//! Unpacked layers, one directory per diff ID (`layers/<algorithm>/<hex>`), shared by every
//! image that has the layer and used as overlayfs lower dirs. A layer is unpacked into a
//! temp dir and renamed into place when complete, so a directory under its final name is
//! always a whole, verified layer.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::digest::Digest;
use super::unpack::unpack_layer;

#[derive(Debug, Clone)]
pub struct LayerStore {
    root: PathBuf,
}

impl LayerStore {
    pub fn open(root: &Path) -> Result<LayerStore> {
        fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        Ok(LayerStore { root: root.to_path_buf() })
    }

    pub fn path(&self, diff_id: &Digest) -> PathBuf {
        self.root.join(diff_id.algorithm_name()).join(diff_id.hex())
    }

    pub fn contains(&self, diff_id: &Digest) -> bool {
        self.path(diff_id).is_dir()
    }

    /// Unpacks `blob` as the layer `diff_id` unless it is already there; returns whether
    /// this call created it.
    pub fn ensure(&self, diff_id: &Digest, blob: impl Read) -> Result<bool> {
        let target = self.path(diff_id);
        if target.is_dir() {
            return Ok(false);
        }
        let parent = target.parent().expect("layer path has a parent");
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        let temp = tempfile::Builder::new().prefix(".unpack-").tempdir_in(parent).context("creating unpack dir")?;
        unpack_layer(blob, temp.path(), Some(diff_id)).with_context(|| format!("layer {diff_id}"))?;
        match fs::rename(temp.path(), &target) {
            Ok(()) => {
                // The directory now lives under its final name; don't let the guard delete it.
                let _ = temp.keep();
                Ok(true)
            }
            // Another process finished the same layer first; ours is dropped.
            Err(_) if target.is_dir() => Ok(false),
            Err(err) => Err(err).with_context(|| format!("moving layer {diff_id} into place")),
        }
    }

    pub fn remove(&self, diff_id: &Digest) -> Result<()> {
        let path = self.path(diff_id);
        match fs::remove_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err).with_context(|| format!("removing layer {}", path.display())),
        }
    }

    /// Every unpacked layer's diff ID.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let mut layers = Vec::new();
        for algorithm in fs::read_dir(&self.root).context("listing layers")? {
            let algorithm = algorithm?;
            let name = algorithm.file_name().to_string_lossy().into_owned();
            if !algorithm.file_type()?.is_dir() {
                continue;
            }
            for layer in fs::read_dir(algorithm.path())? {
                let hex = layer?.file_name().to_string_lossy().into_owned();
                if let Ok(digest) = format!("{name}:{hex}").parse() {
                    layers.push(digest);
                }
            }
        }
        Ok(layers)
    }
}
