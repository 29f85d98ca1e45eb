//! Keeps this node's VXLAN overlay in step with the cluster: publishes the node's VTEP MAC
//! and public IP on its Node object, and programs a route, neighbour and forwarding entry
//! for every other node that has published its own.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use ipnet::Ipv4Net;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::json;

use crate::net::netns::NetNs;
use crate::net::vxlan::{self, Overlay, Peer, PUBLIC_IP_ANNOTATION, VTEP_MAC_ANNOTATION};

/// How often the overlay is reprogrammed even without node changes (repairs what someone
/// deleted by hand).
const RESYNC: Duration = Duration::from_secs(60);

/// Sets up the device, announces it, and follows the other nodes until the task ends.
pub async fn run(client: kube::Client, node: &str, node_ip: Ipv4Addr, pod_cidr: Ipv4Net, device: &str) -> Result<()> {
    let handle = NetNs::current()?.route_handle().await?;
    let overlay = Overlay::ensure(handle, device, node_ip, pod_cidr).await?;
    let nodes: Api<Node> = Api::all(client);
    let patch = json!({"metadata": {"annotations": {VTEP_MAC_ANNOTATION: overlay.vtep_mac(), PUBLIC_IP_ANNOTATION: node_ip.to_string()}}});
    nodes.patch(node, &PatchParams::default(), &Patch::Merge(&patch)).await.context("publishing the node's VTEP")?;
    tracing::info!(device, mac = %overlay.vtep_mac(), "VXLAN overlay ready");
    let mut known: Vec<Node> = Vec::new();
    let mut programmed: Option<BTreeSet<Peer>> = None;
    let mut events = watcher::watcher(nodes, watcher::Config::default()).default_backoff().boxed();
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            () = tokio::time::sleep(RESYNC) => { programmed = None; None }
        };
        match event {
            Some(Ok(Event::Init)) => known.clear(),
            Some(Ok(Event::InitApply(n))) => known.push(n),
            Some(Ok(Event::InitDone)) => {}
            Some(Ok(Event::Apply(n))) => {
                known.retain(|k| k.metadata.name != n.metadata.name);
                known.push(n);
            }
            Some(Ok(Event::Delete(n))) => known.retain(|k| k.metadata.name != n.metadata.name),
            Some(Err(err)) => tracing::warn!(%err, "watching nodes for the overlay failed; retrying"),
            None => {}
        }
        let peers: BTreeSet<Peer> =
            known.iter().filter(|n| n.metadata.name.as_deref() != Some(node)).filter_map(peer_of).collect();
        if programmed.as_ref() != Some(&peers) {
            let list: Vec<Peer> = peers.iter().cloned().collect();
            match overlay.sync(&list).await {
                Ok(()) => programmed = Some(peers),
                Err(err) => tracing::warn!("programming the overlay failed: {err:#}"),
            }
        }
    }
}

/// A node's overlay endpoint, once it has published one and has a pod subnet.
fn peer_of(node: &Node) -> Option<Peer> {
    let annotations = node.metadata.annotations.as_ref()?;
    let vtep_mac = vxlan::parse_mac(annotations.get(VTEP_MAC_ANNOTATION)?)?;
    let public_ip = annotations.get(PUBLIC_IP_ANNOTATION)?.parse().ok()?;
    let pod_cidr = node.spec.as_ref()?.pod_cidr.as_ref()?.parse().ok()?;
    Some(Peer { pod_cidr, vtep_mac, public_ip })
}

/// The node IP as IPv4 (the overlay is IPv4).
pub fn ipv4(ip: IpAddr) -> Result<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Ok(v4),
        IpAddr::V6(v6) => anyhow::bail!("the node IP {v6} is IPv6; the overlay needs an IPv4 node IP (--node-ip)"),
    }
}
