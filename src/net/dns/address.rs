//! The cluster DNS address on this node: a dummy interface holding it as a /32. The address
//! being local is what makes the node accept pods' queries (they reach it through their
//! default route, the node) and lets the server bind it. The interface name is per node,
//! since several nodes may share one network namespace in tests.

use std::net::Ipv4Addr;

use anyhow::{bail, Context, Result};
use ipnet::Ipv4Net;
use rtnetlink::packet_route::link::InfoKind;
use rtnetlink::{Handle, LinkDummy};

use crate::net::netlink;

/// Makes sure dummy interface `interface` exists, is up and has `address` as its only IPv4
/// address.
pub async fn ensure(handle: &Handle, interface: &str, address: Ipv4Addr) -> Result<()> {
    let link = match netlink::link_by_name(handle, interface).await? {
        Some(link) => link,
        None => {
            match handle.link().add(LinkDummy::new(interface).build()).execute().await {
                Err(error) if netlink::errno(&error) == Some(nix::libc::EEXIST) => {}
                other => other.with_context(|| format!("creating the cluster DNS interface {interface:?}"))?,
            }
            netlink::link_by_name(handle, interface)
                .await?
                .with_context(|| format!("interface {interface} vanished after creation"))?
        }
    };
    if netlink::link_kind(&link) != Some(&InfoKind::Dummy) {
        bail!("link {interface} exists but is not a dummy interface; choose another cluster DNS interface name");
    }
    let index = link.header.index;
    netlink::ensure_only_ipv4_address(handle, index, Ipv4Net::from(address)).await?;
    if !netlink::link_is_up(&link) {
        netlink::set_up(handle, index).await?;
    }
    Ok(())
}

/// Deletes the dummy interface `interface` (and so the address) if it exists.
pub async fn remove(handle: &Handle, interface: &str) -> Result<()> {
    match netlink::link_by_name(handle, interface).await? {
        Some(link) if netlink::link_kind(&link) == Some(&InfoKind::Dummy) => {
            netlink::delete_link(handle, link.header.index).await
        }
        Some(_) => bail!("link {interface} is not a dummy interface; leaving it alone"),
        None => Ok(()),
    }
}
