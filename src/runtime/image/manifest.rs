//! Reading manifests, indexes and image configs (OCI and Docker v2 schema 2 media types),
//! picking this host's platform from a multi-arch index, and the parts of an image config
//! the kubelet needs.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context, Result};
use oci_spec::image::{Arch, Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, Os};
use serde::{Deserialize, Serialize};

use super::digest::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// A manifest-like document, told apart by its media type (or its shape when it has none).
#[derive(Debug)]
pub enum Document {
    Index(Box<ImageIndex>),
    Manifest(Box<ImageManifest>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    schema_version: Option<u32>,
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
    layers: Option<serde_json::Value>,
}

pub fn parse_document(data: &[u8]) -> Result<Document> {
    let shape: Shape = serde_json::from_slice(data).context("manifest is not valid JSON")?;
    let media_type = shape.media_type.unwrap_or_default();
    if DOCKER_SCHEMA1.contains(&media_type.as_str()) || shape.schema_version == Some(1) {
        bail!("Docker schema 1 manifests are not supported (deprecated since 2017); push the image again with a current client");
    }
    let is_index = match media_type.as_str() {
        OCI_INDEX | DOCKER_MANIFEST_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        "" => shape.manifests.is_some() && shape.layers.is_none(),
        other => bail!("unsupported manifest media type {other:?}"),
    };
    if is_index {
        let index: ImageIndex = serde_json::from_slice(data).context("parsing image index")?;
        Ok(Document::Index(Box::new(index)))
    } else {
        let manifest: ImageManifest = serde_json::from_slice(data).context("parsing image manifest")?;
        Ok(Document::Manifest(Box::new(manifest)))
    }
}

/// The digest of a descriptor, in our type.
pub fn descriptor_digest(descriptor: &Descriptor) -> Result<Digest> {
    descriptor.digest().to_string().parse().map_err(|e| anyhow!("{e}"))
}

/// This host's architecture in OCI spelling (`amd64`, `arm64`, …).
pub fn host_arch() -> Arch {
    Arch::default()
}

/// Picks the manifest for linux and this host's architecture from an index.
pub fn select_platform(index: &ImageIndex) -> Result<Descriptor> {
    let arch = host_arch();
    let candidates: Vec<&Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| matches!(d.media_type(), MediaType::ImageManifest) || d.media_type().to_string() == DOCKER_MANIFEST)
        .collect();
    let matching = candidates.iter().find(|d| match d.platform() {
        Some(p) => *p.os() == Os::Linux && *p.architecture() == arch && variant_matches(&arch, p.variant().as_deref()),
        None => false,
    });
    if let Some(d) = matching {
        return Ok((*d).clone());
    }
    // An index without platform information (as some image layouts have) with a single
    // image manifest: that one.
    if candidates.len() == 1 && candidates[0].platform().is_none() {
        return Ok(candidates[0].clone());
    }
    let available: Vec<String> = candidates
        .iter()
        .filter_map(|d| d.platform().as_ref())
        .map(|p| match p.variant() {
            Some(v) => format!("{}/{}/{}", p.os(), p.architecture(), v),
            None => format!("{}/{}", p.os(), p.architecture()),
        })
        .collect();
    bail!(
        "no image for linux/{arch} in the index (it has: {})",
        if available.is_empty() { "nothing runnable".to_string() } else { available.join(", ") }
    )
}

fn variant_matches(arch: &Arch, variant: Option<&str>) -> bool {
    match (arch, variant) {
        // arm64 images are v8 whether or not they say so.
        (Arch::ARM64, Some(v)) => v == "v8",
        _ => true,
    }
}

/// Checks that a layer descriptor is something we can unpack.
pub fn check_layer_media_type(media_type: &MediaType) -> Result<()> {
    match media_type {
        MediaType::ImageLayer
        | MediaType::ImageLayerGzip
        | MediaType::ImageLayerZstd
        | MediaType::ImageLayerNonDistributable
        | MediaType::ImageLayerNonDistributableGzip
        | MediaType::ImageLayerNonDistributableZstd => Ok(()),
        MediaType::Other(other)
            if other == DOCKER_LAYER_TAR
                || other == "application/vnd.docker.image.rootfs.diff.tar.gzip"
                || other == "application/vnd.docker.image.rootfs.diff.tar.zstd" =>
        {
            Ok(())
        }
        other => bail!("unsupported layer media type {other} (not a container image layer)"),
    }
}

/// What a container takes from its image's config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfigSummary {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    /// `80/tcp` style entries.
    pub exposed_ports: Vec<String>,
    pub stop_signal: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub architecture: String,
    pub os: String,
}

pub fn parse_config(data: &[u8]) -> Result<(ImageConfiguration, ImageConfigSummary)> {
    let config: ImageConfiguration = serde_json::from_slice(data).context("parsing image config")?;
    let summary = match config.config() {
        Some(c) => ImageConfigSummary {
            entrypoint: c.entrypoint().clone().unwrap_or_default(),
            cmd: c.cmd().clone().unwrap_or_default(),
            env: c.env().clone().unwrap_or_default(),
            working_dir: c.working_dir().clone().filter(|w| !w.is_empty()),
            user: c.user().clone().filter(|u| !u.is_empty()),
            exposed_ports: c.exposed_ports().clone().unwrap_or_default(),
            stop_signal: c.stop_signal().clone().filter(|s| !s.is_empty()),
            labels: c.labels().clone().unwrap_or_default().into_iter().collect(),
            architecture: config.architecture().to_string(),
            os: config.os().to_string(),
        },
        None => ImageConfigSummary {
            architecture: config.architecture().to_string(),
            os: config.os().to_string(),
            ..Default::default()
        },
    };
    Ok((config, summary))
}

/// The diff IDs listed in a config, parsed.
pub fn diff_ids(config: &ImageConfiguration) -> Result<Vec<Digest>> {
    config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| d.parse::<Digest>().with_context(|| format!("image config lists invalid diff ID {d:?}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_json(platforms: &[(&str, &str)]) -> Vec<u8> {
        let manifests: Vec<serde_json::Value> = platforms
            .iter()
            .enumerate()
            .map(|(i, (os, arch))| {
                serde_json::json!({
                    "mediaType": OCI_MANIFEST,
                    "digest": Digest::sha256_of(&[i as u8]).to_string(),
                    "size": 10,
                    "platform": {"os": os, "architecture": arch}
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}))
            .unwrap()
    }

    #[test]
    fn picks_the_host_platform_from_an_index() {
        let host = host_arch().to_string();
        let data = index_json(&[("windows", &host), ("linux", "s390x"), ("linux", &host)]);
        let Document::Index(index) = parse_document(&data).unwrap() else { panic!("not an index") };
        let chosen = select_platform(&index).unwrap();
        assert_eq!(descriptor_digest(&chosen).unwrap(), Digest::sha256_of(&[2]));
    }

    #[test]
    fn names_available_platforms_when_none_fits() {
        let data = index_json(&[("linux", "s390x"), ("linux", "riscv64")]);
        let Document::Index(index) = parse_document(&data).unwrap() else { panic!("not an index") };
        let err = select_platform(&index).unwrap_err().to_string();
        assert!(err.contains("linux/s390x") && err.contains("linux/riscv64"), "{err}");
    }

    #[test]
    fn refuses_schema1_and_unknown_types() {
        assert!(parse_document(br#"{"schemaVersion":1,"name":"x"}"#).unwrap_err().to_string().contains("schema 1"));
        assert!(parse_document(br#"{"schemaVersion":2,"mediaType":"application/x-helm"}"#).is_err());
        assert!(parse_document(b"not json").is_err());
    }
}
