//! The image store under `<data-dir>/agent/`: blobs (`content/`), unpacked layers
//! (`layers/`) and the registered images (`metadata/`). Import and pull both end in
//! [`ImageStore::register_manifest`], which checks every blob and unpacks every layer
//! before the image gets a name, so a failed import or pull registers nothing.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};

use super::content::ContentStore;
use super::digest::Digest;
use super::layers::LayerStore;
use super::manifest::{self, check_layer_media_type, descriptor_digest, Document, ImageConfigSummary};
use super::records::{ImageRecord, LayerRecord, Records};
use super::reference::Reference;

#[derive(Debug, Clone)]
pub struct ImageStore {
    pub content: ContentStore,
    pub layers: LayerStore,
    records: Records,
    snapshots: PathBuf,
    gc_lock: PathBuf,
}

/// Held by an import or pull while it assembles an image (see [`ImageStore::lease`]).
pub struct Lease {
    _lock: Flock<File>,
}

/// Blobs and layers one import or pull created, removed again if it fails.
#[derive(Debug, Default)]
pub struct Created {
    pub blobs: Vec<Digest>,
    pub layers: Vec<Digest>,
}

/// An image ready to run: its record, its config, and its layer directories bottom-up.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    pub record: ImageRecord,
    pub config: ImageConfigSummary,
    pub layer_dirs: Vec<PathBuf>,
}

impl ImageStore {
    /// Opens (creating if needed) the store in `agent_dir`.
    pub fn open(agent_dir: &Path) -> Result<ImageStore> {
        Ok(ImageStore {
            content: ContentStore::open(&agent_dir.join("content"))?,
            layers: LayerStore::open(&agent_dir.join("layers"))?,
            records: Records::open(&agent_dir.join("metadata"))?,
            snapshots: agent_dir.join("snapshots"),
            gc_lock: agent_dir.join("metadata").join("gc.lock"),
        })
    }

