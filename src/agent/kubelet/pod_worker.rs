//! One pod on this node, driven to its desired state: sandbox and network, volumes, init
//! containers in order, then the containers with restarts, back-off and probes, status
//! reported to the API server, and graceful termination when the pod is deleted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::Value;

use super::backoff::{go_duration, Backoff};
use super::container_config::{container_config, ConfigInputs, CONTAINER_NAME_LABEL, POD_UID_LABEL};
use super::probes::{self, Outcome, Tracker};
use super::status::{self, Observed, PodObservation, State, Termination};
use super::Kubelet;
use crate::agent::events::Kind;
use crate::runtime::image::service::PullPolicy;
use crate::runtime::types::{ContainerInfo, ContainerStatus, Sandbox, SandboxConfig, SandboxState};

/// How often a pod is looked at without news from the API server (probes, restarts).
pub const RESYNC: Duration = Duration::from_secs(1);
/// How often volumes are re-rendered (config map and secret updates, token renewal).
const VOLUME_REFRESH: Duration = Duration::from_secs(60);

/// What the worker tracks about one container between syncs.
#[derive(Default)]
struct Track {
    /// The runtime container of the current attempt.
    id: Option<String>,
    attempt: u32,
    last_termination: Option<Termination>,
    crash_backoff: Backoff,
    pull_backoff: Backoff,
    /// Why it is not running, when it is not.
    waiting: Option<(String, Option<String>)>,
    started_at: Option<Instant>,
    liveness: Option<Tracker>,
    readiness: Option<Tracker>,
    startup: Option<Tracker>,
    image_id: String,
}

pub struct PodWorker {
    kubelet: Arc<Kubelet>,
    uid: String,
    sandbox: Option<Sandbox>,
    ip: Option<IpAddr>,
    start_time: Timestamp,
    volumes: Option<(HashMap<String, PathBuf>, Instant)>,
    tracks: HashMap<String, Track>,
    last_status: Option<Value>,
    recovered: bool,
    /// Set when the pod failed as a whole (reason, message).
    failure: Option<(String, String)>,
}

/// What a sync asks the worker loop to do next.
pub enum Next {
    Continue,
    /// The pod is gone from the node: stop the worker.
    Done,
}

impl PodWorker {
    pub fn new(kubelet: Arc<Kubelet>, uid: String) -> Self {
        Self {
            kubelet,
            uid,
            sandbox: None,
            ip: None,
            start_time: Timestamp::now(),
            volumes: None,
            tracks: HashMap::new(),
            last_status: None,
            recovered: false,
            failure: None,
        }
    }

    /// Brings the pod one step closer to what it should be.
    pub async fn sync(&mut self, pod: Option<&Pod>) -> Result<Next> {
        if !self.recovered {
            self.recover().await?;
            self.recovered = true;
        }
        let Some(pod) = pod else {
            // The pod object is gone (force-deleted): stop everything it left here.
            self.terminate(None, Duration::from_secs(2)).await?;
            return Ok(Next::Done);
        };
        if pod.metadata.deletion_timestamp.is_some() {
            let grace = Duration::from_secs(pod.metadata.deletion_grace_period_seconds.unwrap_or(30).max(0) as u64);
            self.terminate(Some(pod), grace).await?;
            self.remove_from_api(pod).await?;
            return Ok(Next::Done);
        }
        if self.finished(pod) {
            // Terminal pods keep their record but give their resources back.
            if let Some(sandbox) = self.sandbox.take() {
                let _ = self.kubelet.network.teardown(&sandbox.id, Some(&sandbox.netns_path)).await;
                self.kubelet.runtime.stop_sandbox(&sandbox.id).await?;
            }
            return Ok(Next::Continue);
        }
        if let Err(err) = self.ensure_sandbox(pod).await {
            self.kubelet
                .events
                .record(pod, Kind::Warning, "FailedCreatePodSandBox", &format!("Failed to create pod sandbox: {err:#}"))
                .await;
            self.report(pod).await?;
            return Err(err);
        }
        match self.ensure_volumes(pod).await {
            Ok(()) => {}
            Err(err) => {
                self.kubelet.events.record(pod, Kind::Warning, "FailedMount", &err.to_string()).await;
                for c in all_containers(pod) {
                    let track = self.tracks.entry(c.name.clone()).or_default();
                    if track.id.is_none() {
                        track.waiting = Some(("ContainerCreating".into(), None));
                    }
                }
                self.report(pod).await?;
                return Ok(Next::Continue);
            }
        }
        if self.run_init_containers(pod).await? {
            let containers = pod.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
            for container in &containers {
                self.sync_container(pod, container, false).await?;
            }
            self.run_probes(pod).await;
        }
        self.check_deadline(pod);
        self.report(pod).await?;
        Ok(Next::Continue)
    }

