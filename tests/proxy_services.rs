//! Services on a real single-node cluster: the embedded agent's service proxy follows Services
//! and EndpointSlices through the API and makes cluster IPs and node ports reach the pods,
//! spread over them, sticky with ClientIP affinity, refused without endpoints, and reachable by
//! a pod through its own service.
//!
//! Each pod runs nginx on port 80 and busybox httpd on port 8080, whose CGI script answers with
//! the pod's host name and the client address it saw.

mod harness;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use harness::{eventually, text, Manifests, Server};

/// A service range of this test's own, so that parallel tests (sharing the machine's network
/// namespace) never program the same cluster IP.
const SERVICE_CIDR: &str = "10.221.0.0/16";

/// Sets up `/www` for busybox httpd: a CGI script answering with the host name (the pod's
/// name) and the client address, and an index page with the host name.
const WHO_SCRIPT: &str = r#"mkdir -p /www/cgi-bin
printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho "$(hostname) $REMOTE_ADDR"\n' > /www/cgi-bin/who
chmod +x /www/cgi-bin/who
hostname > /www/index.html
"#;

/// `script` as a YAML literal block indented by `indent` spaces.
fn block(script: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    script.lines().map(|line| format!("{pad}{line}\n")).collect()
}

/// `curl` from the node: (exit code, body).
fn curl(url: &str) -> (Option<i32>, String) {
    let output = std::process::Command::new("curl").args(["-s", "-m", "3", url]).output().unwrap();
    (output.status.code(), text(&output.stdout).trim().to_string())
}

fn manifests() -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 3
  selector:
    matchLabels: {{app: echo}}
  template:
    metadata:
      labels: {{app: echo}}
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        imagePullPolicy: IfNotPresent
        ports:
        - {{name: web, containerPort: 80}}
      - name: who
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command:
        - sh
        - -c
        - |
{script}          exec httpd -f -p 0.0.0.0:8080 -h /www
        ports:
        - {{name: who, containerPort: 8080}}
        readinessProbe:
          tcpSocket: {{port: 8080}}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector: {{app: echo}}
  ports:
  - {{name: http, port: 80, targetPort: web}}
  - {{name: who, port: 81, targetPort: who}}
---
apiVersion: v1
kind: Service
metadata:
  name: sticky
spec:
  selector: {{app: echo}}
  sessionAffinity: ClientIP
  ports:
  - {{name: who, port: 80, targetPort: who}}
---
apiVersion: v1
kind: Service
metadata:
  name: echo-np
spec:
  type: NodePort
  selector: {{app: echo}}
  ports:
  - {{name: who, port: 80, targetPort: 8080, nodePort: 32201}}
---
apiVersion: v1
kind: Service
metadata:
  name: hairpin
spec:
  selector: {{app: hairpin}}
  ports:
  - {{port: 80, targetPort: 8080}}
",
        script = block(WHO_SCRIPT, 10)
    )
}

/// A pod that serves and then reaches itself through its own service (its address comes from
/// the service environment variables), leaving what it got in its web root.
fn hairpin_pod() -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: hairpin
  labels: {{app: hairpin}}
spec:
  containers:
  - name: who
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - |
{script}      httpd -p 0.0.0.0:8080 -h /www
      for i in $(seq 60); do
        wget -q -T 2 -O /tmp/hairpin.txt http://$HAIRPIN_SERVICE_HOST/cgi-bin/who && mv /tmp/hairpin.txt /www/ && break
        sleep 1
      done
      exec sleep 3600
",
        script = block(WHO_SCRIPT, 6)
    )
}

/// An address of this machine NodePorts must answer on: the source of its default route, or
/// else the node's bridge address.
fn node_address(server: &Server) -> String {
    let route =
        text(&std::process::Command::new("ip").args(["-4", "route", "get", "192.0.2.123"]).output().unwrap().stdout);
    if let Some(source) = route.split_whitespace().skip_while(|word| *word != "src").nth(1) {
        return source.to_string();
    }
    let cidr = server.jsonpath(&["node", server.node_name()], "{.spec.podCIDR}");
    let network: ipnet::Ipv4Net = cidr.parse().unwrap();
    network.hosts().next().unwrap().to_string()
}

