//! Controllers that run inside the server process. They read shared informer caches and
//! write through the registry, as DESIGN.md lays out.

pub mod controller_ref;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpoints;
pub mod events;
pub mod expectations;
pub mod garbage_collector;
pub mod history;
pub mod informer;
pub mod job;
pub mod namespace;
pub mod node_ipam;
pub mod node_lifecycle;
pub mod pod_control;
pub mod pod_routing;
pub mod pods;
pub mod queue;
pub mod replicaset;
pub mod service_backends;
pub mod serviceaccount;
pub mod statefulset;
pub mod status_update;

use std::sync::Arc;

use informer::Informers;

/// What the controllers need from the server's configuration.
pub struct Settings {
    /// PEM of the server CA, published in every namespace.
    pub ca_pem: String,
    pub cluster_cidr: String,
    /// Prefix length of each node's pod subnet.
    pub node_cidr_prefix: u8,
    pub node_monitor_grace_period: std::time::Duration,
}

/// Starts every in-process controller.
pub fn start(informers: &Arc<Informers>, settings: &Settings) -> anyhow::Result<()> {
    namespace::spawn(informers.registry().clone());
    serviceaccount::spawn(informers, settings.ca_pem.clone());
    endpoints::spawn(informers);
    let cidrs = node_ipam::CidrAllocator::new(&settings.cluster_cidr, settings.node_cidr_prefix)?;
    node_ipam::spawn(informers, Arc::new(cidrs));
    node_lifecycle::spawn(informers, node_lifecycle::Settings { grace_period: settings.node_monitor_grace_period });
    replicaset::spawn(informers, &replicaset::REPLICA_SETS);
    replicaset::spawn(informers, &replicaset::REPLICATION_CONTROLLERS);
    deployment::spawn(informers);
    daemonset::spawn(informers);
    statefulset::spawn(informers);
    job::spawn(informers);
    cronjob::spawn(informers);
    garbage_collector::spawn(informers.registry().clone());
    Ok(())
}
