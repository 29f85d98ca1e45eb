//! Answering for load-balancer addresses from ServiceLB's `--lb-pool`. Such an address belongs
//! to no machine, so one node must claim it on the local network: ServiceLB elects that node
//! and names it in the Service's `onebin.io/loadbalancer-node` annotation, and the proxy of that
//! node adds the address as a /32 to its uplink (the interface holding the node IP, else the one
//! carrying the default route). The kernel then answers ARP for it and delivers its packets,
//! which the proxy's rules send on to the service's endpoints like cluster IP traffic. (Every
//! other node's proxy handles the address too, for traffic that starts there.)
//!
//! The addresses a node added are recorded in a file, so that an agent restarted after a change
//! removes what it no longer should hold. When the address moves to another node, neighbours
//! learn it when their ARP cache entry expires (no gratuitous ARP is sent).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use anyhow::{Context, Result};
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Service;
use rtnetlink::packet_route::address::AddressMessage;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::Handle;

use super::ProxyConfig;
use crate::net::netlink;
use crate::net::netns::NetNs;

/// The Service annotation naming the node that answers for its load-balancer addresses.
pub const NODE_ANNOTATION: &str = "onebin.io/loadbalancer-node";
/// The file (in the proxy's state directory) listing the addresses this node added.
const RECORD_FILE: &str = "announced";

pub struct Announcer {
    node_name: String,
    node_ip: IpAddr,
    record: PathBuf,
    host: NetNs,
    handle: Option<Handle>,
    /// Addresses this node added, with the index of the link holding each.
    announced: BTreeMap<Ipv4Addr, u32>,
}

impl Announcer {
    /// An announcer for the calling thread's network namespace, knowing what an earlier run
    /// added.
    pub async fn new(config: &ProxyConfig) -> Result<Self> {
        let record = config.state_dir.join(RECORD_FILE);
        Ok(Self {
            node_name: config.node_name.clone(),
            node_ip: config.node_ip,
            announced: read_record(&record)?,
            record,
            host: NetNs::current()?,
            handle: None,
        })
    }

    /// Holds exactly the load-balancer addresses of the services that elected this node.
    pub async fn reconcile<'a>(&mut self, services: impl Iterator<Item = &'a Service>) -> Result<()> {
        let wanted = elected_addresses(services, &self.node_name);
        if wanted.iter().eq(self.announced.keys()) {
            return Ok(());
        }
        let handle = self.handle().await?;
        let present = ipv4_addresses(&handle).await?;
        for (address, link) in self.announced.clone() {
            if !wanted.contains(&address) {
                delete_address(&handle, link, address).await?;
                self.announced.remove(&address);
                self.save()?;
                tracing::info!(%address, "stopped answering for a load-balancer address");
            }
        }
        let mut uplink = None;
        for address in wanted {
            // An address the node already has (its own IP as ingress, say) needs nothing.
            if self.announced.contains_key(&address) || present.iter().any(|(_, held)| *held == address) {
                continue;
            }
            let link = match uplink {
                Some(link) => link,
                None => *uplink.insert(uplink_index(&handle, &present, self.node_ip).await?),
            };
            // Recorded first: should the agent die right after, the next run still removes it.
            self.announced.insert(address, link);
            self.save()?;
            handle
                .address()
                .add(link, IpAddr::V4(address), 32)
                .execute()
                .await
                .with_context(|| format!("adding load-balancer address {address} to link #{link}"))?;
            tracing::info!(%address, link, "answering for a load-balancer address");
        }
        Ok(())
    }

    /// Removes every address this node added.
    pub async fn withdraw_all(&mut self) -> Result<()> {
        self.reconcile(std::iter::empty()).await
    }

    async fn handle(&mut self) -> Result<Handle> {
        if let Some(handle) = &self.handle {
            return Ok(handle.clone());
        }
        let handle = self.host.route_handle().await?;
        Ok(self.handle.insert(handle).clone())
    }

    fn save(&self) -> Result<()> {
        let text: String = self.announced.iter().map(|(address, link)| format!("{address} {link}\n")).collect();
        crate::server::auth::files::write_private(&self.record, text.as_bytes())
            .with_context(|| format!("recording announced addresses in {}", self.record.display()))
    }
}

/// The IPv4 load-balancer addresses of LoadBalancer services whose annotation names `node`.
fn elected_addresses<'a>(services: impl Iterator<Item = &'a Service>, node: &str) -> BTreeSet<Ipv4Addr> {
    services
        .filter(|service| {
            service.metadata.annotations.as_ref().and_then(|a| a.get(NODE_ANNOTATION)).map(String::as_str) == Some(node)
                && service.spec.as_ref().and_then(|spec| spec.type_.as_deref()) == Some("LoadBalancer")
        })
        .flat_map(|service| {
            let ingress =
                service.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.clone());
            ingress.into_iter().flatten().filter_map(|ingress| ingress.ip?.parse().ok())
        })
        .collect()
}

fn read_record(path: &std::path::Path) -> Result<BTreeMap<Ipv4Addr, u32>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    // Lines that do not parse are dropped: the record is a hint, rewritten on the next change.
    Ok(text
        .lines()
        .filter_map(|line| {
            let (address, link) = line.split_once(' ')?;
            Some((address.parse().ok()?, link.trim().parse().ok()?))
        })
        .collect())
}

/// Every IPv4 address of the namespace, with the index of its link.
async fn ipv4_addresses(handle: &Handle) -> Result<Vec<(u32, Ipv4Addr)>> {
    let messages: Vec<AddressMessage> =
        handle.address().get().execute().try_collect().await.context("listing addresses")?;
    Ok(messages
        .iter()
        .filter(|message| message.header.family == AddressFamily::Inet)
        .filter_map(|message| Some((message.header.index, netlink::ipv4_address_of(message)?.addr())))
        .collect())
}

/// The link holding `node_ip`, else the one with the default route.
async fn uplink_index(handle: &Handle, present: &[(u32, Ipv4Addr)], node_ip: IpAddr) -> Result<u32> {
    if let Some((link, _)) = present.iter().find(|(_, address)| IpAddr::V4(*address) == node_ip) {
        return Ok(*link);
    }
    netlink::ipv4_default_route_link(handle)
        .await?
        .context("no interface holds the node IP and there is no default route to announce load-balancer addresses on")
}

async fn delete_address(handle: &Handle, link: u32, address: Ipv4Addr) -> Result<()> {
    let messages: Vec<AddressMessage> = handle
        .address()
        .get()
        .set_link_index_filter(link)
        .execute()
        .try_collect()
        .await
        .or_else(|error| if netlink::errno(&error) == Some(nix::libc::ENODEV) { Ok(Vec::new()) } else { Err(error) })
        .with_context(|| format!("listing the addresses of link #{link}"))?;
    for message in messages {
        let held = netlink::ipv4_address_of(&message);
        if held.is_some_and(|held| held.addr() == address && held.prefix_len() == 32) {
            handle
                .address()
                .del(message)
                .execute()
                .await
                .with_context(|| format!("removing load-balancer address {address} from link #{link}"))?;
        }
    }
    Ok(())
}
