//! The admin kubeconfig a server writes: its address and the client certificate to load it with.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use base64::Engine;
use serde::Deserialize;

use crate::http::Endpoint;

#[derive(Deserialize)]
struct Kubeconfig {
    clusters: Vec<NamedCluster>,
    users: Vec<NamedUser>,
}

#[derive(Deserialize)]
struct NamedCluster {
    cluster: Cluster,
}

#[derive(Deserialize)]
struct NamedUser {
    user: User,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    server: String,
    certificate_authority_data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct User {
    client_certificate_data: String,
    client_key_data: String,
}

/// The endpoint of the first cluster, authenticated as the first user.
pub fn admin_endpoint(path: &Path) -> Result<Endpoint> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config: Kubeconfig = serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let cluster = &config.clusters.first().ok_or_else(|| anyhow!("{} has no cluster", path.display()))?.cluster;
    let user = &config.users.first().ok_or_else(|| anyhow!("{} has no user", path.display()))?.user;
    let decode = |field: &str, value: &str| {
        base64::engine::general_purpose::STANDARD.decode(value.trim()).with_context(|| format!("decoding {field}"))
    };
    Endpoint::with_client_cert(
        server_addr(&cluster.server)?,
        &decode("certificate-authority-data", &cluster.certificate_authority_data)?,
        &decode("client-certificate-data", &user.client_certificate_data)?,
        &decode("client-key-data", &user.client_key_data)?,
    )
}

fn server_addr(url: &str) -> Result<SocketAddr> {
    let authority = url
        .strip_prefix("https://")
        .ok_or_else(|| anyhow!("server {url:?} is not an https:// URL"))?
        .trim_end_matches('/');
    authority
        .to_socket_addrs()
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .ok_or_else(|| anyhow!("{authority} resolves to no address"))
}
