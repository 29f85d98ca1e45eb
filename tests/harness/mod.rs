//! Test harness: a real `onebin server` on a temporary data dir and a free port, driven by the
//! real kubectl and curl. Everything it starts is stopped when it is dropped, even when the
//! test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

#[path = "../runtime_common/mod.rs"]
pub mod runtime_common;

#[path = "../ports/mod.rs"]
mod ports;
pub use ports::free_port;

pub const KUBECTL: &str = "kubectl";

pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub extra_args: Vec<String>,
    /// Ports of the built-in ingress controller (HTTP, HTTPS), its own per server.
    pub ingress_ports: (u16, u16),
    child: Option<Child>,
    /// The node's runtime state when the embedded agent runs; cleaned up after the server.
    node: Option<NodeState>,
}

/// What a server with an agent owns on this machine besides its process.
pub struct NodeState {
    pub runtime: runtime_common::Node,
    pub name: String,
    pub bridge: String,
    /// The service proxy's nftables table, one per test as the tests share a network namespace.
    pub proxy_table: String,
    pub kubelet_port: u16,
}

impl NodeState {
    /// Fresh node state with the test images ready for import; `tag` keeps names apart.
    fn new(name: &str, tag: u16) -> Self {
        let runtime = runtime_common::Node::new();
        let images = runtime_common::images();
        let airgap = runtime.agent_dir().join("images");
        std::fs::create_dir_all(&airgap).expect("airgap dir");
        for archive in [&images.busybox, &images.nginx] {
            let target = airgap.join(archive.file_name().expect("file name"));
            if std::fs::hard_link(archive, &target).is_err() {
                std::fs::copy(archive, &target).expect("copy test image");
            }
        }
        Self {
            name: name.to_string(),
            bridge: format!("obt{tag}"),
            proxy_table: format!("obt-proxy-{tag}"),
            kubelet_port: free_port(),
            runtime,
        }
    }

    /// The agent flags that keep this node apart from others on the machine.
    fn args(&self) -> Vec<String> {
        vec![
            "--node-name".into(),
            self.name.clone(),
            "--bridge".into(),
            self.bridge.clone(),
            "--proxy-table".into(),
            self.proxy_table.clone(),
            "--kubelet-port".into(),
            self.kubelet_port.to_string(),
            "--run-dir".into(),
            self.runtime.run_dir.display().to_string(),
            "--cgroup-parent".into(),
            self.runtime.cgroup_parent.clone(),
            // Nodes sharing the test host's network namespace reach each other's bridges
            // directly; VXLAN devices with one VNI cannot share a namespace anyway.
            "--flannel-backend".into(),
            "none".into(),
        ]
    }

    fn cleanup(self) {
        let (bridge, proxy_table) = (self.bridge.clone(), self.proxy_table.clone());
        // The runtime state's own drop removes pods, mounts and cgroups.
        drop(self);
        let _ = Command::new("ip").args(["link", "delete", &bridge]).output();
        let _ = onebin::net::proxy::remove(&proxy_table);
        let _ = onebin::net::masquerade::remove(&onebin::net::masquerade::table_name(&bridge));
    }
}

/// A running `onebin agent`, stopped and cleaned up on drop.
pub struct Agent {
    child: Option<Child>,
    node: Option<NodeState>,
    pub log: PathBuf,
    args: Vec<String>,
    /// The cluster DNS address the agent puts on loopback (the server tells it which).
    dns_ip: String,
}

impl Agent {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the same agent again (same data, same flags).
    pub fn restart(&mut self) {
        self.kill9();
        let file = std::fs::OpenOptions::new().append(true).open(&self.log).expect("agent log");
        let child = Command::new(env!("CARGO_BIN_EXE_onebin"))
            .args(&self.args)
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("start onebin agent");
        self.child = Some(child);
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
        if let Some(node) = self.node.take() {
            node.cleanup();
            remove_cluster_dns(&self.dns_ip);
        }
    }
}

/// `args` with a cluster DNS address of the cluster's own unless they name one: side-by-side
/// tests share the host's network namespace, where each node puts the address on loopback.
fn with_cluster_dns(mut args: Vec<String>, port: u16) -> Vec<String> {
    if !args.iter().any(|arg| arg == "--cluster-dns") {
        args.extend(["--cluster-dns".to_string(), format!("10.43.{}.{}", port >> 8, port & 0xff)]);
    }
    args
}

