//! Containers end to end through the `onebin` CLI and the runtime service: nginx in its pod
//! network namespace, CRI logs, exec, exit codes, pod-shared localhost, memory limits, log
//! rotation, and containers that outlive the process that started them.

mod runtime_common;

use std::process::{Command, Stdio};
use std::time::Duration;

use onebin::runtime::types::{ContainerConfig, ContainerStatus, Resources, SandboxConfig};
use runtime_common::Node;

fn pod_of(node: &Node, container: &str) -> String {
    node.inspect(container)["sandbox_id"].as_str().unwrap().to_string()
}

fn status(info: &serde_json::Value) -> &str {
    info["state"]["status"].as_str().unwrap()
}

/// `curl` run inside the pod's network namespace.
fn curl_in_pod(node: &Node, pod: &str, url: &str) -> String {
    let netns = node.run_dir.join("netns").join(pod);
    let output = Command::new("nsenter")
        .arg(format!("--net={}", netns.display()))
        .args(["curl", "-sS", "--max-time", "5", "--retry", "20", "--retry-connrefused", "--retry-delay", "0", url])
        .output()
        .unwrap();
    assert!(output.status.success(), "curl {url} in pod {pod}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn nginx_serves_in_its_pod_netns_logs_execs_and_records_its_kill() {
    let node = Node::new();
    node.import_test_images();
    let id = node.ok(&["run", "-d", "--name", "web", "nginx"]).trim().to_string();
    let pod = pod_of(&node, &id);
    assert!(node.run_dir.join("netns").join(&pod).exists());

    let page = curl_in_pod(&node, &pod, "http://127.0.0.1/");
    assert!(page.contains("Welcome to nginx!"), "{page}");

    // The access log line reaches the CRI log file as a complete stdout line.
    let info = node.inspect(&id);
    let log_path = info["log_path"].as_str().unwrap().to_string();
    let mut access_line = None;
    for _ in 0..100 {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        access_line = log.lines().find(|l| l.contains("\"GET / HTTP/1.1\" 200")).map(str::to_string);
        if access_line.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let access_line = access_line.expect("access log line in the CRI log");
    let fields: Vec<&str> = access_line.splitn(4, ' ').collect();
    assert!(fields[0].parse::<jiff::Timestamp>().is_ok(), "timestamp: {access_line}");
    assert_eq!(&fields[1..3], ["stdout", "F"], "{access_line}");
    // nginx's notices go to stderr.
    assert!(std::fs::read_to_string(&log_path).unwrap().lines().any(|l| l.split(' ').nth(1) == Some("stderr")));
    let logs = node.ok(&["logs", &id]);
    assert!(logs.contains("GET / HTTP/1.1"), "{logs}");

    assert_eq!(node.ok(&["exec", &id, "--", "cat", "/run/nginx.pid"]), "1\n");
    let exit = node.run(&["exec", &id, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(exit.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&exit.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&exit.stderr), "err\n");

    let pid = info["state"]["pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    let done = node.wait_for(&id, Duration::from_secs(10), |i| status(i) == "Exited");
    assert_eq!(done["state"]["exit_code"], 137);
    assert!(done["state"]["finished_at"].is_string());
    assert!(node.run(&["exec", &id, "--", "true"]).status.code() != Some(0));

    // Removing it releases the rootfs mount, the pod, its namespaces and cgroups.
    node.ok(&["rm", &id]);
    assert!(node.ok(&["ps", "-a", "-q"]).is_empty());
    assert!(node.ok(&["pods"]).lines().count() == 1, "only the header is left");
    assert_eq!(node.mounts(), Vec::<String>::new());
    assert_eq!(node.cgroups(), Vec::<std::path::PathBuf>::new());
    assert!(!node.run_dir.join("netns").join(&pod).exists());
}

#[test]
fn containers_of_a_pod_share_localhost() {
    let node = Node::new();
    node.import_test_images();
    let web = node.ok(&["run", "-d", "--name", "web", "nginx"]).trim().to_string();
    let pod = pod_of(&node, &web);
    let side =
        node.ok(&["run", "-d", "--pod", &pod, "--name", "side", "busybox", "--", "sleep", "600"]).trim().to_string();
    assert_eq!(pod_of(&node, &side), pod);
    let mut page = String::new();
    for _ in 0..50 {
        let out = node.run(&["exec", &side, "--", "wget", "-qO-", "http://127.0.0.1/"]);
        page = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(page.contains("Welcome to nginx!"), "{page}");
    // Same UTS namespace: both see the pod's hostname.
    assert_eq!(node.ok(&["exec", &side, "--", "hostname"]), "web\n");
    assert_eq!(node.ok(&["exec", &web, "--", "cat", "/etc/hostname"]), "web\n");
    // Separate PID namespaces: each container is its own PID 1.
    assert_eq!(node.ok(&["exec", &side, "--", "cat", "/proc/1/comm"]), "sleep\n");
}

#[test]
fn memory_limit_is_enforced_and_oom_kills_are_reported() {
    let node = Node::new();
    node.import_test_images();
    // The shell doubles a string until it cannot.
    let id = node
        .ok(&[
            "run",
            "-d",
            "--memory",
            "24m",
            "--name",
            "hog",
            "busybox",
            "--",
            "sh",
            "-c",
            "x=0123456789; while true; do x=$x$x; done",
        ])
        .trim()
        .to_string();
    let done = node.wait_for(&id, Duration::from_secs(60), |i| status(i) == "Exited");
    assert_eq!(done["state"]["reason"], "OOMKilled", "{done:#}");
    assert_eq!(done["state"]["exit_code"], 137);
}

#[test]
fn logs_rotate_at_the_size_limit() {
    let node = Node::new();
    node.import_test_images();
    let mut config = node.runtime_config();
    config.log_max_size = 4096;
    config.log_max_files = 3;
    let runtime = onebin::runtime::service::RuntimeService::new(config).unwrap();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let info = tokio.block_on(async {
        let pod = runtime
            .run_sandbox(SandboxConfig {
                name: "chatty".into(),
                namespace: "default".into(),
                uid: "uid-chatty".into(),
                hostname: "chatty".into(),
                log_directory: logs.path().to_path_buf(),
                ..Default::default()
            })
            .await
            .unwrap();
        let id = runtime
            .create_container(
                &pod.id,
                ContainerConfig {
                    name: "talker".into(),
                    image: "busybox".into(),
                    command: vec![
                        "sh".into(),
                        "-c".into(),
                        "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done".into(),
                    ],
                    resources: Resources { memory_limit_bytes: Some(64 << 20), ..Default::default() },
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        runtime.start_container(&id).await.unwrap();
        loop {
            let info = runtime.container_status(&id).await.unwrap();
            if info.state.status == ContainerStatus::Exited {
                break info;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(info.state.exit_code, Some(0));
    assert_eq!(info.state.reason.as_deref(), Some("Completed"));
    assert_eq!(info.log_path, logs.path().join("talker/0.log"));
    let mut files: Vec<String> = std::fs::read_dir(logs.path().join("talker"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["0.log", "0.log.1", "0.log.2"]);
    for file in &files {
        assert!(std::fs::metadata(logs.path().join("talker").join(file)).unwrap().len() <= 4096);
    }
    let current = std::fs::read_to_string(&info.log_path).unwrap();
    assert!(current.trim_end().ends_with("stdout F line 2999"), "{current}");
}

#[test]
fn containers_outlive_the_process_that_started_them() {
    let node = Node::new();
    node.import_test_images();
    // `onebin run` without -d stays in the foreground following the logs, like an agent
    // holding its containers. Kill it hard.
    let mut foreground =
        node.command(&["run", "--name", "web", "nginx"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let id = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(foreground.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        line.trim().to_string()
    };
    node.wait_for(&id, Duration::from_secs(10), |i| status(i) == "Running");
    foreground.kill().unwrap();
    foreground.wait().unwrap();

    // New processes find it running and can manage it.
    let ps = node.ok(&["ps"]);
    assert!(ps.contains(&id[..13]) && ps.contains("Running"), "{ps}");
    let pod = pod_of(&node, &id);
    assert!(curl_in_pod(&node, &pod, "http://127.0.0.1/").contains("Welcome to nginx!"));
    assert_eq!(node.ok(&["exec", &id, "--", "cat", "/run/nginx.pid"]), "1\n");

    // And through the library, as a restarted agent would.
    let runtime = node.runtime();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let listed = tokio.block_on(runtime.list_containers()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state.status, ContainerStatus::Running);
    let stats = tokio.block_on(runtime.container_stats(&id)).unwrap();
    assert!(stats.memory_usage_bytes > 0 && stats.cpu_usage_nanos > 0, "{stats:?}");

    // nginx stops on its image's StopSignal (SIGQUIT) gracefully.
    node.ok(&["stop", "--timeout", "10", &id]);
    let done = node.inspect(&id);
    assert_eq!(status(&done), "Exited");
    assert_eq!(done["state"]["exit_code"], 0, "{done:#}");
    node.ok(&["rm", &id]);
    assert_eq!(node.mounts(), Vec::<String>::new());
}

#[test]
fn stop_escalates_to_sigkill_after_the_grace_period() {
    let node = Node::new();
    node.import_test_images();
    // PID 1 ignores SIGTERM (no handler installed); only SIGKILL ends it.
    let id = node.ok(&["run", "-d", "--name", "stubborn", "busybox", "--", "sleep", "600"]).trim().to_string();
    node.wait_for(&id, Duration::from_secs(10), |i| status(i) == "Running");
    let started = std::time::Instant::now();
    node.ok(&["stop", "--timeout", "1", &id]);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let done = node.inspect(&id);
    assert_eq!(done["state"]["exit_code"], 137);
    // No zombies left under the shim.
    let shim_pid: i32 =
        std::fs::read_to_string(node.run_dir.join("sandboxes").join(pod_of(&node, &id)).join("shim.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    let children = std::fs::read_to_string(format!("/proc/{shim_pid}/task/{shim_pid}/children")).unwrap();
    assert_eq!(children.trim(), "", "the shim has no children left");
}

#[test]
fn a_pod_whose_shim_died_can_still_be_removed() {
    let node = Node::new();
    node.import_test_images();
    let id = node.ok(&["run", "-d", "--name", "orphan", "busybox", "--", "sleep", "600"]).trim().to_string();
    let info = node.wait_for(&id, Duration::from_secs(10), |i| status(i) == "Running");
    let pid = info["state"]["pid"].as_i64().unwrap() as i32;
    let pod = pod_of(&node, &id);
    let shim_pid: i32 = std::fs::read_to_string(node.run_dir.join("sandboxes").join(&pod).join("shim.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(shim_pid), nix::sys::signal::SIGKILL).unwrap();
    node.wait_for(&id, Duration::from_secs(10), |i| status(i) == "Unknown");
    assert!(node.ok(&["pods"]).contains("NotReady"));

    node.ok(&["rm", "-f", &id]);
    assert!(node.ok(&["ps", "-a", "-q"]).is_empty());
    assert_eq!(node.ok(&["pods"]).lines().count(), 1, "only the header is left");
    assert_eq!(node.mounts(), Vec::<String>::new());
    assert_eq!(node.cgroups(), Vec::<std::path::PathBuf>::new());
    // The container's process went with its cgroup.
    std::thread::sleep(Duration::from_millis(100));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "container process {pid} survived its pod");
}
