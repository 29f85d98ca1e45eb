//! The service proxy on its own, end to end in network namespaces: a fake node ("host") with a
//! pod network, pods running busybox httpd (a CGI script answers with the pod's name and the
//! client address it saw) or a Python UDP echo, and an "outside" machine on the host's uplink.
//! The proxy is fed Service and EndpointSlice objects directly, as its API watch would.

mod net;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use net::Netns;
use onebin::net::proxy::announce::Announcer;
use onebin::net::proxy::{Proxy, ProxyConfig};
use onebin::net::{PodNetwork, PodNetworkConfig};
use serde_json::{json, Value};

const NODE: &str = "node-a";
const TABLE: &str = "onebin-proxy";

/// A fake node: its namespace, an outside machine (192.0.2.2) on its uplink (192.0.2.1), and
/// pods on its pod network 10.42.0.0/24.
struct Node {
    host: Netns,
    outside: Netns,
    state: tempfile::TempDir,
    pods: Vec<Pod>,
}

/// A pod namespace with the servers it runs, stopped on drop.
struct Pod {
    name: String,
    ip: Ipv4Addr,
    netns: Netns,
    servers: Vec<Child>,
    _www: tempfile::TempDir,
}

impl Drop for Pod {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

impl Node {
    /// A node whose pods `names` serve HTTP on port 8080.
    fn with_pods(names: &[&str]) -> Self {
        let host = Netns::new("phost");
        let outside = Netns::new("pout");
        host.ok(&["ip", "link", "add", "uplink", "type", "veth", "peer", "name", "wan", "netns", &outside.name]);
        host.ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", "uplink"]);
        host.ok(&["ip", "link", "set", "uplink", "up"]);
        host.ok(&["ip", "route", "add", "default", "via", "192.0.2.2"]);
        outside.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "wan"]);
        outside.ok(&["ip", "link", "set", "wan", "up"]);
        let state = tempfile::tempdir().unwrap();
        let namespaces: Vec<Netns> = names.iter().map(|_| Netns::new("ppod")).collect();
        let ips = host.run(|| async {
            let network =
                PodNetwork::new(PodNetworkConfig::new("10.42.0.0/24".parse().unwrap(), state.path().join("ipam")))
                    .await
                    .unwrap();
            let mut ips = Vec::new();
            for (name, netns) in names.iter().zip(&namespaces) {
                ips.push(network.setup(&format!("sandbox-{name}"), &netns.path(), "default", name).await.unwrap().ip);
            }
            ips
        });
        let pods = names
            .iter()
            .zip(namespaces)
            .zip(ips)
            .map(|((name, netns), ip)| {
                let www = tempfile::tempdir().unwrap();
                std::fs::create_dir(www.path().join("cgi-bin")).unwrap();
                let script = www.path().join("cgi-bin/who");
                let body = format!("#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"{name} $REMOTE_ADDR\"\n");
                std::fs::write(&script, body).unwrap();
                std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
                let www_dir = www.path().to_str().unwrap().to_string();
                let httpd = spawn_in(&netns, &["busybox", "httpd", "-f", "-p", "0.0.0.0:8080", "-h", &www_dir]);
                Pod { name: name.to_string(), ip, netns, servers: vec![httpd], _www: www }
            })
            .collect();
        let node = Self { host, outside, state, pods };
        for pod in &node.pods {
            wait_for(&format!("httpd in {}", pod.name), || {
                pod.netns
                    .exec(&["busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/cgi-bin/who"])
                    .status
                    .success()
            });
        }
        node
    }

    fn pod(&self, name: &str) -> &Pod {
        self.pods.iter().find(|pod| pod.name == name).unwrap()
    }

    fn config(&self) -> ProxyConfig {
        ProxyConfig {
            table: TABLE.to_string(),
            node_name: NODE.to_string(),
            node_ip: "192.0.2.1".parse().unwrap(),
            cluster_cidr: "10.42.0.0/16".parse().unwrap(),
            state_dir: self.state.path().join("proxy"),
        }
    }

    /// A proxy for the host namespace.
    fn proxy(&self) -> Proxy {
        let config = self.config();
        self.host.run(|| async move { Proxy::new(&config).unwrap() })
    }
}

fn spawn_in(netns: &Netns, command: &[&str]) -> Child {
    Command::new("ip")
        .args(["netns", "exec", &netns.name])
        .args(command)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sync(proxy: &mut Proxy) -> onebin::net::proxy::SyncReport {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(proxy.sync()).unwrap()
}

fn service(name: &str, spec: Value) -> Service {
    service_with(name, spec, json!({}), json!({}))
}

fn service_with(name: &str, spec: Value, status: Value, annotations: Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"namespace": "default", "name": name, "annotations": annotations},
        "spec": spec, "status": status,
    }))
    .unwrap()
}

