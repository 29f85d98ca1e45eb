//! A minimal HTTPS client for what happens before the agent has a kube client (joining) and
//! for probes: one request, optionally trusting only a given CA, or (probes, and fetching
//! the CA to check against the token's hash) trusting anything.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt, Full};
use rustls::pki_types::ServerName;

/// Who the server must prove to be.
pub enum Trust<'a> {
    /// Only certificates signed by this CA (PEM).
    Ca(&'a str),
    /// Anything (the caller checks what it receives some other way).
    Anything,
}

pub fn connector(trust: Trust<'_>) -> Result<tokio_rustls::TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let config = match trust {
        Trust::Ca(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in crate::server::apiserver::tls::pem_certs(pem)? {
                roots.add(cert)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Anything => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAny(provider))).with_no_client_auth()
        }
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// `method url` with `headers` and `body`; returns (status, body).
pub async fn request(
    trust: Trust<'_>,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, Vec<u8>)> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("{url:?} is not a URL"))?;
    if uri.scheme_str() != Some("https") {
        bail!("{url} must be an https:// URL");
    }
    let host = uri.host().context("the URL has no host")?.trim_matches(|c| c == '[' || c == ']').to_string();
    let port = uri.port_u16().unwrap_or(443);
    let connector = connector(trust)?;
    let work = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .with_context(|| format!("connecting to {host}:{port}"))?;
        let name = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.clone())?,
        };
        let tls = connector.connect(name, tcp).await.context("TLS handshake")?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut req =
            hyper::Request::builder().method(method).uri(path).header(hyper::header::HOST, format!("{host}:{port}"));
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let response = sender.send_request(req.body(Full::new(bytes::Bytes::from(body)))?).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok::<_, anyhow::Error>((status, body))
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| anyhow::anyhow!("{url}: no answer within {timeout:?}"))?
}

/// Accepts any server certificate (signatures are still checked).
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
