//! LoadBalancer Services on a real single-node cluster: ServiceLB fills in EXTERNAL-IP (the
//! node's address, or one from `--lb-pool` which the node then holds), the service answers on
//! it, and `externalTrafficPolicy: Local` keeps the client's address where `Cluster` hides it.
//!
//! A client in a network namespace of its own, joined to the machine by a veth pair, plays a
//! machine on the node's network.

mod harness;
mod net;

use std::process::Command;
use std::time::Duration;

use harness::{eventually, text, Manifests, Server};
use net::Netns;

/// Sets up `/www` for busybox httpd: a CGI script answering with the host name and the client
/// address it saw.
const WHO_SCRIPT: &str = r#"mkdir -p /www/cgi-bin
printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho "$(hostname) $REMOTE_ADDR"\n' > /www/cgi-bin/who
chmod +x /www/cgi-bin/who
exec httpd -f -p 0.0.0.0:8080 -h /www
"#;

/// A pod answering on port 8080 with its name and the client address.
fn who_pod() -> String {
    let script: String = WHO_SCRIPT.lines().map(|line| format!("      {line}\n")).collect();
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: who
  labels: {{app: who}}
spec:
  containers:
  - name: who
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - |
{script}    readinessProbe:
      tcpSocket: {{port: 8080}}
      periodSeconds: 1
"
    )
}

/// A LoadBalancer service for the `who` pod on `port`.
fn load_balancer(name: &str, port: u16, policy: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: LoadBalancer
  externalTrafficPolicy: {policy}
  selector: {{app: who}}
  ports:
  - {{port: {port}, targetPort: 8080}}
"
    )
}

/// `curl` from `netns` (or the machine itself): the body when it answered.
fn get(netns: Option<&Netns>, url: &str) -> Option<String> {
    let output = match netns {
        Some(netns) => netns.exec(&["curl", "-s", "-m", "3", url]),
        None => Command::new("curl").args(["-s", "-m", "3", url]).output().unwrap(),
    };
    output.status.success().then(|| text(&output.stdout).trim().to_string())
}

/// A veth pair joining the machine (`subnet`.1) to a client namespace (`subnet`.2); the pair
/// goes with the namespace.
fn client(tag: &str, subnet: &str) -> Netns {
    let client = Netns::new(tag);
    let host_end = format!("obtc{}", std::process::id() % 100_000);
    net::run("ip", &["link", "add", &host_end, "type", "veth", "peer", "name", "eth0", "netns", &client.name]);
    net::run("ip", &["addr", "add", &format!("{subnet}.1/30"), "dev", &host_end]);
    net::run("ip", &["link", "set", &host_end, "up"]);
    client.ok(&["ip", "addr", "add", &format!("{subnet}.2/30"), "dev", "eth0"]);
    client.ok(&["ip", "link", "set", "eth0", "up"]);
    client.ok(&["ip", "route", "add", "default", "via", &format!("{subnet}.1")]);
    client
}

#[test]
fn load_balancers_answer_on_the_node_address_and_local_policy_keeps_the_client() {
    // The node's address is the machine's end of the client's veth pair, so the client reaches
    // the load-balancer addresses ServiceLB hands out (the node's InternalIP) directly.
    let client = client("lbc", "192.168.251");
    let server = Server::start_node_with(&[
        "--service-cidr",
        "10.222.0.0/16",
        "--cluster-dns",
        "10.222.0.10",
        "--node-ip",
        "192.168.251.1",
    ]);
    server.apply_file("who.yaml", &who_pod());
    server.apply_file("cluster.yaml", &load_balancer("cluster", 18081, "Cluster"));
    server.apply_file("local.yaml", &load_balancer("local", 18082, "Local"));
    let external = |service: &str| server.jsonpath(&["service", service], "{.status.loadBalancer.ingress[*].ip}");
    for service in ["cluster", "local"] {
        eventually(Duration::from_secs(20), "EXTERNAL-IP", || (external(service) == "192.168.251.1").then_some(()));
    }
    // A later service on a port another holds stays pending, as with k3s' host ports.
    server.apply_file("clash.yaml", &load_balancer("clash", 18081, "Cluster"));
    std::thread::sleep(Duration::from_millis(500));
    let listing = server.kubectl_ok(&["get", "services"]);
    assert!(listing.lines().any(|line| line.starts_with("cluster ") && line.contains("192.168.251.1")), "{listing}");
    assert!(listing.lines().any(|line| line.starts_with("clash ") && line.contains("<pending>")), "{listing}");

    eventually(Duration::from_secs(60), "the who pod to be ready", || {
        (server.jsonpath(&["pod", "who"], "{.status.conditions[?(@.type==\"Ready\")].status}") == "True").then_some(())
    });
    let gateway: ipnet::Ipv4Net = server.jsonpath(&["node", server.node_name()], "{.spec.podCIDR}").parse().unwrap();
    let gateway = gateway.hosts().next().unwrap().to_string();
    let answer = eventually(Duration::from_secs(20), "the Cluster load balancer", || {
        get(Some(&client), "http://192.168.251.1:18081/cgi-bin/who")
    });
    assert_eq!(answer, format!("who {gateway}"), "policy Cluster must masquerade");
    let answer = eventually(Duration::from_secs(20), "the Local load balancer", || {
        get(Some(&client), "http://192.168.251.1:18082/cgi-bin/who")
    });
    assert_eq!(answer, "who 192.168.251.2", "policy Local must keep the client address");
    let answer = get(None, "http://192.168.251.1:18081/cgi-bin/who").expect("the node reaches its load balancer");
    assert_eq!(answer, format!("who {gateway}"));

    // When the holder goes, the pending service gets the addresses.
    server.kubectl_ok(&["delete", "service", "cluster"]);
    eventually(Duration::from_secs(20), "the clashing service's EXTERNAL-IP", || {
        (external("clash") == "192.168.251.1").then_some(())
    });
    let answer = eventually(Duration::from_secs(20), "the clashing load balancer", || {
        get(Some(&client), "http://192.168.251.1:18081/cgi-bin/who")
    });
    assert!(answer.starts_with("who "), "{answer}");
}