    /// After an agent restart: find this pod's sandbox and containers again.
    async fn recover(&mut self) -> Result<()> {
        let sandboxes = self.kubelet.runtime.list_sandboxes().await?;
        self.sandbox = sandboxes
            .into_iter()
            .filter(|s| s.config.uid == self.uid && s.state == SandboxState::Ready)
            .max_by_key(|s| s.created_at);
        if let Some(sandbox) = &self.sandbox {
            self.start_time = sandbox.created_at;
        }
        let containers = self.kubelet.runtime.list_containers().await?;
        let mut mine: Vec<ContainerInfo> =
            containers.into_iter().filter(|c| c.labels.get(POD_UID_LABEL) == Some(&self.uid)).collect();
        mine.sort_by_key(|c| c.attempt);
        for info in mine {
            let name = info.labels.get(CONTAINER_NAME_LABEL).cloned().unwrap_or_else(|| info.name.clone());
            let track = self.tracks.entry(name).or_default();
            if let Some(old) = track.id.take() {
                // An earlier attempt: it is the last termination now.
                if let Ok(prev) = self.kubelet.runtime.container_status(&old).await {
                    track.last_termination = termination_of(&prev);
                }
            }
            track.id = Some(info.id.clone());
            track.attempt = info.attempt;
            track.image_id = info.image_id.clone();
            if info.state.status == ContainerStatus::Running {
                track.started_at = Some(Instant::now());
            }
        }
        Ok(())
    }

    fn finished(&self, pod: &Pod) -> bool {
        matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
            && self.last_status.as_ref().is_some_and(|s| matches!(s["phase"].as_str(), Some("Succeeded" | "Failed")))
    }

    async fn ensure_sandbox(&mut self, pod: &Pod) -> Result<()> {
        if let Some(sandbox) = &self.sandbox {
            match self.kubelet.runtime.sandbox_status(&sandbox.id).await {
                Ok(s) if s.state == SandboxState::Ready => {
                    if self.ip.is_none() {
                        self.setup_network(pod).await?;
                    }
                    return Ok(());
                }
                _ => {
                    // The pod's shim died: everything in the pod restarts in a new sandbox.
                    let old = self.sandbox.take().expect("checked");
                    let _ = self.kubelet.network.teardown(&old.id, Some(&old.netns_path)).await;
                    let _ = self.kubelet.runtime.remove_sandbox(&old.id).await;
                    for track in self.tracks.values_mut() {
                        track.id = None;
                    }
                    self.kubelet
                        .events
                        .record(
                            pod,
                            Kind::Normal,
                            "SandboxChanged",
                            "Pod sandbox changed, it will be killed and re-created.",
                        )
                        .await;
                }
            }
        }
        let meta = &pod.metadata;
        let spec = pod.spec.as_ref();
        let hostname = spec.and_then(|s| s.hostname.clone()).unwrap_or_else(|| meta.name.clone().unwrap_or_default());
        let config = SandboxConfig {
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            uid: self.uid.clone(),
            attempt: 0,
            hostname: hostname.chars().take(63).collect(),
            cgroup_parent: None,
            log_directory: self.kubelet.pod_log_dir(pod),
            dns: Some(self.kubelet.dns_config(pod)),
            labels: [(POD_UID_LABEL.to_string(), self.uid.clone())].into(),
            annotations: Default::default(),
        };
        let sandbox = self.kubelet.runtime.run_sandbox(config).await.context("starting the pod sandbox")?;
        self.start_time = Timestamp::now();
        self.sandbox = Some(sandbox);
        self.setup_network(pod).await
    }

