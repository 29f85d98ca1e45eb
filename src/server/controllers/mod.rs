//! Controllers that run inside the server process. They read shared informer caches and
//! write through the registry, as DESIGN.md lays out.

pub mod events;
pub mod informer;
pub mod namespace;
pub mod queue;

use std::sync::Arc;

use informer::Informers;

/// Starts every in-process controller.
pub fn start(informers: &Arc<Informers>) {
    namespace::spawn(informers.registry().clone());
}
