//! The node API's TLS: it serves a certificate the cluster's server CA signed for this node and
//! requires a client certificate from the client CA. Only the API server (or a cluster admin)
//! may use it.

use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

use crate::server::auth::authn::{self, UserInfo, MASTERS};

/// The user name of the API server's client certificate for node APIs.
pub const API_SERVER_CLIENT_USER: &str = "kube-apiserver-kubelet-client";

/// What the node API serves and whom it lets in, all PEM.
#[derive(Clone)]
pub struct NodeApiTls {
    pub cert_pem: String,
    pub key_pem: String,
    /// The CA client certificates must chain to.
    pub client_ca_pem: String,
}

impl std::fmt::Debug for NodeApiTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeApiTls").finish_non_exhaustive()
    }
}

pub fn acceptor(tls: &NodeApiTls) -> Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs(&tls.client_ca_pem).context("the node API's client CA")? {
        roots.add(cert).context("the node API's client CA")?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;
    let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes()).context("the node API's serving key")?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&tls.cert_pem).context("the node API's serving certificate")?, key)?;
    // Streaming upgrades need HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn certs(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    Ok(CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>()?)
}

/// The user behind a verified client certificate.
pub fn peer(certs: Option<&[CertificateDer<'_>]>) -> Option<UserInfo> {
    certs?.first().and_then(|cert| authn::from_client_cert(cert))
}

/// Whether `user` may use the node API.
pub fn allowed(user: &UserInfo) -> bool {
    user.name == API_SERVER_CLIENT_USER || user.in_group(MASTERS)
}
