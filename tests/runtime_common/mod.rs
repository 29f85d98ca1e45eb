//! Shared by the runtime integration tests: the test images (built once per target dir by
//! tests/images/build.sh), and a throwaway node (data dir, run dir, cgroup parent) that
//! removes every pod, mount, cgroup and process it made when dropped, failed test or not.

#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use onebin::runtime::service::{RuntimeConfig, RuntimeService};

pub const ONEBIN: &str = env!("CARGO_BIN_EXE_onebin");

pub struct TestImages {
    pub busybox: PathBuf,
    pub nginx: PathBuf,
}

/// The test image archives, built on first use (serialised across test processes).
pub fn images() -> TestImages {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-images");
    fs::create_dir_all(&dir).unwrap();
    let images = TestImages { busybox: dir.join("busybox.tar"), nginx: dir.join("nginx.tar") };
    let lock = File::create(dir.join(".lock")).unwrap();
    let _guard = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| e).unwrap();
    if !images.busybox.exists() || !images.nginx.exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/build.sh");
        let output = Command::new("bash").arg(&script).arg(&dir).output().unwrap();
        assert!(output.status.success(), "building test images failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    images
}

/// One node's worth of state, all of it temporary.
pub struct Node {
    root: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub run_dir: PathBuf,
    pub cgroup_parent: String,
}

impl Node {
    pub fn new() -> Node {
        let root = tempfile::Builder::new().prefix("onebin-rt-").tempdir().unwrap();
        let name = root.path().file_name().unwrap().to_string_lossy().replace('.', "");
        Node {
            data_dir: root.path().join("data"),
            run_dir: root.path().join("run"),
            cgroup_parent: format!("/{name}"),
            root,
        }
    }

    pub fn agent_dir(&self) -> PathBuf {
        self.data_dir.join("agent")
    }

    /// `onebin ARGS…` with this node's dirs (inserted after the subcommand).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(ONEBIN);
        command.arg(args[0]);
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--run-dir")
            .arg(&self.run_dir)
            .arg("--cgroup-parent")
            .arg(&self.cgroup_parent)
            .arg("--registries")
            .arg(self.root.path().join("registries.yaml"))
            .arg("--log")
            .arg("warn");
        command.args(&args[1..]);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "onebin {args:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "onebin {args:?} unexpectedly succeeded:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stderr).unwrap()
    }

    pub fn registries_file(&self) -> PathBuf {
        self.root.path().join("registries.yaml")
    }

    pub fn import_test_images(&self) {
        let images = images();
        self.ok(&["images", "import", images.busybox.to_str().unwrap(), images.nginx.to_str().unwrap()]);
    }

    pub fn runtime_config(&self) -> RuntimeConfig {
        let mut config = RuntimeConfig::new(&self.data_dir, &self.run_dir).unwrap();
        config.cgroup_parent = self.cgroup_parent.clone();
        config.shim_binary = PathBuf::from(ONEBIN);
        config
    }

    pub fn runtime(&self) -> RuntimeService {
        RuntimeService::new(self.runtime_config()).unwrap()
    }

    /// `onebin inspect` as JSON.
    pub fn inspect(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["inspect", id])).unwrap()
    }

    /// Polls `inspect` until `done` holds (or panics after `timeout`).
    pub fn wait_for(
        &self,
        id: &str,
        timeout: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let info = self.inspect(id);
            if done(&info) {
                return info;
            }
            assert!(Instant::now() < deadline, "timed out waiting on container {id}: {info:#}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Mount points at or below our temp root.
    pub fn mounts(&self) -> Vec<String> {
        let root = self.root.path().to_string_lossy().into_owned();
        fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
            .filter(|m| m.starts_with(&root))
            .collect()
    }

    /// cgroup directories under our parent, in any hierarchy.
    pub fn cgroups(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for hierarchy in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let dir = hierarchy.path().join(self.cgroup_parent.trim_start_matches('/'));
            if let Ok(entries) = fs::read_dir(&dir) {
                found.extend(entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()));
            }
        }
        found
    }

    fn cleanup(&self) {
        // Pods first, through the runtime itself.
        let runtime = self.runtime();
        if let Ok(tokio) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            tokio.block_on(async {
                for sandbox in runtime.list_sandboxes().await.unwrap_or_default() {
                    if let Err(err) = runtime.remove_sandbox(&sandbox.id).await {
                        eprintln!("cleanup: removing sandbox {}: {err:#}", sandbox.id);
                    }
                }
            });
        }
        // Then whatever a broken test left: shims, container processes, mounts, cgroups.
        if let Ok(sandboxes) = fs::read_dir(self.run_dir.join("sandboxes")) {
            for sandbox in sandboxes.flatten() {
                if let Ok(pid) = fs::read_to_string(sandbox.path().join("shim.pid")) {
                    if let Ok(pid) = pid.trim().parse::<i32>() {
                        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
                    }
                }
            }
        }
        for _ in 0..3 {
            for cgroup in self.all_cgroup_dirs() {
                if let Ok(procs) = fs::read_to_string(cgroup.join("cgroup.procs")) {
                    for pid in procs.lines().filter_map(|p| p.parse::<i32>().ok()) {
                        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut mounts = self.mounts();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for mount in mounts {
            let _ = nix::mount::umount2(Path::new(&mount), nix::mount::MntFlags::MNT_DETACH);
        }
        let mut dirs = self.all_cgroup_dirs();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.as_os_str().len()));
        for dir in dirs {
            let _ = fs::remove_dir(&dir);
        }
    }

    /// Our cgroup parent and everything below it, in every hierarchy.
    fn all_cgroup_dirs(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            out.push(dir.to_path_buf());
            if let Ok(entries) = fs::read_dir(dir) {
                for entry in entries.flatten() {
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        walk(&entry.path(), out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for hierarchy in fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let dir = hierarchy.path().join(self.cgroup_parent.trim_start_matches('/'));
            if dir.is_dir() {
                walk(&dir, &mut out);
            }
        }
        out
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// The blob digests and unpacked layers the node's store holds.
pub fn store_contents(node: &Node) -> (Vec<String>, Vec<String>) {
    let list = |dir: PathBuf| -> Vec<String> {
        let mut names = Vec::new();
        for algorithm in fs::read_dir(dir).into_iter().flatten().flatten() {
            for entry in fs::read_dir(algorithm.path()).into_iter().flatten().flatten() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names
    };
    (list(node.agent_dir().join("content/blobs")), list(node.agent_dir().join("layers")))
}

/// Temp files an import or pull may leave behind if it cleaned up badly.
pub fn leftover_temp_files(node: &Node) -> Vec<String> {
    let mut leftovers: Vec<String> = fs::read_dir(node.agent_dir().join("content/ingest"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for algorithm in fs::read_dir(node.agent_dir().join("layers")).into_iter().flatten().flatten() {
        for entry in fs::read_dir(algorithm.path()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                leftovers.push(name);
            }
        }
    }
    leftovers
}
