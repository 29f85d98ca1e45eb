//! The control plane: store, API server, registry, authentication, controllers, scheduler.

pub mod api_error;
pub mod apiserver;
pub mod auth;
pub mod registry;

use anyhow::Result;

use crate::cli::ServerArgs;

/// Runs `onebin server` until it is stopped.
pub fn run(args: ServerArgs) -> Result<()> {
    let _ = args;
    anyhow::bail!("server not yet assembled")
}
