//! The runtime's vocabulary, shaped after the CRI messages the kubelet speaks: sandbox and
//! container configs in, statuses and stats out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What the kubelet asks for when it starts a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxConfig {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub attempt: u32,
    pub hostname: String,
    /// The pod's cgroup (e.g. `/kubepods/burstable/pod<uid>`); default `<runtime cgroup
    /// parent>/pod<uid>`.
    pub cgroup_parent: Option<String>,
    /// Where container logs go: `<log_directory>/<container name>/<attempt>.log`.
    pub log_directory: PathBuf,
    /// The pod's resolv.conf; the host's when absent.
    pub dns: Option<DnsConfig>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsConfig {
    pub servers: Vec<String>,
    pub searches: Vec<String>,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SandboxState {
    /// The shim runs and holds the pod's namespaces.
    Ready,
    /// The shim is gone (stopped, or the node rebooted).
    NotReady,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sandbox {
    pub id: String,
    pub config: SandboxConfig,
    pub state: SandboxState,
    pub created_at: Timestamp,
    /// The pod's network namespace, for the network code to configure.
    pub netns_path: PathBuf,
    pub cgroup_path: String,
    pub shim_pid: Option<i32>,
}

/// A host directory (or file) mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub host_path: PathBuf,
    pub container_path: String,
    pub readonly: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU limit in millicores (quota over a 100 ms period).
    pub cpu_limit_millis: Option<u64>,
    /// CPU request in millicores (becomes cpu shares / weight).
    pub cpu_request_millis: Option<u64>,
    pub memory_limit_bytes: Option<i64>,
    pub pids_limit: Option<i64>,
    /// The kubelet's OOM score for the container's QoS class.
    pub oom_score_adj: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityContext {
    pub privileged: bool,
    /// Capability names with or without the `CAP_` prefix, any case (`NET_ADMIN`).
    pub capabilities_add: Vec<String>,
    pub capabilities_drop: Vec<String>,
    pub readonly_rootfs: bool,
    pub run_as_user: Option<u32>,
    pub run_as_group: Option<u32>,
    pub supplemental_groups: Vec<u32>,
    pub no_new_privileges: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerConfig {
    pub name: String,
    pub attempt: u32,
    /// Image reference or ID, as given to the image service.
    pub image: String,
    /// Kubernetes `command`: replaces the image's Entrypoint (and drops its Cmd) when set.
    pub command: Vec<String>,
    /// Kubernetes `args`: replaces the image's Cmd when set.
    pub args: Vec<String>,
    /// `(name, value)`, on top of the image's Env.
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub mounts: Vec<Mount>,
    pub resources: Resources,
    pub security: SecurityContext,
    pub tty: bool,
    pub stdin: bool,
    pub stdin_once: bool,
    /// Log file; default `<sandbox log dir>/<name>/<attempt>.log`.
    pub log_path: Option<PathBuf>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerStatus {
    Created,
    Running,
    Exited,
    /// Its shim is gone and nothing is known about how it ended.
    Unknown,
}

impl ContainerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerStatus::Created => "Created",
            ContainerStatus::Running => "Running",
            ContainerStatus::Exited => "Exited",
            ContainerStatus::Unknown => "Unknown",
        }
    }
}

/// What the shim knows about one of its containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub id: String,
    pub status: ContainerStatus,
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    /// `Completed`, `Error` or `OOMKilled` once exited.
    pub reason: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// A container as the runtime service reports it: its config and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    pub id: String,
    pub sandbox_id: String,
    pub name: String,
    pub attempt: u32,
    /// The reference the container was created from.
    pub image: String,
    /// The image ID (config digest).
    pub image_id: String,
    pub log_path: PathBuf,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub state: ContainerState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerStats {
    pub timestamp: Option<Timestamp>,
    pub cpu_usage_nanos: u64,
    pub memory_usage_bytes: u64,
    /// Usage minus inactive file pages: what the kubelet evicts on.
    pub memory_working_set_bytes: u64,
    pub memory_limit_bytes: Option<u64>,
    pub pids: u64,
}
