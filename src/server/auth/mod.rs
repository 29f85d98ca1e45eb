//! Authentication material and checks: the cluster CA, certificates, the join token,
//! kubeconfigs, and the authenticator/authorizer layers of the API server.

pub mod kubeconfig;
pub mod token;
