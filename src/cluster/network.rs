//! The wiring of a local cluster: a bridge on the host, and per node a named network
//! namespace joined to it by a veth pair, with its own address and default route.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ipnet::Ipv4Net;
use rtnetlink::{Handle, LinkBridge, LinkUnspec, LinkVeth};

use super::layout::{ClusterLayout, NodeLayout};
use crate::net::netlink;
use crate::net::netns::NetNs;

const NETNS_DIR: &str = "/run/netns";

pub fn netns_path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// Creates the named network namespace (as `ip netns add` does): a thread enters a new
/// namespace and it is bind-mounted under /run/netns so it outlives the thread.
pub fn create_netns(name: &str) -> Result<()> {
    let path = netns_path(name);
    if path.exists() && NetNs::open(&path).is_ok() && is_mount_point(&path) {
        return Ok(());
    }
    std::fs::create_dir_all(NETNS_DIR)?;
    std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let target = path.clone();
    std::thread::spawn(move || -> Result<()> {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).context("creating a network namespace")?;
        let own = format!("/proc/self/task/{}/ns/net", nix::unistd::gettid());
        nix::mount::mount(Some(own.as_str()), &target, None::<&str>, nix::mount::MsFlags::MS_BIND, None::<&str>)
            .with_context(|| format!("pinning the namespace at {}", target.display()))?;
        Ok(())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the namespace thread panicked"))?
}

pub fn delete_netns(name: &str) {
    let path = netns_path(name);
    let _ = nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_file(&path);
}

fn is_mount_point(path: &Path) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| m.lines().any(|l| l.split_whitespace().nth(4).is_some_and(|p| Path::new(p) == path)))
        .unwrap_or(false)
}

/// The host bridge with the gateway address.
pub async fn ensure_bridge(handle: &Handle, layout: &ClusterLayout) -> Result<u32> {
    if netlink::link_by_name(handle, &layout.bridge).await?.is_none() {
        handle
            .link()
            .add(LinkBridge::new(&layout.bridge).build())
            .execute()
            .await
            .with_context(|| format!("creating bridge {}", layout.bridge))?;
    }
    let index = netlink::link_by_name(handle, &layout.bridge).await?.context("the bridge vanished")?.header.index;
    netlink::ensure_only_ipv4_address(handle, index, Ipv4Net::new(layout.gateway(), 24)?).await?;
    netlink::set_up(handle, index).await?;
    Ok(index)
}

/// Connects `node`'s namespace to the bridge with its address and default route.
pub async fn attach_node(handle: &Handle, bridge_index: u32, layout: &ClusterLayout, node: &NodeLayout) -> Result<()> {
    create_netns(&node.netns)?;
    let ns = NetNs::open(&netns_path(&node.netns))?;
    let peer = format!("{}p", node.veth);
    if netlink::link_by_name(handle, &node.veth).await?.is_none() {
        handle
            .link()
            .add(LinkVeth::new(&node.veth, &peer).build())
            .execute()
            .await
            .with_context(|| format!("creating veth {}", node.veth))?;
        let peer_index = netlink::link_by_name(handle, &peer).await?.context("the veth peer vanished")?.header.index;
        let fd = ns.as_fd().try_clone_to_owned()?;
        handle
            .link()
            .set(LinkUnspec::new_with_index(peer_index).setns_by_fd(std::os::fd::AsRawFd::as_raw_fd(&fd)).build())
            .execute()
            .await?;
    }
    let host_index = netlink::link_by_name(handle, &node.veth).await?.context("the veth vanished")?.header.index;
    handle.link().set(LinkUnspec::new_with_index(host_index).controller(bridge_index).build()).execute().await?;
    netlink::set_up(handle, host_index).await?;
    let inner = ns.route_handle().await?;
    let gateway = layout.gateway();
    let address = Ipv4Net::new(node.ip, 24)?;
    if let Some(link) = netlink::link_by_name(&inner, &peer).await? {
        inner.link().set(LinkUnspec::new_with_index(link.header.index).name("eth0").build()).execute().await?;
    }
    let eth0 = netlink::link_by_name(&inner, "eth0").await?.context("the node has no eth0")?.header.index;
    netlink::ensure_only_ipv4_address(&inner, eth0, address).await?;
    netlink::set_up(&inner, eth0).await?;
    if let Some(lo) = netlink::link_by_name(&inner, "lo").await? {
        netlink::set_up(&inner, lo.header.index).await?;
    }
    netlink::replace_ipv4_default_route(&inner, gateway, eth0).await?;
    Ok(())
}

/// Removes the bridge (the nodes' veths go with their namespaces).
pub async fn remove(handle: &Handle, layout: &ClusterLayout) -> Result<()> {
    for node in &layout.nodes {
        delete_netns(&node.netns);
        if let Some(link) = netlink::link_by_name(handle, &node.veth).await? {
            netlink::delete_link(handle, link.header.index).await?;
        }
    }
    if let Some(link) = netlink::link_by_name(handle, &layout.bridge).await? {
        netlink::delete_link(handle, link.header.index).await?;
    }
    Ok(())
}
