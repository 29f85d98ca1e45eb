//! install.sh itself, run as users run it: a server and three agents in four network-namespace
//! hosts, a Deployment spread over the agents, re-runs that change nothing or upgrade in place,
//! and uninstall scripts that leave nothing behind; an agent without a token, a taken port and
//! a download with the wrong checksum are refused without touching the machine.

mod install;

#[path = "runtime_common/mod.rs"]
mod runtime_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use install::{install_script, text, Host, Hosts, ONEBIN};

const TAINT: &str = "node-role.kubernetes.io/control-plane:NoSchedule";

fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The airgap images every node imports at start.
fn give_test_images(host: &Host) {
    let images = runtime_common::images();
    let dir = host.data_dir().join("agent").join("images");
    std::fs::create_dir_all(&dir).unwrap();
    for archive in [&images.busybox, &images.nginx] {
        let target = dir.join(archive.file_name().unwrap());
        if std::fs::hard_link(archive, &target).is_err() {
            std::fs::copy(archive, &target).unwrap();
        }
    }
}

/// The pid of the onebin process the supervisor runs on `host`.
fn onebin_pid(host: &Host) -> i32 {
    let path = PathBuf::from(format!("{}.pid.child", host.run_dir().display()));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim().parse().unwrap()
}

/// The `onebin server`/`onebin agent` processes running on `host`.
fn node_processes(host: &Host) -> Vec<(i32, String)> {
    host.processes()
        .into_iter()
        .filter(|(_, cmdline)| cmdline.contains(" server") || cmdline.contains(" agent"))
        .filter(|(_, cmdline)| cmdline.split_whitespace().next().is_some_and(|exe| exe.ends_with("/onebin")))
        .collect()
}

fn assert_nothing_left(host: &Host) {
    assert_eq!(host.processes(), Vec::<(i32, String)>::new(), "processes left on {}", host.name());
    assert_eq!(host.files(), Vec::<PathBuf>::new(), "files left on {}", host.name());
    assert_eq!(host.mounts(), Vec::<String>::new(), "mounts left on {}", host.name());
    assert_eq!(host.extra_links(), Vec::<String>::new(), "links left on {}", host.name());
    assert_eq!(host.nft_tables(), "", "nftables tables left on {}", host.name());
    assert!(!host.cgroup_exists(), "cgroup {} left on {}", host.cgroup_parent, host.name());
}

fn deployment() -> &'static str {
    "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: nginx, image: nginx:latest, imagePullPolicy: IfNotPresent}
"
}

fn running_web_pods(hosts: &Hosts) -> BTreeMap<String, Vec<String>> {
    let out = hosts.kubectl_ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "--field-selector=status.phase=Running",
        "-o",
        "jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP}{\"\\n\"}{end}",
    ]);
    let mut pods: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        if let Some((node, ip)) = line.split_once(' ') {
            pods.entry(node.to_string()).or_default().push(ip.to_string());
        }
    }
    pods
}

