//! `/etc/onebin/registries.yaml`, in k3s's format: mirrors (with optional repository
//! rewrites) per registry or `"*"` for all, and per-host credentials and TLS settings.
//!
//! ```yaml
//! mirrors:
//!   docker.io:
//!     endpoint: ["http://127.0.0.1:5000"]
//!     rewrite:
//!       "^library/(.*)": "mirrored/$1"
//! configs:
//!   "registry.example.com:5000":
//!     auth: {username: u, password: p}
//!     tls: {insecure_skip_verify: true, ca_file: /etc/ssl/my-ca.pem}
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

pub const DEFAULT_REGISTRIES_FILE: &str = "/etc/onebin/registries.yaml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registries {
    #[serde(default)]
    pub mirrors: BTreeMap<String, Mirror>,
    #[serde(default)]
    pub configs: BTreeMap<String, RegistryConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mirror {
    #[serde(default)]
    pub endpoint: Vec<String>,
    /// Regular expression → replacement, applied to the repository path.
    #[serde(default)]
    pub rewrite: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    pub auth: Option<AuthConfig>,
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub username: Option<String>,
    pub password: Option<String>,
    /// base64 of `username:password`, as in Docker's config.json.
    pub auth: Option<String>,
    /// A bearer token sent as is.
    pub identitytoken: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// One place to try for an image: a mirror or the registry itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]`
    pub host: String,
    pub plain_http: bool,
    /// The repository path at this endpoint (after rewrites).
    pub repository: String,
    /// Whether this is the image's own registry rather than a mirror.
    pub upstream: bool,
}

/// Credentials for a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    Basic(String, String),
    Bearer(String),
}

impl Registries {
    /// Reads the file; a missing file means no mirrors and no credentials.
    pub fn load(path: &Path) -> Result<Registries> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).with_context(|| format!("in {}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Registries::default()),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn parse(text: &str) -> Result<Registries> {
        if text.trim().is_empty() {
            return Ok(Registries::default());
        }
        let registries: Registries = serde_yaml::from_str(text).context("not a valid registries.yaml")?;
        for mirror in registries.mirrors.values() {
            for pattern in mirror.rewrite.keys() {
                regex::Regex::new(pattern).with_context(|| format!("rewrite pattern {pattern:?}"))?;
            }
            for endpoint in &mirror.endpoint {
                split_endpoint(endpoint)?;
            }
        }
        Ok(registries)
    }

    /// Where to look for `repository` of `registry`, in order: its mirrors (or the `"*"`
    /// ones), then the registry itself.
    pub fn endpoints(&self, registry: &str, repository: &str) -> Result<Vec<Endpoint>> {
        let mirror = self.mirrors.get(registry).or_else(|| self.mirrors.get("*"));
        let mut endpoints = Vec::new();
        if let Some(mirror) = mirror {
            let repository = rewrite(repository, &mirror.rewrite);
            for endpoint in &mirror.endpoint {
                let (host, plain_http) = split_endpoint(endpoint)?;
                if host == registry {
                    continue;
                }
                endpoints.push(Endpoint { host, plain_http, repository: repository.clone(), upstream: false });
            }
        }
        let own = mirror
            .and_then(|m| {
                m.endpoint.iter().map(|e| split_endpoint(e)).find(|r| matches!(r, Ok((h, _)) if h == registry))
            })
            .transpose()?;
        endpoints.push(Endpoint {
            host: registry.to_string(),
            plain_http: own.map_or_else(|| is_loopback(registry), |(_, http)| http),
            repository: repository.to_string(),
            upstream: true,
        });
        Ok(endpoints)
    }

    pub fn credentials(&self, host: &str) -> Result<Credentials> {
        let Some(auth) = self.configs.get(host).and_then(|c| c.auth.as_ref()) else {
            return Ok(Credentials::Anonymous);
        };
        if let Some(token) = auth.identitytoken.as_ref().or(auth.token.as_ref()) {
            return Ok(Credentials::Bearer(token.clone()));
        }
        if let (Some(user), Some(password)) = (&auth.username, &auth.password) {
            return Ok(Credentials::Basic(user.clone(), password.clone()));
        }
        if let Some(encoded) = &auth.auth {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).context("auth is not base64")?;
            let text = String::from_utf8(decoded).context("auth is not UTF-8")?;
            let (user, password) = text.split_once(':').context("auth must encode username:password")?;
            return Ok(Credentials::Basic(user.to_string(), password.to_string()));
        }
        Ok(Credentials::Anonymous)
    }

    pub fn tls(&self, host: &str) -> Option<&TlsConfig> {
        self.configs.get(host).and_then(|c| c.tls.as_ref())
    }
}

