//! The node API end to end: real kubectl against a server whose embedded agent runs real pods
//! (nginx and busybox images built from this machine's packages): logs, exec (with and without
//! a terminal, over WebSocket and SPDY), attach, cp and port-forward, through the API server
//! to the node API of the server's own node and of a joined agent; the node API refuses
//! clients without the API server's (or an admin's) certificate, and the API server refuses
//! these subresources to node identities.

mod harness;

use std::process::{Command, Stdio};
use std::time::Duration;

use harness::{eventually, text, Server};

const NGINX: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: nginx, image: "nginx:latest", imagePullPolicy: IfNotPresent}
"#;

const BRIEF: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: brief}
spec:
  restartPolicy: Never
  containers:
  - {name: brief, image: "busybox:latest", imagePullPolicy: IfNotPresent, command: ["sh", "-c", "echo start; sleep 4; echo done"]}
"#;

const NOWHERE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: nowhere}
spec:
  nodeSelector: {no-such-label: "true"}
  containers:
  - {name: idle, image: "busybox:latest", imagePullPolicy: IfNotPresent}
"#;

/// Applies a manifest and waits until the pod runs; returns its IP.
fn run_pod(server: &Server, name: &str, manifest: &str) -> String {
    let out = server.kubectl_stdin(&["apply", "-f", "-"], manifest);
    assert!(out.status.success(), "apply failed: {}", text(&out.stderr));
    server.kubectl_ok(&["wait", "--for=condition=Ready", &format!("pod/{name}"), "--timeout=90s"]);
    server.kubectl_ok(&["get", "pod", name, "-o", "jsonpath={.status.podIP}"])
}

