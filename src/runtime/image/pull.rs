//! Pulling images from OCI/Docker registries with `oci-client`: mirrors first (from
//! registries.yaml), then the registry itself; anonymous, basic or bearer auth (the token
//! dance is oci-client's); every manifest and blob checked against its digest before it
//! is stored. Concurrent pulls of one reference in this process share one download.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;

use super::digest::{Digest, HashingWriter};
use super::manifest::{
    self, descriptor_digest, Document, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
};
use super::records::ImageRecord;
use super::reference::Reference;
use super::registries::{Credentials, Endpoint, Registries};
use super::store::{Created, ImageStore};

const ACCEPTED_MANIFESTS: [&str; 4] = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
/// Layers downloaded at the same time.
const PARALLEL_BLOBS: usize = 3;

/// Told about download progress (the CLI draws bars with it).
pub trait PullProgress: Send + Sync {
    fn blob_started(&self, digest: &Digest, size: u64);
    fn blob_progress(&self, digest: &Digest, downloaded: u64);
    fn blob_done(&self, digest: &Digest);
}

/// For callers that don't show progress.
pub struct NoProgress;

impl PullProgress for NoProgress {
    fn blob_started(&self, _: &Digest, _: u64) {}
    fn blob_progress(&self, _: &Digest, _: u64) {}
    fn blob_done(&self, _: &Digest) {}
}

type SharedPull = Shared<BoxFuture<'static, Result<ImageRecord, Arc<anyhow::Error>>>>;

pub struct Puller {
    store: ImageStore,
    registries: Registries,
    in_flight: Mutex<HashMap<String, SharedPull>>,
}

impl Puller {
    pub fn new(store: ImageStore, registries: Registries) -> Arc<Puller> {
        // reqwest's rustls needs a process-wide crypto provider; ring is the project's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Arc::new(Puller { store, registries, in_flight: Mutex::new(HashMap::new()) })
    }

    /// Pulls `reference` and registers it. A second caller asking for the same reference
    /// while the first pull runs waits for that pull instead of downloading again.
    pub async fn pull(self: &Arc<Self>, reference: &Reference, progress: Arc<dyn PullProgress>) -> Result<ImageRecord> {
        let key = reference.to_string();
        let shared = {
            let mut in_flight = self.in_flight.lock().expect("pull table lock");
            match in_flight.get(&key) {
                Some(shared) => shared.clone(),
                None => {
                    let this = self.clone();
                    let reference = reference.clone();
                    let key_done = key.clone();
                    let future = async move {
                        let result = this.pull_once(&reference, progress).await.map_err(Arc::new);
                        this.in_flight.lock().expect("pull table lock").remove(&key_done);
                        result
                    }
                    .boxed()
                    .shared();
                    in_flight.insert(key, future.clone());
                    future
                }
            }
        };
        shared.await.map_err(|err| anyhow!("{err:#}"))
    }

    async fn pull_once(&self, reference: &Reference, progress: Arc<dyn PullProgress>) -> Result<ImageRecord> {
        let endpoints = self.registries.endpoints(reference.registry(), reference.repository())?;
        let store = self.store.clone();
        let _lease = tokio::task::spawn_blocking(move || store.lease()).await.context("lease task failed")??;
        let mut failures = Vec::new();
        for endpoint in &endpoints {
            let mut created = Created::default();
            let attempt = self.download(reference, endpoint, progress.as_ref(), &mut created).await;
            let (result, created) = match attempt {
                Ok(top) => {
                    let store = self.store.clone();
                    let names: Vec<Reference> = reference.tag().map(|_| reference.clone()).into_iter().collect();
                    let repository = reference.clone();
                    tokio::task::spawn_blocking(move || {
                        let result = store.register_manifest(&top, &names, Some(&repository), &mut created);
                        (result, created)
                    })
                    .await
                    .unwrap_or_else(|e| (Err(anyhow!("unpacking task failed: {e}")), Created::default()))
                }
                Err(err) => (Err(err), created),
            };
            match result {
                Ok(record) => return Ok(record),
                Err(err) => {
                    let store = self.store.clone();
                    let discarded = tokio::task::spawn_blocking(move || store.discard(&created)).await;
                    if let Ok(Err(cleanup)) = discarded {
                        tracing::warn!("cleaning up after a failed pull: {cleanup:#}");
                    }
                    let kind = if endpoint.upstream { "registry" } else { "mirror" };
                    tracing::info!("pulling {reference} from {kind} {}: {err:#}", endpoint.host);
                    failures.push(format!("{kind} {}: {err:#}", endpoint.host));
                }
            }
        }
        bail!("pulling {reference} failed: {}", failures.join("; "))
    }

    fn client(&self, endpoint: &Endpoint) -> Result<oci_client::Client> {
        let mut config = ClientConfig {
            protocol: if endpoint.plain_http { ClientProtocol::Http } else { ClientProtocol::Https },
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            ..Default::default()
        };
        if let Some(tls) = self.registries.tls(&endpoint.host) {
            config.accept_invalid_certificates = tls.insecure_skip_verify;
            if let Some(ca) = &tls.ca_file {
                let data = std::fs::read(ca).with_context(|| format!("reading CA file {ca}"))?;
                config.extra_root_certificates.push(Certificate { encoding: CertificateEncoding::Pem, data });
            }
        }
        Ok(oci_client::Client::new(config))
    }

