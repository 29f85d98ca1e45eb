//! The cluster DNS server on loopback, asked by the real `dig` over UDP and TCP: cluster
//! answers from a fixed cache, forwarding to an upstream (a second server of the same kind,
//! authoritative for another domain), aliases followed upstream, upstream failures, and
//! truncation; and answers following a real API server's Services and EndpointSlices as
//! they change, across a restart of the API server.

#[path = "dns/mod.rs"]
mod dns;
mod harness;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hickory_proto::rr::Name;
use onebin::net::dns::answer::Zone;
use onebin::net::dns::cache::{ClusterCache, Endpoint, EndpointSlice, Port, Service, ServiceKind};
use onebin::net::dns::forward::Forwarder;
use onebin::net::dns::handler::DnsHandler;
use onebin::net::dns::server::DnsServer;
use onebin::net::dns::watch;

use dns::dig;

/// A DNS server on its own runtime, stopped when dropped.
struct Running {
    address: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Running {
    fn start(domain: &str, cache: ClusterCache, forwarder: Forwarder) -> Self {
        Self::serve(|| DnsHandler::new(zone(domain), Arc::new(RwLock::new(cache)), forwarder))
    }

    /// Serves the handler `make` builds on the server's runtime.
    fn serve(make: impl FnOnce() -> DnsHandler) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let handler = {
            let _inside = runtime.enter();
            make()
        };
        // Port 0 gives a free UDP port; now and then TCP has it taken, so try again.
        let server = (0..10)
            .find_map(|_| runtime.block_on(DnsServer::bind("127.0.0.1:0".parse().unwrap(), handler.clone())).ok())
            .expect("binding a DNS server on loopback");
        let address = server.local_addr();
        runtime.spawn(server.run());
        Self { address, _runtime: runtime }
    }

    fn ask(&self, name: &str, record_type: &str, extra: &[&str]) -> dns::Reply {
        dig(&self.address.ip().to_string(), self.address.port(), name, record_type, extra)
    }
}

fn zone(domain: &str) -> Zone {
    Zone::new(domain, "127.0.0.1".parse().unwrap()).unwrap()
}

fn key(namespace: &str, name: &str) -> (String, String) {
    (namespace.to_string(), name.to_string())
}

fn cluster_ip(ip: &str) -> Service {
    Service {
        kind: ServiceKind::ClusterIp(vec![ip.parse().unwrap()]),
        ports: vec![Port { name: "http".into(), protocol: "tcp".into(), port: 80 }],
    }
}

/// A headless service `many` in `shop` with `count` ready endpoints.
fn add_many(cache: &mut ClusterCache, count: u8) {
    cache.set_service(key("shop", "many"), Some(Service { kind: ServiceKind::Headless, ports: vec![] }));
    let endpoints = (1..=count).map(|n| Endpoint { ip: IpAddr::from([10, 42, 1, n]), hostname: None }).collect();
    cache.set_slice(key("shop", "many-1"), Some(EndpointSlice { service: "many".into(), endpoints, ports: vec![] }));
}

/// The upstream: authoritative for `upstream.test`, with `web.shop.svc.upstream.test` at
/// 192.0.2.1 and 100 addresses at `many.shop.svc.upstream.test`.
fn upstream() -> Running {
    let mut cache = ClusterCache::default();
    cache.set_service(key("shop", "web"), Some(cluster_ip("192.0.2.1")));
    add_many(&mut cache, 100);
    Running::start("upstream.test", cache, Forwarder::new(vec![]))
}

/// The cluster's server, with `web` at 10.43.0.20, an alias to the upstream's `web`, and 100
/// addresses behind `many`.
fn cluster(upstreams: Vec<SocketAddr>) -> Running {
    let mut cache = ClusterCache::default();
    cache.set_service(key("shop", "web"), Some(cluster_ip("10.43.0.20")));
    let alias = Name::from_ascii("web.shop.svc.upstream.test.").unwrap();
    cache.set_service(key("shop", "ext"), Some(Service { kind: ServiceKind::ExternalName(alias), ports: vec![] }));
    add_many(&mut cache, 100);
    Running::start("cluster.local", cache, Forwarder::new(upstreams).with_attempt_timeout(Duration::from_millis(400)))
}

