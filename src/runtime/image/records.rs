//! The registered images: which names (tags) and repo digests point at which image, and what
//! the image consists of. Kept in one JSON file replaced atomically under an exclusive
//! `flock`, so the agent and node-local CLI commands can change it at the same time.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::digest::Digest;

/// One layer of an image: the stored (possibly compressed) blob and the unpacked diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    pub digest: Digest,
    pub diff_id: Digest,
    pub media_type: String,
    pub size: u64,
}

/// An image as the store knows it. Its ID is the config digest, as in Docker and CRI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: Digest,
    /// Normalised `registry/repository:tag` names.
    pub names: Vec<String>,
    /// `registry/repository@digest` of the manifest (or index) the image came from.
    pub repo_digests: Vec<String>,
    /// The platform manifest in the content store.
    pub manifest: Digest,
    pub layers: Vec<LayerRecord>,
    /// Bytes of config and layer blobs, as `crictl images` reports.
    pub size: u64,
}

impl ImageRecord {
    pub fn blobs(&self) -> impl Iterator<Item = &Digest> {
        [&self.id, &self.manifest].into_iter().chain(self.layers.iter().map(|l| &l.digest))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordFile {
    images: Vec<ImageRecord>,
}

#[derive(Debug, Clone)]
pub struct Records {
    file: PathBuf,
    lock: PathBuf,
}

/// The records while the lock is held. Changes are written by [`LockedRecords::save`].
pub struct LockedRecords {
    records: Records,
    pub images: Vec<ImageRecord>,
    _lock: Flock<File>,
}

impl Records {
    pub fn open(dir: &Path) -> Result<Records> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Records { file: dir.join("images.json"), lock: dir.join("lock") })
    }

    /// Takes the store-wide lock and reads the records.
    pub fn lock(&self) -> Result<LockedRecords> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .with_context(|| format!("opening {}", self.lock.display()))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, err)| err).context("locking the image store")?;
        let images = self.read()?;
        Ok(LockedRecords { records: self.clone(), images, _lock: lock })
    }

    /// A snapshot of the records (readers need no lock: the file is replaced atomically).
    pub fn read(&self) -> Result<Vec<ImageRecord>> {
        match fs::read(&self.file) {
            Ok(data) => {
                let file: RecordFile =
                    serde_json::from_slice(&data).with_context(|| format!("parsing {}", self.file.display()))?;
                Ok(file.images)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(err) => Err(err).with_context(|| format!("reading {}", self.file.display())),
        }
    }
}

impl LockedRecords {
    pub fn save(&self) -> Result<()> {
        let dir = self.records.file.parent().expect("records file has a parent");
        let mut temp = tempfile::NamedTempFile::new_in(dir).context("creating records temp file")?;
        let data = serde_json::to_vec_pretty(&RecordFile { images: self.images.clone() })?;
        temp.write_all(&data).context("writing records")?;
        temp.as_file().sync_all().context("syncing records")?;
        temp.persist(&self.records.file).context("replacing records")?;
        Ok(())
    }

    /// Adds `image`, or merges its names into the record with the same ID. A name moves
    /// from whatever image had it before; an image left without names or repo digests is
    /// dropped (its content is collected later).
    pub fn register(&mut self, image: ImageRecord) {
        for other in self.images.iter_mut().filter(|i| i.id != image.id) {
            other.names.retain(|n| !image.names.contains(n));
        }
        match self.images.iter_mut().find(|i| i.id == image.id) {
            Some(existing) => {
                for name in image.names {
                    if !existing.names.contains(&name) {
                        existing.names.push(name);
                    }
                }
                for digest in image.repo_digests {
                    if !existing.repo_digests.contains(&digest) {
                        existing.repo_digests.push(digest);
                    }
                }
                existing.manifest = image.manifest;
                existing.layers = image.layers;
                existing.size = image.size;
            }
            None => self.images.push(image),
        }
        self.images.retain(|i| !i.names.is_empty() || !i.repo_digests.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &[u8], names: &[&str]) -> ImageRecord {
        ImageRecord {
            id: Digest::sha256_of(id),
            names: names.iter().map(|s| s.to_string()).collect(),
            repo_digests: vec![],
            manifest: Digest::sha256_of(b"m"),
            layers: vec![],
            size: 1,
        }
    }

    #[test]
    fn a_name_moves_to_the_newest_image_and_untagged_images_go() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(dir.path()).unwrap();
        let mut locked = records.lock().unwrap();
        locked.register(image(b"a", &["docker.io/library/x:1"]));
        locked.register(image(b"b", &["docker.io/library/x:1", "docker.io/library/x:2"]));
        locked.save().unwrap();
        drop(locked);
        let images = records.read().unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].id, Digest::sha256_of(b"b"));
        assert_eq!(images[0].names.len(), 2);
    }
}