    /// Fetches the manifest (and platform manifest of an index) and every blob not yet
    /// stored; returns the digest of the top-level manifest.
    async fn download(
        &self,
        reference: &Reference,
        endpoint: &Endpoint,
        progress: &dyn PullProgress,
        created: &mut Created,
    ) -> Result<Digest> {
        let client = self.client(endpoint)?;
        let auth = match self.registries.credentials(&endpoint.host)? {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic(user, password) => RegistryAuth::Basic(user, password),
            Credentials::Bearer(token) => RegistryAuth::Bearer(token),
        };
        let (registry, repository) = (reference.registry().to_string(), endpoint.repository.clone());
        let mut remote = match reference.digest() {
            Some(digest) => oci_client::Reference::with_digest(registry, repository, digest.to_string()),
            None => {
                oci_client::Reference::with_tag(registry, repository, reference.tag().unwrap_or("latest").to_string())
            }
        };
        if !endpoint.upstream {
            remote.set_mirror_registry(endpoint.host.clone());
        }

        // Bearer tokens (Docker Hub style) are fetched up front; requests then carry them.
        client
            .auth(&remote, &auth, oci_client::RegistryOperation::Pull)
            .await
            .map_err(|e| anyhow!("authenticating to {} (credentials come from registries.yaml): {e}", endpoint.host))?;
        let top = self.fetch_manifest(&client, &remote, &auth, reference.digest(), created).await?;
        let manifest_digest = match manifest::parse_document(&self.store.content.read_json_blob(&top)?)? {
            Document::Manifest(_) => top.clone(),
            Document::Index(index) => {
                let chosen = descriptor_digest(&manifest::select_platform(&index)?)?;
                let by_digest = remote.clone_with_digest(chosen.to_string());
                self.fetch_manifest(&client, &by_digest, &auth, Some(&chosen), created).await?
            }
        };
        let Document::Manifest(image) =
            manifest::parse_document(&self.store.content.read_json_blob(&manifest_digest)?)?
        else {
            bail!("manifest {manifest_digest} is an index, not an image manifest");
        };
        let mut blobs = vec![(descriptor_digest(image.config())?, image.config().size())];
        for layer in image.layers() {
            manifest::check_layer_media_type(layer.media_type())?;
            blobs.push((descriptor_digest(layer)?, layer.size()));
        }
        let by_digest = remote.clone_with_digest(manifest_digest.to_string());
        let missing: Vec<(Digest, u64)> = blobs.into_iter().filter(|(d, _)| !self.store.content.contains(d)).collect();
        let fetched: Vec<Result<(Digest, bool)>> = futures::stream::iter(missing)
            .map(|(digest, size)| {
                let (client, remote) = (&client, &by_digest);
                async move {
                    self.fetch_blob(client, remote, &digest, size, progress).await.map(|created| (digest, created))
                }
            })
            .buffer_unordered(PARALLEL_BLOBS)
            .collect()
            .await;
        // Blobs that arrived are recorded even when another failed, so they can be discarded.
        let mut first_error = None;
        for result in fetched {
            match result {
                Ok((digest, true)) => created.blobs.push(digest),
                Ok((_, false)) => {}
                Err(err) => first_error = first_error.or(Some(err)),
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(top),
        }
    }

    /// Fetches a manifest, checks it against `expected` (when pulling by digest) and stores it.
    async fn fetch_manifest(
        &self,
        client: &oci_client::Client,
        remote: &oci_client::Reference,
        auth: &RegistryAuth,
        expected: Option<&Digest>,
        created: &mut Created,
    ) -> Result<Digest> {
        let (body, _) = client
            .pull_manifest_raw(remote, auth, &ACCEPTED_MANIFESTS)
            .await
            .map_err(|e| anyhow!("fetching manifest {remote}: {e}"))?;
        let digest = Digest::sha256_of(&body);
        if let Some(expected) = expected {
            if &digest != expected {
                bail!("manifest digest mismatch: asked for {expected}, the registry sent content hashing to {digest}");
            }
        }
        let written = self.store.content.write_bytes(&body)?;
        if written.created {
            created.blobs.push(written.digest.clone());
        }
        Ok(digest)
    }

    /// Streams a blob into the content store; it is kept only if its digest and size match.
    async fn fetch_blob(
        &self,
        client: &oci_client::Client,
        remote: &oci_client::Reference,
        digest: &Digest,
        size: u64,
        progress: &dyn PullProgress,
    ) -> Result<bool> {
        progress.blob_started(digest, size);
        let digest_text = digest.to_string();
        let mut stream = client
            .pull_blob_stream(remote, digest_text.as_str())
            .await
            .map_err(|e| anyhow!("fetching blob {digest}: {e}"))?
            .stream;
        let temp = self.store.content.temp_file()?;
        let mut writer = HashingWriter::new(std::io::BufWriter::new(temp), digest.algorithm());
        let mut downloaded = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("downloading blob {digest}"))?;
            downloaded += chunk.len() as u64;
            if downloaded > size {
                bail!("blob {digest} is larger than the {size} bytes its manifest says");
            }
            writer.write_all(&chunk).context("writing blob")?;
            progress.blob_progress(digest, downloaded);
        }
        let (buffered, actual, length) = writer.finish();
        let temp = buffered.into_inner().map_err(|e| e.into_error()).context("writing blob")?;
        let written = self
            .store
            .content
            .commit(temp, actual, length, Some(digest), Some(size))
            .with_context(|| format!("blob {digest} (download truncated or corrupted)"))?;
        progress.blob_done(digest);
        Ok(written.created)
    }
}
