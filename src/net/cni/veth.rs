//! The veth pair that connects one pod to the bridge. The host end is named after the sandbox;
//! the pod end is created directly inside the pod's namespace as `eth0`, so no temporary name
//! can clash on the host.

use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::{Context, Result};
use ipnet::Ipv4Net;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth, LinkMessage};
use rtnetlink::{Handle, LinkBridgePort, LinkUnspec, LinkVeth};
use sha2::{Digest, Sha256};

use crate::net::netns::NetNs;
use crate::net::{netlink, sysctl};

/// The pod's interface name.
pub const POD_INTERFACE: &str = "eth0";

/// What the pod end looks like once connected.
pub struct PodEnd {
    pub mac: String,
}

/// The host end's name: `veth` and 8 hex digits derived from the sandbox id, so it is the same
/// on every call (and after agent restarts) and fits the 15-character limit.
pub fn host_name(sandbox_id: &str) -> String {
    let digest = Sha256::digest(sandbox_id.as_bytes());
    format!("veth{}", hex::encode(&digest[..4]))
}

/// Connects the pod in `pod_ns` to bridge `bridge_index`: makes sure the pair exists, the host
/// end is attached and up, and the pod end has `address`, a default route via `gateway`, and is
/// up. Repairs whatever is missing, so calling it again is harmless.
pub async fn connect(
    host: &Handle,
    pod_ns: &NetNs,
    host_name: &str,
    bridge_index: u32,
    address: Ipv4Net,
    gateway: Ipv4Addr,
    mtu: u32,
) -> Result<PodEnd> {
    let pod = pod_ns.route_handle().await?;
    let (host_end, pod_end) = ensure_pair(host, &pod, pod_ns, host_name, mtu).await?;

    let host_index = host_end.header.index;
    let attach = LinkUnspec::new_with_index(host_index).controller(bridge_index).mtu(mtu).up().build();
    host.link().set(attach).execute().await.with_context(|| format!("attaching {host_name} to the bridge"))?;
    // Hairpin lets a pod reach itself through a service address that the proxy maps back to it.
    let hairpin = LinkBridgePort::new(host_index).hairpin(true).build();
    host.link().set_port(hairpin).execute().await.with_context(|| format!("enabling hairpin on {host_name}"))?;

    let pod_index = pod_end.header.index;
    if let Some(loopback) = netlink::link_by_name(&pod, "lo").await? {
        netlink::set_up(&pod, loopback.header.index).await?;
    }
    // Announce the address when the link comes up: it may have belonged to another pod recently.
    sysctl::set(pod_ns, &format!("net/ipv4/conf/{POD_INTERFACE}/arp_notify"), "1").await?;
    netlink::ensure_only_ipv4_address(&pod, pod_index, address).await?;
    let configure = LinkUnspec::new_with_index(pod_index).mtu(mtu).up().build();
    pod.link().set(configure).execute().await.with_context(|| format!("bringing {POD_INTERFACE} up"))?;
    netlink::replace_ipv4_default_route(&pod, gateway, pod_index).await?;

    let pod_end = netlink::link_by_index(&pod, pod_index).await?.context("the pod interface vanished")?;
    Ok(PodEnd { mac: netlink::link_mac(&pod_end).unwrap_or_default() })
}

/// Removes the pair. Deleting the host end takes the pod end with it; the pod end is only looked
/// for when the host end is already gone and the namespace still exists.
pub async fn disconnect(host: &Handle, host_name: &str, pod_ns: Option<&NetNs>) -> Result<()> {
    if let Some(host_end) = netlink::link_by_name(host, host_name).await? {
        return netlink::delete_link(host, host_end.header.index).await;
    }
    if let Some(pod_ns) = pod_ns {
        let pod = pod_ns.route_handle().await?;
        if let Some(pod_end) = netlink::link_by_name(&pod, POD_INTERFACE).await? {
            netlink::delete_link(&pod, pod_end.header.index).await?;
        }
    }
    Ok(())
}

/// The two ends of the pair, created (again) unless both exist and point at each other.
async fn ensure_pair(
    host: &Handle,
    pod: &Handle,
    pod_ns: &NetNs,
    host_name: &str,
    mtu: u32,
) -> Result<(LinkMessage, LinkMessage)> {
    let host_end = netlink::link_by_name(host, host_name).await?;
    let pod_end = netlink::link_by_name(pod, POD_INTERFACE).await?;
    if let (Some(host_end), Some(pod_end)) = (&host_end, &pod_end) {
        if is_pair(host_end, pod_end) {
            return Ok((host_end.clone(), pod_end.clone()));
        }
    }
    // A half-present or foreign pair: start over.
    if let Some(stale) = host_end {
        netlink::delete_link(host, stale.header.index).await?;
    }
    if let Some(stale) = netlink::link_by_name(pod, POD_INTERFACE).await? {
        netlink::delete_link(pod, stale.header.index).await?;
    }
    let peer = LinkUnspec::new_with_name(POD_INTERFACE).mtu(mtu).setns_by_fd(pod_ns.as_fd().as_raw_fd()).build();
    let create =
        LinkVeth::new(host_name, POD_INTERFACE).mtu(mtu).set_info_data(InfoData::Veth(InfoVeth::Peer(peer))).build();
    host.link()
        .add(create)
        .execute()
        .await
        .with_context(|| format!("creating veth {host_name} with {POD_INTERFACE} in {}", pod_ns.path().display()))?;
    let host_end = netlink::link_by_name(host, host_name).await?.context("the new host veth vanished")?;
    let pod_end = netlink::link_by_name(pod, POD_INTERFACE).await?.context("the new pod interface vanished")?;
    Ok((host_end, pod_end))
}

fn is_pair(host_end: &LinkMessage, pod_end: &LinkMessage) -> bool {
    netlink::link_kind(host_end) == Some(&InfoKind::Veth)
        && netlink::link_peer_index(host_end) == Some(pod_end.header.index)
        && netlink::link_peer_index(pod_end) == Some(host_end.header.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_stable_and_short() {
        let name = host_name("4f1c2d9e8b7a");
        assert_eq!(name, host_name("4f1c2d9e8b7a"));
        assert_ne!(name, host_name("4f1c2d9e8b7b"));
        assert_eq!(name.len(), 12);
        assert!(name.starts_with("veth") && name[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
