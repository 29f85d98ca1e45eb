//! Command line: one binary, one subcommand per role.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config;
use crate::runtime;
use crate::server;

#[derive(Parser, Debug)]
#[command(
    name = "onebin",
    version = crate::version::GIT_VERSION,
    about = "A single-binary Kubernetes: API server, controllers, scheduler, kubelet and container runtime in one process",
    long_about = "A single-binary Kubernetes: API server, controllers, scheduler, kubelet and container runtime in one process.\n\n\
                  Start a cluster with `onebin server`; point kubectl at the kubeconfig it writes \
                  (/etc/onebin/onebin.yaml by default).\n\n\
                  Every flag can also be given as an environment variable (ONEBIN_<FLAG>) or as a key \
                  in the config file (/etc/onebin/config.yaml). Precedence: flag, then environment, then file, then default."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the control plane (API server, controllers, scheduler, store) on this machine.
    Server(Box<ServerArgs>),
    /// Join a cluster as a node: run the kubelet, pod network and container runtime.
    Agent(Box<AgentCommandArgs>),
    /// Print the join token of the server on this machine (agents pass it to --token);
    /// `onebin token rotate` replaces it.
    Token(TokenArgs),
    /// Print the admin kubeconfig of the server on this machine.
    Kubeconfig(KubeconfigArgs),
    /// Local multi-node clusters, each node in its own network namespace (like kind/k3d).
    Cluster(crate::cluster::ClusterArgs),
    /// Check what this kernel offers onebin: namespaces, cgroups, overlayfs, bridge, VXLAN,
    /// nftables (exits non-zero when something required is missing).
    CheckConfig(crate::install::check_config::CheckConfigArgs),
    /// Wait until onebin on this machine is up: the API ready (--server) and the node Ready.
    WaitReady(crate::install::wait_ready::WaitReadyArgs),
    /// Remove this node's pods, their mounts and cgroups, and its network devices and nftables
    /// tables, keeping its data (stop the onebin service first).
    Teardown(crate::install::teardown::TeardownArgs),
    #[command(flatten)]
    Node(runtime::cli::NodeCommand),
}

/// Flags shared by every subcommand that reads the local state.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Directory holding all state (store, certificates, images).
    #[arg(long, env = "ONEBIN_DATA_DIR", default_value = "/var/lib/onebin", global = true)]
    pub data_dir: PathBuf,
    /// Config file whose keys are flag names (e.g. `node-name: edge-1`).
    #[arg(short = 'c', long = "config", env = "ONEBIN_CONFIG_FILE", default_value = config::DEFAULT_CONFIG_FILE, global = true)]
    pub config: PathBuf,
    /// Log filter in tracing's syntax (e.g. `info`, `onebin=debug`).
    #[arg(long, env = "ONEBIN_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address the API server listens on.
    #[arg(long, env = "ONEBIN_BIND_ADDRESS", default_value = "0.0.0.0")]
    pub bind_address: std::net::IpAddr,
    /// Port of the API server (HTTPS).
    #[arg(long, env = "ONEBIN_HTTPS_LISTEN_PORT", default_value_t = 6443)]
    pub https_listen_port: u16,
    /// IP address other nodes and the kubernetes Service use to reach this server (default: the
    /// address of the interface holding the default route).
    #[arg(long, env = "ONEBIN_ADVERTISE_ADDRESS")]
    pub advertise_address: Option<std::net::IpAddr>,
    /// Extra names or IPs for the serving certificate (repeatable).
    #[arg(long = "tls-san", env = "ONEBIN_TLS_SAN", value_delimiter = ',')]
    pub tls_san: Vec<String>,
    /// Where to write the admin kubeconfig.
    #[arg(long, env = "ONEBIN_WRITE_KUBECONFIG", default_value = config::DEFAULT_KUBECONFIG)]
    pub write_kubeconfig: PathBuf,
    /// Octal file mode of the written kubeconfig.
    #[arg(long, env = "ONEBIN_WRITE_KUBECONFIG_MODE", default_value = "0600")]
    pub write_kubeconfig_mode: String,
    /// Pod network; each node gets a /24 from it.
    #[arg(long, env = "ONEBIN_CLUSTER_CIDR", default_value = "10.42.0.0/16")]
    pub cluster_cidr: String,
    /// Service network; its first address is the kubernetes API Service.
    #[arg(long, env = "ONEBIN_SERVICE_CIDR", default_value = "10.43.0.0/16")]
    pub service_cidr: String,
    /// NodePort range.
    #[arg(long, env = "ONEBIN_SERVICE_NODE_PORT_RANGE", default_value = "30000-32767")]
    pub service_node_port_range: String,
    /// Cluster DNS service IP.
    #[arg(long, env = "ONEBIN_CLUSTER_DNS", default_value = "10.43.0.10")]
    pub cluster_dns: std::net::IpAddr,
    /// Cluster domain.
    #[arg(long, env = "ONEBIN_CLUSTER_DOMAIN", default_value = "cluster.local")]
    pub cluster_domain: String,
    /// Shared secret agents join with (default: generated at first start and kept in the data dir).
    #[arg(long, env = "ONEBIN_TOKEN")]
    pub token: Option<String>,
    /// Prefix length of the pod subnet each node gets from --cluster-cidr.
    #[arg(long, env = "ONEBIN_NODE_CIDR_MASK_SIZE", default_value_t = 24)]
    pub node_cidr_mask_size: u8,
    /// Seconds without a heartbeat before a node is marked NotReady (unreachable).
    #[arg(long, env = "ONEBIN_NODE_MONITOR_GRACE_PERIOD", default_value_t = 40)]
    pub node_monitor_grace_period: u64,
    /// Default tolerationSeconds of pods for the not-ready and unreachable taints (how long
    /// pods stay on a lost node before they are evicted).
    #[arg(long, env = "ONEBIN_DEFAULT_TOLERATION_SECONDS", default_value_t = 300)]
    pub default_toleration_seconds: i64,
    /// Addresses ServiceLB gives LoadBalancer services, one each: a CIDR or a first-last range,
    /// several separated by commas (default: the services get the nodes' InternalIPs).
    #[arg(long, env = "ONEBIN_LB_POOL")]
    pub lb_pool: Option<String>,
    /// Run only the control plane, without this machine's embedded node agent.
    #[arg(long, env = "ONEBIN_DISABLE_AGENT")]
    pub disable_agent: bool,
    #[command(flatten)]
    pub agent: AgentArgs,
    #[command(flatten)]
    pub ingress: crate::server::ingress::IngressArgs,
    /// How many store revisions of watch history to keep before compacting.
    #[arg(long, env = "ONEBIN_WATCH_HISTORY", default_value_t = 50_000)]
    pub watch_history: u64,
}

