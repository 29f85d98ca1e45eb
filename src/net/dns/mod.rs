//! Cluster DNS, served by every agent for its own node at the cluster DNS address (10.43.0.10
//! by default), so it needs no pods and no service proxy: the address sits on the node's
//! loopback (`address`), a watch-fed cache mirrors Services and EndpointSlices
//! (`watch`, `cache`), names in the cluster domain are answered from it (`names`, `answer`),
//! everything else is forwarded to the node's resolvers (`upstream`, `forward`), over UDP and
//! TCP (`handler`, `server`).

pub mod address;
pub mod answer;
pub mod cache;
pub mod forward;
pub mod handler;
pub mod names;
pub mod server;
pub mod upstream;
pub mod watch;

#[cfg(test)]
mod answer_tests;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use self::answer::Zone;
use self::forward::Forwarder;
use self::handler::DnsHandler;
use self::server::DnsServer;
use super::netns::NetNs;

/// How often the address is checked (and put back if something removed it).
const ADDRESS_UPKEEP_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// The cluster DNS address, answered on UDP and TCP port 53 (IPv4).
    pub address: IpAddr,
    /// The cluster domain, e.g. `cluster.local`.
    pub domain: String,
    /// The node's resolv.conf, naming the resolvers other names are forwarded to.
    pub resolv_conf: PathBuf,
}

/// Serves cluster DNS on this node until the process ends; only a bad configuration returns.
/// Setup and serving failures are logged and retried with back-off, so that the node's pods
/// keep running meanwhile.
pub async fn run(client: kube::Client, config: DnsConfig) -> Result<()> {
    let IpAddr::V4(address) = config.address else {
        bail!("cluster DNS address {} is not IPv4; the pod network is IPv4 only", config.address);
    };
    let zone = Zone::new(&config.domain, config.address)?;
    let host = NetNs::current()?;
    let upstreams = upstream::upstreams(&config.resolv_conf, &[config.address]);
    if upstreams.is_empty() {
        tracing::warn!("no usable name server in {}: only cluster names will resolve", config.resolv_conf.display());
    }
    let handler = DnsHandler::new(zone, watch::mirror_cluster(client), Forwarder::new(upstreams.clone()));
    let initial_delay = Duration::from_millis(500);
    let mut delay = initial_delay;
    loop {
        let bound = async {
            let handle = host.route_handle().await?;
            address::ensure(&handle, address).await?;
            DnsServer::bind(SocketAddr::new(config.address, 53), handler.clone()).await
        };
        let failure = match bound.await {
            Ok(server) => {
                tracing::info!(address = %config.address, ?upstreams, "cluster DNS is serving");
                delay = initial_delay;
                tokio::select! {
                    result = server.run() => result,
                    result = keep_address(&host, address) => result,
                }
            }
            Err(err) => Err(err),
        };
        if let Err(err) = failure {
            tracing::warn!(?delay, "cluster DNS failed: {err:#}; retrying");
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// Puts the address back whenever something removed it; returns only when that fails.
async fn keep_address(host: &NetNs, address: std::net::Ipv4Addr) -> Result<()> {
    loop {
        tokio::time::sleep(ADDRESS_UPKEEP_INTERVAL).await;
        let handle = host.route_handle().await?;
        address::ensure(&handle, address).await?;
    }
}

/// Takes the cluster DNS address off this node (for uninstall).
pub async fn cleanup(address: std::net::Ipv4Addr) -> Result<()> {
    let handle = NetNs::current()?.route_handle().await?;
    address::remove(&handle, address).await
}
