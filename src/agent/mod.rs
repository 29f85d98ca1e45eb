//! The node agent: registers the node and keeps it heartbeating, runs the node's pods
//! (kubelet), and serves the node API. It is a remote client of the API server through the
//! `kube` crate, even when embedded in the server process.

pub mod events;
pub mod https;
pub mod join;
pub mod kubelet;
pub mod node;
pub mod nodeapi;
pub mod overlay;
pub mod quantity;
pub mod simulate;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use futures::TryFutureExt;
use k8s_openapi::api::core::v1::Node;
use kube::Api;

pub use node::NodeConfig;
pub use nodeapi::NodeApiTls;

/// Everything an agent needs to run.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub node: NodeConfig,
    /// Kubeconfig with this node's identity (`system:node:<name>`).
    pub kubeconfig: PathBuf,
    pub run_dir: PathBuf,
    pub cluster_cidr: ipnet::Ipv4Net,
    pub cluster_dns: std::net::IpAddr,
    pub cluster_domain: String,
    /// Parent cgroup of this node's pods (several nodes on one machine need their own).
    pub cgroup_parent: String,
    /// Name of the pod bridge.
    pub bridge: String,
    /// Name of the service proxy's nftables table.
    pub proxy_table: String,
    /// The node API's certificate and the CA of the clients it accepts.
    pub node_api_tls: NodeApiTls,
    /// `--resolv-conf`, if given.
    pub resolv_conf: Option<PathBuf>,
    /// Name of the VXLAN device, or `None` to run without an overlay.
    pub vxlan_device: Option<String>,
}

/// The agent's directory under the data dir.
pub fn agent_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("agent")
}

/// This installation's agent id, created on first use.
pub fn agent_id(data_dir: &Path) -> Result<String> {
    let path = agent_dir(data_dir).join("agent-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        _ => {
            let id = uuid::Uuid::new_v4().to_string();
            crate::server::auth::files::write_private(&path, id.as_bytes())?;
            Ok(id)
        }
    }
}

/// A kube client for `kubeconfig`.
pub async fn client(kubeconfig: &Path) -> Result<kube::Client> {
    let text = std::fs::read_to_string(kubeconfig).with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config = kube::config::Kubeconfig::from_yaml(&text).context("parsing the agent kubeconfig")?;
    let config = kube::Config::from_custom_kubeconfig(config, &Default::default())
        .await
        .context("loading the agent kubeconfig")?;
    Ok(kube::Client::try_from(config)?)
}

/// `onebin agent`: joins the cluster at `--server` with the token, then runs the node.
pub fn run_joined(args: crate::cli::AgentCommandArgs) -> Result<()> {
    let token = args.token()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("onebin-agent").build()?;
    runtime.block_on(async move {
        if let Some(count) = args.simulate {
            return tokio::select! {
                result = simulate::run(&args, count, &token) => result,
                () = crate::server::shutdown_signal() => Ok(()),
            };
        }
        let data_dir = args.common.data_dir.clone();
        let name = args.agent.node_name.clone().unwrap_or_else(crate::host::hostname);
        crate::server::registry::validation::dns1123_subdomain(&name)
            .map_err(|why| anyhow::anyhow!("node name {name:?}: {why}"))?;
        let agent_dir = agent_dir(&data_dir);
        std::fs::create_dir_all(&agent_dir).with_context(|| format!("creating {}", agent_dir.display()))?;
        let joined = join::credentials(&agent_dir, &args.server, &token, &name).await?;
        let cluster = &joined.cluster;
        let config = AgentConfig {
            node: NodeConfig {
                name,
                ip: args.agent.node_ip()?,
                labels: args.agent.labels()?,
                taints: args.agent.node_taint.clone(),
                control_plane: false,
                kubelet_port: args.agent.kubelet_port,
                data_dir: data_dir.clone(),
                agent_id: agent_id(&data_dir)?,
                max_pods: args.agent.max_pods,
            },
            kubeconfig: joined.kubeconfig.clone(),
            run_dir: args.agent.run_dir.clone(),
            cluster_cidr: cluster
                .cluster_cidr
                .parse()
                .with_context(|| format!("cluster CIDR {:?}", cluster.cluster_cidr))?,
            cluster_dns: cluster
                .cluster_dns
                .parse()
                .with_context(|| format!("cluster DNS {:?}", cluster.cluster_dns))?,
            cluster_domain: cluster.cluster_domain.clone(),
            cgroup_parent: args.agent.cgroup_parent.clone(),
            bridge: args.agent.bridge.clone(),
            proxy_table: args.agent.proxy_table.clone(),
            vxlan_device: args.agent.overlay_device(),
            node_api_tls: joined.node_api_tls.clone(),
            resolv_conf: args.agent.resolv_conf.clone(),
        };
        tokio::select! {
            result = run(config) => result,
            () = crate::server::shutdown_signal() => Ok(()),
        }
    })
}