/// Removes an address from `lo` when dropped (the agent is killed, not stopped, at the end).
struct LoopbackAddress(&'static str);

impl Drop for LoopbackAddress {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["addr", "del", &format!("{}/32", self.0), "dev", "lo"]).output();
    }
}

#[test]
fn pool_addresses_are_handed_out_held_by_the_node_and_answered() {
    // The node IP is 127.0.0.1 here, so the elected node holds pool addresses on `lo`.
    let _first = LoopbackAddress("198.51.100.210");
    let _second = LoopbackAddress("198.51.100.211");
    let server = Server::start_node_with(&[
        "--service-cidr",
        "10.223.0.0/16",
        "--cluster-dns",
        "10.223.0.10",
        "--lb-pool",
        "198.51.100.210-198.51.100.211",
        // The ingress controller's own LoadBalancer Service would take a pool address.
        "--disable-ingress",
    ]);
    server.apply_file("who.yaml", &who_pod());
    server.apply_file("a.yaml", &load_balancer("a", 18083, "Cluster"));
    server.apply_file("b.yaml", &load_balancer("b", 18083, "Cluster"));
    server.apply_file("c.yaml", &load_balancer("c", 18083, "Cluster"));
    let external = |service: &str| server.jsonpath(&["service", service], "{.status.loadBalancer.ingress[0].ip}");
    eventually(Duration::from_secs(20), "pool addresses", || {
        let (a, b) = (external("a"), external("b"));
        (!a.is_empty() && !b.is_empty()).then_some(())
    });
    let mut given = [external("a"), external("b")];
    given.sort();
    assert_eq!(given, ["198.51.100.210", "198.51.100.211"]);
    assert_eq!(external("c"), "", "the pool has two addresses");
    let annotation = server.jsonpath(&["service", "a"], "{.metadata.annotations.onebin\\.io/loadbalancer-node}");
    assert_eq!(annotation, server.node_name());
    let listing = server.kubectl_ok(&["get", "services"]);
    assert!(listing.lines().any(|line| line.starts_with("c ") && line.contains("<pending>")), "{listing}");

    eventually(Duration::from_secs(60), "the who pod to be ready", || {
        (server.jsonpath(&["pod", "who"], "{.status.conditions[?(@.type==\"Ready\")].status}") == "True").then_some(())
    });
    let address = external("a");
    let answer = eventually(Duration::from_secs(20), "the pool address", || {
        get(None, &format!("http://{address}:18083/cgi-bin/who"))
    });
    assert!(answer.starts_with("who "), "{answer}");
    let held = || text(&Command::new("ip").args(["-4", "addr", "show", "dev", "lo"]).output().unwrap().stdout);
    assert!(held().contains(&format!("{address}/32")), "{}", held());

    // Deleting a service frees its address: the node lets go and the pending service gets it.
    server.kubectl_ok(&["delete", "service", "a"]);
    eventually(Duration::from_secs(20), "the freed address to go to c", || (external("c") == address).then_some(()));
    assert!(held().contains(&format!("{address}/32")), "c's address must be held: {}", held());
    server.kubectl_ok(&["delete", "service", "b", "c"]);
    eventually(Duration::from_secs(20), "the addresses to be released", || {
        (!held().contains("198.51.100.21")).then_some(())
    });
}
