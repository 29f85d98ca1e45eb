//! The runtime service: pod sandboxes and their containers, CRI-style, for the kubelet and
//! the node-local CLI.
//!
//! It keeps no state in memory. Sandbox and container records live in the data dir, live
//! state belongs to each pod's shim (reached through its socket in the run dir), so an
//! agent or CLI that exits and comes back finds every running container again.
//! The public methods are async; the work runs on tokio's blocking pool (it is file system
//! and socket I/O, and the forking happens in the shims).

use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::cgroups;
use super::image::store::ImageStore;
use super::paths::{RuntimePaths, DEFAULT_CGROUP_PARENT};
use super::pod_files;
use super::shim::client::{self, AttachHandle, ExecHandle, ShimClient};
use super::shim::protocol::{CreateRequest, ExecRequest};
use super::snapshot::{unmount, Snapshot};
use super::spec::{self, SpecInput};
use super::types::{
    ContainerConfig, ContainerInfo, ContainerState, ContainerStats, ContainerStatus, Sandbox, SandboxConfig,
    SandboxState,
};

/// Log rotation defaults, as the kubelet's containerLogMaxSize / containerLogMaxFiles.
pub const DEFAULT_LOG_MAX_SIZE: u64 = 10 * 1024 * 1024;
pub const DEFAULT_LOG_MAX_FILES: u32 = 5;

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub data_dir: PathBuf,
    pub run_dir: PathBuf,
    /// Parent of pod cgroups that do not name their own (several onebin processes on one
    /// machine each need their own).
    pub cgroup_parent: String,
    /// The onebin binary that runs `shim` (this executable, unless embedded in a test).
    pub shim_binary: PathBuf,
    pub log_max_size: u64,
    pub log_max_files: u32,
}

impl RuntimeConfig {
    pub fn new(data_dir: &Path, run_dir: &Path) -> Result<RuntimeConfig> {
        Ok(RuntimeConfig {
            data_dir: data_dir.to_path_buf(),
            run_dir: run_dir.to_path_buf(),
            cgroup_parent: DEFAULT_CGROUP_PARENT.to_string(),
            shim_binary: std::env::current_exe().context("finding the onebin binary")?,
            log_max_size: DEFAULT_LOG_MAX_SIZE,
            log_max_files: DEFAULT_LOG_MAX_FILES,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SandboxRecord {
    id: String,
    config: SandboxConfig,
    created_at: Timestamp,
    cgroup_path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContainerRecord {
    id: String,
    sandbox_id: String,
    config: ContainerConfig,
    image_id: String,
    log_path: PathBuf,
    cgroup_path: String,
    created_at: Timestamp,
}

/// A command to run in a container.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub tty: bool,
}

#[derive(Clone)]
pub struct RuntimeService {
    inner: Arc<Inner>,
}

struct Inner {
    config: RuntimeConfig,
    paths: RuntimePaths,
    images: ImageStore,
}

fn new_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&data).with_context(|| format!("parsing {}", path.display()))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let dir = path.parent().expect("record path has a parent");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let temp = path.with_extension("json.tmp");
    fs::write(&temp, serde_json::to_vec_pretty(value)?).with_context(|| format!("writing {}", temp.display()))?;
    fs::rename(&temp, path).with_context(|| format!("writing {}", path.display()))
}

fn remove_dir(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", path.display())),
    }
}

/// Record IDs under `dir` (one subdirectory each).
fn record_ids(dir: &Path) -> Result<Vec<String>> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            Ok(entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(err).with_context(|| format!("listing {}", dir.display())),
    }
}

fn is_full_id(query: &str) -> bool {
    query.len() == 64 && query.bytes().all(|b| b.is_ascii_hexdigit())
}

/// CRI's stop and remove calls succeed for what is already gone: a full ID with no record.
fn already_gone(records: &Path, query: &str) -> bool {
    is_full_id(query) && !records.join(query).exists()
}

/// A full ID that has a record: the kubelet's every call, answered without listing all records.
fn recorded_full_id(records: &Path, query: &str) -> Option<String> {
    (is_full_id(query) && records.join(query).exists()).then(|| query.to_string())
}

