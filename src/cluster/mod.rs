//! `onebin cluster`: local multi-node clusters without Docker. Each node is a network
//! namespace on a host bridge running one onebin process (a server, or an agent joined to
//! it) with its own data dir, run dir and cgroup parent, like kind or k3d.

mod kubeconfig;
mod layout;
mod network;
mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use k8s_openapi::api::core::v1::Node;
use nix::sys::signal::Signal;

use crate::net::netns::NetNs;
use layout::{ClusterLayout, Role};

#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Where local clusters keep their state.
    #[arg(long, env = "ONEBIN_CLUSTERS_DIR", default_value = layout::DEFAULT_STATE_DIR, global = true)]
    pub state_dir: PathBuf,
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum ClusterCommand {
    /// Create a cluster: one server and agents, each in its own network namespace.
    Create(CreateArgs),
    /// Delete a cluster: its processes, pods, namespaces, links, files and kubeconfig entry.
    Delete { name: String },
    /// List local clusters.
    List,
    /// Stop one node's onebin process (its pods keep running, as on a lost node).
    Stop { name: String, node: String },
    /// Start a stopped node again.
    Start { name: String, node: String },
    /// Import an image archive into every node of a cluster.
    Import { name: String, archive: PathBuf },
}

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    pub name: String,
    /// Number of nodes: one server, the rest agents.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// Kubeconfig to write (default: merge the context onebin-NAME into ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Extra flag for the server (repeatable), e.g. --server-arg=--node-taint=key:NoSchedule.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// Extra flag for every agent (repeatable).
    #[arg(long = "agent-arg", allow_hyphen_values = true)]
    pub agent_args: Vec<String>,
    /// Image archive every node imports at start (repeatable).
    #[arg(long = "image-archive")]
    pub image_archives: Vec<PathBuf>,
    /// How long to wait for every node to be Ready.
    #[arg(long, default_value_t = 120)]
    pub wait_seconds: u64,
}

pub fn run(args: ClusterArgs) -> Result<()> {
    let state = args.state_dir.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match args.command {
            ClusterCommand::Create(create) => create_cluster(&state, create).await,
            ClusterCommand::Delete { name } => delete_cluster(&state, &name).await,
            ClusterCommand::List => list_clusters(&state),
            ClusterCommand::Stop { name, node } => {
                let layout = ClusterLayout::load(&state, &name)?;
                let node = layout.node(&node)?;
                process::stop(&state, &layout, node, Signal::SIGKILL, Duration::from_secs(1));
                println!("node {} stopped", node.name);
                Ok(())
            }
            ClusterCommand::Start { name, node } => {
                let layout = ClusterLayout::load(&state, &name)?;
                let node = layout.node(&node)?;
                if process::running(&state, &layout, node).is_some() {
                    bail!("node {} is already running", node.name);
                }
                let token = read_token(&state, &layout)?;
                process::start(&state, &layout, node, Some(&token))?;
                println!("node {} started", node.name);
                Ok(())
            }
            ClusterCommand::Import { name, archive } => import(&state, &name, &archive).await,
        }
    })
}

async fn create_cluster(state: &Path, args: CreateArgs) -> Result<()> {
    let started = Instant::now();
    if layout::cluster_dir(state, &args.name).join("cluster.json").exists() {
        bail!("cluster {:?} already exists (onebin cluster delete {} first)", args.name, args.name);
    }
    std::fs::create_dir_all(state).with_context(|| format!("creating {}", state.display()))?;
    let layout = {
        // Two creates at once must not pick the same subnet.
        let lock = std::fs::File::create(state.join(".lock"))?;
        let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| e)?;
        let mut layout = ClusterLayout::new(
            &args.name,
            layout::free_index(state)?,
            args.nodes,
            &args.server_args,
            &args.agent_args,
        )?;
        layout.kubeconfig = Some(args.kubeconfig.clone().unwrap_or_else(kubeconfig::default_path));
        // Saved before anything is made, so a failed create can still be deleted.
        layout.save(state)?;
        layout
    };
    match bring_up(state, &layout, &args).await {
        Ok(()) => {
            println!(
                "cluster {} is up: {} node(s) Ready in {:.1}s; kubectl context {}{}",
                layout.name,
                layout.nodes.len(),
                started.elapsed().as_secs_f64(),
                kubeconfig::context_name(&layout.name),
                args.kubeconfig.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
            );
            Ok(())
        }
        Err(err) => Err(err.context(format!(
            "creating cluster {} (clean up with: onebin cluster delete {})",
            layout.name, layout.name
        ))),
    }
}

