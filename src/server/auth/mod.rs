//! Authentication material and checks: the cluster CAs and certificates, the join token,
//! kubeconfigs, and the authenticator/authorizer layers of the API server.

pub mod authn;
pub mod authz;
pub mod files;
pub mod kubeconfig;
pub mod node_authorizer;
pub mod pki;
pub mod service_account_token;
pub mod token;
