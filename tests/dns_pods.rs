//! Cluster DNS end to end: a node's agent serves DNS at the cluster's DNS address, and pods
//! from the busybox test image resolve service names through it with their stock resolver
//! (`nslookup` and the search list the kubelet writes): a ClusterIP service by its short
//! name, `kubernetes.default`, a headless service to its pods, a StatefulSet pod by hostname,
//! an ExternalName alias, and a name only the node's upstream resolver knows. The upstream is
//! a DNS server inside this test, named in the resolv.conf the node is given, so forwarding is
//! tested without the network. Pods with `dnsPolicy: Default` and `None` (with `dnsConfig`) get
//! the resolv.conf they ask for. The same answers are checked precisely with `dig` from the host.

#[path = "dns/mod.rs"]
mod dns;
mod harness;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use harness::{eventually, Manifests, Server};
use onebin::net::dns::answer::Zone;
use onebin::net::dns::cache::{ClusterCache, Port, Service, ServiceKind};
use onebin::net::dns::forward::Forwarder;
use onebin::net::dns::handler::DnsHandler;
use onebin::net::dns::server::DnsServer;

/// The name only the upstream resolver knows, and its address.
const UPSTREAM_NAME: &str = "web.shop.svc.upstream.test";
const UPSTREAM_ADDRESS: &str = "192.0.2.1";

const WORKLOADS: &str = "apiVersion: v1
kind: Service
metadata: {name: hostname-service}
spec:
  selector: {app: hostname}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: peers}
spec:
  clusterIP: None
  selector: {app: peers}
  ports: [{name: gossip, port: 7000}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: peers}
