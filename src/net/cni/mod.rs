//! The pod network of one node: a bridge holding the gateway of the node's pod CIDR, one veth
//! pair per pod, host-local IPAM, and outbound masquerade. The kubelet calls `setup` when a pod
//! sandbox has its network namespace and `teardown` when the sandbox goes away.
//!
//! A `PodNetwork` works on the network namespace of the thread that created it (the node's
//! namespace), whichever thread later runs its futures.

pub mod bridge;
pub mod ipam;
pub mod veth;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ipnet::Ipv4Net;

use self::ipam::{Allocation, Ipam};
use super::netns::NetNs;
use super::{forward_accept, masquerade, netlink, sysctl};

pub const DEFAULT_BRIDGE: &str = "onebin0";
pub const DEFAULT_CLUSTER_CIDR: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(10, 42, 0, 0), 16);
/// The MTU used when none is given and the node has no default route to copy it from.
const FALLBACK_MTU: u32 = 1500;

#[derive(Debug, Clone)]
pub struct PodNetworkConfig {
    /// This node's share of the cluster CIDR (`node.spec.podCIDR`), e.g. 10.42.0.0/24.
    pub pod_cidr: Ipv4Net,
    /// All pods of the cluster; traffic to it is never masqueraded.
    pub cluster_cidr: Ipv4Net,
    /// Bridge name, unique per network namespace (nodes sharing a machine use separate ones).
    pub bridge: String,
    /// MTU of the bridge and pod interfaces; `None` copies the default route's interface.
    pub mtu: Option<u32>,
    /// Where IPAM keeps one file per allocated address.
    pub state_dir: PathBuf,
}

impl PodNetworkConfig {
    /// A configuration with the default cluster CIDR, bridge name and MTU.
    pub fn new(pod_cidr: Ipv4Net, state_dir: impl Into<PathBuf>) -> Self {
        Self {
            pod_cidr,
            cluster_cidr: DEFAULT_CLUSTER_CIDR,
            bridge: DEFAULT_BRIDGE.to_string(),
            mtu: None,
            state_dir: state_dir.into(),
        }
    }

    fn validate(&self) -> Result<()> {
        if !self.cluster_cidr.contains(&self.pod_cidr) {
            bail!("pod CIDR {} is not inside the cluster CIDR {}", self.pod_cidr, self.cluster_cidr);
        }
        let name = &self.bridge;
        let valid_name = !name.is_empty()
            && name.len() < 16
            && name != "."
            && name != ".."
            && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
        if !valid_name {
            bail!("invalid bridge name {name:?}: 1 to 15 characters without '/', ':' or whitespace");
        }
        if let Some(mtu) = self.mtu {
            if !(68..=65535).contains(&mtu) {
                bail!("invalid MTU {mtu}: expected 68 to 65535");
            }
        }
        Ok(())
    }
}

/// How a pod was connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNetworkStatus {
    /// The pod's address (its prefix is the pod CIDR's).
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Ipv4Addr,
    /// MAC address of the pod's interface, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// The pod's interface (`eth0`).
    pub interface: String,
    /// The host end of the pod's veth pair.
    pub host_interface: String,
}

/// What `reconcile` cleaned up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Addresses that were held by sandboxes that no longer exist.
    pub released: Vec<Allocation>,
}

#[derive(Debug)]
pub struct PodNetwork {
    config: PodNetworkConfig,
    mtu: u32,
    host: NetNs,
    ipam: Arc<Ipam>,
    /// Serializes bridge and firewall upkeep between concurrent setups.
    host_upkeep: tokio::sync::Mutex<()>,
}

impl PodNetwork {
    /// Validates `config` and binds to the calling thread's network namespace. Nothing on the
    /// host changes until `setup` or `ensure_host`.
    pub async fn new(config: PodNetworkConfig) -> Result<Self> {
        config.validate()?;
        let ipam = Ipam::new(&config.state_dir, config.pod_cidr)?;
        let host = NetNs::current()?;
        let mtu = match config.mtu {
            Some(mtu) => mtu,
            None => uplink_mtu(&host).await?.unwrap_or(FALLBACK_MTU),
        };
        Ok(Self { config, mtu, host, ipam: Arc::new(ipam), host_upkeep: tokio::sync::Mutex::new(()) })
    }

    pub fn config(&self) -> &PodNetworkConfig {
        &self.config
    }

