//! Hosts for the install script tests: network namespaces on a bridge, wired by the same code
//! as `onebin cluster`, each with a directory standing in for its root filesystem (bin, data,
//! config, run dirs) so that several installations coexist on one machine. Dropping `Hosts`
//! uninstalls and removes everything, whether the test passed or not.

#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use onebin::cluster::layout::{self, ClusterLayout, NodeLayout};
use onebin::cluster::network;
use onebin::net::netns::NetNs;

pub const ONEBIN: &str = env!("CARGO_BIN_EXE_onebin");
/// By full path: some tests run commands with a PATH of busybox applets only.
const NSENTER: &str = "/usr/bin/nsenter";

pub fn install_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

/// The full path of `program` on the test's PATH.
pub fn which(program: &str) -> String {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{program} is not installed"))
        .display()
        .to_string()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One machine: a network namespace and the directories an installation uses.
pub struct Host {
    pub node: NodeLayout,
    pub root: PathBuf,
    pub cgroup_parent: String,
}

impl Host {
    pub fn name(&self) -> &str {
        &self.node.name
    }
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("etc")
    }
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn log_file(&self) -> PathBuf {
        self.root.join("log").join("onebin.log")
    }
    pub fn netns_path(&self) -> PathBuf {
        network::netns_path(&self.node.netns)
    }

    /// The installer's settings that keep this host apart from the others on the machine.
    pub fn install_env(&self) -> Vec<(String, String)> {
        let path = |p: PathBuf| p.display().to_string();
        [
            ("INSTALL_ONEBIN_BIN_DIR", path(self.bin_dir())),
            ("INSTALL_ONEBIN_DATA_DIR", path(self.data_dir())),
            ("INSTALL_ONEBIN_CONFIG_DIR", path(self.config_dir())),
            ("INSTALL_ONEBIN_RUN_DIR", path(self.run_dir())),
            ("INSTALL_ONEBIN_SYSTEMD_DIR", path(self.root.join("systemd"))),
            ("INSTALL_ONEBIN_OPENRC_DIR", path(self.root.join("init.d"))),
            ("INSTALL_ONEBIN_LOG_FILE", path(self.log_file())),
            // No init system runs in these namespaces, whatever the machine runs.
            ("INSTALL_ONEBIN_SERVICE", "none".to_string()),
            ("INSTALL_ONEBIN_WAIT_SECONDS", "90".to_string()),
            ("ONEBIN_NODE_NAME", self.node.name.clone()),
            ("ONEBIN_CGROUP_PARENT", self.cgroup_parent.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Runs `command` inside this host's network namespace with only `env` (and PATH) set.
    pub fn run(&self, command: &[&str], env: &[(String, String)]) -> Output {
        let mut cmd = Command::new(NSENTER);
        cmd.arg(format!("--net={}", self.netns_path().display())).args(command).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into()));
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.output().expect("run nsenter")
    }

    /// Runs install.sh with `shell` (e.g. `sh` or `busybox sh`) on this host: the local binary,
    /// this host's directories, and `extra` on top.
    pub fn install(&self, shell: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut env = self.install_env();
        env.push(("INSTALL_ONEBIN_SKIP_DOWNLOAD".into(), "true".into()));
        env.push(("INSTALL_ONEBIN_BIN_PATH".into(), ONEBIN.into()));
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let script = install_script();
        let mut command = shell.to_vec();
        command.push(script.to_str().expect("utf-8 path"));
        self.run(&command, &env)
    }

    pub fn install_ok(&self, shell: &[&str], extra: &[(&str, &str)]) -> String {
        let out = self.install(shell, extra);
        assert!(
            out.status.success(),
            "install.sh on {} failed:\n{}\n{}\nlog:\n{}",
            self.name(),
            text(&out.stdout),
            text(&out.stderr),
            std::fs::read_to_string(self.log_file()).unwrap_or_default()
        );
        text(&out.stdout)
    }

    pub fn uninstall_script(&self) -> PathBuf {
        self.bin_dir().join("onebin-uninstall.sh")
    }

    pub fn uninstall(&self) -> Output {
        let script = self.uninstall_script();
        self.run(&["sh", script.to_str().expect("utf-8 path")], &[])
    }

    /// Processes of this host: in its network namespace, in its cgroups, or naming its files.
    pub fn processes(&self) -> Vec<(i32, String)> {
        let netns = std::fs::metadata(self.netns_path()).map(|m| m.ino()).ok();
        let root = self.root.display().to_string();
        let own = std::process::id() as i32;
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
            if pid == own {
                continue;
            }
            let cmdline = text(&std::fs::read(entry.path().join("cmdline")).unwrap_or_default()).replace('\0', " ");
            let cgroups = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
            let in_netns = netns.is_some_and(|ino| {
                std::fs::read_link(entry.path().join("ns/net"))
                    .is_ok_and(|l| l.to_string_lossy() == format!("net:[{ino}]"))
            });
            // nsenter and the commands it runs for the test itself are not leftovers.
            let ours = cmdline.starts_with("nsenter");
            if !ours && (in_netns || cgroups.contains(&self.cgroup_parent) || cmdline.contains(&root)) {
                found.push((pid, cmdline));
            }
        }
        found
    }

    /// Everything below the host's root that is not a directory.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                match entry.file_type() {
                    Ok(t) if t.is_dir() => walk(&entry.path(), out),
                    _ => out.push(entry.path()),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    pub fn mounts(&self) -> Vec<String> {
        let root = self.root.display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&root))
            .map(str::to_string)
            .collect()
    }

    /// Network devices in the host's namespace besides its own lo and eth0.
    pub fn extra_links(&self) -> Vec<String> {
        let out = self.run(&["ip", "-o", "link", "show"], &[]);
        text(&out.stdout)
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().split('@').next().unwrap_or("").to_string()))
            .filter(|n| n != "lo" && n != "eth0")
            .collect()
    }

    pub fn nft_tables(&self) -> String {
        let out = self.run(&["nft", "list", "tables"], &[]);
        assert!(out.status.success(), "nft list tables: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    pub fn cgroup_exists(&self) -> bool {
        let relative = self.cgroup_parent.trim_start_matches('/');
        std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten().any(|h| h.path().join(relative).exists())
            || Path::new("/sys/fs/cgroup").join(relative).exists()
    }

    /// Kills whatever the host still runs and removes its pods' mounts and cgroups: the
    /// fallback when the uninstall script failed or never got written.
    fn force_clean(&self) {
        for (pid, _) in self.processes() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let args = [
            "teardown",
            "--data-dir",
            &self.data_dir().display().to_string(),
            "--run-dir",
            &self.run_dir().display().to_string(),
            "--cgroup-parent",
            &self.cgroup_parent,
            "--log",
            "error",
        ]
        .map(|s| s.to_string());
        let mut command = vec![ONEBIN];
        command.extend(args.iter().map(String::as_str));
        let _ = self.run(&command, &[]);
    }
}

