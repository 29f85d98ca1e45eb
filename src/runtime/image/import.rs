//! Importing image archives: `docker save` output (legacy `manifest.json` + `<id>/layer.tar`
//! layout, and the OCI-based layout of Docker 25+) and OCI image layout archives
//! (`oci-layout`, `index.json`, `blobs/`). Also the airgap directory scan done at agent start.
//!
//! Entries are streamed into the content store once, verified against the digest their name
//! claims; nothing is written under a path taken from the archive. An archive that is
//! corrupt, truncated or incomplete registers no image and leaves no blob behind.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::compression::decompressed;
use super::digest::Digest;
use super::manifest::{DOCKER_LAYER_TAR, DOCKER_MANIFEST, OCI_INDEX};
use super::records::ImageRecord;
use super::reference::Reference;
use super::store::{Created, ImageStore};

/// Small metadata files are kept in memory while the archive streams past.
const MAX_METADATA_FILE: u64 = 16 * 1024 * 1024;
const CONTAINERD_NAME: &str = "io.containerd.image.name";
const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// One `docker save` manifest.json entry.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct LayoutIndex {
    manifests: Vec<LayoutDescriptor>,
}

#[derive(Deserialize)]
struct LayoutDescriptor {
    digest: Digest,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

/// What streaming the archive left us with.
#[derive(Default)]
struct Staged {
    /// Metadata files by archive path (`manifest.json`, `index.json`, `<id>.json`).
    files: HashMap<String, Vec<u8>>,
    /// Blobs stored from the archive, by archive path.
    blobs: HashMap<String, Digest>,
}

/// Imports every image in the archive at `path`; returns the images registered.
pub fn import_archive(store: &ImageStore, path: &Path) -> Result<Vec<ImageRecord>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    import_reader(store, file).with_context(|| format!("importing {}", path.display()))
}

pub fn import_reader(store: &ImageStore, reader: impl Read) -> Result<Vec<ImageRecord>> {
    let _lease = store.lease()?;
    let mut created = Created::default();
    let result = stage(store, reader, &mut created).and_then(|staged| register(store, &staged, &mut created));
    if result.is_err() {
        if let Err(err) = store.discard(&created) {
            tracing::warn!("cleaning up after a failed import: {err:#}");
        }
    }
    result
}

/// Imports every `*.tar` (also `.tar.gz`, `.tar.zst`) in `dir` (the airgap images
/// directory), in name order. A bad
/// archive is reported and skipped so the others still load.
pub fn import_directory(store: &ImageStore, dir: &Path) -> Result<Vec<(PathBuf, Result<Vec<ImageRecord>>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("listing {}", dir.display())),
    };
    let mut archives: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| is_archive_name(p) && p.is_file()).collect();
    archives.sort();
    Ok(archives
        .into_iter()
        .map(|path| {
            let result = import_archive(store, &path);
            if let Err(err) = &result {
                tracing::warn!("airgap image {} not imported: {err:#}", path.display());
            }
            (path, result)
        })
        .collect())
}

/// Names k3s imports from its airgap directory: plain, gzip or zstd tarballs.
fn is_archive_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst"].iter().any(|ext| name.ends_with(ext))
}