spec:
  serviceName: peers
  replicas: 2
  selector: {matchLabels: {app: peers}}
  template:
    metadata: {labels: {app: peers}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: web.shop.svc.upstream.test
";

/// Looks names up with busybox's `nslookup`, which applies the search list only to names
/// without a dot, and with `ping`, whose libc resolver applies it by `ndots` as most programs
/// do (only the address it prints matters: service addresses need not answer pings).
const CLIENT: &str = "apiVersion: v1
kind: Pod
metadata: {name: dns-client}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - |
      for name in hostname-service peers ext web.shop.svc.upstream.test no-such-service; do
        echo \"== nslookup $name\"; nslookup -type=a $name
      done
      for name in kubernetes.default peers-0.peers ext; do
        echo \"== ping $name\"; ping -c 1 -W 1 $name 2>&1
      done
      echo '== resolv.conf'; cat /etc/resolv.conf
---
apiVersion: v1
kind: Pod
metadata: {name: host-dns}
spec:
  restartPolicy: Never
  dnsPolicy: Default
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo \"== resolv.conf\"; cat /etc/resolv.conf']}
---
apiVersion: v1
kind: Pod
metadata: {name: custom-dns}
spec:
  restartPolicy: Never
  dnsPolicy: None
  dnsConfig:
    nameservers: [CLUSTER_DNS]
    searches: [default.svc.cluster.local]
    options: [{name: ndots, value: '2'}]
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo \"== resolv.conf\"; cat /etc/resolv.conf; echo \"== ping\"; ping -c 1 -W 1 peers-1.peers 2>&1']
";

/// An authoritative server for `upstream.test` knowing `UPSTREAM_NAME`, on port 53 of a
/// loopback address of its own; stops when dropped.
struct Upstream {
    address: IpAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Upstream {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut cache = ClusterCache::default();
        let service = Service {
            kind: ServiceKind::ClusterIp(vec![UPSTREAM_ADDRESS.parse().unwrap()]),
            ports: vec![Port { name: "http".into(), protocol: "tcp".into(), port: 80 }],
        };
        cache.set_service(("shop".into(), "web".into()), Some(service));
        let zone = Zone::new("upstream.test", IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let handler = DnsHandler::new(zone, Arc::new(RwLock::new(cache)), Forwarder::new(vec![]));
        // Every 127/8 address is the host's: one per test process keeps side-by-side runs apart.
        let pid = std::process::id();
        let address = IpAddr::V4(Ipv4Addr::new(127, 53, (pid >> 8) as u8, pid as u8));
        let server = runtime
            .block_on(DnsServer::bind(SocketAddr::new(address, 53), handler))
            .expect("binding the upstream DNS server");
        runtime.spawn(server.run());
        Self { address, _runtime: runtime }
    }
}

/// What pod `name`'s container printed, once the pod has finished, by section (`== title`).
fn finished_output(server: &Server, name: &str) -> BTreeMap<String, String> {
    eventually(Duration::from_secs(60), &format!("pod {name} to finish"), || {
        matches!(server.jsonpath(&["pod", name], "{.status.phase}").as_str(), "Succeeded" | "Failed").then_some(())
    });
    let text = server.kubectl_ok(&["logs", name]);
    let mut sections = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_prefix("== ") {
            Some(title) => current = title.to_string(),
            None => sections.entry(current.clone()).or_insert_with(String::new).push_str(&format!("{line}\n")),
        }
    }
    sections
}

#[test]
fn pods_resolve_cluster_and_upstream_names_through_the_node() {
    let upstream = Upstream::start();
    let config = tempfile::tempdir().unwrap();
    let resolv_conf = config.path().join("resolv.conf");
    std::fs::write(&resolv_conf, format!("search upstream.test\nnameserver {}\n", upstream.address)).unwrap();
    let server = Server::start_node_with(&["--resolv-conf", resolv_conf.to_str().unwrap()]);
    let dns_ip = server.dns_ip();

    server.apply_file("workloads.yaml", WORKLOADS);
    let cluster_ip = server.jsonpath(&["service", "hostname-service"], "{.spec.clusterIP}");
    let api_ip = server.jsonpath(&["service", "kubernetes"], "{.spec.clusterIP}");
    eventually(Duration::from_secs(60), "both peers to be ready", || {
        (server.jsonpath(&["statefulset", "peers"], "{.status.readyReplicas}") == "2").then_some(())
    });
    let peer_ips: Vec<String> =
        ["peers-0", "peers-1"].iter().map(|name| server.jsonpath(&["pod", name], "{.status.podIP}")).collect();
    // The node's DNS has seen the endpoints once it answers with both.
    eventually(Duration::from_secs(20), "the headless service to resolve to both peers", || {
        let reply = dns::dig(&dns_ip, 53, "peers.default.svc.cluster.local", "A", &[]);
        (reply.data("A").len() == 2).then_some(())
    });

    server.apply_file("clients.yaml", &CLIENT.replace("CLUSTER_DNS", &dns_ip));
    let client = finished_output(&server, "dns-client");
    let report = format!("{client:#?}");
    // nslookup also reports the search domains that do not have the name.
    let looked_up = |name: &str, fqdn: &str, addresses: &[&str]| {
        for address in addresses {
            let record = format!("Name:\t{fqdn}\nAddress: {address}\n");
            assert!(client[&format!("nslookup {name}")].contains(&record), "{name} lacks {address}: {report}");
        }
    };
    looked_up("hostname-service", "hostname-service.default.svc.cluster.local", &[&cluster_ip]);
    looked_up("peers", "peers.default.svc.cluster.local", &[&peer_ips[0], &peer_ips[1]]);
    looked_up("ext", UPSTREAM_NAME, &[UPSTREAM_ADDRESS]);
    assert!(client["nslookup ext"].contains(&format!("canonical name = {UPSTREAM_NAME}\n")), "{report}");
    looked_up(UPSTREAM_NAME, UPSTREAM_NAME, &[UPSTREAM_ADDRESS]);
    let missing = &client["nslookup no-such-service"];
    assert!(!missing.contains("Address: ") && missing.contains("no-such-service.default.svc.cluster.local: NXDOMAIN"));
    let pinged = |name: &str, fqdn: &str, address: &str| {
        let header = format!("PING {name} ({address})");
        assert!(client[&format!("ping {name}")].contains(&header), "{name} ({fqdn}) is not {address}: {report}");
    };
    pinged("kubernetes.default", "kubernetes.default.svc.cluster.local", &api_ip);
    pinged("peers-0.peers", "peers-0.peers.default.svc.cluster.local", &peer_ips[0]);
    pinged("ext", UPSTREAM_NAME, UPSTREAM_ADDRESS);
    assert_eq!(
        client["resolv.conf"],
        format!(
            "search default.svc.cluster.local svc.cluster.local cluster.local upstream.test\nnameserver {dns_ip}\n\
             options ndots:5\n"
        )
    );
    let host_dns = finished_output(&server, "host-dns");
    assert_eq!(host_dns["resolv.conf"], std::fs::read_to_string(&resolv_conf).unwrap());
    let custom = finished_output(&server, "custom-dns");
    assert_eq!(
        custom["resolv.conf"],
        format!("search default.svc.cluster.local\nnameserver {dns_ip}\noptions ndots:2\n")
    );
    assert!(custom["ping"].contains(&format!("PING peers-1.peers ({})", peer_ips[1])), "{custom:#?}");

    check_records_from_the_host(&server, &dns_ip, &cluster_ip, &peer_ips);
}

/// The node's answers as `dig` on the host sees them: SRV, PTR, pod names, and NXDOMAIN versus
/// NODATA, over UDP and TCP.
fn check_records_from_the_host(server: &Server, dns_ip: &str, cluster_ip: &str, peer_ips: &[String]) {
    let ask = |name: &str, record_type: &str| dns::dig(dns_ip, 53, name, record_type, &[]);
    let service = ask("hostname-service.default.svc.cluster.local", "A");
    assert!(service.has_flag("aa"), "{}", service.text);
    assert_eq!(service.data("A"), [cluster_ip]);
    let over_tcp = dns::dig(dns_ip, 53, "hostname-service.default.svc.cluster.local", "A", &["+tcp"]);
    assert_eq!(over_tcp.data("A"), [cluster_ip]);

    let srv = ask("_http._tcp.hostname-service.default.svc.cluster.local", "SRV");
    assert_eq!(srv.data("SRV"), ["0 100 80 hostname-service.default.svc.cluster.local."]);
    let peers_srv = ask("_gossip._tcp.peers.default.svc.cluster.local", "SRV");
    assert_eq!(
        peers_srv.data("SRV"),
        ["0 50 7000 peers-0.peers.default.svc.cluster.local.", "0 50 7000 peers-1.peers.default.svc.cluster.local."]
    );

    let reverse = |ip: &str| {
        let octets: Vec<&str> = ip.split('.').rev().collect();
        ask(&format!("{}.in-addr.arpa", octets.join(".")), "PTR").data("PTR")
    };
    assert_eq!(reverse(cluster_ip), ["hostname-service.default.svc.cluster.local."]);
    assert_eq!(reverse(&peer_ips[1]), ["peers-1.peers.default.svc.cluster.local."]);

    let pod_name = format!("{}.default.pod.cluster.local", peer_ips[0].replace('.', "-"));
    assert_eq!(ask(&pod_name, "A").data("A"), [peer_ips[0].as_str()]);

    let nodata = ask("hostname-service.default.svc.cluster.local", "AAAA");
    assert_eq!((nodata.status.as_str(), nodata.answers.len()), ("NOERROR", 0), "{}", nodata.text);
    assert_eq!(nodata.authorities[0].1, "SOA");
    let missing = ask("no-such-service.default.svc.cluster.local", "A");
    assert_eq!(missing.status, "NXDOMAIN", "{}", missing.text);

    // A deleted service is gone from DNS within moments.
    server.kubectl_ok(&["delete", "service", "hostname-service"]);
    eventually(Duration::from_secs(10), "the deleted service to be NXDOMAIN", || {
        (ask("hostname-service.default.svc.cluster.local", "A").status == "NXDOMAIN").then_some(())
    });
}