/// Resolves a full ID or a unique prefix among `ids`.
fn match_id(ids: Vec<String>, query: &str, what: &str) -> Result<String> {
    if ids.iter().any(|id| id == query) {
        return Ok(query.to_string());
    }
    let matches: Vec<String> = ids.into_iter().filter(|id| !query.is_empty() && id.starts_with(query)).collect();
    match matches.len() {
        0 => bail!("{what} {query:?} not found"),
        1 => Ok(matches.into_iter().next().expect("one match")),
        n => bail!("{what} ID prefix {query:?} is ambiguous ({n} match)"),
    }
}

/// A signal by name (`SIGQUIT`, `QUIT`) or number, as an image's StopSignal may say.
fn parse_signal(name: &str) -> Result<i32> {
    if let Ok(number) = name.parse::<i32>() {
        return Ok(number);
    }
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    full.parse::<nix::sys::signal::Signal>().map(|s| s as i32).with_context(|| format!("unknown signal {name:?}"))
}

impl RuntimeService {
    pub fn new(config: RuntimeConfig) -> Result<RuntimeService> {
        let paths = RuntimePaths::new(&config.data_dir, &config.run_dir);
        let images = ImageStore::open(&paths.agent_dir)?;
        Ok(RuntimeService { inner: Arc::new(Inner { config, paths, images }) })
    }

    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce(&Inner) -> Result<T> + Send + 'static) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner)).await.context("runtime task failed")?
    }

    /// Starts a pod: its shim, namespaces and shared files. Returns it with its netns path.
    pub async fn run_sandbox(&self, config: SandboxConfig) -> Result<Sandbox> {
        self.blocking(move |r| r.run_sandbox(config)).await
    }

    /// Stops every container of the pod and its shim; the pod's namespaces are released.
    /// Like every stop and remove call, it succeeds for a pod that is already gone.
    pub async fn stop_sandbox(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| r.stop_sandbox(&id)).await
    }

    /// Removes a pod and all its containers (stopping them first).
    pub async fn remove_sandbox(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| r.remove_sandbox(&id)).await
    }

    pub async fn sandbox_status(&self, id: &str) -> Result<Sandbox> {
        let id = id.to_string();
        self.blocking(move |r| r.sandbox(&r.sandbox_id(&id)?)).await
    }

    pub async fn list_sandboxes(&self) -> Result<Vec<Sandbox>> {
        self.blocking(|r| r.list_sandboxes()).await
    }

    /// Creates a container in a pod from an image already in the store; returns its ID.
    pub async fn create_container(&self, sandbox_id: &str, config: ContainerConfig) -> Result<String> {
        let sandbox_id = sandbox_id.to_string();
        self.blocking(move |r| r.create_container(&sandbox_id, config)).await
    }

    pub async fn start_container(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| r.start_container(&id)).await
    }

    /// Stop signal, then SIGKILL after `grace`; returns once the container exited.
    pub async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| r.stop_container(&id, grace)).await
    }

    /// Sends `signal` to the container's main process.
    pub async fn kill_container(&self, id: &str, signal: i32) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| {
            let record = r.container_record(&r.container_id(&id)?)?;
            r.shim(&record.sandbox_id).kill(&record.id, signal)
        })
        .await
    }

    /// Removes a container (killing it if it still runs), its rootfs and its records.
    pub async fn remove_container(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| {
            if already_gone(&r.paths.containers_records(), &id) {
                return Ok(());
            }
            r.remove_container(&r.container_id(&id)?)
        })
        .await
    }

    pub async fn container_status(&self, id: &str) -> Result<ContainerInfo> {
        let id = id.to_string();
        self.blocking(move |r| {
            let record = r.container_record(&r.container_id(&id)?)?;
            let live = r.shim(&record.sandbox_id).status(&record.id).ok();
            let state = r.container_state(&record, live);
            Ok(info(record, state))
        })
        .await
    }

    pub async fn list_containers(&self) -> Result<Vec<ContainerInfo>> {
        self.blocking(|r| r.list_containers()).await
    }

    /// CPU and memory of a running container, from its cgroup.
    pub async fn container_stats(&self, id: &str) -> Result<ContainerStats> {
        let id = id.to_string();
        self.blocking(move |r| {
            let record = r.container_record(&r.container_id(&id)?)?;
            r.shim(&record.sandbox_id).stats(&record.id)
        })
        .await
    }

    /// Runs a command in a running container. Without a TTY, `stdio` (stdin, stdout,
    /// stderr) become the process's; with one, the handle carries the pty master. Wait on
    /// the handle for the exit code.
    pub async fn exec(&self, id: &str, options: ExecOptions, stdio: Option<[OwnedFd; 3]>) -> Result<ExecHandle> {
        let id = id.to_string();
        self.blocking(move |r| {
            let record = r.container_record(&r.container_id(&id)?)?;
            let request = ExecRequest {
                id: record.id.clone(),
                args: options.args,
                env: options.env,
                cwd: options.cwd,
                tty: options.tty,
            };
            let stdio = stdio.as_ref().map(|[a, b, c]| [a, b, c]);
            r.shim(&record.sandbox_id).exec(request, stdio)
        })
        .await
    }

    /// Attaches to a container's stdio (for `kubectl attach`).
    pub async fn attach(&self, id: &str) -> Result<AttachHandle> {
        let id = id.to_string();
        self.blocking(move |r| {
            let record = r.container_record(&r.container_id(&id)?)?;
            r.shim(&record.sandbox_id).attach(&record.id)
        })
        .await
    }

    /// Makes the shim reopen the container's log file (after it was moved away).
    pub async fn reopen_container_log(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |r| {
            let record = r.container_record(&r.container_id(&id)?)?;
            r.shim(&record.sandbox_id).reopen_log(&record.id)
        })
        .await
    }

    /// Resolves a container ID prefix (or a container name, if unique) to its full ID.
    pub async fn find_container(&self, query: &str) -> Result<String> {
        let query = query.to_string();
        self.blocking(move |r| r.container_id(&query)).await
    }
}