    /// The MTU given to the bridge and pod interfaces.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// The bridge's address, which pods use as their default gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        self.ipam.gateway()
    }

    /// Makes the host side right: bridge with the gateway address, IPv4 forwarding, masquerade
    /// and, where the host firewall drops forwarded traffic, accept rules for the bridge.
    /// Returns the bridge's index. `setup` calls it, so a pod also repairs the node.
    pub async fn ensure_host(&self) -> Result<u32> {
        let _upkeep = self.host_upkeep.lock().await;
        let handle = self.host.route_handle().await?;
        let gateway = Ipv4Net::new(self.gateway(), self.config.pod_cidr.prefix_len())?;
        let bridge_index = bridge::ensure(&handle, &self.config.bridge, gateway, self.mtu).await?;
        sysctl::set(&self.host, "net/ipv4/ip_forward", "1").await?;
        let (pod_cidr, cluster_cidr, bridge) =
            (self.config.pod_cidr, self.config.cluster_cidr, self.config.bridge.clone());
        self.host
            .run(move || {
                masquerade::ensure(&masquerade::table_name(&bridge), pod_cidr, cluster_cidr)?;
                forward_accept::ensure(&bridge)
            })
            .await?;
        Ok(bridge_index)
    }

    /// Connects the sandbox whose network namespace is at `netns_path` and returns its address.
    /// Calling it again for the same sandbox returns the same address and repairs what is
    /// missing. When a first setup fails, it leaves no link or address reservation behind.
    pub async fn setup(
        &self,
        sandbox_id: &str,
        netns_path: &Path,
        pod_namespace: &str,
        pod_name: &str,
    ) -> Result<PodNetworkStatus> {
        ipam::validate_sandbox_id(sandbox_id)?;
        let pod_ns = NetNs::open(netns_path)?;
        let bridge_index = self.ensure_host().await?;
        let owner = format!("{pod_namespace}/{pod_name}");
        let (ip, fresh) = self
            .blocking_ipam({
                let (sandbox_id, owner) = (sandbox_id.to_string(), owner.clone());
                move |ipam| ipam.allocate(&sandbox_id, &owner)
            })
            .await?;
        let host_interface = veth::host_name(sandbox_id);
        let address = Ipv4Net::new(ip, self.config.pod_cidr.prefix_len())?;
        let handle = self.host.route_handle().await?;
        let connected =
            veth::connect(&handle, &pod_ns, &host_interface, bridge_index, address, self.gateway(), self.mtu).await;
        match connected {
            Ok(pod_end) => {
                tracing::info!(sandbox_id, pod = %owner, %ip, %host_interface, "pod network set up");
                Ok(PodNetworkStatus {
                    ip,
                    prefix_len: address.prefix_len(),
                    gateway: self.gateway(),
                    mac: pod_end.mac,
                    interface: veth::POD_INTERFACE.to_string(),
                    host_interface,
                })
            }
            Err(error) => {
                if fresh {
                    self.undo_setup(&handle, sandbox_id, &host_interface, &pod_ns).await;
                }
                Err(error.context(format!("setting up the network of pod {owner} (sandbox {sandbox_id})")))
            }
        }
    }

    async fn undo_setup(&self, handle: &rtnetlink::Handle, sandbox_id: &str, host_interface: &str, pod_ns: &NetNs) {
        if let Err(error) = veth::disconnect(handle, host_interface, Some(pod_ns)).await {
            tracing::warn!(sandbox_id, error = format!("{error:#}"), "removing a half-made veth pair failed");
        }
        let sandbox_id = sandbox_id.to_string();
        if let Err(error) = self.blocking_ipam(move |ipam| ipam.release(&sandbox_id)).await {
            tracing::warn!(error = format!("{error:#}"), "releasing the address of a failed setup failed");
        }
    }

    /// Disconnects the sandbox and frees its address. Works when the namespace is already gone
    /// (`netns_path` may then be `None` or point nowhere); calling it again is harmless.
    pub async fn teardown(&self, sandbox_id: &str, netns_path: Option<&Path>) -> Result<()> {
        ipam::validate_sandbox_id(sandbox_id)?;
        // The runtime may have unmounted the namespace already, leaving nothing or an empty
        // mount point there; the host end of the pair is what matters then.
        let pod_ns = netns_path.and_then(|path| NetNs::open(path).ok());
        let handle = self.host.route_handle().await?;
        veth::disconnect(&handle, &veth::host_name(sandbox_id), pod_ns.as_ref())
            .await
            .with_context(|| format!("removing the network of sandbox {sandbox_id}"))?;
        let released = self
            .blocking_ipam({
                let sandbox_id = sandbox_id.to_string();
                move |ipam| ipam.release(&sandbox_id)
            })
            .await?;
        tracing::info!(sandbox_id, ?released, "pod network torn down");
        Ok(())
    }

    /// Frees the addresses and host veths of sandboxes not in `live_sandbox_ids`: what a crash
    /// or a missed teardown left behind. The kubelet calls it at start with the sandboxes the
    /// runtime still has.
    pub async fn reconcile(&self, live_sandbox_ids: &HashSet<String>) -> Result<ReconcileReport> {
        let live = live_sandbox_ids.clone();
        let released = self.blocking_ipam(move |ipam| ipam.reconcile(&live)).await?;
        let handle = self.host.route_handle().await?;
        for allocation in &released {
            veth::disconnect(&handle, &veth::host_name(&allocation.sandbox_id), None).await?;
        }
        if !released.is_empty() {
            tracing::info!(?released, "released the network of sandboxes that no longer exist");
        }
        Ok(ReconcileReport { released })
    }

    /// Removes what `ensure_host` made: masquerade table, accept rules and bridge. Pod
    /// addresses stay recorded; `reconcile` or `teardown` frees them.
    pub async fn cleanup(&self) -> Result<()> {
        let _upkeep = self.host_upkeep.lock().await;
        let bridge_name = self.config.bridge.clone();
        self.host
            .run(move || {
                masquerade::remove(&masquerade::table_name(&bridge_name))?;
                forward_accept::remove(&bridge_name)
            })
            .await?;
        let handle = self.host.route_handle().await?;
        bridge::remove(&handle, &self.config.bridge).await
    }

    async fn blocking_ipam<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&Ipam) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let ipam = Arc::clone(&self.ipam);
        tokio::task::spawn_blocking(move || work(&ipam)).await.context("the IPAM task panicked")?
    }
}

/// The MTU of the interface carrying the default route, if there is one.
async fn uplink_mtu(host: &NetNs) -> Result<Option<u32>> {
    let handle = host.route_handle().await?;
    let Some(index) = netlink::ipv4_default_route_link(&handle).await? else { return Ok(None) };
    Ok(netlink::link_by_index(&handle, index).await?.as_ref().and_then(netlink::link_mtu))
}
