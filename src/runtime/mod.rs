//! The embedded container runtime: images, snapshots, the per-pod shim and the CRI-like
//! services the kubelet calls.
//!
//! - [`image::service::ImageService`]: `ensure` (pull with a [`image::service::PullPolicy`]),
//!   `pull`, `list`, `status` (record + Entrypoint/Cmd/Env/WorkingDir/User/ExposedPorts),
//!   `resolve`, `remove`, `import`, `import_airgap_images` (call at agent start).
//! - [`service::RuntimeService`]: `run_sandbox` (returns the pod's netns path for the
//!   network code), `stop_sandbox`, `remove_sandbox`, `create_container`,
//!   `start_container`, `stop_container(grace)`, `kill_container`, `remove_container`,
//!   `container_status`, `list_sandboxes`, `list_containers`, `container_stats`, `exec`,
//!   `attach`, `reopen_container_log`.
//!
//! Nothing is kept in memory between calls: records live under `<data-dir>/agent/`, live
//! state in each pod's shim (`onebin shim`, reached over `<run-dir>/sandboxes/<id>/shim.sock`),
//! so an agent that restarts finds its pods and containers as it left them.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use onebin::runtime::service::{RuntimeConfig, RuntimeService};
//! use onebin::runtime::types::{ContainerConfig, SandboxConfig};
//! let runtime = RuntimeService::new(RuntimeConfig::new("/var/lib/onebin".as_ref(), "/run/onebin".as_ref())?)?;
//! let pod = runtime
//!     .run_sandbox(SandboxConfig { name: "web".into(), namespace: "default".into(), uid: "1234".into(),
//!         hostname: "web".into(), log_directory: "/var/log/pods/default_web_1234".into(), ..Default::default() })
//!     .await?;
//! // … configure pod.netns_path …
//! let id = runtime.create_container(&pod.id, ContainerConfig { name: "nginx".into(), image: "nginx".into(), ..Default::default() }).await?;
//! runtime.start_container(&id).await?;
//! # Ok(()) }
//! ```

pub mod cgroups;
pub mod cli;
pub mod image;
pub mod logs;
pub mod paths;
pub mod pod_files;
pub mod service;
pub mod shim;
pub mod snapshot;
pub mod spec;
pub mod teardown;
pub mod types;
pub mod user;