    fn open_gc_lock(&self) -> Result<File> {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.gc_lock)
            .with_context(|| format!("opening {}", self.gc_lock.display()))
    }

    /// Imports and pulls hold a lease (a shared lock) from their first blob until their
    /// image is registered or their leftovers discarded. Garbage collection runs only when
    /// it can take the lock exclusively, so it never deletes content still being assembled.
    pub fn lease(&self) -> Result<Lease> {
        let lock = Flock::lock(self.open_gc_lock()?, FlockArg::LockShared)
            .map_err(|(_, err)| err)
            .context("taking an image store lease")?;
        Ok(Lease { _lock: lock })
    }

    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        self.records.read()
    }

    /// Finds an image by name (`nginx`, `docker.io/library/nginx:latest`), by repo digest
    /// (`nginx@sha256:…`), or by ID (`sha256:…` or a unique hex prefix of at least 6).
    pub fn find(&self, query: &str) -> Result<Option<ImageRecord>> {
        let images = self.list()?;
        Ok(find_in(&images, query)?.cloned())
    }

    /// The record, config and layer dirs of an image, unpacking any layer that is missing.
    pub fn resolve(&self, query: &str) -> Result<ResolvedImage> {
        let record = self.find(query)?.with_context(|| format!("image {query:?} not found"))?;
        let (_, config) = manifest::parse_config(&self.content.read_json_blob(&record.id)?)?;
        let mut layer_dirs = Vec::with_capacity(record.layers.len());
        for layer in &record.layers {
            if !self.layers.contains(&layer.diff_id) {
                self.layers.ensure(&layer.diff_id, self.content.open_blob(&layer.digest)?)?;
            }
            layer_dirs.push(self.layers.path(&layer.diff_id));
        }
        Ok(ResolvedImage { record, config, layer_dirs })
    }

    /// Registers the image whose manifest (or index, from which this host's platform is
    /// picked) is the blob `top`, under `names`. `repository` (pulls) adds a repo digest.
    /// Every referenced blob must already be in the content store; layers are unpacked
    /// here. Blobs and layers created on the way are added to `created`.
    pub fn register_manifest(
        &self,
        top: &Digest,
        names: &[Reference],
        repository: Option<&Reference>,
        created: &mut Created,
    ) -> Result<ImageRecord> {
        let manifest_digest = match manifest::parse_document(&self.content.read_json_blob(top)?)? {
            Document::Manifest(_) => top.clone(),
            Document::Index(index) => descriptor_digest(&manifest::select_platform(&index)?)?,
        };
        let Document::Manifest(image_manifest) =
            manifest::parse_document(&self.content.read_json_blob(&manifest_digest)?)?
        else {
            bail!("{manifest_digest} is an index inside an index; nested indexes are not supported");
        };
        let config_digest = descriptor_digest(image_manifest.config())?;
        let (config, summary) = manifest::parse_config(&self.content.read_json_blob(&config_digest)?)
            .with_context(|| format!("image config {config_digest}"))?;
        if summary.os != "linux" {
            bail!("image is for {}/{}, not linux", summary.os, summary.architecture);
        }
        let diff_ids = manifest::diff_ids(&config)?;
        if diff_ids.len() != image_manifest.layers().len() {
            bail!(
                "manifest lists {} layers but its config lists {} diff IDs",
                image_manifest.layers().len(),
                diff_ids.len()
            );
        }
        let mut layers = Vec::new();
        let mut size = self.content.size(&config_digest).unwrap_or(0);
        for (descriptor, diff_id) in image_manifest.layers().iter().zip(diff_ids) {
            check_layer_media_type(descriptor.media_type())?;
            let digest = descriptor_digest(descriptor)?;
            let stored = self.content.size(&digest).with_context(|| format!("layer blob {digest} is missing"))?;
            if stored != descriptor.size() {
                bail!("layer blob {digest} has {stored} bytes, the manifest says {}", descriptor.size());
            }
            if self.layers.ensure(&diff_id, self.content.open_blob(&digest)?)? {
                created.layers.push(diff_id.clone());
            }
            size += stored;
            layers.push(LayerRecord { digest, diff_id, media_type: descriptor.media_type().to_string(), size: stored });
        }
        let record = ImageRecord {
            id: config_digest,
            names: names.iter().map(|n| n.to_string()).collect(),
            repo_digests: repository.map(|r| r.with_digest(top.clone()).to_string()).into_iter().collect(),
            manifest: manifest_digest,
            layers,
            size,
        };
        let mut locked = self.records.lock()?;
        // Blobs can be collected by a concurrent `rm` while we unpack; check under the lock.
        for blob in record.blobs() {
            if !self.content.contains(blob) {
                bail!("blob {blob} disappeared while the image was being registered; try again");
            }
        }
        locked.register(record.clone());
        locked.save()?;
        Ok(record)
    }

    /// Removes blobs and layers an aborted import or pull created, unless an image took
    /// them in the meantime.
    pub fn discard(&self, created: &Created) -> Result<()> {
        let locked = self.records.lock()?;
        let (blobs, layers) = referenced(&locked.images, &self.layers_in_use()?);
        for blob in created.blobs.iter().filter(|b| !blobs.contains(*b)) {
            self.content.remove(blob)?;
        }
        for layer in created.layers.iter().filter(|l| !layers.contains(*l)) {
            self.layers.remove(layer)?;
        }
        Ok(())
    }

    /// `rm` by name untags (the image goes when its last name does); by ID or repo digest
    /// it removes the image. Content no image uses any more is deleted.
    pub fn remove(&self, query: &str) -> Result<ImageRecord> {
        let mut locked = self.records.lock()?;
        let image = find_in(&locked.images, query)?.with_context(|| format!("image {query:?} not found"))?.clone();
        let by_name = Reference::parse(query).ok().map(|r| r.to_string()).filter(|n| image.names.contains(n));
        match by_name {
            Some(name) if image.names.len() > 1 => {
                let entry = locked.images.iter_mut().find(|i| i.id == image.id).expect("found above");
                entry.names.retain(|n| *n != name);
            }
            _ => locked.images.retain(|i| i.id != image.id),
        }
        locked.save()?;
        self.collect(&locked.images)?;
        Ok(image)
    }

    /// Deletes every blob and layer that no image and no container snapshot references.
    pub fn garbage_collect(&self) -> Result<()> {
        let locked = self.records.lock()?;
        self.collect(&locked.images)
    }

    fn collect(&self, images: &[ImageRecord]) -> Result<()> {
        let _exclusive = match Flock::lock(self.open_gc_lock()?, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                tracing::debug!("an import or pull is under way; garbage collection skipped");
                return Ok(());
            }
            Err((_, err)) => return Err(err).context("locking the image store for garbage collection"),
        };
        let (blobs, layers) = referenced(images, &self.layers_in_use()?);
        for blob in self.content.list()? {
            if !blobs.contains(&blob) {
                self.content.remove(&blob)?;
            }
        }
        for layer in self.layers.list()? {
            if !layers.contains(&layer) {
                self.layers.remove(&layer)?;
            }
        }
        Ok(())
    }

    fn layers_in_use(&self) -> Result<Vec<Digest>> {
        crate::runtime::snapshot::layers_in_use(&self.snapshots)
    }
}

fn referenced(images: &[ImageRecord], snapshot_layers: &[Digest]) -> (HashSet<Digest>, HashSet<Digest>) {
    let mut blobs = HashSet::new();
    let mut layers: HashSet<Digest> = snapshot_layers.iter().cloned().collect();
    for image in images {
        blobs.extend(image.blobs().cloned());
        // The index a repo digest names is kept so the image can be pushed or inspected again.
        for repo_digest in &image.repo_digests {
            if let Some(d) = repo_digest.rsplit_once('@').and_then(|(_, d)| d.parse().ok()) {
                blobs.insert(d);
            }
        }
        layers.extend(image.layers.iter().map(|l| l.diff_id.clone()));
    }
    (blobs, layers)
}

fn find_in<'a>(images: &'a [ImageRecord], query: &str) -> Result<Option<&'a ImageRecord>> {
    if let Ok(digest) = query.parse::<Digest>() {
        return Ok(images.iter().find(|i| i.id == digest));
    }
    if let Ok(reference) = Reference::parse(query) {
        let full = reference.to_string();
        let found = match reference.digest() {
            Some(_) => images.iter().find(|i| {
                i.repo_digests.contains(&reference.with_digest(reference.digest().unwrap().clone()).to_string())
            }),
            None => images.iter().find(|i| i.names.contains(&full)),
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    let hex = query.strip_prefix("sha256:").unwrap_or(query);
    if hex.len() >= 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let matches: Vec<&ImageRecord> = images.iter().filter(|i| i.id.hex().starts_with(hex)).collect();
        return match matches.len() {
            0 => Ok(None),
            1 => Ok(Some(matches[0])),
            _ => bail!("image ID prefix {hex:?} is ambiguous ({} images match)", matches.len()),
        };
    }
    Ok(None)
}
