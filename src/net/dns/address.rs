//! The cluster DNS address on this node, held by the loopback interface as a /32. The address
//! being local is what makes the node accept pods' queries (they reach it through their
//! default route, the node) and lets the server bind it. Loopback always exists and nothing
//! else manages its addresses (the pod bridge's are rewritten by the pod network), and it
//! needs no kernel module (a dummy interface would).

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};
use futures::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::Handle;

use crate::net::netlink;

const LOOPBACK: &str = "lo";

/// Makes sure loopback holds `address`/32.
pub async fn ensure(handle: &Handle, address: Ipv4Addr) -> Result<()> {
    let index = loopback_index(handle).await?;
    match handle.address().add(index, IpAddr::V4(address), 32).execute().await {
        Err(error) if netlink::errno(&error) == Some(nix::libc::EEXIST) => Ok(()),
        other => other.with_context(|| format!("adding the cluster DNS address {address} to {LOOPBACK}")),
    }
}

/// Takes `address`/32 off loopback, if it is there.
pub async fn remove(handle: &Handle, address: Ipv4Addr) -> Result<()> {
    let index = loopback_index(handle).await?;
    let wanted = Ipv4Net::from(address);
    let held: Vec<_> = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute()
        .try_filter(|message| std::future::ready(netlink::ipv4_address_of(message) == Some(wanted)))
        .try_collect()
        .await
        .with_context(|| format!("listing the addresses of {LOOPBACK}"))?;
    for message in held {
        handle
            .address()
            .del(message)
            .execute()
            .await
            .with_context(|| format!("removing the cluster DNS address {address} from {LOOPBACK}"))?;
    }
    Ok(())
}

async fn loopback_index(handle: &Handle) -> Result<u32> {
    let link = netlink::link_by_name(handle, LOOPBACK).await?.context("this network namespace has no loopback")?;
    Ok(link.header.index)
}