    async fn setup_network(&mut self, pod: &Pod) -> Result<()> {
        let sandbox = self.sandbox.as_ref().expect("sandbox exists");
        let meta = &pod.metadata;
        let status = self
            .kubelet
            .network
            .setup(
                &sandbox.id,
                &sandbox.netns_path,
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default(),
            )
            .await
            .context("setting up the pod network")?;
        let ip = IpAddr::V4(status.ip);
        self.ip = Some(ip);
        self.kubelet.write_hosts_file(pod, sandbox, ip)?;
        Ok(())
    }

    async fn ensure_volumes(&mut self, pod: &Pod) -> Result<(), super::volumes::VolumeError> {
        let due = self.volumes.as_ref().is_none_or(|(_, at)| at.elapsed() >= VOLUME_REFRESH);
        if due {
            let paths = self.kubelet.volumes.prepare(pod).await?;
            self.volumes = Some((paths, Instant::now()));
        }
        Ok(())
    }

    /// Runs init containers in order; true once all have succeeded.
    async fn run_init_containers(&mut self, pod: &Pod) -> Result<bool> {
        let inits = pod.spec.as_ref().and_then(|s| s.init_containers.clone()).unwrap_or_default();
        for init in &inits {
            let state = self.container_state(&init.name).await;
            match state.as_ref().map(|i| i.state.status) {
                Some(ContainerStatus::Exited) if state.as_ref().and_then(|i| i.state.exit_code) == Some(0) => continue,
                Some(ContainerStatus::Running | ContainerStatus::Created) => return Ok(false),
                _ => {
                    self.sync_container(pod, init, true).await?;
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn container_state(&self, name: &str) -> Option<ContainerInfo> {
        let id = self.tracks.get(name)?.id.as_ref()?;
        self.kubelet.runtime.container_status(id).await.ok()
    }

    /// Starts, restarts or leaves one container, per its state and the restart policy.
    async fn sync_container(&mut self, pod: &Pod, container: &Container, init: bool) -> Result<()> {
        let restart_policy =
            pod.spec.as_ref().and_then(|s| s.restart_policy.clone()).unwrap_or_else(|| "Always".into());
        let info = self.container_state(&container.name).await;
        let now = Instant::now();
        if let Some(info) = &info {
            match info.state.status {
                ContainerStatus::Running | ContainerStatus::Created => return Ok(()),
                ContainerStatus::Exited | ContainerStatus::Unknown => {
                    let code = info.state.exit_code.unwrap_or(-1);
                    let restart = match restart_policy.as_str() {
                        "Never" => false,
                        "OnFailure" => code != 0,
                        _ => !init || code != 0,
                    };
                    if !restart {
                        if init && code != 0 {
                            self.failure.get_or_insert((
                                "InitContainerFailed".into(),
                                format!("init container {} failed with exit code {code}", container.name),
                            ));
                        }
                        return Ok(());
                    }
                    let track = self.tracks.entry(container.name.clone()).or_default();
                    if let Some(started) = track.started_at.take() {
                        track.crash_backoff.ran_for(started.elapsed());
                    }
                    if track.crash_backoff.waiting(now).is_none()
                        && track.last_termination.as_ref().map(|t| &t.container_id)
                            != Some(&format!("onebin://{}", info.id))
                    {
                        // Freshly exited: remember it and start the back-off.
                        track.last_termination = termination_of(info);
                        let delay = track.crash_backoff.fail(now);
                        track.waiting =
                            Some(("CrashLoopBackOff".into(), Some(backoff_message(pod, &container.name, delay))));
                        self.kubelet
                            .events
                            .record(
                                pod,
                                Kind::Warning,
                                "BackOff",
                                &format!(
                                    "Back-off restarting failed container {} in pod {}",
                                    container.name,
                                    pod_ref(pod)
                                ),
                            )
                            .await;
                        return Ok(());
                    }
                    if let Some(delay) = track.crash_backoff.waiting(now) {
                        track.waiting =
                            Some(("CrashLoopBackOff".into(), Some(backoff_message(pod, &container.name, delay))));
                        return Ok(());
                    }
                    let old = track.id.take();
                    track.attempt += 1;
                    if let Some(old) = old {
                        let _ = self.kubelet.runtime.remove_container(&old).await;
                    }
                }
            }
        }
        self.start_container(pod, container).await
    }

    async fn start_container(&mut self, pod: &Pod, container: &Container) -> Result<()> {
        let now = Instant::now();
        let image = container.image.clone().unwrap_or_default();
        let policy = match container.image_pull_policy.as_deref() {
            Some("Always") => PullPolicy::Always,
            Some("Never") => PullPolicy::Never,
            _ => PullPolicy::IfNotPresent,
        };
        let track = self.tracks.entry(container.name.clone()).or_default();
        if track.pull_backoff.waiting(now).is_some() {
            track.waiting = Some(("ImagePullBackOff".into(), Some(format!("Back-off pulling image \"{image}\""))));
            return Ok(());
        }
        let present = self.kubelet.images.find(&image).await.ok().flatten();
        if present.is_none() || policy == PullPolicy::Always {
            self.kubelet.events.record(pod, Kind::Normal, "Pulling", &format!("Pulling image \"{image}\"")).await;
        }
        let started = Instant::now();
        let pulled =
            self.kubelet.images.ensure(&image, policy, Arc::new(crate::runtime::image::pull::NoProgress)).await;
        let track = self.tracks.entry(container.name.clone()).or_default();
        let record = match pulled {
            Ok(record) => {
                track.pull_backoff = Backoff::default();
                if present.is_some() && policy != PullPolicy::Always {
                    self.kubelet
                        .events
                        .record(
                            pod,
                            Kind::Normal,
                            "Pulled",
                            &format!("Container image \"{image}\" already present on machine"),
                        )
                        .await;
                } else {
                    let took = started.elapsed();
                    self.kubelet
                        .events
                        .record(
                            pod,
                            Kind::Normal,
                            "Pulled",
                            &format!("Successfully pulled image \"{image}\" in {took:.3?}"),
                        )
                        .await;
                }
                record
            }
            Err(err) => {
                let first = track.pull_backoff.current().is_none();
                track.pull_backoff.fail(now);
                let message = format!("Failed to pull image \"{image}\": {err:#}");
                track.waiting =
                    Some((if first { "ErrImagePull" } else { "ImagePullBackOff" }.into(), Some(message.clone())));
                self.kubelet.events.record(pod, Kind::Warning, "Failed", &message).await;
                self.kubelet.events.record(pod, Kind::Warning, "Failed", "Error: ErrImagePull").await;
                return Ok(());
            }
        };
        let env = match self.kubelet.container_env(pod, container).await {
            Ok(env) => env,
            Err(err) => {
                track.waiting = Some(("CreateContainerConfigError".into(), Some(err.to_string())));
                self.kubelet.events.record(pod, Kind::Warning, "Failed", &format!("Error: {err}")).await;
                return Ok(());
            }
        };
        let volumes = self.volumes.as_ref().map(|(v, _)| v.clone()).unwrap_or_default();
        let attempt = track.attempt;
        let log_path = self.kubelet.pod_log_dir(pod).join(&container.name).join(format!("{attempt}.log"));
        let config = match container_config(ConfigInputs { pod, container, attempt, env, volumes: &volumes, log_path })
        {
            Ok(c) => c,
            Err(err) => {
                track.waiting = Some(("CreateContainerConfigError".into(), Some(err.to_string())));
                self.kubelet.events.record(pod, Kind::Warning, "Failed", &format!("Error: {err}")).await;
                return Ok(());
            }
        };
        let sandbox_id = self.sandbox.as_ref().map(|s| s.id.clone()).context("no sandbox")?;
        let id = match self.kubelet.runtime.create_container(&sandbox_id, config).await {
            Ok(id) => id,
            Err(err) => {
                track.waiting = Some(("CreateContainerError".into(), Some(format!("{err:#}"))));
                self.kubelet.events.record(pod, Kind::Warning, "Failed", &format!("Error: {err:#}")).await;
                return Ok(());
            }
        };
        self.kubelet
            .events
            .record(pod, Kind::Normal, "Created", &format!("Created container: {}", container.name))
            .await;
        let track = self.tracks.entry(container.name.clone()).or_default();
        track.id = Some(id.clone());
        track.image_id = record.id.to_string();
        if let Err(err) = self.kubelet.runtime.start_container(&id).await {
            let track = self.tracks.entry(container.name.clone()).or_default();
            track.waiting = Some(("RunContainerError".into(), Some(format!("{err:#}"))));
            self.kubelet.events.record(pod, Kind::Warning, "Failed", &format!("Error: {err:#}")).await;
            return Ok(());
        }
        let track = self.tracks.entry(container.name.clone()).or_default();
        track.waiting = None;
        track.started_at = Some(Instant::now());
        track.liveness = container.liveness_probe.as_ref().map(Tracker::new);
        track.readiness = container.readiness_probe.as_ref().map(Tracker::new);
        track.startup = container.startup_probe.as_ref().map(Tracker::new);
        self.kubelet
            .events
            .record(pod, Kind::Normal, "Started", &format!("Started container {}", container.name))
            .await;
        if let Some(post_start) = container.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
            if let Err(why) =
                self.kubelet.run_handler(&id, post_start, self.ip, container, Duration::from_secs(30)).await
            {
                self.kubelet.events.record(pod, Kind::Warning, "FailedPostStartHook", &why).await;
                let _ = self.kubelet.runtime.stop_container(&id, Duration::from_secs(2)).await;
            }
        }
        Ok(())
    }

    /// Runs due probes; a failed liveness (or startup) probe restarts the container.
    async fn run_probes(&mut self, pod: &Pod) {
        let Some(ip) = self.ip else { return };
        let containers = pod.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
        let now = Instant::now();
        for container in &containers {
            let Some(track) = self.tracks.get_mut(&container.name) else { continue };
            let (Some(id), Some(started)) = (track.id.clone(), track.started_at) else { continue };
            let startup_pending = track.startup.as_ref().is_some_and(|t| t.verdict != Some(true));
            let mut checks: Vec<(&str, Probe)> = Vec::new();
            if startup_pending {
                if let Some(p) = container.startup_probe.clone() {
                    checks.push(("startup", Probe(p)));
                }
            } else {
                if let Some(p) = container.liveness_probe.clone() {
                    checks.push(("liveness", Probe(p)));
                }
                if let Some(p) = container.readiness_probe.clone() {
                    checks.push(("readiness", Probe(p)));
                }
            }
            for (kind, probe) in checks {
                let tracker = match kind {
                    "startup" => track.startup.as_mut(),
                    "liveness" => track.liveness.as_mut(),
                    _ => track.readiness.as_mut(),
                };
                let Some(tracker) = tracker else { continue };
                if !tracker.due(started, now) {
                    continue;
                }
                let timeout = tracker.timeout;
                let outcome = self.kubelet.probe(&id, &probe.0, container, ip, timeout).await;
                let Some(tracker) = (match kind {
                    "startup" => track.startup.as_mut(),
                    "liveness" => track.liveness.as_mut(),
                    _ => track.readiness.as_mut(),
                }) else {
                    continue;
                };
                if let Outcome::Failure(why) = &outcome {
                    let title = format!("{}{}", &kind[..1].to_uppercase(), &kind[1..]);
                    self.kubelet
                        .events
                        .record(pod, Kind::Warning, "Unhealthy", &format!("{title} probe failed: {why}"))
                        .await;
                }
                let changed = tracker.record(outcome, now);
                if changed == Some(false) && kind != "readiness" {
                    self.kubelet
                        .events
                        .record(
                            pod,
                            Kind::Normal,
                            "Killing",
                            &format!("Container {} failed {kind} probe, will be restarted", container.name),
                        )
                        .await;
                    let grace =
                        pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds).unwrap_or(30).max(0) as u64;
                    let _ = self.kubelet.runtime.stop_container(&id, Duration::from_secs(grace)).await;
                    if let Some(r) = track.readiness.as_mut() {
                        r.reset();
                    }
                    break;
                }
            }
        }
    }

    /// `activeDeadlineSeconds`: the pod fails once it has run that long.
    fn check_deadline(&mut self, pod: &Pod) {
        let Some(deadline) = pod.spec.as_ref().and_then(|s| s.active_deadline_seconds) else { return };
        let ran = Timestamp::now().duration_since(self.start_time).as_secs();
        if ran >= deadline && self.failure.is_none() {
            self.failure = Some((
                "DeadlineExceeded".into(),
                "Pod was active on the node longer than the specified deadline".to_string(),
            ));
        }
    }

    /// Builds and posts the pod status if it changed.
    async fn report(&mut self, pod: &Pod) -> Result<()> {
        let spec = pod.spec.as_ref();
        let inits: Vec<Container> = spec.and_then(|s| s.init_containers.clone()).unwrap_or_default();
        let containers: Vec<Container> = spec.map(|s| s.containers.clone()).unwrap_or_default();
        let mut observed_init = Vec::new();
        for c in &inits {
            observed_init.push(self.observe(c).await);
        }
        let mut observed = Vec::new();
        for c in &containers {
            observed.push(self.observe(c).await);
        }
        if self.failure.is_some() {
            for (c, spec) in observed.iter().zip(&containers) {
                if matches!(c.state, State::Running { .. }) {
                    if let Some(id) = self.tracks.get(&spec.name).and_then(|t| t.id.clone()) {
                        let _ = self.kubelet.runtime.stop_container(&id, Duration::from_secs(2)).await;
                    }
                }
            }
        }
        let ip = self.ip.map(|ip| ip.to_string());
        let host_ip = self.kubelet.node.ip.to_string();
        let failure = self.failure.clone();
        let observation = PodObservation {
            init: &observed_init,
            containers: &observed,
            pod_ip: ip.as_deref(),
            host_ip: &host_ip,
            start_time: self.start_time,
            sandbox_ready: self.sandbox.is_some(),
            failure: failure.as_ref().map(|(r, m)| (r.as_str(), m.as_str())),
        };
        let status = status::pod_status(pod, &observation, Timestamp::now());
        if self.last_status.as_ref() == Some(&status) {
            return Ok(());
        }
        let api: Api<Pod> =
            Api::namespaced(self.kubelet.client.clone(), pod.metadata.namespace.as_deref().unwrap_or("default"));
        let name = pod.metadata.name.clone().unwrap_or_default();
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(serde_json::json!({"status": status})))
            .await
            .context("reporting pod status")?;
        self.last_status = Some(status);
        Ok(())
    }

    async fn observe(&self, container: &Container) -> Observed {
        let image = container.image.clone().unwrap_or_default();
        let Some(track) = self.tracks.get(&container.name) else {
            return Observed::waiting(&container.name, &image, "ContainerCreating", None);
        };
        let info = match &track.id {
            Some(id) => self.kubelet.runtime.container_status(id).await.ok(),
            None => None,
        };
        let mut observed = Observed::waiting(&container.name, &image, "ContainerCreating", None);
        observed.restart_count = track.attempt as i32;
        observed.last_termination = track.last_termination.clone();
        observed.image_id =
            if track.image_id.is_empty() { String::new() } else { format!("{image}@{}", track.image_id) };
        if let Some((reason, message)) = &track.waiting {
            observed.state = State::Waiting { reason: reason.clone(), message: message.clone() };
        }
        if let Some(info) = info {
            observed.container_id = format!("onebin://{}", info.id);
            match info.state.status {
                ContainerStatus::Running if track.waiting.is_none() => {
                    observed.state =
                        State::Running { started_at: info.state.started_at.unwrap_or_else(Timestamp::now) };
                    let startup_ok = track.startup.as_ref().is_none_or(|t| t.verdict == Some(true));
                    observed.started = startup_ok;
                    observed.ready = startup_ok && track.readiness.as_ref().is_none_or(|t| t.verdict == Some(true));
                }
                ContainerStatus::Exited | ContainerStatus::Unknown if track.waiting.is_none() => {
                    if let Some(t) = termination_of(&info) {
                        observed.state = State::Terminated(t);
                    }
                }
                _ => {}
            }
        }
        observed
    }

    /// Stops every container (preStop hooks first, within `grace`), then the sandbox, the
    /// network and the volumes.
    async fn terminate(&mut self, pod: Option<&Pod>, grace: Duration) -> Result<()> {
        let deadline = Instant::now() + grace;
        let mut stops = Vec::new();
        for (name, track) in &self.tracks {
            let Some(id) = track.id.clone() else { continue };
            let container = pod.and_then(|p| all_containers(p).into_iter().find(|c| &c.name == name));
            let kubelet = self.kubelet.clone();
            let ip = self.ip;
            stops.push(async move {
                if let Some(hook) =
                    container.as_ref().and_then(|c| c.lifecycle.as_ref()).and_then(|l| l.pre_stop.as_ref())
                {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let _ = kubelet.run_handler(&id, hook, ip, container.as_ref().expect("checked"), left).await;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                let _ = kubelet.runtime.stop_container(&id, left).await;
            });
        }
        if let Some(pod) = pod {
            for (name, track) in &self.tracks {
                if track.id.is_some() {
                    self.kubelet
                        .events
                        .record(pod, Kind::Normal, "Killing", &format!("Stopping container {name}"))
                        .await;
                }
            }
        }
        futures::future::join_all(stops).await;
        if let Some(sandbox) = self.sandbox.take() {
            let _ = self.kubelet.network.teardown(&sandbox.id, Some(&sandbox.netns_path)).await;
            self.kubelet.runtime.remove_sandbox(&sandbox.id).await.context("removing the pod sandbox")?;
        }
        // Sandboxes a crash left behind for this pod go too.
        for stale in self.kubelet.runtime.list_sandboxes().await?.into_iter().filter(|s| s.config.uid == self.uid) {
            let _ = self.kubelet.network.teardown(&stale.id, Some(&stale.netns_path)).await;
            let _ = self.kubelet.runtime.remove_sandbox(&stale.id).await;
        }
        self.kubelet.volumes.cleanup(&self.uid).context("cleaning up pod volumes")?;
        Ok(())
    }

    /// Deletes the pod object once everything has stopped (grace period 0, as the kubelet).
    async fn remove_from_api(&self, pod: &Pod) -> Result<()> {
        let api: Api<Pod> =
            Api::namespaced(self.kubelet.client.clone(), pod.metadata.namespace.as_deref().unwrap_or("default"));
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: pod.metadata.uid.clone(), resource_version: None }),
            ..Default::default()
        };
        match api.delete(pod.metadata.name.as_deref().unwrap_or_default(), &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(err) => Err(err).context("removing the pod object"),
        }
    }
}

