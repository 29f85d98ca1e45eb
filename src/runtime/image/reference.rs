//! Image references, parsed and normalised the way Docker does: `nginx` means
//! `docker.io/library/nginx:latest`, `user/img:tag` lives on Docker Hub, and a first
//! component with a dot, a colon or the name `localhost` is a registry host.

use std::fmt;
use std::str::FromStr;

use super::digest::Digest;

pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];
const OFFICIAL_NAMESPACE: &str = "library";
const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LENGTH: usize = 255;
const MAX_TAG_LENGTH: usize = 128;

/// A fully qualified image reference: registry, repository path, and a tag and/or digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid image reference {0:?}: empty")]
    Empty(String),
    #[error("invalid image reference {reference:?}: {why}")]
    Invalid { reference: String, why: String },
}

fn invalid(reference: &str, why: impl Into<String>) -> ReferenceError {
    ReferenceError::Invalid { reference: reference.to_string(), why: why.into() }
}

impl Reference {
    /// Parses and normalises `input`; a reference without tag or digest gets `:latest`.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError::Empty(input.to_string()));
        }
        if input.trim() != input {
            return Err(invalid(input, "contains leading or trailing whitespace"));
        }
        let (name_and_tag, digest) = match input.split_once('@') {
            Some((rest, digest)) => {
                let digest = digest.parse::<Digest>().map_err(|err| invalid(input, err.to_string()))?;
                (rest, Some(digest))
            }
            None => (input, None),
        };
        // A tag follows the last colon that comes after the last slash; an earlier
        // colon belongs to a registry port.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_and_tag[..at], Some(&name_and_tag[at + 1..]))
            }
            None => (name_and_tag, None),
        };
        if let Some(tag) = tag {
            validate_tag(input, tag)?;
        }
        let (registry, repository) = split_registry(name);
        validate_registry(input, &registry)?;
        validate_repository(input, &repository)?;
        if registry.len() + 1 + repository.len() > MAX_NAME_LENGTH {
            return Err(invalid(input, format!("name longer than {MAX_NAME_LENGTH} characters")));
        }
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_string()),
        };
        Ok(Reference { registry, repository, tag, digest })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository pinned to `digest` (the form kept as an image's repo digest).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }
}

fn split_registry(name: &str) -> (String, String) {
    let (first, rest) = match name.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    match rest {
        Some(rest)
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            let registry = if DOCKER_HUB_ALIASES.contains(&first) { DOCKER_HUB } else { first };
            let repository = if registry == DOCKER_HUB && !rest.contains('/') {
                format!("{OFFICIAL_NAMESPACE}/{rest}")
            } else {
                rest.to_string()
            };
            (registry.to_string(), repository)
        }
        Some(_) => (DOCKER_HUB.to_string(), name.to_string()),
        None => (DOCKER_HUB.to_string(), format!("{OFFICIAL_NAMESPACE}/{name}")),
    }
}

fn validate_registry(input: &str, registry: &str) -> Result<(), ReferenceError> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || registry.starts_with('[') => (host, Some(port)),
        _ => (registry, None),
    };
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) || port.parse::<u16>().is_err() {
            return Err(invalid(input, format!("invalid registry port {port:?}")));
        }
    }
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if host_ok {
        Ok(())
    } else {
        Err(invalid(input, format!("invalid registry host {host:?}")))
    }
}

fn validate_repository(input: &str, repository: &str) -> Result<(), ReferenceError> {
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(invalid(input, "repository name must be lowercase"));
    }
    for component in repository.split('/') {
        if !is_path_component(component) {
            return Err(invalid(
                input,
                format!("invalid repository path component {component:?} (allowed: a-z, 0-9 and single separators . _ __ -)"),
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn validate_tag(input: &str, tag: &str) -> Result<(), ReferenceError> {
    let bytes = tag.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_TAG_LENGTH
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            input,
            format!("invalid tag {tag:?} (up to {MAX_TAG_LENGTH} of A-Z a-z 0-9 _ . -, not starting with . or -)"),
        ))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(norm("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(norm("user/img:tag"), "docker.io/user/img:tag");
        assert_eq!(norm("docker.io/nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("index.docker.io/library/nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("localhost/app"), "localhost/app:latest");
        assert_eq!(norm("localhost:5000/a/b/c:v1"), "localhost:5000/a/b/c:v1");
        assert_eq!(norm("quay.io/coreos/etcd"), "quay.io/coreos/etcd:latest");
        assert_eq!(norm("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest");
        assert_eq!(norm("[::1]:5000/busybox"), "[::1]:5000/busybox:latest");
    }

    #[test]
    fn digests_keep_an_explicit_tag_and_add_no_default_tag() {
        let by_digest = format!("host:5000/repo@sha256:{HEX}");
        assert_eq!(norm(&by_digest), by_digest);
        let r = Reference::parse(&format!("busybox:1@sha256:{HEX}")).unwrap();
        assert_eq!(r.tag(), Some("1"));
        assert_eq!(r.digest().unwrap().hex(), HEX);
    }

    #[test]
    fn rejects_invalid_references_with_a_reason() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "nginx@sha256:abc",
            "nginx@md5:0123",
            "a//b",
            "a/-b",
            "bad host:5000/x",
            "host:99999/x",
            " nginx",
            "nginx:tag:more",
        ] {
            let err = Reference::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid image reference"), "{bad}: {err}");
        }
        assert!(Reference::parse(&"a".repeat(300)).is_err());
    }
}
