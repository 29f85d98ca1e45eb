//! The answering logic on a fixed cache: every kind of name the cluster domain serves, the
//! negative answers, and what is left to the upstreams.

use std::collections::BTreeSet;
use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::answer::{Lookup, Zone, ZoneAnswer, TTL};
use super::cache::{ClusterCache, Endpoint, EndpointSlice, Port, Service, ServiceKind};

fn key(namespace: &str, name: &str) -> (String, String) {
    (namespace.to_string(), name.to_string())
}

fn port(name: &str, protocol: &str, number: u16) -> Port {
    Port { name: name.to_string(), protocol: protocol.to_string(), port: number }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn endpoint(address: &str, hostname: Option<&str>) -> Endpoint {
    Endpoint { ip: ip(address), hostname: hostname.map(str::to_string) }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// default/kubernetes and, in namespace shop: `web` (cluster IP, two endpoints), `db`
/// (headless, StatefulSet-style hostnames in one slice and a nameless endpoint in another),
/// `empty` (headless, no endpoints), `ext` and `alias` (ExternalName, out of and into the
/// cluster), and a slice whose service is gone.
fn cluster() -> ClusterCache {
    let mut cache = ClusterCache::default();
    let cluster_ip = |address: &str, ports| Service { kind: ServiceKind::ClusterIp(vec![ip(address)]), ports };
    cache.set_service(key("default", "kubernetes"), Some(cluster_ip("10.43.0.1", vec![port("https", "tcp", 443)])));
    let web_ports = vec![port("http", "tcp", 80), port("dns", "udp", 53)];
    cache.set_service(key("shop", "web"), Some(cluster_ip("10.43.0.20", web_ports)));
    let web_slice = EndpointSlice {
        service: "web".into(),
        endpoints: vec![endpoint("10.42.0.5", None), endpoint("10.42.0.6", None)],
        ports: vec![port("http", "tcp", 8080)],
    };
    cache.set_slice(key("shop", "web-a1"), Some(web_slice));
    let headless = |ports| Service { kind: ServiceKind::Headless, ports };
    cache.set_service(key("shop", "db"), Some(headless(vec![port("pg", "tcp", 5432)])));
    let db_slice = |endpoints| EndpointSlice { service: "db".into(), endpoints, ports: vec![port("pg", "tcp", 5432)] };
    let named = vec![endpoint("10.42.0.7", Some("db-0")), endpoint("10.42.0.8", Some("db-1"))];
    cache.set_slice(key("shop", "db-a1"), Some(db_slice(named)));
    cache.set_slice(key("shop", "db-b2"), Some(db_slice(vec![endpoint("10.42.0.9", None)])));
    cache.set_service(key("shop", "empty"), Some(headless(vec![])));
    let external =
        |target: &str| Service { kind: ServiceKind::ExternalName(name(target)), ports: vec![port("http", "tcp", 80)] };
    cache.set_service(key("shop", "ext"), Some(external("example.com.")));
    cache.set_service(key("shop", "alias"), Some(external("web.shop.svc.cluster.local.")));
    let orphan = EndpointSlice { service: "gone".into(), endpoints: vec![endpoint("10.42.0.50", None)], ports: vec![] };
    cache.set_slice(key("shop", "gone-x"), Some(orphan));
    cache
}

fn zone() -> Zone {
    Zone::new("cluster.local", ip("10.43.0.10")).unwrap()
}

fn lookup(query: &str, qtype: RecordType) -> Lookup {
    zone().lookup(&cluster(), &name(query), qtype)
}

fn answer(query: &str, qtype: RecordType) -> ZoneAnswer {
    match lookup(query, qtype) {
        Lookup::Answer(answer) => answer,
        Lookup::Forward => panic!("{query} {qtype} was forwarded, not answered"),
    }
}

/// The answer's record data as text, sorted (address order of headless services is random).
fn data(records: &[Record]) -> Vec<String> {
    let mut texts: Vec<String> = records.iter().map(|r| r.data.to_string()).collect();
    texts.sort();
    texts
}

fn assert_addresses(query: &str, expected: &[&str]) {
    let found = answer(query, RecordType::A);
    assert_eq!(found.code, ResponseCode::NoError, "{query}");
    assert_eq!(data(&found.answers), expected, "{query}");
    assert!(found.answers.iter().all(|r| r.ttl == TTL && r.name.eq_case(&name(query))));
}

fn assert_nxdomain(query: &str, qtype: RecordType) {
    let found = answer(query, qtype);
    assert_eq!(found.code, ResponseCode::NXDomain, "{query} {qtype}");
    assert!(found.answers.is_empty());
    assert_soa(&found);
}

fn assert_nodata(query: &str, qtype: RecordType) {
    let found = answer(query, qtype);
    assert_eq!((found.code, found.answers.len()), (ResponseCode::NoError, 0), "{query} {qtype}");
    assert_soa(&found);
}

/// The negative answer carries the zone's SOA, whose minimum (the negative TTL) is the TTL.
fn assert_soa(found: &ZoneAnswer) {
    assert_eq!(found.authorities.len(), 1);
    let soa = &found.authorities[0];
    assert_eq!(&soa.name, &name("cluster.local."));
    match &soa.data {
        RData::SOA(soa) => {
            assert_eq!(&soa.mname, &name("ns.dns.cluster.local."));
            assert_eq!(soa.minimum, TTL);
        }
        other => panic!("expected an SOA, got {other:?}"),
    }
}

#[test]
fn services_resolve_to_their_cluster_ip() {
    assert_addresses("kubernetes.default.svc.cluster.local.", &["10.43.0.1"]);
    assert_addresses("web.shop.svc.cluster.local.", &["10.43.0.20"]);
}

#[test]
fn names_match_without_case_and_with_or_without_the_trailing_dot() {
    assert_addresses("WEB.Shop.SVC.Cluster.LOCAL.", &["10.43.0.20"]);
    assert_addresses("web.shop.svc.cluster.local", &["10.43.0.20"]);
    let dotted = Zone::new("Cluster.Local.", ip("10.43.0.10")).unwrap();
    let found = dotted.lookup(&cluster(), &name("web.shop.svc.cluster.local."), RecordType::A);
    assert_eq!(found, lookup("web.shop.svc.cluster.local.", RecordType::A));
}

#[test]
fn aaaa_of_an_ipv4_service_is_nodata() {
    assert_nodata("web.shop.svc.cluster.local.", RecordType::AAAA);
    assert_nodata("db.shop.svc.cluster.local.", RecordType::AAAA);
    assert_nodata("web.shop.svc.cluster.local.", RecordType::TXT);
}

#[test]
fn unknown_cluster_names_are_nxdomain_with_the_soa() {
    assert_nxdomain("nope.shop.svc.cluster.local.", RecordType::A);
    assert_nxdomain("nope.shop.svc.cluster.local.", RecordType::AAAA);
    assert_nxdomain("web.other.svc.cluster.local.", RecordType::A);
    assert_nxdomain("a.b.c.d.e.svc.cluster.local.", RecordType::A);
    assert_nxdomain("something.cluster.local.", RecordType::A);
    assert_nxdomain("nope.web.shop.svc.cluster.local.", RecordType::A);
    assert_nxdomain("gone.shop.svc.cluster.local.", RecordType::A);
}

#[test]
fn search_list_expansions_each_get_their_own_answer() {
    // `kubernetes.default` from a pod in `shop`, with ndots:5, tries the search list first.
    assert_nxdomain("kubernetes.default.shop.svc.cluster.local.", RecordType::A);
    assert_addresses("kubernetes.default.svc.cluster.local.", &["10.43.0.1"]);
    // `example.com` falls through every cluster suffix and then goes upstream.
    assert_nxdomain("example.com.shop.svc.cluster.local.", RecordType::A);
    assert_nxdomain("example.com.svc.cluster.local.", RecordType::A);
    assert_nxdomain("example.com.cluster.local.", RecordType::A);
    assert_eq!(lookup("example.com.", RecordType::A), Lookup::Forward);
}

#[test]
fn intermediate_names_exist_without_records() {
    assert_nodata("shop.svc.cluster.local.", RecordType::A);
    assert_nodata("svc.cluster.local.", RecordType::A);
    assert_nodata("pod.cluster.local.", RecordType::A);
    assert_nxdomain("nobody.svc.cluster.local.", RecordType::A);
}

#[test]
fn headless_services_resolve_to_their_ready_endpoints() {
    assert_addresses("db.shop.svc.cluster.local.", &["10.42.0.7", "10.42.0.8", "10.42.0.9"]);
    assert_addresses("db-0.db.shop.svc.cluster.local.", &["10.42.0.7"]);
    assert_addresses("DB-1.db.shop.svc.cluster.local.", &["10.42.0.8"]);
    assert_addresses("10-42-0-9.db.shop.svc.cluster.local.", &["10.42.0.9"]);
    // An endpoint with a hostname is known by it, not by its address.
    assert_nxdomain("10-42-0-7.db.shop.svc.cluster.local.", RecordType::A);
    assert_nxdomain("db-2.db.shop.svc.cluster.local.", RecordType::A);
    // As with CoreDNS, no ready endpoint: no name.
    assert_nxdomain("empty.shop.svc.cluster.local.", RecordType::A);
    // Endpoints of services with a cluster IP have names too (CoreDNS does the same).
    assert_addresses("10-42-0-5.web.shop.svc.cluster.local.", &["10.42.0.5"]);
}

#[test]
fn srv_records_for_named_ports() {
    let found = answer("_http._tcp.web.shop.svc.cluster.local.", RecordType::SRV);
    assert_eq!(data(&found.answers), ["0 100 80 web.shop.svc.cluster.local."]);
    assert_eq!(data(&found.additionals), ["10.43.0.20"]);
    assert_eq!(&found.additionals[0].name, &name("web.shop.svc.cluster.local."));
    let udp = answer("_DNS._UDP.web.shop.svc.cluster.local.", RecordType::SRV);
    assert_eq!(data(&udp.answers), ["0 100 53 web.shop.svc.cluster.local."]);
    assert_nxdomain("_http._udp.web.shop.svc.cluster.local.", RecordType::SRV);
    assert_nxdomain("_ftp._tcp.web.shop.svc.cluster.local.", RecordType::SRV);
    assert_nodata("_http._tcp.web.shop.svc.cluster.local.", RecordType::A);

    let headless = answer("_pg._tcp.db.shop.svc.cluster.local.", RecordType::SRV);
    assert_eq!(
        data(&headless.answers),
        [
            "0 33 5432 10-42-0-9.db.shop.svc.cluster.local.",
            "0 33 5432 db-0.db.shop.svc.cluster.local.",
            "0 33 5432 db-1.db.shop.svc.cluster.local."
        ]
    );
    assert_eq!(data(&headless.additionals), ["10.42.0.7", "10.42.0.8", "10.42.0.9"]);

    // The bare service name lists every port.
    let all = answer("web.shop.svc.cluster.local.", RecordType::SRV);
    assert_eq!(data(&all.answers), ["0 50 53 web.shop.svc.cluster.local.", "0 50 80 web.shop.svc.cluster.local."]);
}

#[test]
fn external_names_are_aliases() {
    let found = answer("ext.shop.svc.cluster.local.", RecordType::A);
    assert_eq!(found.code, ResponseCode::NoError);
    assert_eq!(data(&found.answers), ["example.com."]);
    assert_eq!(found.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(found.alias_target, Some(name("example.com.")));
    // Asked for the alias itself, there is nothing left to follow.
    assert_eq!(answer("ext.shop.svc.cluster.local.", RecordType::CNAME).alias_target, None);
    // An alias into the cluster is followed by the handler the same way.
    let inward = answer("alias.shop.svc.cluster.local.", RecordType::A);
    assert_eq!(inward.alias_target, Some(name("web.shop.svc.cluster.local.")));
    let srv = answer("_http._tcp.ext.shop.svc.cluster.local.", RecordType::SRV);
    assert_eq!(data(&srv.answers), ["0 100 80 example.com."]);
}

#[test]
fn reverse_names_of_services_and_endpoints() {
    let ptr = |query: &str| data(&answer(query, RecordType::PTR).answers);
    assert_eq!(ptr("20.0.43.10.in-addr.arpa."), ["web.shop.svc.cluster.local."]);
    assert_eq!(ptr("1.0.43.10.IN-ADDR.ARPA."), ["kubernetes.default.svc.cluster.local."]);
    assert_eq!(ptr("7.0.42.10.in-addr.arpa."), ["db-0.db.shop.svc.cluster.local."]);
    assert_eq!(ptr("9.0.42.10.in-addr.arpa."), ["10-42-0-9.db.shop.svc.cluster.local."]);
    assert_eq!(ptr("5.0.42.10.in-addr.arpa."), ["10-42-0-5.web.shop.svc.cluster.local."]);
    // Unknown addresses, endpoints of vanished services, partial and non-PTR questions go upstream.
    for (query, qtype) in [
        ("99.0.43.10.in-addr.arpa.", RecordType::PTR),
        ("50.0.42.10.in-addr.arpa.", RecordType::PTR),
        ("0.43.10.in-addr.arpa.", RecordType::PTR),
        ("20.0.43.10.in-addr.arpa.", RecordType::A),
    ] {
        assert_eq!(lookup(query, qtype), Lookup::Forward, "{query} {qtype}");
    }
}

#[test]
fn pod_names_spell_their_address() {
    assert_addresses("10-42-0-5.shop.pod.cluster.local.", &["10.42.0.5"]);
    assert_addresses("10-42-7-200.anything.pod.cluster.local.", &["10.42.7.200"]);
    assert_nodata("10-42-0-5.shop.pod.cluster.local.", RecordType::AAAA);
    assert_nxdomain("10-42-0-500.shop.pod.cluster.local.", RecordType::A);
    assert_nxdomain("web.shop.pod.cluster.local.", RecordType::A);
}

#[test]
fn the_zone_apex_has_soa_and_ns() {
    let soa = answer("cluster.local.", RecordType::SOA);
    assert_eq!(soa.answers.len(), 1);
    assert_eq!(soa.answers[0].record_type(), RecordType::SOA);
    let ns = answer("cluster.local.", RecordType::NS);
    assert_eq!(data(&ns.answers), ["ns.dns.cluster.local."]);
    assert_eq!(data(&ns.additionals), ["10.43.0.10"]);
    assert_addresses("ns.dns.cluster.local.", &["10.43.0.10"]);
    assert_nodata("cluster.local.", RecordType::A);
    assert_eq!(data(&answer("dns-version.cluster.local.", RecordType::TXT).answers), ["1.1.0"]);
}

#[test]
fn any_returns_every_record_of_the_name() {
    let found = answer("web.shop.svc.cluster.local.", RecordType::ANY);
    let types: BTreeSet<RecordType> = found.answers.iter().map(Record::record_type).collect();
    assert_eq!(types, BTreeSet::from([RecordType::A, RecordType::SRV]));
}

#[test]
fn names_outside_the_domain_are_forwarded() {
    for query in ["example.com.", "cluster.local.example.com.", "notcluster.local.", "local."] {
        assert_eq!(lookup(query, RecordType::A), Lookup::Forward, "{query}");
    }
}

#[test]
fn changes_show_in_the_next_answer() {
    let mut cache = cluster();
    cache.set_service(key("shop", "web"), None);
    let found = zone().lookup(&cache, &name("web.shop.svc.cluster.local."), RecordType::A);
    assert!(matches!(found, Lookup::Answer(ZoneAnswer { code: ResponseCode::NXDomain, .. })));
}

#[test]
fn bad_cluster_domains_are_refused() {
    for domain in ["", ".", "bad_domain", "a..b", "-x.local"] {
        assert!(Zone::new(domain, ip("10.43.0.10")).is_err(), "{domain:?}");
    }
}