fn info(record: ContainerRecord, state: ContainerState) -> ContainerInfo {
    ContainerInfo {
        id: record.id,
        sandbox_id: record.sandbox_id,
        name: record.config.name,
        attempt: record.config.attempt,
        image: record.config.image,
        image_id: record.image_id,
        log_path: record.log_path,
        labels: record.config.labels,
        annotations: record.config.annotations,
        state,
    }
}

impl Inner {
    fn shim(&self, sandbox_id: &str) -> ShimClient {
        ShimClient::new(&self.paths.shim_socket(sandbox_id))
    }

    fn sandbox_id(&self, query: &str) -> Result<String> {
        let records = self.paths.sandboxes_records();
        if let Some(id) = recorded_full_id(&records, query) {
            return Ok(id);
        }
        match_id(record_ids(&records)?, query, "sandbox")
    }

    fn container_id(&self, query: &str) -> Result<String> {
        let records = self.paths.containers_records();
        if let Some(id) = recorded_full_id(&records, query) {
            return Ok(id);
        }
        let ids = record_ids(&records)?;
        match match_id(ids.clone(), query, "container") {
            Ok(id) => Ok(id),
            Err(err) => {
                let named: Vec<String> = ids
                    .into_iter()
                    .filter(|id| self.container_record(id).is_ok_and(|r| r.config.name == query))
                    .collect();
                match named.len() {
                    1 => Ok(named.into_iter().next().expect("one match")),
                    0 => Err(err),
                    n => bail!("{n} containers are named {query:?}; use an ID"),
                }
            }
        }
    }

    fn sandbox_record(&self, id: &str) -> Result<SandboxRecord> {
        read_json(&self.paths.sandbox_record(id))
    }

    fn container_record(&self, id: &str) -> Result<ContainerRecord> {
        read_json(&self.paths.container_record(id))
    }

    fn sandbox(&self, id: &str) -> Result<Sandbox> {
        let record = self.sandbox_record(id)?;
        let shim_pid = self.shim(id).ping();
        Ok(Sandbox {
            state: if shim_pid.is_some() { SandboxState::Ready } else { SandboxState::NotReady },
            netns_path: self.paths.netns(id),
            shim_pid,
            id: record.id,
            config: record.config,
            created_at: record.created_at,
            cgroup_path: record.cgroup_path,
        })
    }

    fn list_sandboxes(&self) -> Result<Vec<Sandbox>> {
        let mut sandboxes: Vec<Sandbox> =
            record_ids(&self.paths.sandboxes_records())?.iter().filter_map(|id| self.sandbox(id).ok()).collect();
        sandboxes.sort_by_key(|s| s.created_at);
        Ok(sandboxes)
    }