/// `https://host:port/` → (`host:port`, false); `http://…` → plain HTTP; no scheme → HTTPS.
fn split_endpoint(endpoint: &str) -> Result<(String, bool)> {
    let (rest, plain_http) = if let Some(rest) = endpoint.strip_prefix("http://") {
        (rest, true)
    } else if let Some(rest) = endpoint.strip_prefix("https://") {
        (rest, false)
    } else {
        (endpoint, false)
    };
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        bail!("mirror endpoint {endpoint:?} must be a URL of a registry host (paths are not supported)");
    }
    Ok((host.to_string(), plain_http))
}

/// Registries on loopback speak plain HTTP unless configured otherwise, as Docker treats
/// 127.0.0.0/8 as an insecure registry.
fn is_loopback(host: &str) -> bool {
    let name =
        host.rsplit_once(':').map_or(host, |(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn rewrite(repository: &str, rules: &BTreeMap<String, String>) -> String {
    for (pattern, replacement) in rules {
        if let Ok(re) = regex::Regex::new(pattern) {
            if re.is_match(repository) {
                return re.replace(repository, replacement.as_str()).into_owned();
            }
        }
    }
    repository.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:5000", "https://mirror.example.com"]
    rewrite:
      "^library/(.*)": "hub/$1"
configs:
  "mirror.example.com":
    auth: {username: u, password: p}
  "other.example.com":
    auth: {auth: "dTpw"}
    tls: {insecure_skip_verify: true}
"#;

    #[test]
    fn mirrors_first_then_upstream() {
        let r = Registries::parse(FILE).unwrap();
        let endpoints = r.endpoints("docker.io", "library/nginx").unwrap();
        assert_eq!(endpoints.len(), 3);
        assert_eq!(
            endpoints[0],
            Endpoint {
                host: "127.0.0.1:5000".into(),
                plain_http: true,
                repository: "hub/nginx".into(),
                upstream: false
            }
        );
        assert!(!endpoints[1].plain_http);
        assert_eq!(
            endpoints[2],
            Endpoint {
                host: "docker.io".into(),
                plain_http: false,
                repository: "library/nginx".into(),
                upstream: true
            }
        );
        let plain = r.endpoints("localhost:5000", "x").unwrap();
        assert_eq!(
            plain,
            vec![Endpoint { host: "localhost:5000".into(), plain_http: true, repository: "x".into(), upstream: true }]
        );
    }

    #[test]
    fn credentials_and_tls() {
        let r = Registries::parse(FILE).unwrap();
        assert_eq!(r.credentials("mirror.example.com").unwrap(), Credentials::Basic("u".into(), "p".into()));
        assert_eq!(r.credentials("other.example.com").unwrap(), Credentials::Basic("u".into(), "p".into()));
        assert_eq!(r.credentials("docker.io").unwrap(), Credentials::Anonymous);
        assert!(r.tls("other.example.com").unwrap().insecure_skip_verify);
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(Registries::parse("mirrors: [1]").is_err());
        assert!(Registries::parse("mirrors:\n  x:\n    rewrite: {\"(\": y}\n").is_err());
        assert!(Registries::parse("bogus: 1").is_err());
        assert!(Registries::parse("").unwrap().mirrors.is_empty());
    }
}
