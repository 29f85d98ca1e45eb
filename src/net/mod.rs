//! Node networking, all through netlink (no `ip`, `iptables` or `nft` binary at run time):
//! the pod network (`cni`: bridge, veth pairs, IPAM), outbound masquerade, holes in a
//! drop-by-default host firewall, and the files pods get for name resolution. `netns`,
//! `netlink`, `nft` and `sysctl` are the building blocks the overlay and service proxy reuse.

pub mod cni;
pub mod forward_accept;
pub mod masquerade;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod pod_etc;
pub mod sysctl;
pub mod vxlan;

pub use cni::{PodNetwork, PodNetworkConfig, PodNetworkStatus, ReconcileReport};