#[test]
fn one_server_and_three_agents_from_the_install_script() {
    let hosts = Hosts::new("inst", 4);
    for host in &hosts.hosts {
        give_test_images(host);
    }
    let server = hosts.server();
    let exec = format!("server --node-taint={TAINT}");
    let out = server.install_ok(&["sh"], &[("INSTALL_ONEBIN_EXEC", &exec)]);
    assert!(out.contains("onebin server is ready"), "{out}");
    assert!(out.contains(&server.data_dir().join("server/token").display().to_string()), "{out}");

    let token = std::fs::read_to_string(server.data_dir().join("server/token")).unwrap().trim().to_string();
    let url = hosts.server_url();
    assert!(out.contains(&format!("ONEBIN_URL={url} ONEBIN_TOKEN=<join token> sh -")), "{out}");
    let join = [("ONEBIN_URL", url.as_str()), ("ONEBIN_TOKEN", token.as_str())];
    // dash (Debian's sh) for two agents, busybox ash for one.
    for (agent, shell) in hosts.agents().iter().zip([&["busybox", "sh"][..], &["sh"], &["dash"]]) {
        let out = agent.install_ok(shell, &join);
        assert!(out.contains(&format!("onebin agent is ready: it joined {url}")), "{out}");
    }

    let nodes = hosts.kubectl_ok(&["get", "nodes", "--no-headers"]);
    assert_eq!(nodes.lines().filter(|l| l.split_whitespace().nth(1) == Some("Ready")).count(), 4, "{nodes}");
    for host in &hosts.hosts {
        assert!(nodes.contains(host.name()), "{nodes}");
    }

    // The generated scripts are part of the product too.
    for script in ["onebin-killall.sh", "onebin-uninstall.sh", "onebin-service.sh"] {
        let path = server.bin_dir().join(script);
        let out = Command::new("shellcheck").args(["-s", "sh"]).arg(&path).output().unwrap();
        assert!(out.status.success(), "shellcheck {script}:\n{}", text(&out.stdout));
    }
    let env_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(hosts.agents()[0].config_dir().join("onebin.env")).unwrap().permissions(),
    );
    assert_eq!(env_mode & 0o777, 0o600, "the environment file holds the join token");

    let manifest = hosts.dir.path().join("web.yaml");
    std::fs::write(&manifest, deployment()).unwrap();
    hosts.kubectl_ok(&["apply", "-f", manifest.to_str().unwrap()]);
    let pods = eventually(Duration::from_secs(60), "one web pod on each agent", || {
        let pods = running_web_pods(&hosts);
        let spread = hosts.agents().iter().all(|a| pods.get(a.name()).is_some_and(|p| p.len() == 1));
        spread.then_some(pods)
    });
    for ip in pods.values().flatten() {
        let out = server.run(&["curl", "-s", "-m", "5", &format!("http://{ip}/")], &[]);
        assert!(text(&out.stdout).contains("Welcome to nginx!"), "the server cannot reach nginx at {ip}");
    }

    // Running the installer again with the same settings leaves the running service alone.
    let agent = &hosts.agents()[1];
    let before = onebin_pid(agent);
    let out = agent.install_ok(&["sh"], &join);
    assert!(out.contains("is running and nothing changed"), "{out}");
    assert_eq!(onebin_pid(agent), before);
    assert_eq!(node_processes(agent).len(), 1, "{:?}", node_processes(agent));

    // A changed setting restarts it in place: one process again, same node, its pod kept.
    let label = [("ONEBIN_NODE_LABEL", "installed-by=script"), join[0], join[1]];
    let out = agent.install_ok(&["sh"], &label);
    assert!(out.contains("onebin agent is ready"), "{out}");
    assert_ne!(onebin_pid(agent), before);
    assert_eq!(node_processes(agent).len(), 1, "{:?}", node_processes(agent));
    let labels = hosts.kubectl_ok(&["get", "node", agent.name(), "-o", "jsonpath={.metadata.labels.installed-by}"]);
    assert_eq!(labels, "script");
    assert_eq!(running_web_pods(&hosts).get(agent.name()), pods.get(agent.name()), "the agent's pod survived");

    // killall stops everything but keeps the data; running it twice is fine.
    let killall = agent.bin_dir().join("onebin-killall.sh");
    for _ in 0..2 {
        let out = agent.run(&["sh", killall.to_str().unwrap()], &[]);
        assert!(out.status.success(), "killall: {}{}", text(&out.stdout), text(&out.stderr));
    }
    assert_eq!(agent.processes(), Vec::<(i32, String)>::new());
    assert_eq!(agent.extra_links(), Vec::<String>::new());
    assert!(agent.data_dir().join("agent").is_dir(), "killall keeps the data");

    for host in hosts.hosts.iter().rev() {
        let out = host.uninstall();
        assert!(out.status.success(), "uninstall on {}: {}{}", host.name(), text(&out.stdout), text(&out.stderr));
        assert_nothing_left(host);
    }
}

#[test]
fn an_agent_without_a_token_changes_nothing() {
    let root = tempfile::Builder::new().prefix("onebin-install-").tempdir().unwrap();
    for shell in [&["sh"][..], &["busybox", "sh"]] {
        let out = Command::new(shell[0])
            .args(&shell[1..])
            .arg(install_script())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("ONEBIN_URL", "https://192.0.2.1:6443")
            .env("INSTALL_ONEBIN_SKIP_DOWNLOAD", "true")
            .env("INSTALL_ONEBIN_BIN_PATH", ONEBIN)
            .env("INSTALL_ONEBIN_BIN_DIR", root.path().join("bin"))
            .env("INSTALL_ONEBIN_DATA_DIR", root.path().join("data"))
            .env("INSTALL_ONEBIN_CONFIG_DIR", root.path().join("etc"))
            .env("INSTALL_ONEBIN_RUN_DIR", root.path().join("run"))
            .env("INSTALL_ONEBIN_LOG_FILE", root.path().join("onebin.log"))
            .env("INSTALL_ONEBIN_SERVICE", "none")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{shell:?}: {}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("needs the server's token: set ONEBIN_TOKEN"), "{shell:?}: {stderr}");
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().flatten().map(|e| e.path()).collect();
        assert!(left.is_empty(), "{shell:?} changed the machine: {left:?}");
    }
}

