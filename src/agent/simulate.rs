//! `onebin agent --simulate N`: hollow nodes, as kwok and kubemark make them, so one machine can
//! show the control plane at a hundred nodes and thousands of pods. Each simulated node joins
//! with an identity of its own (the node authorizer sees N ordinary kubelets), registers,
//! heartbeats through its Lease, and reports the pods bound to it Running and Ready with an IP
//! from its pod subnet, without running any container. Deleted pods are removed at once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::json;
use tokio::task::JoinSet;

use super::kubelet::status::{self, Observed, PodObservation, State, Termination};
use super::NodeConfig;
use crate::cli::AgentCommandArgs;

/// Label on every simulated node, so workloads can select (or avoid) them.
pub const SIMULATED_LABEL: &str = "node.onebin.io/simulated";

/// Runs `count` simulated nodes named `<node-name>-<i>` until one of them fails.
pub async fn run(args: &AgentCommandArgs, count: u32, token: &str) -> Result<()> {
    let data_dir = &args.common.data_dir;
    let base = args.agent.node_name.clone().unwrap_or_else(crate::host::hostname);
    let mut labels = args.agent.labels()?;
    labels.insert(SIMULATED_LABEL.into(), "true".into());
    let template = NodeConfig {
        name: base.clone(),
        ip: args.agent.node_ip()?,
        labels,
        taints: args.agent.node_taint.clone(),
        control_plane: false,
        kubelet_port: args.agent.kubelet_port,
        data_dir: data_dir.clone(),
        agent_id: super::agent_id(data_dir)?,
        max_pods: args.agent.max_pods,
    };
    // Every name is checked before any node joins, so bad input leaves nothing registered.
    let names: Vec<String> = (0..count).map(|i| format!("{base}-{i}")).collect();
    for name in &names {
        crate::server::registry::validation::dns1123_subdomain(name)
            .map_err(|why| anyhow::anyhow!("simulated node name {name:?}: {why}"))?;
    }
    let mut nodes = JoinSet::new();
    for name in names {
        let dir = super::agent_dir(data_dir).join("simulated").join(&name);
        let config = NodeConfig { name, ..template.clone() };
        nodes.spawn(hollow_node(dir, args.server.clone(), token.to_string(), config));
    }
    tracing::info!(nodes = count, "simulating nodes");
    while let Some(ended) = nodes.join_next().await {
        ended.context("a simulated node panicked")??;
    }
    Ok(())
}

/// One hollow node: join, register, heartbeat, and answer for the pods bound to it.
async fn hollow_node(dir: PathBuf, server: String, token: String, config: NodeConfig) -> Result<()> {
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let joined = super::join::credentials(&dir, &server, &token, &config.name).await?;
    let client = super::client(&joined.kubeconfig).await?;
    let nodes: Api<Node> = Api::all(client.clone());
    super::register_until_accepted(&nodes, &config).await?;
    let heartbeat = tokio::spawn(super::node::heartbeat(client.clone(), config.clone(), || true));
    let pod_cidr = super::wait_for_pod_cidr(&nodes, &config.name).await?;
    let ips = PodIps::new(pod_cidr);
    HollowKubelet { client, host_ip: config.ip.to_string(), name: config.name, ips, failed: HashMap::new() }
        .follow_pods()
        .await;
    heartbeat.abort();
    Ok(())
}

/// How soon a pod whose status could not be written is tried again: the server's view of a
/// binding can lag behind this node's watch (its node authorizer reads an informer), as it can
/// for any kubelet.
const RETRY: Duration = Duration::from_secs(1);

struct HollowKubelet {
    client: kube::Client,
    name: String,
    host_ip: String,
    ips: PodIps,
    /// Pods whose last sync failed, by uid: tried again every `RETRY`.
    failed: HashMap<String, Pod>,
}

