//! The embedded container runtime: images, snapshots, the per-pod shim and the CRI-like
//! services the kubelet calls.

pub mod cgroups;
pub mod cli;
pub mod image;
pub mod logs;
pub mod paths;
pub mod pod_files;
pub mod service;
pub mod shim;
pub mod snapshot;
pub mod spec;
pub mod types;
pub mod user;