/// `python3 -m http.server` serving a directory inside a host's namespace; killed on drop.
struct HttpServer(Child);

impl HttpServer {
    fn start(host: &Host, dir: &Path, port: u16) -> Self {
        let child = Command::new("nsenter")
            .arg(format!("--net={}", host.netns_path().display()))
            .args(["python3", "-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self(child);
        eventually(Duration::from_secs(10), "the release server", || {
            let out = host.run(&["curl", "-sf", "-o", "/dev/null", &format!("http://127.0.0.1:{port}/")], &[]);
            out.status.success().then_some(())
        });
        server
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    text(&out.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_taken_port_or_a_wrong_checksum_is_refused() {
    let hosts = Hosts::new("sum", 1);
    let host = hosts.server();
    let release = hosts.dir.path().join("release").join("v9.9.9");
    std::fs::create_dir_all(&release).unwrap();
    // The release mirror listens on the API server's port, so a server cannot start here.
    let http = HttpServer::start(host, &hosts.dir.path().join("release"), 6443);
    let out = host.install(&["sh"], &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("TCP port 6443 (the API server) is taken"), "{}", text(&out.stderr));
    assert_eq!(host.files(), Vec::<PathBuf>::new(), "a refused install changed the machine");

    let no_start = [("INSTALL_ONEBIN_SKIP_START", "true"), ("INSTALL_ONEBIN_SKIP_ENABLE", "true")];
    let out = host.install_ok(&["sh"], &no_start);
    assert!(out.contains("not starting onebin"), "{out}");
    let installed = host.bin_dir().join("onebin");
    let old_inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&installed).unwrap());

    // A release whose binary is a newer build (one byte longer) of onebin.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        _ => "arm",
    };
    let binary = release.join(format!("onebin-{arch}"));
    let mut bytes = std::fs::read(ONEBIN).unwrap();
    bytes.push(b'\n');
    std::fs::write(&binary, &bytes).unwrap();
    drop(bytes);
    let sums = release.join(format!("sha256sum-{arch}.txt"));
    std::fs::write(&sums, format!("{}  onebin-{arch}\n", "0".repeat(64))).unwrap();

    let mirror = "http://127.0.0.1:6443";
    let download = [("INSTALL_ONEBIN_DOWNLOAD_URL", mirror), ("INSTALL_ONEBIN_VERSION", "v9.9.9")];
    let mut env = vec![no_start[0], no_start[1], ("INSTALL_ONEBIN_SKIP_DOWNLOAD", "false")];
    env.extend(download);

    let out = host.install(&["sh"], &env);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("refusing to install it"), "{}", text(&out.stderr));
    let now = std::fs::metadata(&installed).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::ino(&now), old_inode, "the old binary was replaced");
    assert_eq!(sha256_hex(&installed), sha256_hex(Path::new(ONEBIN)));
    let strays: Vec<_> = std::fs::read_dir(host.bin_dir()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(!strays.iter().any(|n| n.to_string_lossy().starts_with(".onebin")), "{strays:?}");

    // With the right checksum the new binary goes in, downloaded by busybox's wget (no curl on
    // the PATH) under busybox ash, as on a minimal edge image.
    std::fs::write(&sums, format!("{}  onebin-{arch}\n", sha256_hex(&binary))).unwrap();
    let applets = hosts.dir.path().join("busybox-bin");
    std::fs::create_dir_all(&applets).unwrap();
    let out = Command::new("busybox").arg("--install").arg("-s").arg(&applets).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = applets.display().to_string();
    env.push(("PATH", &path));
    let busybox = install::which("busybox");
    let out = host.install(&[&busybox, "sh"], &env);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("verified"), "{}", text(&out.stdout));
    assert_eq!(sha256_hex(&installed), sha256_hex(&binary));

    let out = host.uninstall();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    drop(http);
    assert_eq!(host.files(), Vec::<PathBuf>::new());
}