/// A probe spec, named to keep the probe kinds apart in signatures.
struct Probe(k8s_openapi::api::core::v1::Probe);

fn all_containers(pod: &Pod) -> Vec<Container> {
    let spec = pod.spec.as_ref();
    spec.and_then(|s| s.init_containers.clone())
        .unwrap_or_default()
        .into_iter()
        .chain(spec.map(|s| s.containers.clone()).unwrap_or_default())
        .collect()
}

fn termination_of(info: &ContainerInfo) -> Option<Termination> {
    let code = info.state.exit_code?;
    Some(Termination {
        exit_code: code,
        signal: None,
        reason: info
            .state
            .reason
            .clone()
            .unwrap_or_else(|| if code == 0 { "Completed".into() } else { "Error".into() }),
        message: None,
        started_at: info.state.started_at,
        finished_at: info.state.finished_at.unwrap_or_else(Timestamp::now),
        container_id: format!("onebin://{}", info.id),
    })
}

fn pod_ref(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.uid.as_deref().unwrap_or_default()
    )
}

fn backoff_message(pod: &Pod, container: &str, delay: Duration) -> String {
    format!("back-off {} restarting failed container={container} pod={}", go_duration(delay), pod_ref(pod))
}

impl Kubelet {
    /// One probe of a container.
    pub(super) async fn probe(
        &self,
        id: &str,
        probe: &k8s_openapi::api::core::v1::Probe,
        container: &Container,
        ip: IpAddr,
        timeout: Duration,
    ) -> Outcome {
        if let Some(http) = &probe.http_get {
            return probes::http_get(ip, http, container, timeout).await;
        }
        if let Some(tcp) = &probe.tcp_socket {
            return match probes::port_of(&tcp.port, container) {
                Ok(port) => probes::tcp_socket(ip, port, timeout).await,
                Err(e) => Outcome::Failure(e),
            };
        }
        if let Some(exec) = &probe.exec {
            return match super::exec::run(&self.runtime, id, exec.command.clone().unwrap_or_default(), timeout).await {
                Ok((0, _)) => Outcome::Success,
                Ok((code, output)) => Outcome::Failure(format!(
                    "command {:?} exited with {code}: {}",
                    exec.command.clone().unwrap_or_default(),
                    output.trim()
                )),
                Err(err) => Outcome::Failure(format!("{err:#}")),
            };
        }
        Outcome::Failure("the probe has no handler (exec, httpGet or tcpSocket)".into())
    }

    /// A postStart or preStop handler.
    pub(super) async fn run_handler(
        &self,
        id: &str,
        handler: &k8s_openapi::api::core::v1::LifecycleHandler,
        ip: Option<IpAddr>,
        container: &Container,
        timeout: Duration,
    ) -> Result<(), String> {
        if let Some(exec) = &handler.exec {
            return match super::exec::run(&self.runtime, id, exec.command.clone().unwrap_or_default(), timeout).await {
                Ok((0, _)) => Ok(()),
                Ok((code, out)) => Err(format!("command exited with {code}: {}", out.trim())),
                Err(e) => Err(format!("{e:#}")),
            };
        }
        if let (Some(http), Some(ip)) = (&handler.http_get, ip) {
            return match probes::http_get(ip, http, container, timeout).await {
                Outcome::Success => Ok(()),
                Outcome::Failure(why) => Err(why),
            };
        }
        if let Some(sleep) = &handler.sleep {
            tokio::time::sleep(Duration::from_secs(sleep.seconds.max(0) as u64).min(timeout)).await;
        }
        Ok(())
    }
}
