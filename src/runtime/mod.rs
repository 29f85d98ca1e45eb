//! The embedded container runtime: images, snapshots, the per-pod shim and the CRI-like
//! services the kubelet calls.

pub mod image;
pub mod snapshot;