/// Flags of the node agent (also accepted by `onebin server` for its embedded agent).
#[derive(Args, Debug, Clone)]
pub struct AgentArgs {
    /// Name of this node (default: the host name).
    #[arg(long, env = "ONEBIN_NODE_NAME")]
    pub node_name: Option<String>,
    /// IP address of this node (default: the address of the default route's interface).
    #[arg(long, env = "ONEBIN_NODE_IP")]
    pub node_ip: Option<std::net::IpAddr>,
    /// Label to put on the node, `key=value` (repeatable).
    #[arg(long = "node-label", env = "ONEBIN_NODE_LABEL", value_delimiter = ',')]
    pub node_label: Vec<String>,
    /// Taint to put on the node at registration, `key[=value]:Effect` (repeatable).
    #[arg(long = "node-taint", env = "ONEBIN_NODE_TAINT", value_delimiter = ',')]
    pub node_taint: Vec<String>,
    /// Port of the node API (logs, exec, port-forward) the API server connects to.
    #[arg(long, env = "ONEBIN_KUBELET_PORT", default_value_t = 10250)]
    pub kubelet_port: u16,
    /// Directory for runtime state that does not survive a reboot (sockets, netns mounts).
    #[arg(long, env = "ONEBIN_RUN_DIR", default_value = "/run/onebin")]
    pub run_dir: std::path::PathBuf,
    /// Parent cgroup of this node's pods.
    #[arg(long, env = "ONEBIN_CGROUP_PARENT", default_value = crate::runtime::paths::DEFAULT_CGROUP_PARENT)]
    pub cgroup_parent: String,
    /// Name of the bridge pods attach to.
    #[arg(long, env = "ONEBIN_BRIDGE", default_value = crate::net::cni::DEFAULT_BRIDGE)]
    pub bridge: String,
    /// Name of the service proxy's nftables table (nodes sharing a network namespace need
    /// their own).
    #[arg(long, env = "ONEBIN_PROXY_TABLE", default_value = crate::net::proxy::DEFAULT_TABLE)]
    pub proxy_table: String,
    /// How pod traffic crosses nodes: `vxlan`, or `none` when the nodes' pod subnets are
    /// already routable (or there is one node).
    #[arg(long, env = "ONEBIN_FLANNEL_BACKEND", default_value = "vxlan", value_parser = ["vxlan", "none"])]
    pub flannel_backend: String,
    /// Name of the VXLAN overlay device.
    #[arg(long, env = "ONEBIN_VXLAN_DEVICE", default_value = crate::net::vxlan::DEFAULT_DEVICE)]
    pub vxlan_device: String,
    /// Interface whose address is the node IP and carries the overlay (default: the one with
    /// the default route).
    #[arg(long, env = "ONEBIN_FLANNEL_IFACE")]
    pub flannel_iface: Option<String>,
    /// The node's resolv.conf: upstream resolvers of cluster DNS, and what pods with
    /// `dnsPolicy: Default` get (default: /etc/resolv.conf, or systemd-resolved's upstream list
    /// when that only names a loopback stub).
    #[arg(long, env = "ONEBIN_RESOLV_CONF")]
    pub resolv_conf: Option<std::path::PathBuf>,
    /// Most pods this node runs.
    #[arg(long, env = "ONEBIN_MAX_PODS", default_value_t = 110)]
    pub max_pods: u32,
}

