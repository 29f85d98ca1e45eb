//! The kubelet: runs the pods bound to this node and reports their status.

pub mod atomic_dir;
pub mod backoff;
pub mod container_config;
pub mod env;
pub mod probes;
pub mod service_env;
pub mod status;
pub mod volumes;
