//! The node's pod bridge: a Linux bridge holding the pod CIDR's gateway address, to which every
//! pod's veth is attached.

use anyhow::{bail, Context, Result};
use ipnet::Ipv4Net;
use rtnetlink::packet_route::link::InfoKind;
use rtnetlink::{Handle, LinkBridge, LinkUnspec};

use crate::net::netlink;

/// Makes sure bridge `name` exists with `gateway` as its only IPv4 address, `mtu`, and is up;
/// returns its index.
pub async fn ensure(handle: &Handle, name: &str, gateway: Ipv4Net, mtu: u32) -> Result<u32> {
    let link = match netlink::link_by_name(handle, name).await? {
        Some(link) => link,
        None => {
            // A fixed address keeps the bridge from taking over its ports' addresses as pods
            // come and go, which would leave pods with a stale gateway in their ARP caches.
            let create = LinkBridge::new(name).mtu(mtu).address(random_local_mac()).build();
            match handle.link().add(create).execute().await {
                Err(error) if netlink::errno(&error) == Some(nix::libc::EEXIST) => {}
                other => other.with_context(|| format!("creating bridge {name}"))?,
            }
            netlink::link_by_name(handle, name)
                .await?
                .with_context(|| format!("bridge {name} vanished after creation"))?
        }
    };
    if netlink::link_kind(&link) != Some(&InfoKind::Bridge) {
        bail!("link {name} exists but is not a bridge; choose another bridge name");
    }
    let index = link.header.index;
    if netlink::link_mtu(&link) != Some(mtu) {
        let message = LinkUnspec::new_with_index(index).mtu(mtu).build();
        handle.link().set(message).execute().await.with_context(|| format!("setting the MTU of {name} to {mtu}"))?;
    }
    netlink::ensure_only_ipv4_address(handle, index, gateway).await?;
    if !netlink::link_is_up(&link) {
        netlink::set_up(handle, index).await?;
    }
    Ok(index)
}

/// Deletes bridge `name` if it exists.
pub async fn remove(handle: &Handle, name: &str) -> Result<()> {
    if let Some(link) = netlink::link_by_name(handle, name).await? {
        netlink::delete_link(handle, link.header.index).await?;
    }
    Ok(())
}

/// A random unicast, locally administered MAC address.
fn random_local_mac() -> Vec<u8> {
    let mut mac: [u8; 6] = rand::random();
    mac[0] = (mac[0] & 0xfe) | 0x02;
    mac.to_vec()
}