    fn run_sandbox(&self, config: SandboxConfig) -> Result<Sandbox> {
        if config.hostname.is_empty() {
            bail!("a sandbox needs a hostname");
        }
        let id = new_id();
        let cgroup_path = match &config.cgroup_parent {
            Some(parent) => parent.clone(),
            None => {
                let pod = if config.uid.is_empty() { id.clone() } else { config.uid.replace('-', "_") };
                format!("{}/pod{pod}", self.config.cgroup_parent.trim_end_matches('/'))
            }
        };
        if !cgroup_path.starts_with('/') {
            bail!("cgroup parent {cgroup_path:?} must be an absolute cgroup path");
        }
        let record = SandboxRecord { id: id.clone(), config, created_at: Timestamp::now(), cgroup_path };
        let result = (|| {
            write_json(&self.paths.sandbox_record(&id), &record)?;
            pod_files::create(&self.paths.sandbox_run_dir(&id), &record.config)?;
            client::spawn(&self.config.shim_binary, &self.paths.run_dir, &id, &record.config.hostname)
        })();
        if let Err(err) = result {
            if let Err(cleanup) = self.release_sandbox(&id) {
                tracing::warn!("cleaning up sandbox {id}: {cleanup:#}");
            }
            return Err(err);
        }
        self.sandbox(&id)
    }

    fn stop_sandbox(&self, id: &str) -> Result<()> {
        if already_gone(&self.paths.sandboxes_records(), id) {
            return Ok(());
        }
        let id = self.sandbox_id(id)?;
        let shim = self.shim(&id);
        if shim.ping().is_some() {
            shim.shutdown()?;
        }
        Ok(())
    }

    fn remove_sandbox(&self, id: &str) -> Result<()> {
        if already_gone(&self.paths.sandboxes_records(), id) {
            return Ok(());
        }
        let id = self.sandbox_id(id)?;
        self.stop_sandbox(&id)?;
        for container in record_ids(&self.paths.containers_records())? {
            if self.container_record(&container).is_ok_and(|r| r.sandbox_id == id) {
                self.remove_container(&container)?;
            }
        }
        self.release_sandbox(&id)
    }

    /// Everything a sandbox holds outside its shim: mounts, run dir, cgroup, record.
    fn release_sandbox(&self, id: &str) -> Result<()> {
        let dir = self.paths.sandbox_run_dir(id);
        pod_files::release(&dir)?;
        // The shim unmounts the namespaces when it ends; a killed shim leaves them behind.
        let netns = self.paths.netns(id);
        unmount(&netns)?;
        let _ = fs::remove_file(&netns);
        for ns in ["ipc", "uts"] {
            unmount(&dir.join("ns").join(ns))?;
        }
        remove_dir(&dir)?;
        if let Ok(record) = self.sandbox_record(id) {
            cgroups::remove(Path::new(&record.cgroup_path))?;
        }
        remove_dir(&self.paths.sandboxes_records().join(id))
    }

    fn create_container(&self, sandbox_id: &str, config: ContainerConfig) -> Result<String> {
        let sandbox = self.sandbox(&self.sandbox_id(sandbox_id)?)?;
        if sandbox.state != SandboxState::Ready {
            bail!("sandbox {} is not ready", sandbox.id);
        }
        if config.name.is_empty() {
            bail!("a container needs a name");
        }
        let image = self.images.resolve(&config.image)?;
        let id = new_id();
        let bundle = self.paths.bundle(&sandbox.id, &id);
        let rootfs = bundle.join("rootfs");
        let snapshot = Snapshot::new(&self.paths.snapshots(), &id);
        let log_path = config
            .log_path
            .clone()
            .unwrap_or_else(|| sandbox.config.log_directory.join(&config.name).join(format!("{}.log", config.attempt)));
        let cgroup_path = format!("{}/{id}", sandbox.cgroup_path.trim_end_matches('/'));
        let stop_signal = match &image.config.stop_signal {
            Some(name) => parse_signal(name)?,
            None => libc::SIGTERM,
        };
        let record = ContainerRecord {
            id: id.clone(),
            sandbox_id: sandbox.id.clone(),
            image_id: image.record.id.to_string(),
            log_path: log_path.clone(),
            cgroup_path: cgroup_path.clone(),
            created_at: Timestamp::now(),
            config,
        };
        let result = (|| {
            write_json(&self.paths.container_record(&id), &record)?;
            let layers: Vec<_> =
                image.record.layers.iter().map(|l| l.diff_id.clone()).zip(image.layer_dirs.iter().cloned()).collect();
            snapshot.mount(&layers, &rootfs)?;
            let pod = pod_files::resources(&self.paths.sandbox_run_dir(&sandbox.id), &sandbox.netns_path);
            let spec = spec::build(SpecInput {
                config: &record.config,
                image: &image.config,
                rootfs: &rootfs,
                cgroup_path: &cgroup_path,
                pod: &pod,
            })?;
            write_json(&bundle.join("config.json"), &spec)?;
            self.shim(&sandbox.id).create(CreateRequest {
                id: id.clone(),
                bundle: bundle.clone(),
                log_path,
                log_max_size: self.config.log_max_size,
                log_max_files: self.config.log_max_files,
                tty: record.config.tty,
                stdin: record.config.stdin,
                stdin_once: record.config.stdin_once,
                stop_signal,
                cgroup_path: PathBuf::from(&cgroup_path),
            })
        })();
        if let Err(err) = result {
            if let Err(cleanup) = self.release_container(&record) {
                tracing::warn!("cleaning up container {id}: {cleanup:#}");
            }
            return Err(err);
        }
        Ok(id)
    }