/// Takes a cluster DNS address a node put on the host's loopback off again.
fn remove_cluster_dns(address: &str) {
    let _ = Command::new("ip").args(["address", "delete", &format!("{address}/32"), "dev", "lo"]).output();
}

impl Server {
    /// Starts a control-plane-only server (no embedded agent) and waits until it is ready.
    pub fn start() -> Self {
        Self::start_with(&["--disable-agent"])
    }

    pub fn start_with(extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new().prefix("onebin-test-").tempdir().expect("temp dir");
        let port = free_port();
        let extra_args = with_cluster_dns(extra_args.iter().map(|s| s.to_string()).collect(), port);
        let ingress_ports = (free_port(), free_port());
        let mut server = Self { dir, port, extra_args, ingress_ports, child: None, node: None };
        server.launch();
        server
    }

    /// A server with its embedded agent running pods, the test images imported, and names
    /// (node, bridge, ports, pod CIDR, cgroup parent) of its own so tests run side by side.
    pub fn start_node() -> Self {
        Self::start_node_with(&[])
    }

    pub fn start_node_with(extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new().prefix("onebin-test-").tempdir().expect("temp dir");
        let port = free_port();
        let node = NodeState::new(&format!("node-{port}"), port);
        // A /16 of its own per test keeps pod routes on the shared host apart.
        let mut args = node.args();
        args.extend(["--cluster-cidr".to_string(), format!("10.{}.0.0/16", 60 + port % 150)]);
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let args = with_cluster_dns(args, port);
        let ingress_ports = (free_port(), free_port());
        let mut server = Self { dir, port, extra_args: args, ingress_ports, child: None, node: Some(node) };
        server.launch();
        let name = server.node_name().to_string();
        server.wait_node_ready(&name);
        server
    }

    /// Waits until `node` reports Ready.
    pub fn wait_node_ready(&self, node: &str) {
        let ready = "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}";
        eventually(Duration::from_secs(30), &format!("node {node} to be Ready"), || {
            (text(&self.kubectl(&["get", "node", node, "-o", ready]).stdout) == "True").then_some(())
        });
    }

    /// The join token of this server.
    pub fn token(&self) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_onebin"))
            .arg("token")
            .arg("--data-dir")
            .arg(self.data_dir())
            .output()
            .expect("onebin token");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// Starts `onebin agent` joining this server as node `name`, with `token`.
    pub fn start_agent(&self, name: &str, token: &str, extra_args: &[&str]) -> Agent {
        let node = NodeState::new(name, free_port());
        let log = node.runtime.data_dir.parent().expect("node root").join("agent.log");
        let mut args = vec![
            "agent".to_string(),
            "--server".into(),
            self.url(),
            "--token".into(),
            token.to_string(),
            "--data-dir".into(),
            node.runtime.data_dir.display().to_string(),
            "--config".into(),
            "/dev/null".into(),
        ];
        args.extend(node.args());
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let file = std::fs::File::create(&log).expect("agent log");
        let child = Command::new(env!("CARGO_BIN_EXE_onebin"))
            .args(&args)
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("start onebin agent");
        Agent { child: Some(child), node: Some(node), log, args, dns_ip: self.dns_ip() }
    }

    pub fn node_name(&self) -> &str {
        self.node.as_ref().map(|n| n.name.as_str()).expect("a server started with start_node")
    }

    /// The nftables table of the node's service proxy.
    pub fn proxy_table(&self) -> &str {
        self.node.as_ref().map(|n| n.proxy_table.as_str()).expect("a server started with start_node")
    }

    /// The cluster DNS address the cluster's nodes answer on.
    pub fn dns_ip(&self) -> String {
        let flag = self.extra_args.iter().position(|arg| arg == "--cluster-dns").expect("a --cluster-dns flag");
        self.extra_args[flag + 1].clone()
    }

