//! Controllers that run inside the server process. They read shared informer caches and
//! write through the registry, as DESIGN.md lays out.

pub mod controller_ref;
pub mod deployment;
pub mod events;
pub mod expectations;
pub mod garbage_collector;
pub mod informer;
pub mod namespace;
pub mod pod_control;
pub mod pods;
pub mod queue;
pub mod replicaset;

use std::sync::Arc;

use informer::Informers;

/// Starts every in-process controller.
pub fn start(informers: &Arc<Informers>) {
    namespace::spawn(informers.registry().clone());
    replicaset::spawn(informers, &replicaset::REPLICA_SETS);
    replicaset::spawn(informers, &replicaset::REPLICATION_CONTROLLERS);
    deployment::spawn(informers);
    garbage_collector::spawn(informers.registry().clone());
}
