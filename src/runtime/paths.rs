//! Where the runtime keeps things. Persistent state lives in the data dir
//! (`<data-dir>/agent/…`), state that must not survive a reboot (shim sockets, namespace
//! mounts, container bundles and rootfs mounts) in the run dir (`/run/onebin` by default).

use std::path::{Path, PathBuf};

pub const DEFAULT_RUN_DIR: &str = "/run/onebin";
pub const DEFAULT_CGROUP_PARENT: &str = "/onebin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimePaths {
    /// `<data-dir>/agent`
    pub agent_dir: PathBuf,
    /// `/run/onebin`
    pub run_dir: PathBuf,
}

impl RuntimePaths {
    pub fn new(data_dir: &Path, run_dir: &Path) -> RuntimePaths {
        RuntimePaths { agent_dir: data_dir.join("agent"), run_dir: run_dir.to_path_buf() }
    }

    /// Airgap image archives imported at agent start.
    pub fn airgap_images(&self) -> PathBuf {
        self.agent_dir.join("images")
    }

    pub fn snapshots(&self) -> PathBuf {
        self.agent_dir.join("snapshots")
    }

    /// The sandbox's record (persistent).
    pub fn sandbox_record(&self, sandbox_id: &str) -> PathBuf {
        self.sandboxes_records().join(sandbox_id).join("sandbox.json")
    }

    pub fn sandboxes_records(&self) -> PathBuf {
        self.agent_dir.join("sandboxes")
    }

    /// The container's record (persistent).
    pub fn container_record(&self, container_id: &str) -> PathBuf {
        self.containers_records().join(container_id).join("container.json")
    }

    pub fn containers_records(&self) -> PathBuf {
        self.agent_dir.join("containers")
    }

    /// Everything of a running sandbox: shim socket, namespaces, bundles.
    pub fn sandbox_run_dir(&self, sandbox_id: &str) -> PathBuf {
        self.run_dir.join("sandboxes").join(sandbox_id)
    }

    pub fn shim_socket(&self, sandbox_id: &str) -> PathBuf {
        self.sandbox_run_dir(sandbox_id).join("shim.sock")
    }

    /// The pod network namespace, bind-mounted so the network code can enter it.
    pub fn netns(&self, sandbox_id: &str) -> PathBuf {
        self.run_dir.join("netns").join(sandbox_id)
    }

    /// A container's OCI bundle (config.json and the rootfs mount point).
    pub fn bundle(&self, sandbox_id: &str, container_id: &str) -> PathBuf {
        self.sandbox_run_dir(sandbox_id).join("containers").join(container_id)
    }
}
