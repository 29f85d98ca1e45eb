//! The version onebin reports to clients (`kubectl version`, node info).

/// Kubernetes release whose API onebin serves.
pub const KUBE_MAJOR: &str = "1";
pub const KUBE_MINOR: &str = "33";

/// `gitVersion` as kubectl prints it: the Kubernetes version with a `+onebin` build tag.
pub const GIT_VERSION: &str = "v1.33.0+onebin";
