//! The cluster's certificates, generated at first start and kept under `<data-dir>/server/tls`.
//!
//! Two CAs, as in k3s: the server CA signs the API server's serving certificate (its hash is
//! pinned by the join token), the client CA signs every client identity (admin, nodes, the API
//! server's own client certificate for the node API). Leaf certificates are re-issued at start
//! when they are close to expiry or when the serving certificate lacks a wanted name.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::server::auth::files::write_private;

const CA_LIFETIME: Duration = Duration::days(3650);
const LEAF_LIFETIME: Duration = Duration::days(365);
/// Leaves expiring sooner than this are re-issued at start.
const RENEW_BEFORE: Duration = Duration::days(90);

/// A certificate with its private key, both PEM.
#[derive(Clone)]
pub struct CertKey {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Paths and material of the server's PKI.
pub struct Pki {
    dir: PathBuf,
    pub server_ca: CertKey,
    pub client_ca: CertKey,
}

/// Who a client certificate says it is.
pub struct ClientIdentity<'a> {
    pub user: &'a str,
    pub groups: &'a [&'a str],
}

impl Pki {
    /// Loads the CAs from `<data_dir>/server/tls`, creating them on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self> {
        let dir = data_dir.join("server").join("tls");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let server_ca = load_or_create_ca(&dir, "server-ca", "onebin-server-ca")?;
        let client_ca = load_or_create_ca(&dir, "client-ca", "onebin-client-ca")?;
        Ok(Self { dir, server_ca, client_ca })
    }

    pub fn server_ca_path(&self) -> PathBuf {
        self.dir.join("server-ca.crt")
    }

    /// The API server's serving certificate for `names` (DNS names and IPs), re-issued when
    /// it is missing a name or expiring.
    pub fn serving_cert(&self, names: &BTreeSet<String>) -> Result<CertKey> {
        self.serving_leaf("serving-kube-apiserver", "kube-apiserver", names)
    }

    /// The serving certificate of node `node`'s API (the kubelet port). The API server checks
    /// it for the node's name; loopback (and `ip`, when known) serve tools on the node itself.
    pub fn node_serving_cert(&self, node: &str, ip: Option<IpAddr>) -> Result<CertKey> {
        let mut names: BTreeSet<String> = [node, "localhost", "127.0.0.1"].into_iter().map(String::from).collect();
        names.extend(ip.map(|ip| ip.to_string()));
        self.serving_leaf(&format!("serving-kubelet-{node}"), &format!("system:node:{node}"), &names)
    }

    /// A serving certificate kept under `name`, re-issued when it lacks a name or expires.
    fn serving_leaf(&self, name: &str, common_name: &str, names: &BTreeSet<String>) -> Result<CertKey> {
        if let Some(existing) = self.load_leaf(name)? {
            if covers_names(&existing.cert_pem, names)? && !expiring(&existing.cert_pem)? {
                return Ok(existing);
            }
        }
        let mut params = leaf_params(common_name, &[])?;
        params.subject_alt_names = names.iter().map(|n| san(n)).collect::<Result<_>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(name, params, &self.server_ca)
    }

    /// A client certificate for `identity`, kept under `name` and re-issued when expiring.
    pub fn client_cert(&self, name: &str, identity: ClientIdentity<'_>) -> Result<CertKey> {
        if let Some(existing) = self.load_leaf(name)? {
            if !expiring(&existing.cert_pem)? {
                return Ok(existing);
            }
        }
        let mut params = leaf_params(identity.user, identity.groups)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(name, params, &self.client_ca)
    }

    fn issue(&self, name: &str, params: CertificateParams, ca: &CertKey) -> Result<CertKey> {
        let key = KeyPair::generate()?;
        let ca_key = KeyPair::from_pem(&ca.key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key)?;
        let cert = params.signed_by(&key, &issuer)?;
        let issued = CertKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() };
        save(&self.dir, name, &issued)?;
        Ok(issued)
    }

    fn load_leaf(&self, name: &str) -> Result<Option<CertKey>> {
        load(&self.dir, name)
    }
}