impl AgentArgs {
    /// The overlay device to run, unless the overlay is off.
    pub fn overlay_device(&self) -> Option<String> {
        (self.flannel_backend == "vxlan").then(|| self.vxlan_device.clone())
    }

    /// The node IP: --node-ip, else the first IPv4 address of --flannel-iface, else the
    /// address of the default route's interface.
    pub fn node_ip(&self) -> anyhow::Result<std::net::IpAddr> {
        if let Some(ip) = self.node_ip {
            return Ok(ip);
        }
        let Some(iface) = &self.flannel_iface else { return Ok(crate::host::default_route_ip()) };
        nix::ifaddrs::getifaddrs()?
            .filter(|a| &a.interface_name == iface)
            .find_map(|a| a.address.and_then(|s| s.as_sockaddr_in().map(|v4| std::net::IpAddr::V4(v4.ip()))))
            .ok_or_else(|| anyhow::anyhow!("--flannel-iface {iface}: the interface has no IPv4 address"))
    }

    /// The node labels as a map; an entry without `=` is an error.
    pub fn labels(&self) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
        self.node_label
            .iter()
            .map(|l| {
                let (k, v) =
                    l.split_once('=').ok_or_else(|| anyhow::anyhow!("--node-label {l:?} must be key=value"))?;
                crate::server::registry::validation::qualified_name(k)
                    .map_err(|why| anyhow::anyhow!("--node-label key {k:?}: {why}"))?;
                crate::server::registry::validation::label_value(v)
                    .map_err(|why| anyhow::anyhow!("--node-label value {v:?}: {why}"))?;
                Ok((k.to_string(), v.to_string()))
            })
            .collect()
    }
}

#[derive(Args, Debug, Clone)]
pub struct AgentCommandArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// URL of the server to join, e.g. https://10.0.0.1:6443.
    #[arg(long = "server", visible_alias = "join", env = "ONEBIN_URL")]
    pub server: String,
    /// The server's join token (`onebin token` on the server prints it).
    #[arg(long, env = "ONEBIN_TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// A file holding the join token.
    #[arg(long, env = "ONEBIN_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    #[command(flatten)]
    pub agent: AgentArgs,
    /// Run N simulated nodes instead of this machine's node (hollow nodes, as kwok and
    /// kubemark): each joins as `<node-name>-<i>`, heartbeats, and reports the pods bound to it
    /// Running with an IP from its pod subnet, without running any container. For scale tests.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub simulate: Option<u32>,
}

impl AgentCommandArgs {
    /// The join token from --token or --token-file.
    pub fn token(&self) -> anyhow::Result<String> {
        match (&self.token, &self.token_file) {
            (Some(token), _) => Ok(token.clone()),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|t| t.trim().to_string())
                .map_err(|e| anyhow::anyhow!("reading --token-file {}: {e}", path.display())),
            (None, None) => anyhow::bail!(
                "a join token is required: pass --token (ONEBIN_TOKEN) or --token-file (ONEBIN_TOKEN_FILE)"
            ),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct TokenArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub action: Option<TokenAction>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum TokenAction {
    /// Replace the join token with a new random one (joined nodes keep working).
    Rotate,
}

#[derive(Args, Debug, Clone)]
pub struct KubeconfigArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

pub fn main() -> ExitCode {
    // One per pod, so kept small: no config file, no full command tree.
    if std::env::args_os().nth(1).is_some_and(|a| a == runtime::cli::SHIM_COMMAND) {
        return runtime::cli::shim_main();
    }
    let args = match config::args_with_config_file(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("onebin: {err:#}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Server(args) => {
            init_logging(&args.common.log);
            server::run(*args)
        }
        Command::Agent(args) => {
            init_logging(&args.common.log);
            crate::agent::run_joined(*args)
        }
        Command::Token(args) => match args.action {
            None => server::auth::token::print_token(&args.common.data_dir),
            Some(TokenAction::Rotate) => server::auth::token::rotate(&args.common.data_dir),
        },
        Command::Kubeconfig(args) => server::auth::kubeconfig::print_admin(&args.common.data_dir),
        Command::Node(command) => runtime::cli::run(command),
        Command::CheckConfig(args) => crate::install::check_config::run(args),
        Command::WaitReady(args) => crate::install::wait_ready::run(args),
        Command::Teardown(args) => {
            init_logging(&format!("{},libcgroups=error,libcontainer=error", args.node.common.log));
            crate::install::teardown::run(args)
        }
        Command::Cluster(args) => {
            // libcgroups warns about every controller a v1 host lacks; only errors matter here.
            init_logging("warn,libcgroups=error");
            crate::cluster::run(args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("onebin: {err:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn init_logging(filter: &str) {
    // hickory's DNS server (cluster DNS) logs every query at info.
    let filter = format!("hickory_server=warn,{filter}");
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