#[test]
fn services_reach_ready_pods_spread_stick_refuse_and_hairpin() {
    let mut server = Server::start_node_with(&["--service-cidr", SERVICE_CIDR, "--cluster-dns", "10.221.0.10"]);
    server.apply_file("echo.yaml", &manifests());
    server.apply_file("hairpin.yaml", &hairpin_pod());
    eventually(Duration::from_secs(60), "three ready echo pods", || {
        (server.jsonpath(&["deployment", "echo"], "{.status.readyReplicas}") == "3").then_some(())
    });
    let pods: BTreeSet<String> = server
        .jsonpath(&["pods", "-l", "app=echo"], "{.items[*].metadata.name}")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(pods.len(), 3);
    let cluster_ip = server.jsonpath(&["service", "echo"], "{.spec.clusterIP}");
    assert!(cluster_ip.starts_with("10.221."), "{cluster_ip}");

    // The node reaches nginx through the cluster IP, and the requests spread over all pods.
    let page = eventually(Duration::from_secs(20), "nginx behind the cluster IP", || {
        let (_, body) = curl(&format!("http://{cluster_ip}/"));
        body.contains("Welcome to nginx!").then_some(body)
    });
    assert!(page.contains("Welcome to nginx!"));
    let who = format!("http://{cluster_ip}:81/cgi-bin/who");
    let seen: BTreeSet<String> =
        (0..40).map(|_| curl(&who).1.split_whitespace().next().unwrap_or_default().to_string()).collect();
    assert_eq!(seen, pods, "requests did not reach every pod");

    // ClientIP affinity keeps the node on one pod.
    let sticky_ip = server.jsonpath(&["service", "sticky"], "{.spec.clusterIP}");
    let sticky = format!("http://{sticky_ip}/cgi-bin/who");
    eventually(Duration::from_secs(10), "the sticky service", || (curl(&sticky).0 == Some(0)).then_some(()));
    let stuck: BTreeSet<String> = (0..15).map(|_| curl(&sticky).1).collect();
    assert_eq!(stuck.len(), 1, "affinity broke: {stuck:?}");

    // The NodePort answers on the node's address.
    let node_port = format!("http://{}:32201/cgi-bin/who", node_address(&server));
    let answer = eventually(Duration::from_secs(10), "the node port", || {
        let (code, body) = curl(&node_port);
        (code == Some(0)).then_some(body)
    });
    assert!(pods.contains(answer.split_whitespace().next().unwrap()), "{answer}");

    // A second service cannot take the same node port.
    let clash = "apiVersion: v1\nkind: Service\nmetadata: {name: clash}\nspec:\n  type: NodePort\n  \
                 ports: [{port: 80, nodePort: 32201}]\n";
    let out = server.kubectl_stdin(&["apply", "-f", "-"], clash);
    assert!(!out.status.success() && text(&out.stderr).contains("already allocated"), "{}", text(&out.stderr));

    // A pod reaching itself through its service gets its own answer back.
    let hairpin_ip = eventually(Duration::from_secs(60), "the hairpin pod's address", || {
        let ip = server.jsonpath(&["pod", "hairpin"], "{.status.podIP}");
        (!ip.is_empty()).then_some(ip)
    });
    let hairpin = eventually(Duration::from_secs(60), "the hairpin pod to reach itself", || {
        let (code, body) = curl(&format!("http://{hairpin_ip}:8080/hairpin.txt"));
        (code == Some(0) && body.starts_with("hairpin ")).then_some(body)
    });
    assert!(!hairpin.ends_with(&hairpin_ip), "hairpin traffic must not arrive from the pod's own address: {hairpin}");

    // A restarted agent rebuilds the same rules, and the services keep answering.
    let before = chains(&server);
    assert!(before.iter().any(|chain| chain.ends_with("-default/echo/tcp/who")), "{before:?}");
    server.restart();
    eventually(Duration::from_secs(30), "the same chains after a restart", || {
        (chains(&server) == before).then_some(())
    });
    eventually(Duration::from_secs(10), "the cluster IP after a restart", || (curl(&who).0 == Some(0)).then_some(()));

    // Without pods, connections are refused at once rather than hanging.
    server.kubectl_ok(&["scale", "deployment", "echo", "--replicas=0"]);
    eventually(Duration::from_secs(60), "connections to be refused", || {
        let started = Instant::now();
        let (code, _) = curl(&who);
        (code == Some(7)).then_some(()).filter(|()| started.elapsed() < Duration::from_secs(2))
    });

    // Deleted services leave nothing behind.
    server.kubectl_ok(&["delete", "service", "echo", "sticky", "echo-np"]);
    eventually(Duration::from_secs(20), "the deleted services' rules to go", || {
        let listing = table(&server);
        let gone = [cluster_ip.as_str(), sticky_ip.as_str(), "32201", "/echo/", "/sticky/", "/echo-np/"];
        (!gone.iter().any(|needle| listing.contains(needle))).then_some(())
    });
    assert!(table(&server).contains("/hairpin/"), "an unrelated service lost its rules");
}

/// `nft list table` of the node's proxy.
fn table(server: &Server) -> String {
    let listing = std::process::Command::new("nft").args(["list", "table", "ip", server.proxy_table()]).output();
    text(&listing.unwrap().stdout)
}

/// The chains of the node's proxy table, sorted.
fn chains(server: &Server) -> BTreeSet<String> {
    table(server)
        .lines()
        .filter_map(|line| Some(line.trim().strip_prefix("chain ")?.strip_suffix(" {")?.to_string()))
        .collect()
}