    pub fn data_dir(&self) -> PathBuf {
        match &self.node {
            Some(node) => node.runtime.data_dir.clone(),
            None => self.dir.path().join("data"),
        }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Starts the server process (again) on the same data dir and waits for readiness.
    pub fn launch(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("log file");
        // An empty config file of our own, so a machine-wide /etc/onebin/config.yaml cannot leak in.
        let config = self.dir.path().join("config.yaml");
        std::fs::write(&config, "").expect("config file");
        let child = Command::new(env!("CARGO_BIN_EXE_onebin"))
            .args(["server", "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1"])
            .arg("--https-listen-port")
            .arg(self.port.to_string())
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--write-kubeconfig")
            .arg(self.kubeconfig())
            .arg("--config")
            .arg(&config)
            .arg("--ingress-http-port")
            .arg(self.ingress_ports.0.to_string())
            .arg("--ingress-https-port")
            .arg(self.ingress_ports.1.to_string())
            .args(&self.extra_args)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start onebin server");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("onebin server exited early ({status}):\n{}", self.log());
                }
            }
            if self.kubeconfig().exists() {
                let out = self.kubectl(&["get", "--raw", "/readyz"]);
                if out.status.success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server not ready in time:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops the server with SIGTERM (a clean shutdown).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(KUBECTL);
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"))
            .args(args);
        cmd.env_remove("KUBECONFIG");
        cmd
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command(args).output().expect("run kubectl")
    }

    /// Runs kubectl with extra environment variables.
    pub fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.kubectl_command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run kubectl")
    }

    /// Runs kubectl and returns stdout, failing the test if it fails.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(out.status.success(), "kubectl {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn kubectl_err(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(!out.status.success(), "kubectl {args:?} should have failed:\n{}", text(&out.stdout));
        text(&out.stderr)
    }

    /// Runs kubectl with `input` on stdin.
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .kubectl_command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("kubectl output")
    }

    /// Starts kubectl in the background (for `-w`); it is killed when the guard drops.
    pub fn kubectl_background(&self, args: &[&str]) -> Background {
        self.kubectl_background_env(args, &[])
    }

    /// `kubectl_background` with extra environment variables.
    pub fn kubectl_background_env(&self, args: &[&str], env: &[(&str, &str)]) -> Background {
        let out = self.dir.path().join(format!("bg-{}.out", rand_suffix()));
        let file = std::fs::File::create(&out).expect("bg output");
        let mut cmd = self.kubectl_command(args);
        cmd.envs(env.iter().copied());
        let child = cmd.stdout(file).stderr(Stdio::null()).spawn().expect("run kubectl");
        Background { child, out }
    }

    /// Writes the admin credentials from the kubeconfig to files for curl: (ca, cert, key).
    pub fn credentials(&self) -> (PathBuf, PathBuf, PathBuf) {
        let text = std::fs::read_to_string(self.kubeconfig()).expect("kubeconfig");
        let field = |name: &str| {
            let line =
                text.lines().find(|l| l.trim_start().starts_with(&format!("{name}:"))).expect("kubeconfig field");
            let b64 = line.split_once(':').expect("colon").1.trim();
            base64::engine::general_purpose::STANDARD.decode(b64).expect("base64")
        };
        let paths =
            (self.dir.path().join("ca.crt"), self.dir.path().join("admin.crt"), self.dir.path().join("admin.key"));
        std::fs::write(&paths.0, field("certificate-authority-data")).expect("ca");
        std::fs::write(&paths.1, field("client-certificate-data")).expect("cert");
        std::fs::write(&paths.2, field("client-key-data")).expect("key");
        paths
    }

    /// An HTTPS request with admin credentials: returns (HTTP status, body).
    pub fn curl(&self, method: &str, path: &str, content_type: Option<&str>, body: Option<&Path>) -> (u16, String) {
        let (ca, cert, key) = self.credentials();
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--cacert"])
            .arg(&ca)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key);
        if let Some(ct) = content_type {
            cmd.args(["-H", &format!("Content-Type: {ct}")]);
        }
        if let Some(body) = body {
            cmd.arg("--data-binary").arg(format!("@{}", body.display()));
        }
        cmd.arg(format!("{}{path}", self.url()));
        split_status(cmd.output().expect("run curl"))
    }

    /// An HTTPS request without any credentials.
    pub fn curl_anonymous(&self, path: &str) -> (u16, String) {
        let (ca, _, _) = self.credentials();
        let out = Command::new("curl")
            .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "--cacert"])
            .arg(&ca)
            .arg(format!("{}{path}", self.url()))
            .output()
            .expect("run curl");
        split_status(out)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        if let Some(node) = self.node.take() {
            node.cleanup();
            remove_cluster_dns(&self.dns_ip());
        }
    }
}