/// A handful of hosts on one bridge.
pub struct Hosts {
    pub dir: tempfile::TempDir,
    pub layout: ClusterLayout,
    pub hosts: Vec<Host>,
    runtime: tokio::runtime::Runtime,
}

impl Hosts {
    /// `count` hosts named `<name>-server-0`, `<name>-agent-N`, each in its own namespace.
    pub fn new(name: &str, count: usize) -> Self {
        let dir = tempfile::Builder::new().prefix("onebin-install-").tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
        // Shared with the `onebin cluster` tests so that subnets and bridges do not collide;
        // the lock is held until the bridge of the chosen subnet exists.
        let state = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clusters");
        std::fs::create_dir_all(&state).expect("cluster state dir");
        let lock = std::fs::File::create(state.join(".lock")).expect("lock file");
        let held =
            nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| e).expect("lock");
        let index = layout::free_index(&state).expect("a free subnet");
        let layout = ClusterLayout::new(name, index, count, &[], &[]).expect("layout");
        let hosts = layout
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| Host {
                node: node.clone(),
                root: dir.path().join(&node.name),
                cgroup_parent: format!("/onebin-install-{name}-{i}"),
            })
            .collect();
        let hosts = Self { dir, layout, hosts, runtime };
        hosts.runtime.block_on(async {
            let handle = NetNs::current().expect("netns").route_handle().await.expect("netlink");
            let bridge = network::ensure_bridge(&handle, &hosts.layout).await.expect("bridge");
            drop(held);
            for node in &hosts.layout.nodes {
                network::attach_node(&handle, bridge, &hosts.layout, node).await.expect("wiring a host");
            }
        });
        for host in &hosts.hosts {
            std::fs::create_dir_all(&host.root).expect("host root");
        }
        hosts
    }

    pub fn server(&self) -> &Host {
        &self.hosts[0]
    }

    pub fn agents(&self) -> &[Host] {
        &self.hosts[1..]
    }

    pub fn server_url(&self) -> String {
        self.layout.server_url()
    }

    /// kubectl run on the server host with its admin kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        let server = self.server();
        let kubeconfig = server.config_dir().join("onebin.yaml");
        let cache = self.dir.path().join("kube-cache");
        let mut command = vec![
            "kubectl",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
            "--cache-dir",
            cache.to_str().expect("utf-8"),
        ];
        command.extend_from_slice(args);
        server.run(&command, &[])
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(out.status.success(), "kubectl {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        // Agents first, so none rejoins a server that is going away.
        for host in self.hosts.iter().rev() {
            if host.uninstall_script().exists() {
                let out = host.uninstall();
                if !out.status.success() {
                    eprintln!("uninstalling {} failed: {}", host.name(), text(&out.stderr));
                }
            }
            host.force_clean();
        }
        let layout = self.layout.clone();
        self.runtime.block_on(async {
            if let Ok(handle) = async { anyhow::Ok(NetNs::current()?.route_handle().await?) }.await {
                if let Err(err) = network::remove(&handle, &layout).await {
                    eprintln!("removing the test hosts' network failed: {err:#}");
                }
            }
        });
    }
}