#[test]
fn cluster_names_are_answered_over_udp_and_tcp() {
    let server = cluster(vec![]);
    for transport in ["+notcp", "+tcp"] {
        let reply = server.ask("web.shop.svc.cluster.local", "A", &[transport]);
        assert_eq!(reply.status, "NOERROR", "{}", reply.text);
        assert_eq!(reply.data("A"), ["10.43.0.20"]);
        assert!(reply.has_flag("aa") && reply.has_flag("ra"), "{}", reply.text);
        assert_eq!(reply.answers[0].0, "web.shop.svc.cluster.local.");

        let missing = server.ask("nope.shop.svc.cluster.local", "A", &[transport]);
        assert_eq!(missing.status, "NXDOMAIN");
        assert_eq!(missing.authorities.len(), 1);
        assert_eq!(missing.authorities[0].1, "SOA");
        assert!(missing.authorities[0].2.starts_with("ns.dns.cluster.local. hostmaster.cluster.local. "));

        let nodata = server.ask("web.shop.svc.cluster.local", "AAAA", &[transport]);
        assert_eq!((nodata.status.as_str(), nodata.answers.len()), ("NOERROR", 0));
    }
    // The question's spelling comes back as asked.
    let mixed = server.ask("Web.SHOP.svc.Cluster.Local", "A", &[]);
    assert_eq!(mixed.answers[0].0, "Web.SHOP.svc.Cluster.Local.");
    let srv = server.ask("_http._tcp.web.shop.svc.cluster.local", "SRV", &[]);
    assert_eq!(srv.data("SRV"), ["0 100 80 web.shop.svc.cluster.local."]);
    assert_eq!(srv.additionals.iter().filter(|r| r.1 == "A").count(), 1);
    let ptr = server.ask("20.0.43.10.in-addr.arpa", "PTR", &[]);
    assert_eq!(ptr.data("PTR"), ["web.shop.svc.cluster.local."]);
}

#[test]
fn other_names_are_forwarded_to_the_upstreams() {
    let upstream = upstream();
    let server = cluster(vec![upstream.address]);
    for transport in ["+notcp", "+tcp"] {
        let reply = server.ask("web.shop.svc.upstream.test", "A", &[transport]);
        assert_eq!(reply.status, "NOERROR", "{}", reply.text);
        assert_eq!(reply.data("A"), ["192.0.2.1"]);
        let missing = server.ask("nope.shop.svc.upstream.test", "A", &[transport]);
        assert_eq!(missing.status, "NXDOMAIN", "the upstream's answer is passed on");
        assert_eq!(missing.authorities[0].0, "upstream.test.");
    }
}

#[test]
fn external_names_are_followed_to_the_target_records() {
    let upstream = upstream();
    let server = cluster(vec![upstream.address]);
    let reply = server.ask("ext.shop.svc.cluster.local", "A", &[]);
    assert_eq!(reply.status, "NOERROR", "{}", reply.text);
    assert_eq!(reply.data("CNAME"), ["web.shop.svc.upstream.test."]);
    assert_eq!(reply.data("A"), ["192.0.2.1"]);
    // Asked for the alias itself, nothing is followed.
    let cname = server.ask("ext.shop.svc.cluster.local", "CNAME", &[]);
    assert_eq!((cname.data("CNAME").len(), cname.data("A").len()), (1, 0));
}

#[test]
fn upstream_failures_are_servfail() {
    // Nothing listens on a port just released: refused at once.
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    // A socket that never answers: the attempt times out.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    for upstreams in [vec![], vec![closed], vec![silent.local_addr().unwrap()]] {
        let server = cluster(upstreams.clone());
        let started = Instant::now();
        let reply = server.ask("example.com", "A", &[]);
        assert_eq!(reply.status, "SERVFAIL", "upstreams {upstreams:?}: {}", reply.text);
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
        // Cluster names do not depend on the upstreams.
        assert_eq!(server.ask("web.shop.svc.cluster.local", "A", &[]).data("A"), ["10.43.0.20"]);
    }
}

