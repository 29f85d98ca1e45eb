//! Kubeconfig files for the admin (and later for nodes).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::json;

use super::pki::CertKey;

/// A kubeconfig for `server` trusting `ca_pem` and authenticating with `client`.
pub fn render(server: &str, ca_pem: &str, client: &CertKey) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "default", "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "users": [{"name": "default", "user": {
            "client-certificate-data": b64(&client.cert_pem),
            "client-key-data": b64(&client.key_pem),
        }}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
        "current-context": "default",
        "preferences": {},
    });
    serde_yaml::to_string(&config).expect("a kubeconfig always serialises")
}

/// Where the server keeps its own copy of the admin kubeconfig.
pub fn admin_copy_path(data_dir: &Path) -> PathBuf {
    data_dir.join("server").join("cred").join("admin.kubeconfig")
}

/// Parses an octal mode like `0600` or `644`.
pub fn parse_mode(text: &str) -> Result<u32> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8).with_context(|| format!("{text:?} is not an octal file mode"))
}

/// `onebin kubeconfig`: prints the admin kubeconfig.
pub fn print_admin(data_dir: &Path) -> Result<()> {
    let path = admin_copy_path(data_dir);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (has `onebin server` run with this --data-dir?)", path.display()))?;
    print!("{text}");
    Ok(())
}
