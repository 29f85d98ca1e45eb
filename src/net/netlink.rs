//! Small rtnetlink conveniences shared by the pod network and later by the overlay and the
//! service proxy: finding links and reading their attributes, and making an interface's
//! addresses and routes what they should be. All calls go through an `rtnetlink::Handle`, so they
//! act in whichever namespace that handle's socket was opened in.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};
use futures::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use rtnetlink::packet_route::route::{RouteAttribute, RouteHeader, RouteMessage, RouteType};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{Handle, LinkUnspec, RouteMessageBuilder};

/// The errno a failed netlink request carries, if it failed in the kernel.
pub fn errno(error: &rtnetlink::Error) -> Option<i32> {
    match error {
        rtnetlink::Error::NetlinkError(message) => message.code.map(|code| -code.get()),
        _ => None,
    }
}

/// The link called `name`, or `None` when there is none.
pub async fn link_by_name(handle: &Handle, name: &str) -> Result<Option<LinkMessage>> {
    let found = handle.link().get().match_name(name.to_string()).execute().try_next().await;
    absent_as_none(found).with_context(|| format!("looking up link {name}"))
}

/// The link with index `index`, or `None` when there is none.
pub async fn link_by_index(handle: &Handle, index: u32) -> Result<Option<LinkMessage>> {
    let found = handle.link().get().match_index(index).execute().try_next().await;
    absent_as_none(found).with_context(|| format!("looking up link #{index}"))
}

fn absent_as_none(found: Result<Option<LinkMessage>, rtnetlink::Error>) -> Result<Option<LinkMessage>> {
    match found {
        Err(error) if errno(&error) == Some(nix::libc::ENODEV) => Ok(None),
        other => Ok(other?),
    }
}

pub fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

pub fn link_kind(link: &LinkMessage) -> Option<&InfoKind> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|info| match info {
            LinkInfo::Kind(kind) => Some(kind),
            _ => None,
        }),
        _ => None,
    })
}

pub fn link_mtu(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::Mtu(mtu) => Some(*mtu),
        _ => None,
    })
}

/// The hardware address as `aa:bb:cc:dd:ee:ff`.
pub fn link_mac(link: &LinkMessage) -> Option<String> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::Address(bytes) => {
            Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect::<Vec<_>>().join(":"))
        }
        _ => None,
    })
}

/// The index of the link's peer (a veth's other end), which may live in another namespace.
pub fn link_peer_index(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::Link(index) => Some(*index),
        _ => None,
    })
}

/// The index of the bridge (or bond) the link is enslaved to.
pub fn link_controller(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::Controller(index) => Some(*index),
        _ => None,
    })
}

pub fn link_is_up(link: &LinkMessage) -> bool {
    link.header.flags.contains(LinkFlags::Up)
}

/// Brings the link with index `index` up.
pub async fn set_up(handle: &Handle, index: u32) -> Result<()> {
    let message = LinkUnspec::new_with_index(index).up().build();
    handle.link().set(message).execute().await.with_context(|| format!("bringing link #{index} up"))
}

/// Deletes the link with index `index`; a link that is already gone is not an error.
pub async fn delete_link(handle: &Handle, index: u32) -> Result<()> {
    match handle.link().del(index).execute().await {
        Err(error) if errno(&error) == Some(nix::libc::ENODEV) => Ok(()),
        other => other.with_context(|| format!("deleting link #{index}")),
    }
}

/// Makes `address` the only IPv4 address of the link with index `index`.
pub async fn ensure_only_ipv4_address(handle: &Handle, index: u32, address: Ipv4Net) -> Result<()> {
    let existing: Vec<AddressMessage> = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute()
        .try_collect()
        .await
        .with_context(|| format!("listing the addresses of link #{index}"))?;
    let mut present = false;
    for message in existing.into_iter().filter(|message| message.header.family == AddressFamily::Inet) {
        if ipv4_address_of(&message) == Some(address) {
            present = true;
        } else {
            handle
                .address()
                .del(message)
                .execute()
                .await
                .with_context(|| format!("removing a stale address from link #{index}"))?;
        }
    }
    if !present {
        handle
            .address()
            .add(index, IpAddr::V4(address.addr()), address.prefix_len())
            .execute()
            .await
            .with_context(|| format!("adding address {address} to link #{index}"))?;
    }
    Ok(())
}

/// The IPv4 address (with prefix) an address message describes.
pub fn ipv4_address_of(message: &AddressMessage) -> Option<Ipv4Net> {
    let local = message.attributes.iter().find_map(|attribute| match attribute {
        AddressAttribute::Local(IpAddr::V4(address)) => Some(*address),
        _ => None,
    });
    let address = local.or_else(|| {
        message.attributes.iter().find_map(|attribute| match attribute {
            AddressAttribute::Address(IpAddr::V4(address)) => Some(*address),
            _ => None,
        })
    })?;
    Ipv4Net::new(address, message.header.prefix_len).ok()
}

/// Points the IPv4 default route of the main table at `gateway` through link `index`.
pub async fn replace_ipv4_default_route(handle: &Handle, gateway: Ipv4Addr, index: u32) -> Result<()> {
    let route = RouteMessageBuilder::<Ipv4Addr>::new().gateway(gateway).output_interface(index).build();
    handle
        .route()
        .add(route)
        .replace()
        .execute()
        .await
        .with_context(|| format!("setting the default route via {gateway}"))
}

/// The link that carries the IPv4 default route of the main table, if there is one.
pub async fn ipv4_default_route_link(handle: &Handle) -> Result<Option<u32>> {
    let routes: Vec<RouteMessage> = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .context("listing IPv4 routes")?;
    Ok(routes.iter().filter(|route| is_main_default(route)).find_map(route_output_link))
}

fn is_main_default(route: &RouteMessage) -> bool {
    let table = route
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            RouteAttribute::Table(table) => Some(*table),
            _ => None,
        })
        .unwrap_or(u32::from(route.header.table));
    route.header.destination_prefix_length == 0
        && route.header.kind == RouteType::Unicast
        && table == u32::from(RouteHeader::RT_TABLE_MAIN)
}

fn route_output_link(route: &RouteMessage) -> Option<u32> {
    route.attributes.iter().find_map(|attribute| match attribute {
        RouteAttribute::Oif(index) => Some(*index),
        RouteAttribute::MultiPath(hops) => hops.first().map(|hop| hop.interface_index),
        _ => None,
    })
}