fn curl(url: &str) -> String {
    let out = Command::new("curl").args(["-sS", "--max-time", "10", url]).output().unwrap();
    assert!(out.status.success(), "curl {url}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn logs_through_the_node_api() {
    let server = Server::start_node();
    let ip = run_pod(&server, "web", NGINX);
    assert!(curl(&format!("http://{ip}/")).contains("Welcome to nginx!"));

    let logs = eventually(Duration::from_secs(10), "nginx's access log line", || {
        let logs = server.kubectl_ok(&["logs", "web"]);
        logs.contains("\"GET / HTTP/1.1\" 200").then_some(logs)
    });
    assert!(logs.lines().count() >= 1, "{logs}");

    // Following: a new request shows up while kubectl is streaming.
    let follow = server.kubectl_background(&["logs", "-f", "web"]);
    follow.wait_for("GET / HTTP/1.1", Duration::from_secs(10));
    curl(&format!("http://{ip}/follow-marker"));
    follow.wait_for("/follow-marker", Duration::from_secs(10));
    drop(follow);

    let last = server.kubectl_ok(&["logs", "web", "--tail=1"]);
    assert_eq!(last.lines().count(), 1, "{last}");
    assert!(last.contains("/follow-marker"), "{last}");

    let stamped = server.kubectl_ok(&["logs", "web", "--tail=1", "--timestamps", "-c", "nginx"]);
    let (stamp, line) = stamped.trim_end().split_once(' ').unwrap();
    assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{stamped}");
    assert!(line.contains("/follow-marker"), "{stamped}");

    assert!(server.kubectl_ok(&["logs", "web", "--since=1h"]).contains("/follow-marker"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(server.kubectl_ok(&["logs", "web", "--since=1s"]), "");
    assert_eq!(server.kubectl_ok(&["logs", "web", "--limit-bytes=5"]).len(), 5);

    let err = server.kubectl_err(&["logs", "web", "--previous"]);
    assert!(err.contains("previous terminated container \"nginx\" in pod \"web\" not found"), "{err}");
    let err = server.kubectl_err(&["logs", "web", "-c", "nope"]);
    assert!(err.contains("container nope is not valid for pod web"), "{err}");
    let err = server.kubectl_err(&["logs", "missing"]);
    assert!(err.contains("pods \"missing\" not found"), "{err}");

    // Following ends once the container exits and its log is drained.
    let out = server.kubectl_stdin(&["apply", "-f", "-"], BRIEF);
    assert!(out.status.success(), "{}", text(&out.stderr));
    server.kubectl_ok(&["wait", "--for=condition=Ready", "pod/brief", "--timeout=60s"]);
    let started = std::time::Instant::now();
    let followed = Command::new("timeout")
        .args(["60", "kubectl", "--kubeconfig"])
        .arg(server.kubeconfig())
        .args(["logs", "-f", "brief"])
        .output()
        .unwrap();
    assert!(followed.status.success(), "{}", text(&followed.stderr));
    assert_eq!(text(&followed.stdout), "start\ndone\n");
    assert!(started.elapsed() < Duration::from_secs(30));

    // A pod no node runs has no logs yet and nothing to exec in.
    let out = server.kubectl_stdin(&["apply", "-f", "-"], NOWHERE);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(server.kubectl_ok(&["logs", "nowhere"]), "");
    let err = server.kubectl_err(&["exec", "nowhere", "--", "true"]);
    assert!(err.contains("pod nowhere does not have a host assigned"), "{err}");

    // The node API itself takes only the API server's (or an admin's) certificate.
    let logs = "/containerLogs/default/web/nginx?tailLines=1";
    let admin = node_api_get(&server, &server.kubeconfig(), server.node_name(), logs);
    assert!(text(&admin.stdout).contains("/follow-marker"), "{}", text(&admin.stderr));
    assert_node_api_refuses_strangers(&server, server.node_name(), logs);
}

/// `kubectl get --raw PATH` straight to `node`'s API with the credentials in `kubeconfig`.
fn node_api_get(server: &Server, kubeconfig: &std::path::Path, node: &str, path: &str) -> std::process::Output {
    let port = "jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}";
    let port = server.kubectl_ok(&["get", "node", node, "-o", port]);
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--server", &format!("https://127.0.0.1:{port}"), "get", "--raw", path])
        .output()
        .unwrap()
}

/// Neither a client without a certificate nor a node's own identity reads `node`'s API.
fn assert_node_api_refuses_strangers(server: &Server, node: &str, path: &str) {
    let port = "jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}";
    let port = server.kubectl_ok(&["get", "node", node, "-o", port]);
    let (ca, _, _) = server.credentials();
    let url = format!("https://127.0.0.1:{port}{path}");
    let anonymous = Command::new("curl").args(["-sS", "--cacert"]).arg(&ca).arg(&url).output().unwrap();
    assert!(!anonymous.status.success(), "no client certificate, no answer: {}", text(&anonymous.stdout));
    let as_node = node_api_get(server, &node_kubeconfig(server), node, path);
    assert!(!as_node.status.success(), "{}", text(&as_node.stdout));
    let refusal = text(&as_node.stderr);
    assert!(refusal.contains("Forbidden (user=system:node:"), "{refusal}");
}

/// The embedded agent's kubeconfig: a node's identity.
fn node_kubeconfig(server: &Server) -> std::path::PathBuf {
    server.data_dir().join("agent").join("kubelet.kubeconfig")
}

const DUO: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: duo}
spec:
  containers:
  - {name: nginx, image: "nginx:latest", imagePullPolicy: IfNotPresent}
  - {name: sidecar, image: "busybox:latest", imagePullPolicy: IfNotPresent, command: ["sleep", "3600"]}
"#;

const TALKER: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  containers:
  - name: talk
    image: "busybox:latest"
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
"#;

const READER: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
  - name: read
    image: "busybox:latest"
    imagePullPolicy: IfNotPresent
    stdin: true
    stdinOnce: true
    command: ["sh", "-c", "read line; echo got $line"]
"#;

#[test]
fn exec_attach_and_cp() {
    let server = Server::start_node();
    run_pod(&server, "web", NGINX);
    run_pod(&server, "duo", DUO);

    assert_eq!(server.kubectl_ok(&["exec", "web", "--", "cat", "/run/nginx.pid"]).trim(), "1");

    let out = server.kubectl(&["exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "out\n");
    assert!(text(&out.stderr).contains("err\n"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("command terminated with exit code 3"), "{}", text(&out.stderr));

    let piped = server.kubectl_stdin(&["exec", "-i", "web", "--", "tr", "a-z", "A-Z"], "hello stdin\n");
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(text(&piped.stdout), "HELLO STDIN\n");

    // Clients without the WebSocket form speak SPDY: the same streams, the same exit codes.
    let spdy = [("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false")];
    let out = server.kubectl_env(&["exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 6"], &spdy);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "out\n");
    assert!(text(&out.stderr).contains("err\ncommand terminated with exit code 6"), "{}", text(&out.stderr));
    let kubeconfig = server.kubeconfig();
    let piped = Command::new("sh")
        .args(["-c", "printf 'over spdy\n' | kubectl --kubeconfig \"$0\" exec -i web -- tr a-z A-Z"])
        .arg(&kubeconfig)
        .envs(spdy)
        .output()
        .unwrap();
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(text(&piped.stdout), "OVER SPDY\n");

    // A terminal: kubectl itself runs on a pty (script), the command sees one too.
    for websockets in ["true", "false"] {
        let script =
            format!("kubectl --kubeconfig {} exec -it web -- sh -c 'tty; stty size; exit 4'", kubeconfig.display());
        let tty = Command::new("script")
            .args(["-qec", &script, "/dev/null"])
            .env("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", websockets)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let tty_out = text(&tty.stdout);
        assert!(tty_out.contains("/dev/pts/"), "websockets={websockets}: {tty_out}");
        assert!(tty_out.contains("command terminated with exit code 4"), "websockets={websockets}: {tty_out}");
    }
    let interactive = format!("kubectl --kubeconfig {} exec -it web -- sh", kubeconfig.display());
    let mut typing = Command::new("script")
        .args(["-qec", &interactive, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut keys = typing.stdin.take().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        keys.write_all(b"echo typed-$((40+2))\r").unwrap();
        std::thread::sleep(Duration::from_secs(1));
        keys.write_all(b"exit 5\r").unwrap();
        std::thread::sleep(Duration::from_secs(2));
    }
    let typed = text(&typing.wait_with_output().unwrap().stdout);
    assert!(typed.contains("typed-42"), "{typed}");
    assert!(typed.contains("command terminated with exit code 5"), "{typed}");

    let page = server.kubectl_ok(&["exec", "duo", "-c", "sidecar", "--", "wget", "-qO-", "http://localhost"]);
    assert!(page.contains("Welcome to nginx!"), "{page}");
    let err = server.kubectl_err(&["exec", "duo", "-c", "nope", "--", "true"]);
    assert!(err.contains("container nope is not valid for pod duo"), "{err}");

    // cp rides on exec with tar, both ways.
    let local = server.dir.path().join("payload.txt");
    std::fs::write(&local, "copied through the node API\n").unwrap();
    server.kubectl_ok(&["cp", local.to_str().unwrap(), "duo:/tmp/payload.txt", "-c", "sidecar"]);
    assert_eq!(
        server.kubectl_ok(&["exec", "duo", "-c", "sidecar", "--", "cat", "/tmp/payload.txt"]),
        "copied through the node API\n"
    );
    let back = server.dir.path().join("back.txt");
    server.kubectl_ok(&["cp", "duo:/tmp/payload.txt", back.to_str().unwrap(), "-c", "sidecar"]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "copied through the node API\n");
    // Megabytes cross intact both ways (flow control, the last chunk, end of input).
    let big: Vec<u8> = (0..4u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let big_local = server.dir.path().join("big.bin");
    std::fs::write(&big_local, &big).unwrap();
    server.kubectl_ok(&["cp", big_local.to_str().unwrap(), "duo:/tmp/big.bin", "-c", "sidecar"]);
    let big_back = server.dir.path().join("big-back.bin");
    server.kubectl_ok(&["cp", "duo:/tmp/big.bin", big_back.to_str().unwrap(), "-c", "sidecar"]);
    assert!(std::fs::read(&big_back).unwrap() == big, "4 MiB did not come back as sent");

    // attach follows the container's own output.
    run_pod(&server, "talker", TALKER);
    let attached = server.kubectl_background(&["attach", "talker"]);
    let seen = attached.wait_for("tick", Duration::from_secs(15));
    let first: u32 = seen.lines().find_map(|l| l.strip_prefix("tick ")?.trim().parse().ok()).unwrap();
    attached.wait_for(&format!("tick {}", first + 2), Duration::from_secs(15));
    drop(attached);

    // attach -i feeds the container's own stdin; with stdinOnce it ends with ours, and so
    // does the container, which ends the attach.
    run_pod(&server, "reader", READER);
    let fed = Command::new("sh")
        .args(["-c", "printf 'hello attach\\n' | timeout 30 kubectl --kubeconfig \"$0\" attach -i reader"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert!(fed.status.success(), "{}", text(&fed.stderr));
    assert!(text(&fed.stdout).contains("got hello attach"), "{}", text(&fed.stdout));

    // Ending nginx from inside: the exec ends with it, and the container restarts.
    let killed = server.kubectl(&["exec", "web", "--", "sh", "-c", "kill 1; sleep 30"]);
    let stderr = text(&killed.stderr);
    assert_eq!(killed.status.code(), Some(137), "{stderr}");
    assert!(stderr.contains("command terminated with exit code 137"), "{stderr}");
    eventually(Duration::from_secs(60), "nginx to restart", || {
        let restarts =
            server.kubectl_ok(&["get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"]);
        let ready = server.kubectl_ok(&["get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].ready}"]);
        (restarts == "1" && ready == "true").then_some(())
    });
    let previous = server.kubectl_ok(&["logs", "web", "--previous"]);
    assert!(previous.contains("signal 15") || previous.contains("exiting"), "{previous}");
}

#[test]
fn port_forward() {
    let server = Server::start_node();
    run_pod(&server, "web", NGINX);
    for (transport, env) in [("websocket", "true"), ("spdy", "false")] {
        let local = harness::free_port().to_string();
        let mapping = format!("{local}:80");
        let forward = server.kubectl_background_env(
            &["port-forward", "pod/web", &mapping],
            &[("KUBECTL_PORT_FORWARD_WEBSOCKETS", env)],
        );
        forward.wait_for("Forwarding from 127.0.0.1", Duration::from_secs(15));
        for _ in 0..2 {
            let page = curl(&format!("http://127.0.0.1:{local}/"));
            assert!(page.contains("Welcome to nginx!"), "{transport}: {page}");
        }
        drop(forward);
    }
}

const EDGE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: edge}
spec:
  nodeName: NODE
  containers:
  - {name: edge, image: "busybox:latest", imagePullPolicy: IfNotPresent, command: ["sh", "-c", "echo hello from the edge; sleep 3600"]}
"#;

#[test]
fn joined_agents_serve_the_node_api_and_nodes_cannot_exec() {
    let server = Server::start_node();
    let edge = format!("edge-{}", server.port);
    let _agent = server.start_agent(&edge, &server.token(), &[]);
    server.wait_node_ready(&edge);
    run_pod(&server, "edge", &EDGE.replace("NODE", &edge));

    // Through the API server, which reaches the joined agent with its client certificate.
    eventually(Duration::from_secs(10), "the edge pod's log", || {
        (server.kubectl_ok(&["logs", "edge"]) == "hello from the edge\n").then_some(())
    });
    let out = server.kubectl(&["exec", "edge", "--", "sh", "-c", "echo $((6*7)); exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "42\n");

    // The agent's node API was issued a certificate at join that the admin's CA trusts.
    let logs = "/containerLogs/default/edge/edge";
    let admin = node_api_get(&server, &server.kubeconfig(), &edge, logs);
    assert_eq!(text(&admin.stdout), "hello from the edge\n", "{}", text(&admin.stderr));
    assert_node_api_refuses_strangers(&server, &edge, logs);

    // A node's identity may not exec, attach, forward ports or read logs through the API server.
    let as_node = |args: &[&str]| {
        let out =
            Command::new("kubectl").arg("--kubeconfig").arg(node_kubeconfig(&server)).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}: {}", text(&out.stdout));
        text(&out.stderr)
    };
    for args in
        [&["exec", "edge", "--", "true"][..], &["attach", "edge"], &["logs", "edge"], &["port-forward", "edge", "0:80"]]
    {
        let refusal = as_node(args);
        assert!(
            refusal.contains("pods \"edge\" is forbidden: no relationship found between node"),
            "{args:?}: {refusal}"
        );
    }
}