impl HollowKubelet {
    /// Follows the pods bound to this node until the watch ends (it retries on its own).
    async fn follow_pods(mut self) {
        let api: Api<Pod> = Api::all(self.client.clone());
        let config = watcher::Config::default().fields(&format!("spec.nodeName={}", self.name));
        let mut events = watcher::watcher(api, config).default_backoff().boxed();
        let mut listed = HashSet::new();
        let mut retry = tokio::time::interval(RETRY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = events.next() => match event {
                    None => return,
                    Some(Ok(Event::Init)) => listed.clear(),
                    Some(Ok(Event::InitApply(pod))) => {
                        listed.insert(uid_of(&pod));
                        self.reconcile(pod).await;
                    }
                    // Pods that went away while the watch was down give their IPs back.
                    Some(Ok(Event::InitDone)) => {
                        self.ips.retain(&listed);
                        self.failed.retain(|uid, _| listed.contains(uid));
                    }
                    Some(Ok(Event::Apply(pod))) => self.reconcile(pod).await,
                    Some(Ok(Event::Delete(pod))) => {
                        let uid = uid_of(&pod);
                        self.ips.release(&uid);
                        self.failed.remove(&uid);
                    }
                    Some(Err(err)) => tracing::warn!(node = %self.name, %err, "watching the node's pods failed; retrying"),
                },
                _ = retry.tick() => {
                    for pod in std::mem::take(&mut self.failed).into_values() {
                        self.reconcile(pod).await;
                    }
                }
            }
        }
    }

    /// Syncs `pod`, keeping it for a retry when that fails.
    async fn reconcile(&mut self, pod: Pod) {
        let uid = uid_of(&pod);
        match self.sync(&pod).await {
            Ok(()) => {
                self.failed.remove(&uid);
            }
            Err(err) => {
                let name = pod.metadata.name.as_deref().unwrap_or_default();
                tracing::debug!(node = %self.name, pod = %name, "syncing the pod failed, retrying: {err:#}");
                self.failed.insert(uid, pod);
            }
        }
    }

    /// Removes a deleted pod, or reports a live one Running with its IP.
    async fn sync(&mut self, pod: &Pod) -> Result<()> {
        let uid = uid_of(pod);
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> =
            Api::namespaced(self.client.clone(), pod.metadata.namespace.as_deref().unwrap_or("default"));
        if pod.metadata.deletion_timestamp.is_some() {
            // Nothing runs, so nothing needs its grace period: remove the object as the kubelet
            // does once the containers are gone.
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions { uid: Some(uid.clone()), resource_version: None }),
                ..Default::default()
            };
            match api.delete(&name, &params).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
                Err(err) => return Err(err).context("removing the deleted pod"),
            }
            self.ips.release(&uid);
            return Ok(());
        }
        let reported = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).and_then(|ip| ip.parse().ok());
        let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
        let ip = self.ips.assign(&uid, reported).context("the node's pod subnet is full")?;
        if running && reported == Some(ip) {
            return Ok(());
        }
        let status = running_status(pod, &ip.to_string(), &self.host_ip, Timestamp::now());
        let patch = Patch::Merge(json!({ "status": status }));
        api.patch_status(&name, &PatchParams::default(), &patch).await.context("reporting the pod Running")?;
        Ok(())
    }
}

fn uid_of(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

/// The status of `pod` with every init container completed and every container running and
/// ready since `now`.
fn running_status(pod: &Pod, ip: &str, host_ip: &str, now: Timestamp) -> serde_json::Value {
    let spec = pod.spec.clone().unwrap_or_default();
    let observed = |name: &str, image: Option<&String>, state: State, ready: bool| Observed {
        name: name.into(),
        state,
        last_termination: None,
        ready,
        started: ready,
        restart_count: 0,
        image: image.cloned().unwrap_or_default(),
        image_id: String::new(),
        container_id: String::new(),
    };
    let completed = || {
        State::Terminated(Termination {
            exit_code: 0,
            signal: None,
            reason: "Completed".into(),
            message: None,
            started_at: Some(now),
            finished_at: now,
            container_id: String::new(),
        })
    };
    let init: Vec<Observed> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| observed(&c.name, c.image.as_ref(), completed(), false))
        .collect();
    let containers: Vec<Observed> = spec
        .containers
        .iter()
        .map(|c| observed(&c.name, c.image.as_ref(), State::Running { started_at: now }, true))
        .collect();
    let start_time = pod.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0).unwrap_or(now);
    let observation = PodObservation {
        init: &init,
        containers: &containers,
        pod_ip: Some(ip),
        host_ip,
        start_time,
        sandbox_ready: true,
        failure: None,
    };
    status::pod_status(pod, &observation, now)
}

