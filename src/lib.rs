//! onebin: a single-binary Kubernetes distribution.
//!
//! `server` holds the control plane (store, API server, controllers, scheduler),
//! `agent` the node side (kubelet, node API), `runtime` the embedded container
//! runtime and `net` the pod network, service proxy and DNS.

pub mod agent;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod host;
pub mod net;
pub mod runtime;
pub mod server;
pub mod version;
