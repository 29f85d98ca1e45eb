//! The node this agent runs: registration, labels and taints, capacity and addresses, the
//! status conditions (Ready and the pressure conditions), and the Lease heartbeat.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::host;

/// How often the Lease is renewed; the lease lasts four times as long (as the kubelet).
pub const LEASE_RENEW: Duration = Duration::from_secs(10);
const LEASE_SECONDS: i32 = 40;
/// Node status is re-posted at least this often, and whenever it changes.
const STATUS_REPORT: Duration = Duration::from_secs(60);
/// Annotation tying a Node object to the agent instance that registered it.
pub const AGENT_ID_ANNOTATION: &str = "onebin.io/agent-id";

/// What the agent knows about its node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: String,
    pub ip: IpAddr,
    pub labels: BTreeMap<String, String>,
    /// `key[=value]:Effect`
    pub taints: Vec<String>,
    pub control_plane: bool,
    /// Port of this node's API (logs, exec, port-forward).
    pub kubelet_port: u16,
    pub data_dir: PathBuf,
    /// Identifies this agent's installation; a second agent with the same node name but a
    /// different id is refused while the first one is alive.
    pub agent_id: String,
    pub max_pods: u32,
}

/// Parses `key[=value]:Effect`.
pub fn parse_taint(text: &str) -> Result<Value> {
    let (kv, effect) =
        text.rsplit_once(':').with_context(|| format!("taint {text:?} must look like key[=value]:Effect"))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        bail!("taint {text:?}: effect must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    crate::server::registry::validation::qualified_name(key)
        .map_err(|why| anyhow::anyhow!("taint key {key:?}: {why}"))?;
    let mut taint = json!({"key": key, "effect": effect});
    if !value.is_empty() {
        taint["value"] = json!(value);
    }
    Ok(taint)
}

fn labels(config: &NodeConfig) -> BTreeMap<String, String> {
    let arch = crate::server::apiserver::goarch();
    let mut labels: BTreeMap<String, String> = [
        ("kubernetes.io/hostname", config.name.as_str()),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", arch),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", arch),
        ("node.kubernetes.io/instance-type", "onebin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if config.control_plane {
        labels.insert("node-role.kubernetes.io/control-plane".into(), "true".into());
        labels.insert("node-role.kubernetes.io/master".into(), "true".into());
    }
    labels.extend(config.labels.clone());
    labels
}

fn capacity(config: &NodeConfig) -> Value {
    let (disk, _) = host::filesystem_bytes(&config.data_dir);
    json!({
        "cpu": host::cpu_count().to_string(),
        "memory": format!("{}Ki", host::memory_bytes() / 1024),
        "ephemeral-storage": format!("{}Ki", disk / 1024),
        "pods": config.max_pods.to_string(),
        "hugepages-2Mi": "0",
    })
}

/// Status fields that do not change while the agent runs.
fn static_status(config: &NodeConfig) -> Value {
    let capacity = capacity(config);
    json!({
        "capacity": capacity,
        "allocatable": capacity,
        "addresses": [{"type": "InternalIP", "address": config.ip.to_string()}, {"type": "Hostname", "address": config.name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": config.kubelet_port}},
        "nodeInfo": {
            "machineID": host::machine_id(), "systemUUID": host::machine_id(), "bootID": host::boot_id(),
            "kernelVersion": host::kernel_version(), "osImage": host::os_image(),
            "containerRuntimeVersion": format!("onebin://{}", env!("CARGO_PKG_VERSION")),
            "kubeletVersion": crate::version::GIT_VERSION, "kubeProxyVersion": crate::version::GIT_VERSION,
            "operatingSystem": "linux", "architecture": crate::server::apiserver::goarch(),
        },
    })
}

/// The conditions as of now: (type, status, reason, message).
fn conditions(config: &NodeConfig, runtime_ready: bool) -> Vec<(&'static str, bool, &'static str, &'static str)> {
    let memory_low = host::memory_available_bytes() < 100 * 1024 * 1024;
    let (disk_total, disk_free) = host::filesystem_bytes(&config.data_dir);
    let disk_low = disk_total > 0 && disk_free * 10 < disk_total;
    let pids_low = host::process_count() * 10 > host::pid_max() * 9;
    vec![
        if memory_low {
            ("MemoryPressure", true, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
        } else {
            ("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available")
        },
        if disk_low {
            ("DiskPressure", true, "KubeletHasDiskPressure", "kubelet has disk pressure")
        } else {
            ("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure")
        },
        if pids_low {
            ("PIDPressure", true, "KubeletHasInsufficientPID", "kubelet has insufficient PID available")
        } else {
            ("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available")
        },
        if runtime_ready {
            ("Ready", true, "KubeletReady", "kubelet is posting ready status")
        } else {
            ("Ready", false, "KubeletNotReady", "container runtime is not ready")
        },
    ]
}

/// Registers the node (or takes over its own registration after a restart).
pub async fn register(nodes: &Api<Node>, config: &NodeConfig) -> Result<Node> {
    let taints: Vec<Value> = config.taints.iter().map(|t| parse_taint(t)).collect::<Result<_>>()?;
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": config.name, "labels": labels(config), "annotations": {AGENT_ID_ANNOTATION: config.agent_id}},
        "spec": {"taints": taints},
    }))?;
    match nodes.create(&PostParams::default(), &node).await {
        Ok(created) => return Ok(created),
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(err) => return Err(err).context("registering the node"),
    }
    let existing = nodes.get(&config.name).await.context("reading the existing node")?;
    let owner =
        existing.metadata.annotations.as_ref().and_then(|a| a.get(AGENT_ID_ANNOTATION)).cloned().unwrap_or_default();
    if owner != config.agent_id && !owner.is_empty() && heartbeat_is_fresh(&existing) {
        bail!(
            "node {:?} is already registered by another running agent (id {owner}); pick another --node-name or stop that agent",
            config.name
        );
    }
    // Labels and the ownership annotation follow this agent's flags; taints the cluster
    // added (cordon, NotReady) stay.
    let patch = json!({"metadata": {"labels": labels(config), "annotations": {AGENT_ID_ANNOTATION: config.agent_id}}});
    Ok(nodes.patch(&config.name, &PatchParams::default(), &Patch::Merge(&patch)).await?)
}

fn heartbeat_is_fresh(node: &Node) -> bool {
    let Some(conditions) = node.status.as_ref().and_then(|s| s.conditions.as_ref()) else { return false };
    conditions.iter().any(|c| {
        c.type_ == "Ready"
            && c.status == "True"
            && c.last_heartbeat_time.as_ref().is_some_and(|t| {
                jiff::Timestamp::now().duration_since(t.0) < jiff::SignedDuration::from_secs(LEASE_SECONDS as i64)
            })
    })
}

/// Keeps the node's status and Lease current until the task is dropped.
pub async fn heartbeat(client: kube::Client, config: NodeConfig, runtime_ready: impl Fn() -> bool + Send + 'static) {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client, "kube-node-lease");
    let mut last_conditions = Vec::new();
    let mut last_report = std::time::Instant::now() - STATUS_REPORT;
    loop {
        let now_conditions: Vec<(&str, bool)> =
            conditions(&config, runtime_ready()).iter().map(|(t, s, _, _)| (*t, *s)).collect();
        if now_conditions != last_conditions || last_report.elapsed() >= STATUS_REPORT {
            match post_status(&nodes, &config, runtime_ready()).await {
                Ok(()) => {
                    last_conditions = now_conditions;
                    last_report = std::time::Instant::now();
                }
                Err(err) => tracing::warn!(%err, "posting node status failed"),
            }
        }
        if let Err(err) = renew_lease(&nodes, &leases, &config).await {
            tracing::warn!(%err, "renewing the node lease failed");
        }
        tokio::time::sleep(LEASE_RENEW).await;
    }
}

async fn post_status(nodes: &Api<Node>, config: &NodeConfig, runtime_ready: bool) -> Result<()> {
    let now = crate::server::registry::object::now_rfc3339();
    let current = nodes.get_status(&config.name).await?;
    let previous = current.status.and_then(|s| s.conditions).unwrap_or_default();
    let conditions: Vec<Value> = conditions(config, runtime_ready)
        .into_iter()
        .map(|(kind, status, reason, message)| {
            let status = if status { "True" } else { "False" };
            let transition = previous
                .iter()
                .find(|c| c.type_ == kind && c.status == status)
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| crate::server::registry::object::format_time(t.0))
                .unwrap_or_else(|| now.clone());
            json!({"type": kind, "status": status, "reason": reason, "message": message,
                   "lastHeartbeatTime": now, "lastTransitionTime": transition})
        })
        .collect();
    let mut status = static_status(config);
    status["conditions"] = json!(conditions);
    nodes.patch_status(&config.name, &PatchParams::default(), &Patch::Strategic(json!({"status": status}))).await?;
    Ok(())
}

async fn renew_lease(nodes: &Api<Node>, leases: &Api<Lease>, config: &NodeConfig) -> Result<()> {
    let now = crate::server::registry::object::now_micro_rfc3339();
    let spec = json!({"holderIdentity": config.name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now});
    match leases.get_opt(&config.name).await? {
        Some(_) => {
            leases.patch(&config.name, &PatchParams::default(), &Patch::Merge(json!({"spec": spec}))).await?;
        }
        None => {
            let node = nodes.get(&config.name).await?;
            let lease: Lease = serde_json::from_value(json!({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": config.name, "namespace": "kube-node-lease",
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": config.name, "uid": node.metadata.uid}]},
                "spec": spec,
            }))?;
            leases.create(&PostParams::default(), &lease).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_parse_like_kubectl() {
        assert_eq!(
            parse_taint("node-role.kubernetes.io/control-plane:NoSchedule").unwrap(),
            json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        );
        assert_eq!(parse_taint("dedicated=gpu:NoExecute").unwrap()["value"], "gpu");
        assert!(parse_taint("missing-effect").is_err());
        assert!(parse_taint("k:Sometimes").is_err());
    }
}