async fn bring_up(state: &Path, layout: &ClusterLayout, args: &CreateArgs) -> Result<()> {
    let handle = NetNs::current()?.route_handle().await?;
    let bridge = network::ensure_bridge(&handle, layout).await?;
    for node in &layout.nodes {
        network::attach_node(&handle, bridge, layout, node).await.with_context(|| format!("wiring {}", node.name))?;
        let images = process::paths(state, layout, node).data.join("agent").join("images");
        std::fs::create_dir_all(&images)?;
        for archive in &args.image_archives {
            let name = archive.file_name().context("an image archive path has no file name")?;
            if std::fs::hard_link(archive, images.join(name)).is_err() {
                std::fs::copy(archive, images.join(name)).with_context(|| format!("copying {}", archive.display()))?;
            }
        }
    }
    process::start(state, layout, layout.server(), None)?;
    let server_paths = process::paths(state, layout, layout.server());
    let token = wait_for(Duration::from_secs(30), "the server's join token", || {
        std::future::ready(read_token(state, layout).ok())
    })
    .await?;
    wait_for(Duration::from_secs(30), "the server's kubeconfig", || {
        std::future::ready(server_paths.kubeconfig.exists().then_some(()))
    })
    .await?;
    for node in layout.nodes.iter().filter(|n| n.role == Role::Agent) {
        process::start(state, layout, node, Some(&token))?;
    }
    let target = layout.kubeconfig.clone().unwrap_or_else(kubeconfig::default_path);
    let config = kubeconfig::for_host(&server_paths.kubeconfig, &layout.name, &layout.server_url())?;
    kubeconfig::install(&config, &target, args.kubeconfig.is_none())?;
    let client = client_for(&config).await?;
    let want = layout.nodes.len();
    wait_for(Duration::from_secs(args.wait_seconds), &format!("{want} Ready nodes"), || {
        let client = client.clone();
        async move { (ready_nodes(&client).await == want).then_some(()) }
    })
    .await
}

async fn client_for(config: &serde_yaml::Value) -> Result<kube::Client> {
    let kubeconfig: kube::config::Kubeconfig =
        serde_yaml::from_value(config.clone()).context("the cluster kubeconfig")?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

async fn ready_nodes(client: &kube::Client) -> usize {
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let Ok(list) = nodes.list(&Default::default()).await else { return 0 };
    list.items
        .iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count()
}

/// Polls `check` until it yields, for at most `timeout`.
async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::IntoFuture<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn read_token(state: &Path, layout: &ClusterLayout) -> Result<String> {
    let data = process::paths(state, layout, layout.server()).data;
    let text = std::fs::read_to_string(crate::server::auth::token::token_path(&data))?;
    Ok(text.trim().to_string())
}

async fn delete_cluster(state: &Path, name: &str) -> Result<()> {
    let layout = ClusterLayout::load(state, name)?;
    for node in layout.nodes.iter().rev() {
        process::stop(state, &layout, node, Signal::SIGTERM, Duration::from_secs(10));
    }
    for node in &layout.nodes {
        let p = process::paths(state, &layout, node);
        let mut config = crate::runtime::service::RuntimeConfig::new(&p.data, &p.run)?;
        config.cgroup_parent = p.cgroup_parent.clone();
        if let Err(err) = crate::runtime::teardown::remove_everything(config).await {
            eprintln!("warning: cleaning up the pods of {}: {err:#}", node.name);
        }
    }
    let handle = NetNs::current()?.route_handle().await?;
    network::remove(&handle, &layout).await?;
    if let Some(path) = &layout.kubeconfig {
        kubeconfig::uninstall(path, &layout.name)?;
    }
    std::fs::remove_dir_all(layout::cluster_dir(state, name))
        .with_context(|| format!("removing the state of {name}"))?;
    println!("cluster {name} deleted");
    Ok(())
}

fn list_clusters(state: &Path) -> Result<()> {
    let clusters = layout::list(state)?;
    println!("{:<20} {:<8} {:<8} SERVER", "NAME", "NODES", "RUNNING");
    for c in clusters {
        let running = c.nodes.iter().filter(|n| process::running(state, &c, n).is_some()).count();
        println!("{:<20} {:<8} {:<8} {}", c.name, c.nodes.len(), running, c.server_url());
    }
    Ok(())
}

async fn import(state: &Path, name: &str, archive: &Path) -> Result<()> {
    let layout = ClusterLayout::load(state, name)?;
    for node in &layout.nodes {
        let agent_dir = crate::agent::agent_dir(&process::paths(state, &layout, node).data);
        let registries = crate::runtime::image::registries::Registries::default();
        let images = crate::runtime::image::service::ImageService::new(&agent_dir, registries)?;
        let imported = images.import(archive).await.with_context(|| format!("importing into {}", node.name))?;
        println!(
            "{}: imported {}",
            node.name,
            imported.iter().map(|i| i.names.join(",")).collect::<Vec<_>>().join(" ")
        );
    }
    Ok(())
}
