//! ServiceAccount tokens: JWTs (ES256) signed by a key kept in the data dir, issued through
//! the TokenRequest API (what the kubelet mounts into pods and `kubectl create token`
//! prints) and accepted by the authenticator while the service account (and the pod the
//! token is bound to, if any) still exists.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde_json::{json, Value};

use super::authn::{TokenAuthenticator, UserInfo, AUTHENTICATED};
use super::files::write_private;
use crate::server::controllers::informer::Informer;

/// Issuer of every token (as in a default Kubernetes cluster).
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const ALGORITHM: &str = "ES256";

pub struct TokenSigner {
    key: EcdsaKeyPair,
    public: Vec<u8>,
    rng: SystemRandom,
}

impl TokenSigner {
    /// Loads the signing key (PKCS#8 DER) from `path`, creating it on first start.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let rng = SystemRandom::new();
        let der = match std::fs::read(path) {
            Ok(der) => der,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let der = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| anyhow::anyhow!("generating the service account key"))?
                    .as_ref()
                    .to_vec();
                write_private(path, &der)?;
                der
            }
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        let key = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .map_err(|e| anyhow::anyhow!("{} is not a P-256 key: {e}", path.display()))?;
        let public = key.public_key().as_ref().to_vec();
        Ok(Self { key, public, rng })
    }

    /// A signed token carrying `claims`.
    pub fn sign(&self, claims: &Value) -> Result<String> {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": ALGORITHM, "typ": "JWT"}).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let sig = self.key.sign(&self.rng, input.as_bytes()).map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
    }

    /// The claims of a token this server signed that is valid now.
    pub fn verify(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (header, payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let signed = &token[..token.rfind('.')?];
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &self.public)
            .verify(signed.as_bytes(), &sig)
            .ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let now = jiff::Timestamp::now().as_second();
        let exp = claims.get("exp").and_then(Value::as_i64)?;
        let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
        (claims.get("iss").and_then(Value::as_str) == Some(ISSUER) && now < exp && now + 60 >= nbf).then_some(claims)
    }
}

/// What a token is bound to.
pub struct TokenSubject<'a> {
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub service_account_uid: &'a str,
    /// (name, uid) of the pod the token is bound to.
    pub pod: Option<(&'a str, &'a str)>,
}

/// The claims of a token for `subject`, valid for `seconds` from now.
pub fn claims(subject: &TokenSubject<'_>, audiences: &[String], seconds: i64) -> Value {
    let now = jiff::Timestamp::now().as_second();
    let mut kubernetes = json!({
        "namespace": subject.namespace,
        "serviceaccount": {"name": subject.service_account, "uid": subject.service_account_uid},
    });
    if let Some((name, uid)) = subject.pod {
        kubernetes["pod"] = json!({"name": name, "uid": uid});
    }
    let audiences = if audiences.is_empty() { vec![ISSUER.to_string()] } else { audiences.to_vec() };
    json!({
        "iss": ISSUER,
        "sub": format!("system:serviceaccount:{}:{}", subject.namespace, subject.service_account),
        "aud": audiences,
        "iat": now, "nbf": now, "exp": now + seconds,
        "jti": uuid::Uuid::new_v4().to_string(),
        "kubernetes.io": kubernetes,
    })
}

/// Accepts tokens whose service account (and bound pod) still exist with the same uid.
pub struct ServiceAccountAuthenticator {
    pub signer: Arc<TokenSigner>,
    pub service_accounts: Arc<Informer>,
    pub pods: Arc<Informer>,
}

impl TokenAuthenticator for ServiceAccountAuthenticator {
    fn authenticate(&self, token: &str) -> Option<UserInfo> {
        let claims = self.signer.verify(token)?;
        let k8s = claims.get("kubernetes.io")?;
        let ns = k8s.get("namespace")?.as_str()?;
        let sa_name = k8s.pointer("/serviceaccount/name")?.as_str()?;
        let sa_uid = k8s.pointer("/serviceaccount/uid")?.as_str()?;
        let sa = self.service_accounts.get(Some(ns), sa_name)?;
        if crate::server::registry::object::uid(&sa) != sa_uid {
            return None;
        }
        if let Some(pod) = k8s.get("pod") {
            let live = self.pods.get(Some(ns), pod.get("name")?.as_str()?)?;
            if crate::server::registry::object::uid(&live) != pod.get("uid")?.as_str()? {
                return None;
            }
        }
        Some(UserInfo {
            name: format!("system:serviceaccount:{ns}:{sa_name}"),
            uid: sa_uid.to_string(),
            groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{ns}"), AUTHENTICATED.into()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_when_forged() {
        let dir = tempfile::tempdir().unwrap();
        let signer = TokenSigner::load_or_create(&dir.path().join("sa.key")).unwrap();
        let subject =
            TokenSubject { namespace: "default", service_account: "default", service_account_uid: "u1", pod: None };
        let token = signer.sign(&claims(&subject, &[], 600)).unwrap();
        let verified = signer.verify(&token).unwrap();
        assert_eq!(verified["sub"], "system:serviceaccount:default:default");
        let expired = signer.sign(&claims(&subject, &[], -10)).unwrap();
        assert!(signer.verify(&expired).is_none());
        let other = TokenSigner::load_or_create(&dir.path().join("other.key")).unwrap();
        assert!(other.verify(&token).is_none());
        let reloaded = TokenSigner::load_or_create(&dir.path().join("sa.key")).unwrap();
        assert!(reloaded.verify(&token).is_some());
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 2, 'x');
        assert!(signer.verify(&tampered).is_none());
    }
}
