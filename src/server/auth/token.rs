//! The join token, k3s-style: `K10<sha256 of the server CA>::server:<secret>`.
//!
//! The hash lets a joining agent verify the CA it downloads before trusting the server; the
//! secret proves to the server that the agent may join. Users may also pass just the secret.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::files::write_private;

const PREFIX: &str = "K10";

/// A parsed token.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinToken {
    /// Hex SHA-256 of the server CA bundle, when the token pins one.
    pub ca_hash: Option<String>,
    pub secret: String,
}

impl JoinToken {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            bail!("the join token is empty");
        }
        let Some(rest) = text.strip_prefix(PREFIX) else {
            return Ok(Self { ca_hash: None, secret: text.to_string() });
        };
        let Some((hash, credentials)) = rest.split_once("::") else {
            bail!("malformed join token: expected K10<ca-hash>::server:<secret>");
        };
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("malformed join token: the CA hash must be 64 hex digits");
        }
        let secret = credentials.strip_prefix("server:").unwrap_or(credentials);
        if secret.is_empty() {
            bail!("malformed join token: no secret after the CA hash");
        }
        Ok(Self { ca_hash: Some(hash.to_ascii_lowercase()), secret: secret.to_string() })
    }

    /// The full form, pinning `ca_pem`.
    pub fn full(secret: &str, ca_pem: &[u8]) -> String {
        format!("{PREFIX}{}::server:{secret}", ca_hash(ca_pem))
    }

    /// Whether this token's pinned hash (if any) matches `ca_pem`.
    pub fn pins(&self, ca_pem: &[u8]) -> bool {
        self.ca_hash.as_deref().is_none_or(|h| h == ca_hash(ca_pem))
    }
}

pub fn ca_hash(ca_pem: &[u8]) -> String {
    hex::encode(Sha256::digest(ca_pem))
}

pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("server").join("token")
}

/// The server's token: the one given on the command line, else the stored one, else a new
/// random one. Returns the full form and stores it.
pub fn load_or_create(data_dir: &Path, given: Option<&str>, ca_pem: &[u8]) -> Result<String> {
    let path = token_path(data_dir);
    let secret = match given {
        Some(text) => {
            let token = JoinToken::parse(text).context("--token")?;
            if !token.pins(ca_pem) {
                bail!("--token pins a different cluster CA than the one in {}", data_dir.display());
            }
            token.secret
        }
        None => match std::fs::read_to_string(&path) {
            Ok(stored) => JoinToken::parse(&stored).with_context(|| format!("reading {}", path.display()))?.secret,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => hex::encode(rand::random::<[u8; 16]>()),
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        },
    };
    let full = JoinToken::full(&secret, ca_pem);
    write_private(&path, format!("{full}\n").as_bytes())?;
    Ok(full)
}

/// `onebin token rotate`: a new random secret for the same CA; the running server accepts
/// it at once, and nodes that already joined keep their credentials.
pub fn rotate(data_dir: &Path) -> Result<()> {
    let ca_path = data_dir.join("server").join("tls").join("server-ca.crt");
    let ca = std::fs::read(&ca_path)
        .with_context(|| format!("reading {} (has `onebin server` run with this --data-dir?)", ca_path.display()))?;
    let full = JoinToken::full(&hex::encode(rand::random::<[u8; 16]>()), &ca);
    write_private(&token_path(data_dir), format!("{full}\n").as_bytes())?;
    println!("{full}");
    Ok(())
}

/// `onebin token`: prints the stored token.
pub fn print_token(data_dir: &Path) -> Result<()> {
    let path = token_path(data_dir);
    let token = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (has `onebin server` run with this --data-dir?)", path.display()))?;
    println!("{}", token.trim());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_tokens_pin_the_ca() {
        let full = JoinToken::full("s3cret", b"CA");
        let token = JoinToken::parse(&full).unwrap();
        assert_eq!(token.secret, "s3cret");
        assert!(token.pins(b"CA"));
        assert!(!token.pins(b"another CA"));
        assert!(JoinToken::parse("plain").unwrap().pins(b"anything"));
    }

    #[test]
    fn malformed_tokens_are_explained() {
        for bad in ["", "K10abc::server:x", "K10nothash", &format!("K10{}::server:", "a".repeat(64))] {
            assert!(JoinToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_stored_token_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), None, b"CA").unwrap();
        assert_eq!(load_or_create(dir.path(), None, b"CA").unwrap(), first);
        let given = load_or_create(dir.path(), Some("mine"), b"CA").unwrap();
        assert!(given.ends_with("::server:mine"));
    }
}