/// The pod IPs of one node: the hosts of its subnet after the gateway, lowest free first.
struct PodIps {
    free_from: Vec<Ipv4Addr>,
    by_pod: HashMap<String, Ipv4Addr>,
    used: BTreeSet<Ipv4Addr>,
}

impl PodIps {
    fn new(subnet: ipnet::Ipv4Net) -> Self {
        // The first host address is the bridge's on a real node; keep the layout the same.
        Self { free_from: subnet.hosts().skip(1).collect(), by_pod: HashMap::new(), used: BTreeSet::new() }
    }

    /// The pod's IP: the one it has, else `reported` (what its status says, after a restart of
    /// this agent) when that is free, else the lowest free one; `None` when the subnet is full.
    fn assign(&mut self, uid: &str, reported: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if let Some(ip) = self.by_pod.get(uid) {
            return Some(*ip);
        }
        let ip = reported
            .filter(|ip| self.free_from.contains(ip) && !self.used.contains(ip))
            .or_else(|| self.free_from.iter().copied().find(|ip| !self.used.contains(ip)))?;
        self.used.insert(ip);
        self.by_pod.insert(uid.to_string(), ip);
        Some(ip)
    }

    fn release(&mut self, uid: &str) {
        if let Some(ip) = self.by_pod.remove(uid) {
            self.used.remove(&ip);
        }
    }

    /// Keeps the IPs of `live` pods only.
    fn retain(&mut self, live: &HashSet<String>) {
        let gone: Vec<String> = self.by_pod.keys().filter(|uid| !live.contains(*uid)).cloned().collect();
        for uid in gone {
            self.release(&uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_ips_skip_the_gateway_reuse_released_ones_and_run_out() {
        let mut ips = PodIps::new("10.42.3.0/29".parse().unwrap());
        assert_eq!(ips.assign("a", None), Some(Ipv4Addr::new(10, 42, 3, 2)));
        assert_eq!(ips.assign("a", None), Some(Ipv4Addr::new(10, 42, 3, 2)), "a pod keeps its IP");
        assert_eq!(ips.assign("b", Some(Ipv4Addr::new(10, 42, 3, 5))), Some(Ipv4Addr::new(10, 42, 3, 5)));
        // A reported IP outside the subnet, or taken, is not trusted.
        assert_eq!(ips.assign("c", Some(Ipv4Addr::new(10, 0, 0, 9))), Some(Ipv4Addr::new(10, 42, 3, 3)));
        assert_eq!(ips.assign("d", Some(Ipv4Addr::new(10, 42, 3, 5))), Some(Ipv4Addr::new(10, 42, 3, 4)));
        assert_eq!(ips.assign("e", None), Some(Ipv4Addr::new(10, 42, 3, 6)));
        assert_eq!(ips.assign("f", None), None, "a /29 has five pod addresses");
        ips.release("c");
        assert_eq!(ips.assign("f", None), Some(Ipv4Addr::new(10, 42, 3, 3)));
        ips.retain(&["a".to_string()].into_iter().collect());
        assert_eq!(ips.assign("g", None), Some(Ipv4Addr::new(10, 42, 3, 3)));
    }

    #[test]
    fn the_reported_status_is_running_and_ready_with_the_ip() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"initContainers": [{"name": "setup", "image": "busybox"}],
                     "containers": [{"name": "web", "image": "nginx"}, {"name": "side", "image": "busybox"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]},
        }))
        .unwrap();
        let status = running_status(&pod, "10.42.0.7", "192.168.1.4", Timestamp::now());
        assert_eq!(status["phase"], "Running");
        assert_eq!(status["podIP"], "10.42.0.7");
        assert_eq!(status["hostIP"], "192.168.1.4");
        let condition = |kind: &str| {
            status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == kind).unwrap()["status"].clone()
        };
        for kind in ["Ready", "ContainersReady", "Initialized", "PodScheduled"] {
            assert_eq!(condition(kind), "True", "{kind}");
        }
        assert_eq!(status["containerStatuses"].as_array().unwrap().len(), 2);
        assert!(status["containerStatuses"][0]["state"]["running"].is_object());
        assert_eq!(status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
    }
}
