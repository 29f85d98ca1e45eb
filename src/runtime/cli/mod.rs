//! Node-local commands in the crictl spirit (`onebin images`, `ps`, `logs`, `exec`, `run`,
//! `stop`, `rm`, `pods`, `inspect`) and the hidden `onebin shim`. They work on this node's
//! data and run dirs directly, whether or not an agent runs.

mod containers;
mod exec;
mod images;
mod table;

use std::path::PathBuf;

use anyhow::{Context, Result};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use super::image::registries::{Registries, DEFAULT_REGISTRIES_FILE};
use super::image::service::ImageService;
use super::paths::{RuntimePaths, DEFAULT_CGROUP_PARENT, DEFAULT_RUN_DIR};
use super::service::{RuntimeConfig, RuntimeService};
use super::shim::{self, ShimOptions};
use crate::cli::CommonArgs;

/// Flags every node-local command shares.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Directory for state that must not survive a reboot (shim sockets, mounts).
    #[arg(long, env = "ONEBIN_RUN_DIR", default_value = DEFAULT_RUN_DIR, global = true)]
    pub run_dir: PathBuf,
    /// cgroup under which pods started here get their cgroups.
    #[arg(long, env = "ONEBIN_CGROUP_PARENT", default_value = DEFAULT_CGROUP_PARENT, global = true)]
    pub cgroup_parent: String,
    /// Registry mirrors, credentials and TLS settings (k3s's registries.yaml format).
    #[arg(long, env = "ONEBIN_REGISTRIES", default_value = DEFAULT_REGISTRIES_FILE, global = true)]
    pub registries: PathBuf,
}

impl NodeArgs {
    fn paths(&self) -> RuntimePaths {
        RuntimePaths::new(&self.common.data_dir, &self.run_dir)
    }

    fn runtime(&self) -> Result<RuntimeService> {
        let mut config = RuntimeConfig::new(&self.common.data_dir, &self.run_dir)?;
        config.cgroup_parent = self.cgroup_parent.clone();
        RuntimeService::new(config)
    }

    fn images(&self) -> Result<ImageService> {
        ImageService::new(&self.paths().agent_dir, Registries::load(&self.registries)?)
    }
}

#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Manage the images on this node: ls, import, pull, rm.
    Images(images::ImagesArgs),
    /// List containers on this node.
    Ps(containers::PsArgs),
    /// List pod sandboxes on this node.
    Pods(containers::PodsArgs),
    /// Print a container's logs.
    Logs(containers::LogsArgs),
    /// Run a command in a running container.
    Exec(exec::ExecArgs),
    /// Start a container in a new pod sandbox (or an existing one with --pod).
    Run(Box<containers::RunArgs>),
    /// Stop containers (stop signal, then SIGKILL after the timeout).
    Stop(containers::StopArgs),
    /// Remove containers (and pods `run` made once their last container goes).
    Rm(containers::RmArgs),
    /// Print a container's status as JSON.
    Inspect(containers::InspectArgs),
}

/// `onebin shim …`: dispatched before the main command line is parsed.
pub const SHIM_COMMAND: &str = "shim";

/// The per-pod shim (started by the runtime, not by hand).
#[derive(Parser, Debug, Clone)]
#[command(name = "onebin shim", bin_name = "onebin shim")]
pub struct ShimArgs {
    #[arg(long, default_value = DEFAULT_RUN_DIR)]
    pub run_dir: PathBuf,
    #[arg(long)]
    pub sandbox_id: String,
    #[arg(long)]
    pub hostname: String,
}

fn common(command: &NodeCommand) -> &CommonArgs {
    match command {
        NodeCommand::Images(a) => &a.node.common,
        NodeCommand::Ps(a) => &a.node.common,
        NodeCommand::Pods(a) => &a.node.common,
        NodeCommand::Logs(a) => &a.node.common,
        NodeCommand::Exec(a) => &a.node.common,
        NodeCommand::Run(a) => &a.node.common,
        NodeCommand::Stop(a) => &a.node.common,
        NodeCommand::Rm(a) => &a.node.common,
        NodeCommand::Inspect(a) => &a.node.common,
    }
}

/// `onebin shim`: no tokio here, the shim must stay single-threaded.
pub fn shim_main() -> ExitCode {
    let args = ShimArgs::parse_from(std::env::args_os().skip(1));
    let result = shim::run(ShimOptions { sandbox_id: args.sandbox_id, run_dir: args.run_dir, hostname: args.hostname });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("onebin: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a node-local command. `exec` and `run` exit with the container's exit code.
pub fn run(command: NodeCommand) -> Result<()> {
    // libcontainer and libcgroups narrate every cgroup they touch; only their errors matter here.
    crate::cli::init_logging(&format!("{},libcgroups=error,libcontainer=error", common(&command).log));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting tokio")?;
    runtime.block_on(async move {
        match command {
            NodeCommand::Images(args) => images::run(args).await,
            NodeCommand::Ps(args) => containers::ps(args).await,
            NodeCommand::Pods(args) => containers::pods(args).await,
            NodeCommand::Logs(args) => containers::logs(args).await,
            NodeCommand::Exec(args) => exec::run(args).await,
            NodeCommand::Run(args) => containers::run(*args).await,
            NodeCommand::Stop(args) => containers::stop(args).await,
            NodeCommand::Rm(args) => containers::rm(args).await,
            NodeCommand::Inspect(args) => containers::inspect(args).await,
        }
    })
}

/// Ends the process with a container's exit code (after output is flushed).
fn exit_with(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