fn leaf_params(common_name: &str, organizations: &[&str]) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    for org in organizations {
        dn.push(DnType::OrganizationName, *org);
    }
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + LEAF_LIFETIME;
    Ok(params)
}

fn load_or_create_ca(dir: &Path, name: &str, common_name: &str) -> Result<CertKey> {
    if let Some(existing) = load(dir, name)? {
        return Ok(existing);
    }
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let now = OffsetDateTime::now_utc();
    params.distinguished_name.push(DnType::CommonName, format!("{common_name}@{}", now.unix_timestamp()));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + CA_LIFETIME;
    let cert = params.self_signed(&key)?;
    let ca = CertKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() };
    save(dir, name, &ca)?;
    Ok(ca)
}

fn load(dir: &Path, name: &str) -> Result<Option<CertKey>> {
    let cert_path = dir.join(format!("{name}.crt"));
    let key_path = dir.join(format!("{name}.key"));
    if !cert_path.exists() || !key_path.exists() {
        return Ok(None);
    }
    Ok(Some(CertKey {
        cert_pem: std::fs::read_to_string(&cert_path).with_context(|| format!("reading {}", cert_path.display()))?,
        key_pem: std::fs::read_to_string(&key_path).with_context(|| format!("reading {}", key_path.display()))?,
    }))
}

fn save(dir: &Path, name: &str, cert: &CertKey) -> Result<()> {
    // Key first: a crash in between leaves a key without a certificate, which is re-issued.
    write_private(&dir.join(format!("{name}.key")), cert.key_pem.as_bytes())?;
    write_private(&dir.join(format!("{name}.crt")), cert.cert_pem.as_bytes())
}

fn san(name: &str) -> Result<SanType> {
    Ok(match name.parse::<IpAddr>() {
        Ok(ip) => SanType::IpAddress(ip),
        Err(_) => SanType::DnsName(name.try_into().with_context(|| format!("{name:?} is not a valid DNS name"))?),
    })
}

fn parse_pem(pem: &str) -> Result<Vec<u8>> {
    let block = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| anyhow::anyhow!("bad PEM: {e}"))?.1;
    Ok(block.contents)
}

fn expiring(cert_pem: &str) -> Result<bool> {
    let der = parse_pem(cert_pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| anyhow::anyhow!("bad certificate: {e}"))?;
    let not_after = cert.validity().not_after.timestamp();
    Ok(not_after < (OffsetDateTime::now_utc() + RENEW_BEFORE).unix_timestamp())
}

fn covers_names(cert_pem: &str, names: &BTreeSet<String>) -> Result<bool> {
    let der = parse_pem(cert_pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| anyhow::anyhow!("bad certificate: {e}"))?;
    let mut present = BTreeSet::new();
    if let Ok(Some(sans)) = cert.subject_alternative_name() {
        for name in &sans.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(dns) => {
                    present.insert(dns.to_string());
                }
                x509_parser::extensions::GeneralName::IPAddress(raw) => {
                    let ip = match raw.len() {
                        4 => IpAddr::from(<[u8; 4]>::try_from(*raw).expect("4 bytes")),
                        16 => IpAddr::from(<[u8; 16]>::try_from(*raw).expect("16 bytes")),
                        _ => continue,
                    };
                    present.insert(ip.to_string());
                }
                _ => {}
            }
        }
    }
    Ok(names.iter().all(|n| present.contains(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_persist_and_serving_cert_is_reissued_for_new_names() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(dir.path()).unwrap();
        let again = Pki::load_or_create(dir.path()).unwrap();
        assert_eq!(pki.server_ca.cert_pem, again.server_ca.cert_pem);
        let names: BTreeSet<String> = ["localhost", "127.0.0.1"].map(String::from).into();
        let first = pki.serving_cert(&names).unwrap();
        assert_eq!(pki.serving_cert(&names).unwrap().cert_pem, first.cert_pem);
        let more: BTreeSet<String> = ["localhost", "127.0.0.1", "10.43.0.1"].map(String::from).into();
        let second = pki.serving_cert(&more).unwrap();
        assert_ne!(second.cert_pem, first.cert_pem);
        assert!(covers_names(&second.cert_pem, &more).unwrap());
    }
}