/// An archive member's path without `./`, or None for paths that could not be ours.
fn member_name(raw: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Streams the archive: blobs into the content store, metadata into memory.
fn stage(store: &ImageStore, reader: impl Read, created: &mut Created) -> Result<Staged> {
    let mut staged = Staged::default();
    let mut archive = tar::Archive::new(decompressed(reader)?);
    for entry in archive.entries().context("reading archive")? {
        let entry = entry.context("reading archive entry")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Some(name) = member_name(&entry.path().context("reading entry path")?) else {
            continue;
        };
        let size = entry.header().size().context("reading entry size")?;
        if let Some(digest) = blob_path_digest(&name) {
            let written = store
                .content
                .write(entry, Some(&digest), Some(size))
                .with_context(|| format!("archive member {name}"))?;
            if written.created {
                created.blobs.push(written.digest.clone());
            }
            staged.blobs.insert(name, written.digest);
        } else if name.ends_with("/layer.tar") {
            let written =
                store.content.write(entry, None, Some(size)).with_context(|| format!("archive member {name}"))?;
            if written.created {
                created.blobs.push(written.digest.clone());
            }
            staged.blobs.insert(name, written.digest);
        } else if name.ends_with(".json") || name == "oci-layout" || name == "repositories" {
            if size > MAX_METADATA_FILE {
                bail!("archive member {name} is {size} bytes, too large for image metadata");
            }
            let mut data = Vec::with_capacity(size as usize);
            entry.take(size).read_to_end(&mut data).with_context(|| format!("reading {name}"))?;
            if data.len() as u64 != size {
                bail!("archive member {name} is truncated");
            }
            staged.files.insert(name, data);
        }
    }
    Ok(staged)
}

/// `blobs/sha256/<hex>` → the digest it names.
fn blob_path_digest(name: &str) -> Option<Digest> {
    let rest = name.strip_prefix("blobs/")?;
    let (algorithm, hex) = rest.split_once('/')?;
    format!("{algorithm}:{hex}").parse().ok()
}

fn register(store: &ImageStore, staged: &Staged, created: &mut Created) -> Result<Vec<ImageRecord>> {
    let oci_index = staged.files.get("index.json").filter(|_| staged.files.contains_key("oci-layout"));
    let docker_manifest = staged.files.get("manifest.json");
    let images = match (docker_manifest, oci_index) {
        (Some(manifest), _) => register_docker_save(store, staged, manifest, created)?,
        (None, Some(index)) => register_oci_layout(store, index, created)?,
        (None, None) => bail!("not an image archive: it has neither manifest.json (docker save) nor oci-layout and index.json (OCI layout)"),
    };
    if images.is_empty() {
        bail!("the archive contains no image");
    }
    Ok(images)
}

/// The blob an archive path refers to: a stored member, or metadata kept in memory.
fn member_blob(store: &ImageStore, staged: &Staged, path: &str, created: &mut Created) -> Result<(Digest, u64)> {
    let name = member_name(Path::new(path)).with_context(|| format!("invalid member path {path:?}"))?;
    if let Some(digest) = staged.blobs.get(&name) {
        let size = store.content.size(digest).with_context(|| format!("blob for {name} is missing"))?;
        return Ok((digest.clone(), size));
    }
    let data =
        staged.files.get(&name).with_context(|| format!("the archive lacks {name}, which its manifest lists"))?;
    let written = store.content.write_bytes(data)?;
    if written.created {
        created.blobs.push(written.digest.clone());
    }
    Ok((written.digest, written.size))
}

fn register_docker_save(
    store: &ImageStore,
    staged: &Staged,
    manifest: &[u8],
    created: &mut Created,
) -> Result<Vec<ImageRecord>> {
    let entries: Vec<SaveEntry> = serde_json::from_slice(manifest).context("parsing manifest.json")?;
    let mut images = Vec::new();
    for entry in entries {
        let (config, config_size) = member_blob(store, staged, &entry.config, created)?;
        let mut layers = Vec::new();
        for layer in &entry.layers {
            let (digest, size) = member_blob(store, staged, layer, created)?;
            layers.push(serde_json::json!({"mediaType": DOCKER_LAYER_TAR, "digest": digest.to_string(), "size": size}));
        }
        // docker save carries no manifest; write the one a registry would have served.
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "digest": config.to_string(), "size": config_size},
            "layers": layers,
        });
        let written = store.content.write_bytes(&serde_json::to_vec(&manifest)?)?;
        if written.created {
            created.blobs.push(written.digest.clone());
        }
        let names = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| Reference::parse(t).with_context(|| format!("manifest.json RepoTags entry {t:?}")))
            .collect::<Result<Vec<_>>>()?;
        images.push(store.register_manifest(&written.digest, &names, None, created)?);
    }
    Ok(images)
}

fn register_oci_layout(store: &ImageStore, index: &[u8], created: &mut Created) -> Result<Vec<ImageRecord>> {
    let value: serde_json::Value = serde_json::from_slice(index).context("parsing index.json")?;
    if let Some(media_type) = value.get("mediaType").and_then(|m| m.as_str()) {
        if media_type != OCI_INDEX {
            bail!("index.json has media type {media_type:?}, expected {OCI_INDEX}");
        }
    }
    let index: LayoutIndex = serde_json::from_value(value).context("parsing index.json")?;
    let mut images = Vec::new();
    for descriptor in index.manifests {
        let name = image_name(&descriptor)?;
        if !store.content.contains(&descriptor.digest) {
            bail!("the archive lacks blob {}, which index.json lists", descriptor.digest);
        }
        images.push(store.register_manifest(&descriptor.digest, &[name], None, created)?);
    }
    Ok(images)
}

/// The name an OCI layout gives a manifest: containerd's full-name annotation, or the
/// standard ref name when that is a full reference (a bare tag names no repository).
fn image_name(descriptor: &LayoutDescriptor) -> Result<Reference> {
    if let Some(name) = descriptor.annotations.get(CONTAINERD_NAME) {
        return Reference::parse(name).with_context(|| format!("{CONTAINERD_NAME} annotation"));
    }
    match descriptor.annotations.get(OCI_REF_NAME) {
        Some(name) if name.contains(['/', ':']) => Reference::parse(name).with_context(|| format!("{OCI_REF_NAME} annotation")),
        Some(tag) => bail!(
            "manifest {} is named only by the tag {tag:?}; annotate it with {CONTAINERD_NAME} (or a full reference in {OCI_REF_NAME}) to say which repository it belongs to",
            descriptor.digest
        ),
        None => bail!("manifest {} in index.json has no name annotation ({CONTAINERD_NAME} or {OCI_REF_NAME})", descriptor.digest),
    }
}