#[test]
fn large_answers_are_truncated_over_udp_and_complete_over_tcp() {
    let upstream = upstream();
    let server = cluster(vec![upstream.address]);
    for name in ["many.shop.svc.cluster.local", "many.shop.svc.upstream.test"] {
        let udp = server.ask(name, "A", &["+noedns", "+ignore"]);
        assert!(udp.has_flag("tc"), "{name} over UDP without EDNS fits 512 bytes: {}", udp.text);
        let retried = server.ask(name, "A", &["+noedns"]);
        assert_eq!(retried.data("A").len(), 100, "{name} after dig's retry over TCP");
        let tcp = server.ask(name, "A", &["+tcp"]);
        assert_eq!(tcp.data("A").len(), 100, "{name} over TCP");
        let edns = server.ask(name, "A", &["+bufsize=4096"]);
        assert!(!edns.has_flag("tc"));
        assert_eq!(edns.data("A").len(), 100, "{name} with a large EDNS buffer");
    }
}

const API_OBJECTS: &str = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: db.example.test}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: default
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- {addresses: [10.42.7.1], hostname: db-0, conditions: {ready: true}}
- {addresses: [10.42.7.2], hostname: db-1, conditions: {ready: false}}
";

#[test]
fn answers_follow_the_api_server() {
    let mut api = harness::Server::start();
    let server = Running::serve(|| {
        let kubeconfig = api.kubeconfig();
        let client = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(onebin::agent::client(&kubeconfig))
        })
        .unwrap();
        DnsHandler::new(zone("cluster.local"), watch::mirror_cluster(client), Forwarder::new(vec![]))
    });
    let path = api.dir.path().join("objects.yaml");
    std::fs::write(&path, API_OBJECTS).unwrap();
    api.kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
    let web_ip = harness::text(&api.kubectl(&["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]).stdout);
    let answers = |name: &str, record_type: &str| server.ask(name, record_type, &[]).data(record_type);
    harness::eventually(Duration::from_secs(10), "web to resolve", || {
        (answers("web.default.svc.cluster.local", "A") == [web_ip.as_str()]).then_some(())
    });
    assert_eq!(answers("kubernetes.default.svc.cluster.local", "A"), ["10.43.0.1"]);
    assert_eq!(answers("ext.default.svc.cluster.local", "CNAME"), ["db.example.test."]);
    // Only the ready endpoint is answered; the hostname names it.
    assert_eq!(answers("db.default.svc.cluster.local", "A"), ["10.42.7.1"]);
    assert_eq!(answers("db-0.db.default.svc.cluster.local", "A"), ["10.42.7.1"]);
    assert_eq!(server.ask("db-1.db.default.svc.cluster.local", "A", &[]).status, "NXDOMAIN");
    assert_eq!(
        answers("_pg._tcp.db.default.svc.cluster.local", "SRV"),
        ["0 100 5432 db-0.db.default.svc.cluster.local."]
    );
    let namespace = server.ask("default.svc.cluster.local", "A", &[]);
    assert_eq!((namespace.status.as_str(), namespace.answers.len()), ("NOERROR", 0));
    assert_eq!(server.ask("nowhere.svc.cluster.local", "A", &[]).status, "NXDOMAIN");

    api.kubectl_ok(&["delete", "service", "web"]);
    harness::eventually(Duration::from_secs(10), "the deleted service to be NXDOMAIN", || {
        (server.ask("web.default.svc.cluster.local", "A", &[]).status == "NXDOMAIN").then_some(())
    });

    // The watches pick up again after the API server comes back.
    api.restart();
    api.kubectl_ok(&["create", "service", "clusterip", "again", "--tcp=8080:8080"]);
    let again_ip = harness::text(&api.kubectl(&["get", "service", "again", "-o", "jsonpath={.spec.clusterIP}"]).stdout);
    harness::eventually(Duration::from_secs(30), "a service made after the restart to resolve", || {
        (answers("again.default.svc.cluster.local", "A") == [again_ip.as_str()]).then_some(())
    });
    assert_eq!(answers("db.default.svc.cluster.local", "A"), ["10.42.7.1"]);
}