fn split_status(out: Output) -> (u16, String) {
    let stdout = text(&out.stdout);
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", stdout.as_str()));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// A background process, killed on drop.
pub struct Background {
    child: Child,
    out: PathBuf,
}

impl Background {
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits until the output contains `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.output();
            if out.contains(needle) {
                return out;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {needle:?} in:\n{out}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Polls `check` until it returns `Some`, or panics after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A local multi-node cluster made with `onebin cluster create`, deleted on drop.
pub struct Cluster {
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// Creates cluster `name` with `nodes` nodes and the test images on every node.
    pub fn create(name: &str, nodes: usize, extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new().prefix("onebin-cluster-").tempdir().expect("temp dir");
        let images = runtime_common::images();
        let cluster = Self { name: name.to_string(), dir };
        let nodes = nodes.to_string();
        let kubeconfig = cluster.kubeconfig();
        let mut args =
            vec!["create", name, "--nodes", &nodes, "--kubeconfig", kubeconfig.to_str().expect("utf-8 path")];
        let (busybox, nginx) = (images.busybox.display().to_string(), images.nginx.display().to_string());
        args.extend(["--image-archive", &busybox, "--image-archive", &nginx]);
        args.extend_from_slice(extra_args);
        let out = cluster.onebin(&args);
        assert!(out.status.success(), "cluster create failed:\n{}{}", text(&out.stdout), text(&out.stderr));
        cluster
    }

    /// `onebin cluster ARGS` with the shared test state dir.
    pub fn onebin(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_onebin"))
            .arg("cluster")
            .arg("--state-dir")
            .arg(cluster_state_dir())
            .args(args)
            .output()
            .expect("run onebin cluster")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(KUBECTL)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .output()
            .expect("run kubectl")
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(out.status.success(), "kubectl {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    /// Runs a command inside node `node`'s network namespace.
    pub fn on_node(&self, node: &str, command: &[&str]) -> Output {
        Command::new("nsenter")
            .arg(format!("--net=/run/netns/onebin-{node}"))
            .args(command)
            .output()
            .expect("run nsenter")
    }

    pub fn node_log(&self, node: &str) -> String {
        std::fs::read_to_string(cluster_state_dir().join(&self.name).join(node).join("onebin.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = self.onebin(&["delete", &self.name]);
        if !out.status.success() {
            eprintln!("deleting cluster {} failed: {}", self.name, text(&out.stderr));
        }
    }
}

/// All test clusters share one state dir so they get distinct subnets.
pub fn cluster_state_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("clusters")
}

/// Manifests and queries by file and jsonpath, alike for a server and a cluster.
pub trait Manifests {
    fn run_kubectl(&self, args: &[&str]) -> Output;
    /// A directory of the test's own for manifest files.
    fn scratch(&self) -> &Path;

    /// Writes `manifest` to a file called `name` and applies it.
    fn apply_file(&self, name: &str, manifest: &str) {
        let path = self.scratch().join(name);
        std::fs::write(&path, manifest).expect("write manifest");
        let out = self.run_kubectl(&["apply", "-f", path.to_str().expect("utf-8 path")]);
        assert!(out.status.success(), "kubectl apply {name} failed:\n{}\n{manifest}", text(&out.stderr));
    }

    /// `kubectl get <what> -o jsonpath=<path>`; empty when kubectl fails (a missing object).
    fn jsonpath(&self, what: &[&str], path: &str) -> String {
        let template = format!("jsonpath={path}");
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend(["-o", &template]);
        text(&self.run_kubectl(&args).stdout)
    }
}

impl Manifests for Server {
    fn run_kubectl(&self, args: &[&str]) -> Output {
        self.kubectl(args)
    }

    fn scratch(&self) -> &Path {
        self.dir.path()
    }
}

impl Manifests for Cluster {
    fn run_kubectl(&self, args: &[&str]) -> Output {
        self.kubectl(args)
    }

    fn scratch(&self) -> &Path {
        self.dir.path()
    }
}