    fn start_container(&self, id: &str) -> Result<()> {
        let record = self.container_record(&self.container_id(id)?)?;
        self.shim(&record.sandbox_id).start(&record.id)?;
        Ok(())
    }

    fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        if already_gone(&self.paths.containers_records(), id) {
            return Ok(());
        }
        let record = self.container_record(&self.container_id(id)?)?;
        let shim = self.shim(&record.sandbox_id);
        if shim.ping().is_none() {
            // No shim, no process: the pod was stopped already.
            return Ok(());
        }
        shim.stop(&record.id, grace)
    }

    fn remove_container(&self, id: &str) -> Result<()> {
        let record = self.container_record(id)?;
        let shim = self.shim(&record.sandbox_id);
        if shim.ping().is_some() && shim.status(&record.id).is_ok() {
            shim.remove(&record.id)?;
        }
        self.release_container(&record)
    }

    /// The rootfs, bundle and record of a container the shim no longer has.
    fn release_container(&self, record: &ContainerRecord) -> Result<()> {
        let bundle = self.paths.bundle(&record.sandbox_id, &record.id);
        Snapshot::new(&self.paths.snapshots(), &record.id).remove(&bundle.join("rootfs"))?;
        remove_dir(&bundle)?;
        remove_dir(&self.paths.containers_records().join(&record.id))?;
        // Layers of images removed while this container used them can go now.
        self.images.garbage_collect()
    }

    /// The container's state: `live` from its shim if the shim has it, else the last state
    /// the shim saved (which cannot still be running: its shim is gone).
    fn container_state(&self, record: &ContainerRecord, live: Option<ContainerState>) -> ContainerState {
        if let Some(state) = live {
            return state;
        }
        let saved: Option<ContainerState> =
            read_json(&self.paths.bundle(&record.sandbox_id, &record.id).join("state.json")).ok();
        match saved {
            Some(mut state) => {
                if matches!(state.status, ContainerStatus::Running | ContainerStatus::Created) {
                    state.status = ContainerStatus::Unknown;
                }
                state
            }
            None => ContainerState {
                id: record.id.clone(),
                status: ContainerStatus::Unknown,
                pid: None,
                exit_code: None,
                reason: None,
                created_at: record.created_at,
                started_at: None,
                finished_at: None,
            },
        }
    }

    fn list_containers(&self) -> Result<Vec<ContainerInfo>> {
        let records: Vec<ContainerRecord> = record_ids(&self.paths.containers_records())?
            .iter()
            .filter_map(|id| self.container_record(id).ok())
            .collect();
        let mut by_sandbox: std::collections::HashMap<String, Vec<ContainerState>> = Default::default();
        let mut containers = Vec::with_capacity(records.len());
        for record in records {
            let live = by_sandbox
                .entry(record.sandbox_id.clone())
                .or_insert_with(|| self.shim(&record.sandbox_id).list().unwrap_or_default())
                .iter()
                .find(|s| s.id == record.id)
                .cloned();
            let state = self.container_state(&record, live);
            containers.push(info(record, state));
        }
        containers.sort_by_key(|c| c.state.created_at);
        Ok(containers)
    }
}
