//! The service proxy: makes Service addresses work on this node, in the way of kube-proxy's
//! nftables mode, through netlink (no `nft` binary).
//!
//! Traffic to a cluster IP, external IP or load-balancer address, or to a NodePort on any of
//! the node's addresses but loopback, is DNATed to one of the service's ready endpoints, chosen
//! at random per connection (or the one a client stuck to, with `sessionAffinity: ClientIP`).
//! It covers TCP, UDP and SCTP, traffic from pods, from the node itself and from outside.
//! Connections to services without endpoints are refused at once. Traffic that must come back
//! through this node is masqueraded: from outside the pod network to a cluster IP, NodePort and
//! load-balancer traffic under `externalTrafficPolicy: Cluster`, and a pod reaching itself
//! (hairpin); `externalTrafficPolicy: Local` keeps the client address and only uses this node's
//! endpoints. Headless and ExternalName services get no rules.
//!
//! Everything lives in one nftables table (`ip onebin-proxy` by default; one per node when
//! several share a network namespace, as in tests): `skeleton` is its fixed part, `plan`
//! computes each service's chains and map entries from `model`, `ruleset` writes the
//! differences, `proxier` holds the state and `watch` feeds it from the API. `announce`
//! claims ServiceLB pool addresses on the elected node.

pub mod announce;
pub mod model;
pub mod plan;
pub mod proxier;
pub mod ruleset;
pub mod skeleton;
pub mod watch;

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{bail, Result};
use ipnet::Ipv4Net;

use crate::net::nft::{self, objects, Transaction};

pub use proxier::{Proxy, SyncReport};
pub use watch::run;

/// The table's name unless configured otherwise.
pub const DEFAULT_TABLE: &str = "onebin-proxy";

#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Name of the `ip` table the proxy owns.
    pub table: String,
    /// This node's name (endpoints' `nodeName` tells which are local).
    pub node_name: String,
    /// This node's IP: load-balancer addresses are announced on the interface holding it.
    pub node_ip: IpAddr,
    /// The pod network of the whole cluster.
    pub cluster_cidr: Ipv4Net,
    /// Where the proxy keeps what must survive a restart (announced addresses).
    pub state_dir: PathBuf,
}

/// Checks that `name` can name an nftables table.
pub fn validate_table_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() < 256
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        bail!("invalid nftables table name {name:?}: a letter, then letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

/// Deletes the proxy's table; a table that is not there is not an error. Synchronous, in the
/// calling thread's network namespace.
pub fn remove(table: &str) -> Result<()> {
    validate_table_name(table)?;
    let mut transaction = Transaction::new();
    transaction.push(
        netlink_packet_netfilter::NetfilterProtoFamily::IPv4,
        objects::delete_table(table),
        0,
        format!("deleting table ip {table}"),
    );
    match transaction.commit() {
        Err(error) if nft::is_not_found(&error) => Ok(()),
        other => other,
    }
}

/// Removes everything the proxy put on this node: its table and the load-balancer addresses it
/// announced. For uninstalling and for tests; the running proxy would put them back.
pub async fn cleanup(config: &ProxyConfig) -> Result<()> {
    let table = config.table.clone();
    crate::net::netns::NetNs::current()?.run(move || remove(&table)).await?;
    announce::Announcer::new(config).await?.withdraw_all().await
}