/// An EndpointSlice of service `name` with port `port_name` at `port` on `endpoints`
/// (address, node, ready).
fn slice(
    name: &str,
    port_name: &str,
    protocol: &str,
    port: u16,
    endpoints: &[(Ipv4Addr, &str, bool)],
) -> EndpointSlice {
    let endpoints: Vec<Value> = endpoints
        .iter()
        .map(|(ip, node, ready)| json!({"addresses": [ip.to_string()], "nodeName": node, "conditions": {"ready": ready}}))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"namespace": "default", "name": format!("{name}-abc"), "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "ports": [{"name": port_name, "port": port, "protocol": protocol}],
        "endpoints": endpoints,
    }))
    .unwrap()
}

/// One HTTP request from `netns`: the body, or `None` when it failed.
fn get(netns: &Netns, url: &str) -> Option<String> {
    let output = netns.exec(&["curl", "-s", "-m", "3", url]);
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The pod names answering `count` requests.
fn answering(netns: &Netns, url: &str, count: usize) -> BTreeSet<String> {
    (0..count)
        .map(|_| get(netns, url).unwrap_or_else(|| panic!("{url} did not answer")))
        .map(|body| body.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| name.to_string()).collect()
}

/// The handles of the rules in `chain` of the proxy's table.
fn rule_handles(host: &Netns, chain: &str) -> Vec<String> {
    let listing = host.ok(&["nft", "-a", "list", "chain", "ip", TABLE, chain]);
    listing.lines().filter_map(|line| line.split("# handle ").nth(1)).map(str::to_string).collect()
}

fn chain_named(host: &Netns, prefix: &str, suffix: &str) -> String {
    let listing = host.ok(&["nft", "list", "table", "ip", TABLE]);
    listing
        .lines()
        .filter_map(|line| line.trim().strip_prefix("chain ")?.strip_suffix(" {"))
        .find(|chain| chain.starts_with(prefix) && chain.ends_with(suffix))
        .unwrap_or_else(|| panic!("no chain {prefix}…{suffix} in\n{listing}"))
        .to_string()
}

#[test]
fn cluster_ips_spread_stick_refuse_and_bring_hairpin_traffic_back() {
    let node = Node::with_pods(&["p1", "p2", "client"]);
    let (p1, p2) = (node.pod("p1").ip, node.pod("p2").ip);
    let mut proxy = node.proxy();
    let spec = |ip: &str, extra: Value| {
        let mut spec = json!({"clusterIP": ip, "ports": [{"name": "http", "port": 80, "targetPort": "web"}]});
        spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        spec
    };
    proxy.set_service(service("web", spec("10.43.0.20", json!({}))));
    proxy.set_slice(slice("web", "http", "TCP", 8080, &[(p1, NODE, true), (p2, "node-b", true)]));
    proxy.set_service(service("self", spec("10.43.0.21", json!({}))));
    proxy.set_slice(slice("self", "http", "TCP", 8080, &[(p1, NODE, true)]));
    let sticky = json!({"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}});
    proxy.set_service(service("sticky", spec("10.43.0.22", sticky)));
    proxy.set_slice(slice("sticky", "http", "TCP", 8080, &[(p1, NODE, true), (p2, NODE, true)]));
    proxy.set_service(service("headless", json!({"clusterIP": "None", "ports": [{"port": 80}]})));
    let report = sync(&mut proxy);
    assert!(report.rebuilt && report.services == 4, "{report:?}");

    // From the node: spread over both endpoints, masqueraded (the node is not a pod).
    let url = "http://10.43.0.20/cgi-bin/who";
    assert_eq!(answering(&node.host, url, 30), names(&["p1", "p2"]));
    let seen = get(&node.host, url).unwrap();
    assert!(seen.ends_with(" 10.42.0.1"), "traffic from the node was not masqueraded: {seen}");
    // From a pod: its own address arrives.
    let client = node.pod("client");
    let seen = get(&client.netns, url).unwrap();
    assert!(seen.ends_with(&format!(" {}", client.ip)), "pod traffic was masqueraded: {seen}");
    // A pod reaching itself through its service gets an answer, from the gateway's address.
    let seen = get(&node.pod("p1").netns, "http://10.43.0.21/cgi-bin/who").expect("hairpin traffic got no answer");
    assert_eq!(seen, "p1 10.42.0.1");
    // ClientIP affinity: one endpoint for all of a client's connections.
    assert_eq!(answering(&node.host, "http://10.43.0.22/cgi-bin/who", 20).len(), 1);
    assert!(node.host.ok(&["nft", "list", "table", "ip", TABLE]).contains("flags dynamic,timeout"));

    // Without endpoints, connections are refused at once; other services' rules stay as they were.
    let sticky_chain = chain_named(&node.host, "service-", "-default/sticky/tcp/http");
    let sticky_rules = rule_handles(&node.host, &sticky_chain);
    proxy.set_slice(slice("web", "http", "TCP", 8080, &[]));
    let report = sync(&mut proxy);
    assert!(!report.rebuilt && report.services == 1, "{report:?}");
    let started = Instant::now();
    let refused = node.host.exec(&["curl", "-s", "-m", "5", url]);
    assert_eq!(refused.status.code(), Some(7), "expected connection refused");
    assert!(started.elapsed() < Duration::from_secs(2), "refusing took {:?}", started.elapsed());
    let refused = client.netns.exec(&["curl", "-s", "-m", "5", url]);
    assert_eq!(refused.status.code(), Some(7), "expected connection refused from a pod");
    assert_eq!(rule_handles(&node.host, &sticky_chain), sticky_rules, "an unrelated service was rewritten");

    // Endpoints back: served again; the emptied chains go after their grace period.
    proxy.set_slice(slice("web", "http", "TCP", 8080, &[(p2, NODE, true)]));
    sync(&mut proxy);
    assert_eq!(answering(&node.host, url, 5), names(&["p2"]));
    proxy.delete_service("default", "self");
    sync(&mut proxy);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(proxy.has_pending_changes(Instant::now()));
    sync(&mut proxy);
    let listing = node.host.ok(&["nft", "list", "table", "ip", TABLE]);
    assert!(!listing.contains("default/self/"), "chains of a deleted service remain:\n{listing}");
    assert!(!listing.contains("10.43.0.21"), "{listing}");
}

#[test]
fn udp_and_named_ports_of_a_multi_port_service() {
    let node = Node::with_pods(&["p1"]);
    let pod = node.pod("p1");
    let echo = "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',5353))\n\
                while True:\n d,a=s.recvfrom(512)\n s.sendto(b'p1 '+a[0].encode(),a)";
    let mut servers = vec![spawn_in(&pod.netns, &["python3", "-c", echo])];
    let mut proxy = node.proxy();
    proxy.set_service(service(
        "multi",
        json!({"clusterIP": "10.43.0.30", "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "web"},
            {"name": "sctp", "port": 9, "protocol": "SCTP"},
        ]}),
    ));
    let mut two_ports = slice("multi", "dns", "UDP", 5353, &[(pod.ip, NODE, true)]);
    two_ports
        .ports
        .as_mut()
        .unwrap()
        .push(serde_json::from_value(json!({"name": "http", "port": 8080, "protocol": "TCP"})).unwrap());
    two_ports
        .ports
        .as_mut()
        .unwrap()
        .push(serde_json::from_value(json!({"name": "sctp", "port": 9999, "protocol": "SCTP"})).unwrap());
    proxy.set_slice(two_ports);
    sync(&mut proxy);

    let ask = "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(2)\n\
               s.sendto(b'hi',('10.43.0.30',53))\nprint(s.recvfrom(512)[0].decode())";
    let mut answer = None;
    wait_for("the UDP echo", || {
        let output = node.host.exec(&["python3", "-c", ask]);
        answer = output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string());
        answer.is_some()
    });
    assert_eq!(answer.unwrap(), "p1 10.42.0.1");
    assert_eq!(get(&node.host, "http://10.43.0.30/cgi-bin/who").unwrap(), "p1 10.42.0.1");
    // This kernel may lack SCTP; its rules are there all the same.
    let listing = node.host.ok(&["nft", "list", "table", "ip", TABLE]);
    assert!(listing.contains("10.43.0.30 . sctp . 9"), "{listing}");
    assert!(listing.contains(&format!("meta l4proto sctp dnat to {}:9999", pod.ip)), "{listing}");
    for server in &mut servers {
        let _ = server.kill();
        let _ = server.wait();
    }
}

#[test]
fn node_ports_and_load_balancer_addresses_follow_the_external_traffic_policy() {
    let node = Node::with_pods(&["p1"]);
    let p1 = node.pod("p1").ip;
    let remote: Ipv4Addr = "10.42.9.9".parse().unwrap();
    let mut proxy = node.proxy();
    let spec = |ip: &str, node_port: u16, policy: &str| {
        json!({"type": "LoadBalancer", "clusterIP": ip, "externalTrafficPolicy": policy,
               "ports": [{"name": "http", "port": 80, "nodePort": node_port}]})
    };
    let ingress = |ip: &str| json!({"loadBalancer": {"ingress": [{"ip": ip}]}});
    let elected = json!({"onebin.io/loadbalancer-node": NODE});
    proxy.set_service(service_with("cluster", spec("10.43.0.40", 30080, "Cluster"), ingress("192.0.2.50"), elected));
    proxy.set_slice(slice("cluster", "http", "TCP", 8080, &[(p1, NODE, true)]));
    proxy.set_service(service_with("local", spec("10.43.0.41", 30081, "Local"), ingress("198.51.100.7"), json!({})));
    // The remote endpoint does not exist: picking it would time out.
    proxy.set_slice(slice("local", "http", "TCP", 8080, &[(p1, NODE, true), (remote, "node-b", true)]));
    proxy.set_service(service(
        "nobody",
        json!({"type": "NodePort", "clusterIP": "10.43.0.42",
        "ports": [{"name": "http", "port": 80, "nodePort": 30082}]}),
    ));
    sync(&mut proxy);

    // Policy Cluster hides the client behind the node; Local keeps it and uses local endpoints.
    assert_eq!(get(&node.outside, "http://192.0.2.1:30080/cgi-bin/who").unwrap(), "p1 10.42.0.1");
    for _ in 0..10 {
        assert_eq!(get(&node.outside, "http://192.0.2.1:30081/cgi-bin/who").unwrap(), "p1 192.0.2.2");
    }
    // From the node itself, node ports work too.
    assert_eq!(get(&node.host, "http://192.0.2.1:30080/cgi-bin/who").unwrap(), "p1 10.42.0.1");
    let refused = node.outside.exec(&["curl", "-s", "-m", "5", "http://192.0.2.1:30082/"]);
    assert_eq!(refused.status.code(), Some(7), "a NodePort without endpoints must refuse");

    // A load-balancer address routed to the node works like the node port.
    node.outside.ok(&["ip", "route", "add", "198.51.100.7/32", "via", "192.0.2.1"]);
    assert_eq!(get(&node.outside, "http://198.51.100.7/cgi-bin/who").unwrap(), "p1 192.0.2.2");

    // A pool address is claimed on the uplink by the elected node, so the outside reaches it
    // by ARP on the shared network; it is let go when the node is no longer elected.
    let config = node.config();
    let services: Vec<Service> = proxy.services().cloned().collect();
    node.host.run(|| async {
        Announcer::new(&config).await.unwrap().reconcile(services.iter()).await.unwrap();
    });
    assert!(node.host.ok(&["ip", "-4", "addr", "show", "dev", "uplink"]).contains("192.0.2.50/32"));
    assert_eq!(get(&node.outside, "http://192.0.2.50/cgi-bin/who").unwrap(), "p1 10.42.0.1");
    let recorded = std::fs::read_to_string(node.state.path().join("proxy/announced")).unwrap();
    assert!(recorded.starts_with("192.0.2.50 "), "{recorded}");
    // A restarted announcer knows from its record what to let go.
    node.host.run(|| async {
        Announcer::new(&config).await.unwrap().reconcile(std::iter::empty()).await.unwrap();
    });
    assert!(!node.host.ok(&["ip", "-4", "addr", "show", "dev", "uplink"]).contains("192.0.2.50"));
}

#[test]
fn the_first_sync_replaces_leftovers_and_remove_deletes_the_table() {
    let node = Node::with_pods(&["p1"]);
    node.host.ok(&["nft", "add table ip onebin-proxy; add chain ip onebin-proxy leftover"]);
    let mut proxy = node.proxy();
    proxy.set_service(service("web", json!({"clusterIP": "10.43.0.50", "ports": [{"name": "http", "port": 80}]})));
    proxy.set_slice(slice("web", "http", "TCP", 8080, &[(node.pod("p1").ip, NODE, true)]));
    sync(&mut proxy);
    let listing = node.host.ok(&["nft", "list", "table", "ip", TABLE]);
    assert!(!listing.contains("leftover"), "{listing}");
    assert!(listing.contains("type nat hook prerouting priority dstnat; policy accept;"), "{listing}");
    assert!(listing.contains("ip daddr . meta l4proto . th dport vmap @service-ips"), "{listing}");

    // A restarted proxy starts over and ends with the same rules.
    let mut restarted = node.proxy();
    restarted.set_service(service("web", json!({"clusterIP": "10.43.0.50", "ports": [{"name": "http", "port": 80}]})));
    restarted.set_slice(slice("web", "http", "TCP", 8080, &[(node.pod("p1").ip, NODE, true)]));
    assert!(sync(&mut restarted).rebuilt);
    assert_eq!(get(&node.host, "http://10.43.0.50/cgi-bin/who").unwrap(), "p1 10.42.0.1");
    let table = TABLE.to_string();
    assert_eq!(node.host.ok(&["nft", "list", "table", "ip", TABLE]).lines().count(), listing.lines().count());

    node.host.run(|| async move {
        onebin::net::proxy::remove(&table).unwrap();
        onebin::net::proxy::remove(&table).unwrap();
        assert!(onebin::net::proxy::remove("bad name; drop").is_err());
    });
    assert!(!node.host.ok(&["nft", "list", "tables"]).contains(TABLE));
    let mut config = node.config();
    config.table = "-nope".into();
    assert!(Proxy::new(&config).is_err());
}
