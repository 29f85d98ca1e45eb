//! The VXLAN overlay between nodes, flannel-style: one VXLAN device per node (VNI 1, UDP
//! 8472) whose address is the node's pod subnet's network address, and for every other
//! node a route to its pod subnet through the device, a permanent neighbour entry for its
//! VTEP address and a forwarding entry sending its VTEP MAC to its public IP. Entries for
//! nodes that left are removed; everything is idempotent, so an agent restart converges.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use anyhow::{bail, Context, Result};
use futures::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::InfoKind;
use rtnetlink::packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use rtnetlink::packet_route::route::{RouteAttribute, RouteMessage};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{Handle, LinkVxlan, RouteMessageBuilder};

use super::netlink;

pub const DEFAULT_DEVICE: &str = "onebin.1";
pub const VNI: u32 = 1;
pub const PORT: u16 = 8472;
/// VXLAN adds 50 bytes of headers to each packet.
pub const OVERHEAD: u32 = 50;
/// The kernel's main routing table.
const MAIN_TABLE: u8 = 254;
/// Node annotations other nodes read to reach this one.
pub const VTEP_MAC_ANNOTATION: &str = "onebin.io/vxlan-vtep-mac";
pub const PUBLIC_IP_ANNOTATION: &str = "onebin.io/vxlan-public-ip";

/// Another node as the overlay needs it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Peer {
    pub pod_cidr: Ipv4Net,
    pub vtep_mac: [u8; 6],
    pub public_ip: Ipv4Addr,
}

pub struct Overlay {
    handle: Handle,
    device: String,
    index: u32,
    mac: [u8; 6],
}

/// The uplink: the link holding `ip`, with its MTU.
pub async fn uplink(handle: &Handle, ip: Ipv4Addr) -> Result<(u32, u32)> {
    let addresses: Vec<_> = handle.address().get().execute().try_collect().await.context("listing addresses")?;
    let index = addresses
        .iter()
        .find(|a| a.attributes.iter().any(|attr| matches!(attr, AddressAttribute::Local(IpAddr::V4(a)) | AddressAttribute::Address(IpAddr::V4(a)) if *a == ip)))
        .map(|a| a.header.index)
        .with_context(|| format!("no interface holds the node IP {ip} (pass --node-ip or --flannel-iface)"))?;
    let link = netlink::link_by_index(handle, index).await?.context("the uplink vanished")?;
    Ok((index, netlink::link_mtu(&link).unwrap_or(1500)))
}

impl Overlay {
    /// Creates or repairs the VXLAN device for this node.
    pub async fn ensure(handle: Handle, device: &str, node_ip: Ipv4Addr, pod_cidr: Ipv4Net) -> Result<Self> {
        let (uplink_index, uplink_mtu) = uplink(&handle, node_ip).await?;
        let mtu = uplink_mtu.saturating_sub(OVERHEAD);
        let existing = netlink::link_by_name(&handle, device).await?;
        let reusable = existing
            .as_ref()
            .is_some_and(|l| matches!(netlink::link_kind(l), Some(InfoKind::Vxlan)) && same_vxlan(l, node_ip));
        if let (Some(link), false) = (&existing, reusable) {
            netlink::delete_link(&handle, link.header.index).await?;
        }
        if !reusable {
            let link = LinkVxlan::new(device, VNI)
                .dev(uplink_index)
                .port(PORT)
                .local(node_ip)
                .learning(false)
                .mtu(mtu)
                .build();
            handle.link().add(link).execute().await.with_context(|| format!("creating the VXLAN device {device}"))?;
        }
        let link = netlink::link_by_name(&handle, device).await?.context("the VXLAN device vanished")?;
        let index = link.header.index;
        if netlink::link_mtu(&link) != Some(mtu) {
            handle.link().set(rtnetlink::LinkUnspec::new_with_index(index).mtu(mtu).build()).execute().await?;
        }
        netlink::ensure_only_ipv4_address(&handle, index, Ipv4Net::new(pod_cidr.network(), 32)?).await?;
        netlink::set_up(&handle, index).await?;
        let mac = netlink::link_by_index(&handle, index)
            .await?
            .as_ref()
            .and_then(netlink::link_mac)
            .and_then(|m| parse_mac(&m))
            .context("the VXLAN device has no MAC address")?;
        Ok(Self { handle, device: device.to_string(), index, mac })
    }

    pub fn vtep_mac(&self) -> String {
        format_mac(&self.mac)
    }

