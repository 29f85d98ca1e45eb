//! The image service the kubelet and the CLI use: pull with a policy, list, inspect,
//! remove, import, and resolve an image to what a container needs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::import;
use super::manifest::{self, ImageConfigSummary};
use super::pull::{PullProgress, Puller};
use super::records::ImageRecord;
use super::reference::Reference;
use super::registries::Registries;
use super::store::{ImageStore, ResolvedImage};

/// Kubernetes' imagePullPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

#[derive(Clone)]
pub struct ImageService {
    store: ImageStore,
    puller: Arc<Puller>,
    airgap_dir: PathBuf,
}

impl ImageService {
    /// The store in `<data-dir>/agent`, with mirrors and credentials from `registries`.
    pub fn new(agent_dir: &Path, registries: Registries) -> Result<ImageService> {
        let store = ImageStore::open(agent_dir)?;
        Ok(ImageService { puller: Puller::new(store.clone(), registries), store, airgap_dir: agent_dir.join("images") })
    }

    /// Makes sure `image` is present, pulling as `policy` says; returns it.
    pub async fn ensure(
        &self,
        image: &str,
        policy: PullPolicy,
        progress: Arc<dyn PullProgress>,
    ) -> Result<ImageRecord> {
        let present = self.find(image).await?;
        match (policy, present) {
            (PullPolicy::Never, Some(found)) | (PullPolicy::IfNotPresent, Some(found)) => Ok(found),
            (PullPolicy::Never, None) => {
                bail!("image {image:?} is not present and the pull policy is Never")
            }
            (PullPolicy::Always, _) | (PullPolicy::IfNotPresent, None) => self.pull(image, progress).await,
        }
    }

    pub async fn pull(&self, image: &str, progress: Arc<dyn PullProgress>) -> Result<ImageRecord> {
        let reference = Reference::parse(image)?;
        self.puller.pull(&reference, progress).await
    }

    pub async fn find(&self, image: &str) -> Result<Option<ImageRecord>> {
        let store = self.store.clone();
        let image = image.to_string();
        blocking(move || store.find(&image)).await
    }

    pub async fn list(&self) -> Result<Vec<ImageRecord>> {
        let store = self.store.clone();
        blocking(move || store.list()).await
    }

    /// The record and config (Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, …).
    pub async fn status(&self, image: &str) -> Result<Option<(ImageRecord, ImageConfigSummary)>> {
        let store = self.store.clone();
        let image = image.to_string();
        blocking(move || {
            let Some(record) = store.find(&image)? else {
                return Ok(None);
            };
            let (_, config) = manifest::parse_config(&store.content.read_json_blob(&record.id)?)?;
            Ok(Some((record, config)))
        })
        .await
    }

    /// Config and unpacked layer dirs, ready for a container.
    pub async fn resolve(&self, image: &str) -> Result<ResolvedImage> {
        let store = self.store.clone();
        let image = image.to_string();
        blocking(move || store.resolve(&image)).await
    }

    pub async fn remove(&self, image: &str) -> Result<ImageRecord> {
        let store = self.store.clone();
        let image = image.to_string();
        blocking(move || store.remove(&image)).await
    }

    pub async fn import(&self, archive: &Path) -> Result<Vec<ImageRecord>> {
        let store = self.store.clone();
        let archive = archive.to_path_buf();
        blocking(move || import::import_archive(&store, &archive)).await
    }

    /// Imports every `*.tar` in `<data-dir>/agent/images/` (airgap images, at agent start).
    /// Returns each archive with its outcome; one bad archive does not stop the others.
    pub async fn import_airgap_images(&self) -> Result<Vec<(PathBuf, Result<Vec<ImageRecord>>)>> {
        let store = self.store.clone();
        let dir = self.airgap_dir.clone();
        blocking(move || import::import_directory(&store, &dir)).await
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.context("image task failed")?
}
