//! TLS termination: the certificate for each TLS host comes from the `kubernetes.io/tls`
//! Secret its Ingress names, chosen by SNI; a request for any other name (or without SNI)
//! gets a self-signed default certificate, as ingress-nginx's "fake" certificate.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde_json::Value;

#[derive(Debug)]
pub struct Certificates {
    by_host: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    fallback: Arc<CertifiedKey>,
}

impl Certificates {
    pub fn new() -> Result<Self> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(vec!["ingress.local".to_string()])?;
        params.distinguished_name.push(rcgen::DnType::CommonName, "onebin ingress default certificate");
        let cert = params.self_signed(&key)?;
        let fallback = certified_key(cert.pem().as_bytes(), key.serialize_pem().as_bytes())?;
        Ok(Self { by_host: RwLock::default(), fallback: Arc::new(fallback) })
    }

    /// Replaces the host → certificate map: `tls_secrets` maps hosts to `namespace/name`,
    /// `secret` looks a Secret up. A missing or malformed Secret leaves its host on the
    /// default certificate, with a warning.
    pub fn update(
        &self,
        tls_secrets: &std::collections::BTreeMap<String, String>,
        secret: impl Fn(&str) -> Option<Arc<Value>>,
    ) {
        let mut parsed: HashMap<&str, Option<Arc<CertifiedKey>>> = HashMap::new();
        let mut by_host = HashMap::new();
        for (host, key) in tls_secrets {
            let entry = parsed.entry(key.as_str()).or_insert_with(|| match secret(key).map(|s| from_secret(&s)) {
                Some(Ok(certified)) => Some(Arc::new(certified)),
                Some(Err(err)) => {
                    tracing::warn!(secret = %key, "ingress TLS secret unusable: {err:#}");
                    None
                }
                None => {
                    tracing::warn!(secret = %key, "ingress TLS secret not found");
                    None
                }
            });
            if let Some(certified) = entry {
                by_host.insert(host.clone(), certified.clone());
            }
        }
        *self.by_host.write().expect("certificates lock") = by_host;
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let by_host = self.by_host.read().expect("certificates lock");
        let found = hello.server_name().and_then(|name| {
            let name = name.to_ascii_lowercase();
            let wildcard = name.split_once('.').map(|(_, parent)| format!("*.{parent}"));
            by_host.get(&name).or_else(|| wildcard.and_then(|w| by_host.get(&w))).cloned()
        });
        Some(found.unwrap_or_else(|| self.fallback.clone()))
    }
}

fn from_secret(secret: &Value) -> Result<CertifiedKey> {
    let field = |name: &str| -> Result<Vec<u8>> {
        let encoded = secret.get("data").and_then(|d| d.get(name)).and_then(Value::as_str);
        let encoded = encoded.with_context(|| format!("no {name} in the secret"))?;
        base64::engine::general_purpose::STANDARD.decode(encoded).with_context(|| format!("{name} is not base64"))
    };
    certified_key(&field("tls.crt")?, &field("tls.key")?)
}

fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey> {
    let chain = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>().context("reading tls.crt")?;
    anyhow::ensure!(!chain.is_empty(), "tls.crt holds no certificate");
    let key = PrivateKeyDer::from_pem_slice(key_pem).context("reading tls.key")?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).context("tls.key is not a supported key")?;
    Ok(CertifiedKey::new(chain, signer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tls_secret(host: &str) -> Value {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![host.to_string()]).unwrap().self_signed(&key).unwrap();
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        json!({"type": "kubernetes.io/tls", "data": {"tls.crt": b64(cert.pem()), "tls.key": b64(key.serialize_pem())}})
    }

    #[test]
    fn hosts_get_their_secret_and_bad_secrets_fall_back() {
        let certs = Certificates::new().unwrap();
        let secrets: HashMap<&str, Arc<Value>> = [
            ("default/good", Arc::new(tls_secret("a.example.com"))),
            ("default/bad", Arc::new(json!({"data": {"tls.crt": "bm90IGEgY2VydA==", "tls.key": "eA=="}}))),
        ]
        .into_iter()
        .collect();
        let wanted =
            [("a.example.com", "default/good"), ("b.example.com", "default/bad"), ("c.example.com", "default/gone")]
                .into_iter()
                .map(|(h, s)| (h.to_string(), s.to_string()))
                .collect();
        certs.update(&wanted, |key| secrets.get(key).cloned());
        let by_host = certs.by_host.read().unwrap();
        assert!(by_host.contains_key("a.example.com"));
        assert!(!by_host.contains_key("b.example.com"));
        assert!(!by_host.contains_key("c.example.com"));
    }
}