    /// Makes routes, neighbours and forwarding entries match exactly `peers`.
    pub async fn sync(&self, peers: &[Peer]) -> Result<()> {
        let wanted: BTreeMap<Ipv4Net, &Peer> = peers.iter().map(|p| (p.pod_cidr, p)).collect();
        // Routes through the device: one per peer subnet.
        let routes: Vec<RouteMessage> =
            self.handle.route().get(RouteMessageBuilder::<Ipv4Addr>::new().build()).execute().try_collect().await?;
        // Only unicast routes of the main table are ours; the kernel keeps the device's own
        // address in the local table.
        let ours = |r: &RouteMessage| {
            route_device(r) == Some(self.index)
                && r.header.table == MAIN_TABLE
                && r.header.kind == rtnetlink::packet_route::route::RouteType::Unicast
        };
        for route in routes.into_iter().filter(ours) {
            let keep = route_destination(&route).is_some_and(|d| wanted.contains_key(&d));
            if !keep {
                let _ = self.handle.route().del(route).execute().await;
            }
        }
        for peer in wanted.values() {
            let gateway = peer.pod_cidr.network();
            let route = RouteMessageBuilder::<Ipv4Addr>::new()
                .destination_prefix(peer.pod_cidr.network(), peer.pod_cidr.prefix_len())
                .gateway(gateway)
                .output_interface(self.index)
                .onlink()
                .build();
            self.handle
                .route()
                .add(route)
                .replace()
                .execute()
                .await
                .with_context(|| format!("routing {} through {}", peer.pod_cidr, self.device))?;
        }
        // Neighbours (VTEP address → MAC) and forwarding entries (MAC → public IP).
        let wanted_neighbours: HashSet<Ipv4Addr> = wanted.values().map(|p| p.pod_cidr.network()).collect();
        let wanted_fdb: HashSet<[u8; 6]> = wanted.values().map(|p| p.vtep_mac).collect();
        for entry in self.entries(AddressFamily::Inet).await? {
            if neighbour_ip(&entry).is_some_and(|ip| !wanted_neighbours.contains(&ip)) {
                let _ = self.handle.neighbours().del(entry).execute().await;
            }
        }
        for entry in self.entries(AddressFamily::Bridge).await? {
            if neighbour_mac(&entry).is_some_and(|mac| mac != [0; 6] && !wanted_fdb.contains(&mac)) {
                let _ = self.handle.neighbours().del(entry).execute().await;
            }
        }
        for peer in wanted.values() {
            self.handle
                .neighbours()
                .add(self.index, IpAddr::V4(peer.pod_cidr.network()))
                .link_layer_address(&peer.vtep_mac)
                .state(NeighbourState::Permanent)
                .replace()
                .execute()
                .await
                .with_context(|| format!("adding the neighbour entry for {}", peer.pod_cidr))?;
            self.handle
                .neighbours()
                .add_bridge(self.index, &peer.vtep_mac)
                .destination(IpAddr::V4(peer.public_ip))
                .flags(NeighbourFlags::Own)
                .state(NeighbourState::Permanent)
                .replace()
                .execute()
                .await
                .with_context(|| format!("adding the forwarding entry for {}", peer.public_ip))?;
        }
        Ok(())
    }

    async fn entries(&self, family: AddressFamily) -> Result<Vec<NeighbourMessage>> {
        let all: Vec<NeighbourMessage> =
            self.handle.neighbours().get().set_address_family(family).execute().try_collect().await?;
        Ok(all.into_iter().filter(|n| n.header.ifindex == self.index).collect())
    }
}

/// Removes the VXLAN device (and with it every route, neighbour and forwarding entry).
pub async fn remove(handle: &Handle, device: &str) -> Result<()> {
    if let Some(link) = netlink::link_by_name(handle, device).await? {
        netlink::delete_link(handle, link.header.index).await?;
    }
    Ok(())
}

fn same_vxlan(link: &rtnetlink::packet_route::link::LinkMessage, node_ip: Ipv4Addr) -> bool {
    use rtnetlink::packet_route::link::{InfoData, InfoVxlan, LinkAttribute, LinkInfo};
    link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter().any(|i| match i {
            LinkInfo::Data(InfoData::Vxlan(data)) => {
                data.iter().any(|d| matches!(d, InfoVxlan::Id(id) if *id == VNI))
                    && data.iter().any(|d| matches!(d, InfoVxlan::Port(p) if *p == PORT))
                    && data.iter().any(|d| matches!(d, InfoVxlan::Local(ip) if *ip == node_ip))
            }
            _ => false,
        }),
        _ => false,
    })
}

fn route_device(route: &RouteMessage) -> Option<u32> {
    route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Oif(index) => Some(*index),
        _ => None,
    })
}

fn route_destination(route: &RouteMessage) -> Option<Ipv4Net> {
    route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(rtnetlink::packet_route::route::RouteAddress::Inet(ip)) => {
            Ipv4Net::new(*ip, route.header.destination_prefix_length).ok()
        }
        _ => None,
    })
}

fn neighbour_ip(entry: &NeighbourMessage) -> Option<Ipv4Addr> {
    entry.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => Some(*ip),
        _ => None,
    })
}

fn neighbour_mac(entry: &NeighbourMessage) -> Option<[u8; 6]> {
    entry.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::LinkLayerAddress(mac) => mac.as_slice().try_into().ok(),
        _ => None,
    })
}

pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = text.split(':').filter_map(|b| u8::from_str_radix(b, 16).ok()).collect();
    bytes.try_into().ok().filter(|_| text.split(':').count() == 6)
}

fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Checks a device name (Linux allows at most 15 bytes).
pub fn check_device_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 15 || name.contains('/') || name.chars().any(char::is_whitespace) {
        bail!("{name:?} is not a valid network device name (1 to 15 characters, no '/' or spaces)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_round_trip() {
        let mac = parse_mac("0a:1B:2c:3d:4e:5f").unwrap();
        assert_eq!(format_mac(&mac), "0a:1b:2c:3d:4e:5f");
        assert!(parse_mac("0a:1b").is_none());
        assert!(parse_mac("zz:1b:2c:3d:4e:5f").is_none());
        assert!(check_device_name("onebin.1").is_ok());
        assert!(check_device_name("a-very-long-device-name").is_err());
    }
}