/// Runs the agent until it fails; registration errors are retried with back-off.
pub async fn run(config: AgentConfig) -> Result<()> {
    let client = client(&config.kubeconfig).await?;
    let nodes: Api<Node> = Api::all(client.clone());
    register_until_accepted(&nodes, &config.node).await?;
    crate::sd_notify::ready();
    tokio::spawn(node::heartbeat(client.clone(), config.node.clone(), || true));

    let agent_dir = agent_dir(&config.node.data_dir);
    let mut runtime_config = crate::runtime::service::RuntimeConfig::new(&config.node.data_dir, &config.run_dir)?;
    runtime_config.cgroup_parent = config.cgroup_parent.clone();
    let runtime = crate::runtime::service::RuntimeService::new(runtime_config)?;
    let registries = crate::runtime::image::registries::Registries::load(std::path::Path::new(
        crate::runtime::image::registries::DEFAULT_REGISTRIES_FILE,
    ))?;
    let images = crate::runtime::image::service::ImageService::new(&agent_dir, registries)?;
    nodeapi::start(&node_api_addresses(&config.node), &config.node_api_tls, runtime.clone()).await?;
    for (archive, result) in images.import_airgap_images().await? {
        match result {
            Ok(imported) => {
                tracing::info!(archive = %archive.display(), images = imported.len(), "imported airgap images")
            }
            Err(err) => tracing::warn!(archive = %archive.display(), "airgap import failed: {err:#}"),
        }
    }
    let pod_cidr = wait_for_pod_cidr(&nodes, &config.node.name).await?;
    let node_ip = overlay::ipv4(config.node.ip)?;
    let handle = crate::net::netns::NetNs::current()?.route_handle().await?;
    let (_, uplink_mtu) = crate::net::vxlan::uplink(&handle, node_ip).await?;
    let mut net_config = crate::net::PodNetworkConfig::new(pod_cidr, agent_dir.join("ipam"));
    net_config.cluster_cidr = config.cluster_cidr;
    net_config.bridge = config.bridge.clone();
    if let Some(device) = config.vxlan_device.clone() {
        crate::net::vxlan::check_device_name(&device).context("--vxlan-device")?;
        // Pod packets must still fit once the overlay has wrapped them.
        net_config.mtu = Some(uplink_mtu.saturating_sub(crate::net::vxlan::OVERHEAD));
        let (client, name) = (client.clone(), config.node.name.clone());
        tokio::spawn(async move {
            if let Err(err) = overlay::run(client, &name, node_ip, pod_cidr, &device).await {
                tracing::error!("the VXLAN overlay stopped: {err:#}");
            }
        });
    }
    let network = std::sync::Arc::new(crate::net::PodNetwork::new(net_config).await?);
    network.ensure_host().await.context("setting up the node's pod network")?;
    let proxy = crate::net::proxy::ProxyConfig {
        table: config.proxy_table.clone(),
        node_name: config.node.name.clone(),
        node_ip: config.node.ip,
        cluster_cidr: config.cluster_cidr,
        state_dir: agent_dir.join("proxy"),
    };
    crate::net::proxy::validate_table_name(&proxy.table).context("--proxy-table")?;
    tokio::spawn(crate::net::proxy::run(client.clone(), proxy).inspect_err(|err| {
        tracing::error!("the service proxy stopped: {err:#}");
    }));
    let resolv_conf = crate::net::dns::upstream::node_resolv_conf(
        config.resolv_conf.as_deref(),
        Path::new(crate::net::dns::upstream::HOST_RESOLV_CONF),
        Path::new(crate::net::dns::upstream::RESOLVED_RESOLV_CONF),
    );
    let dns = crate::net::dns::DnsConfig {
        address: config.cluster_dns,
        domain: config.cluster_domain.clone(),
        resolv_conf: resolv_conf.clone(),
    };
    let dns_client = client.clone();
    tokio::spawn(async move {
        if let Err(err) = crate::net::dns::run(dns_client, dns).await {
            tracing::error!("cluster DNS is not served: {err:#}");
        }
    });
    let kubelet = kubelet::Kubelet::new(
        client,
        config.node.clone(),
        runtime,
        images,
        network,
        config.cluster_dns,
        config.cluster_domain.clone(),
        resolv_conf,
        config.run_dir.clone(),
    );
    kubelet.run().await;
    Ok(())
}

/// Where the node API listens: the node's IP, and loopback for local tools.
fn node_api_addresses(node: &NodeConfig) -> Vec<std::net::SocketAddr> {
    let mut addresses = vec![std::net::SocketAddr::new(node.ip, node.kubelet_port)];
    let loopback = std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), node.kubelet_port);
    if !node.ip.is_loopback() && !node.ip.is_unspecified() {
        addresses.push(loopback);
    }
    addresses
}

/// Registers the node, retrying with back-off until the server accepts it; another running
/// agent holding the name is final.
async fn register_until_accepted(nodes: &Api<Node>, node: &NodeConfig) -> Result<()> {
    let mut delay = std::time::Duration::from_millis(200);
    loop {
        match node::register(nodes, node).await {
            Ok(_) => break,
            Err(err) if err.to_string().contains("already registered by another running agent") => return Err(err),
            Err(err) => {
                tracing::warn!(%err, ?delay, "node registration failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
        }
    }
    tracing::info!(node = %node.name, "node registered");
    Ok(())
}

/// The node's pod subnet, once the server has assigned it.
async fn wait_for_pod_cidr(nodes: &Api<Node>, name: &str) -> Result<ipnet::Ipv4Net> {
    loop {
        if let Ok(node) = nodes.get(name).await {
            if let Some(cidr) = node.spec.and_then(|s| s.pod_cidr) {
                return cidr.parse().with_context(|| format!("the node's podCIDR {cidr:?} is not an IPv4 CIDR"));
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
