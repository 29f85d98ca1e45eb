//! Authentication: who is making a request.
//!
//! A client certificate signed by the client CA names the user in its CN and the groups in
//! its O fields (as in Kubernetes). Bearer tokens are checked by the token authenticators the
//! server registers (ServiceAccount tokens, node bootstrap).

use std::sync::Arc;

use x509_parser::prelude::*;

/// An authenticated user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

pub const AUTHENTICATED: &str = "system:authenticated";
pub const MASTERS: &str = "system:masters";

impl UserInfo {
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// The identity in a verified client certificate (DER).
pub fn from_client_cert(der: &[u8]) -> Option<UserInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let subject = cert.subject();
    let name = subject.iter_common_name().next()?.as_str().ok()?.to_string();
    let mut groups: Vec<String> =
        subject.iter_organization().filter_map(|o| o.as_str().ok().map(str::to_string)).collect();
    groups.push(AUTHENTICATED.to_string());
    Some(UserInfo { name, uid: String::new(), groups })
}

/// Checks bearer tokens.
pub trait TokenAuthenticator: Send + Sync {
    /// The user a token belongs to, or `None` if this authenticator does not accept it.
    fn authenticate(&self, token: &str) -> Option<UserInfo>;
}

/// Every way a request can prove who it is.
#[derive(Default, Clone)]
pub struct Authenticator {
    tokens: Vec<Arc<dyn TokenAuthenticator>>,
}

impl Authenticator {
    pub fn with_token_authenticator(mut self, auth: Arc<dyn TokenAuthenticator>) -> Self {
        self.tokens.push(auth);
        self
    }

    /// The user behind a request: its client certificate identity, else its bearer token.
    pub fn authenticate(&self, cert_user: Option<&UserInfo>, authorization: Option<&str>) -> Option<UserInfo> {
        if let Some(user) = cert_user {
            return Some(user.clone());
        }
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        if token.is_empty() {
            return None;
        }
        self.tokens.iter().find_map(|auth| auth.authenticate(token))
    }
}
