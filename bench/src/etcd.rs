//! The durable-write peer: Debian's etcd, serving TLS with client-certificate authentication
//! like onebin, on a fresh data dir and free ports. Requests go through etcd's JSON gateway
//! (`/v3/kv/put`, `/v3/kv/range`), so one HTTP load generator drives both.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine;
use bytes::Bytes;
use hyper::{Method, Request, StatusCode};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use crate::http::{Body, Endpoint, Protocol};
use crate::process;
use crate::server::free_port;

pub const PACKAGE: &str = "etcd-server";

pub struct Etcd {
    dir: tempfile::TempDir,
    child: Child,
    pub endpoint: Endpoint,
    pub version: String,
}

impl Etcd {
    pub async fn start(work_dir: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("etcd-bench-").tempdir_in(work_dir)?;
        let pki = Pki::generate()?;
        let file = |name: &str, pem: &str| -> Result<std::path::PathBuf> {
            let path = dir.path().join(name);
            std::fs::write(&path, pem)?;
            Ok(path)
        };
        let (ca, cert, key) =
            (file("ca.pem", &pki.ca)?, file("server.pem", &pki.server_cert)?, file("server-key.pem", &pki.server_key)?);
        let (client_port, peer_port) = (free_port()?, free_port()?);
        let client_url = format!("https://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let log = std::fs::File::create(dir.path().join("etcd.log"))?;
        let mut command = Command::new("etcd");
        command
            .args(["--name", "bench", "--log-level", "warn", "--logger", "zap", "--client-cert-auth"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen-client-urls", &client_url, "--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("bench={peer_url}")])
            .arg("--trusted-ca-file")
            .arg(&ca)
            .arg("--cert-file")
            .arg(&cert)
            .arg("--key-file")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        process::die_with_parent(&mut command);
        let child = command.spawn().context("starting etcd")?;
        let endpoint = Endpoint::with_client_cert(
            SocketAddr::from((Ipv4Addr::LOCALHOST, client_port)),
            pki.ca.as_bytes(),
            pki.client_cert.as_bytes(),
            pki.client_key.as_bytes(),
        )?;
        let mut etcd = Self { dir, child, endpoint, version: version()? };
        etcd.wait_healthy(Duration::from_secs(30)).await?;
        Ok(etcd)
    }

    async fn wait_healthy(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.fail_if_exited()?;
            if let Ok(mut conn) = self.endpoint.connect(Protocol::Http1).await {
                if let Ok((StatusCode::OK, _)) = conn.call(self.endpoint.request(Method::GET, "/health", None)).await {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("etcd not healthy within {timeout:?}; its log ends with:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Etcd {
    /// An error carrying the end of etcd's log if it has exited.
    pub fn fail_if_exited(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("etcd exited ({status}); its log ends with:\n{}", self.log_tail());
        }
        Ok(())
    }

    fn log_tail(&self) -> String {
        crate::process::log_tail(&self.dir.path().join("etcd.log"))
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        process::terminate(&mut self.child);
    }
}

/// A durable put of `value` under `key` (etcd acknowledges once its WAL is fsynced).
pub fn put(endpoint: &Endpoint, key: &str, value: &[u8]) -> Request<Body> {
    let body = serde_json::json!({ "key": b64(key.as_bytes()), "value": b64(value) });
    endpoint.request(Method::POST, "/v3/kv/put", Some(Bytes::from(body.to_string())))
}

/// A linearizable read of `key`.
pub fn get(endpoint: &Endpoint, key: &str) -> Request<Body> {
    let body = serde_json::json!({ "key": b64(key.as_bytes()) });
    endpoint.request(Method::POST, "/v3/kv/range", Some(Bytes::from(body.to_string())))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn version() -> Result<String> {
    let out = Command::new("etcd").arg("--version").output().context("running etcd --version")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.lines().next().and_then(|l| l.split(':').nth(1)).map(str::trim).unwrap_or("unknown");
    Ok(format!("etcd {version} (Debian's {PACKAGE})"))
}

/// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, as PEM.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

impl Pki {
    fn generate() -> Result<Self> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        ca_params.distinguished_name.push(DnType::CommonName, "onebin-bench etcd CA");
        let ca = ca_params.self_signed(&ca_key)?.pem();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf = |names: Vec<String>, cn: &str, usages: Vec<ExtendedKeyUsagePurpose>| -> Result<(String, String)> {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(names)?;
            params.distinguished_name.push(DnType::CommonName, cn);
            params.extended_key_usages = usages;
            Ok((params.signed_by(&key, &issuer)?.pem(), key.serialize_pem()))
        };
        // etcd's JSON gateway dials etcd's own gRPC port with the server certificate as its
        // client certificate, so that certificate must be good for both.
        let (server_cert, server_key) = leaf(
            vec!["127.0.0.1".into(), "localhost".into()],
            "etcd",
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth],
        )?;
        let (client_cert, client_key) = leaf(vec![], "bench", vec![ExtendedKeyUsagePurpose::ClientAuth])?;
        Ok(Self { ca, server_cert, server_key, client_cert, client_key })
    }
}
