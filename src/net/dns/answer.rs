//! Answering one question from the cache, as CoreDNS's kubernetes plugin does: service and
//! endpoint addresses, SRV records for ports, aliases for ExternalName services, pod names,
//! PTR records for service and endpoint addresses, and NXDOMAIN or NODATA with the zone's SOA
//! for names that do not exist. A question outside the cluster domain (or a reverse name the
//! cluster does not know) is left to the host's resolvers. Search lists are the pod resolver's
//! business: each name is answered as it is asked.

use std::collections::BTreeSet;
use std::net::IpAddr;

use anyhow::{bail, Context, Result};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rand::seq::SliceRandom;

use super::cache::{ClusterCache, Endpoint, Port, ServiceKind};
use super::names::{self, ClusterName};

/// TTL of every record, as CoreDNS's kubernetes plugin: short, so changes show quickly.
pub const TTL: u32 = 5;
/// The version of the Kubernetes DNS schema served (`dns-version.<domain>`).
const SCHEMA_VERSION: &str = "1.1.0";
/// SOA timers (refresh, retry, expire) in seconds; nothing transfers the zone, so they are nominal.
const SOA_TIMERS: (i32, i32, i32) = (7200, 1800, 86400);

/// What to do with a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The cluster answers it.
    Answer(ZoneAnswer),
    /// Not a cluster name: the host's resolvers answer it.
    Forward,
}

/// An authoritative answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZoneAnswer {
    pub code: ResponseCode,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
    /// The name is an alias (ExternalName) whose target still has to be resolved for the
    /// asked type; the CNAME record is already in `answers`.
    pub alias_target: Option<Name>,
}

/// What exists at a name of the cluster domain.
enum Existing {
    /// Nothing: NXDOMAIN.
    Nothing,
    /// The name is an alias of another name.
    Alias(Name),
    /// The name exists with these records, of all types (none: it only has children).
    Records(Vec<Record>),
}

/// The cluster domain as served by one node.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Lowercase and fully qualified, e.g. `cluster.local.`.
    domain: Name,
    /// The address of the name server, for `ns.dns.<domain>`.
    dns_ip: IpAddr,
}

impl Zone {
    /// The zone for `domain` (with or without its trailing dot), served at `dns_ip`.
    pub fn new(domain: &str, dns_ip: IpAddr) -> Result<Self> {
        // Domain names compare without case; the zone keeps the lowercase spelling.
        let trimmed = domain.strip_suffix('.').unwrap_or(domain).to_ascii_lowercase();
        if let Err(why) = crate::server::registry::validation::dns1123_subdomain(&trimmed) {
            bail!("cluster domain {domain:?} is not a valid domain name: {why}");
        }
        let mut domain = Name::from_ascii(&trimmed).with_context(|| format!("cluster domain {domain:?}"))?;
        domain.set_fqdn(true);
        Ok(Self { domain, dns_ip })
    }

    pub fn domain(&self) -> &Name {
        &self.domain
    }

    /// Whether `name` is the cluster domain or below it (case-insensitive).
    pub fn contains(&self, name: &Name) -> bool {
        self.domain.zone_of(&fqdn(name))
    }

    /// Answers `qtype` questions about `name` from `cache`, or says to forward them.
    pub fn lookup(&self, cache: &ClusterCache, name: &Name, qtype: RecordType) -> Lookup {
        let lower = fqdn(name);
        if self.domain.zone_of(&lower) {
            return Lookup::Answer(self.answer_in_zone(cache, name, &lower, qtype));
        }
        if qtype == RecordType::PTR {
            if let Some(ip) = reverse_ip(&lower) {
                let answers: Vec<Record> = self
                    .ptr_targets(cache, ip)
                    .into_iter()
                    .map(|target| record(name, RData::PTR(PTR(target))))
                    .collect();
                if !answers.is_empty() {
                    return Lookup::Answer(ZoneAnswer { answers, ..ZoneAnswer::default() });
                }
            }
        }
        Lookup::Forward
    }

    fn answer_in_zone(&self, cache: &ClusterCache, asked: &Name, lower: &Name, qtype: RecordType) -> ZoneAnswer {
        match self.records_at(cache, lower, asked) {
            Existing::Nothing => self.negative(cache, ResponseCode::NXDomain),
            Existing::Alias(target) => ZoneAnswer {
                answers: vec![record(asked, RData::CNAME(CNAME(target.clone())))],
                alias_target: (qtype != RecordType::CNAME).then_some(target),
                ..ZoneAnswer::default()
            },
            Existing::Records(records) => {
                let answers: Vec<Record> = records.into_iter().filter(|r| answers_type(qtype, r)).collect();
                if answers.is_empty() {
                    return self.negative(cache, ResponseCode::NoError);
                }
                let additionals = self.additionals(cache, &answers);
                ZoneAnswer { answers, additionals, ..ZoneAnswer::default() }
            }
        }
    }

    /// NXDOMAIN or NODATA: the SOA in the authority section tells resolvers how long to
    /// remember that.
    fn negative(&self, cache: &ClusterCache, code: ResponseCode) -> ZoneAnswer {
        let soa = record(&self.domain, RData::SOA(self.soa(cache)));
        ZoneAnswer { code, authorities: vec![soa], ..ZoneAnswer::default() }
    }

    fn soa(&self, cache: &ClusterCache) -> SOA {
        let (refresh, retry, expire) = SOA_TIMERS;
        SOA::new(
            self.name_in_zone(&["ns", "dns"]).unwrap_or_else(|| self.domain.clone()),
            self.name_in_zone(&["hostmaster"]).unwrap_or_else(|| self.domain.clone()),
            cache.serial(),
            refresh,
            retry,
            expire,
            TTL,
        )
    }

    /// Every record at `lower` (the asked name in lowercase); `owner` is the name as asked.
    fn records_at(&self, cache: &ClusterCache, lower: &Name, owner: &Name) -> Existing {
        let relative = lower.iter().count().saturating_sub(self.domain.iter().count());
        let labels: Option<Vec<&str>> = lower.iter().take(relative).map(|l| std::str::from_utf8(l).ok()).collect();
        let Some(labels) = labels else { return Existing::Nothing };
        match names::parse(&labels) {
            ClusterName::Apex => {
                let mut records = vec![record(owner, RData::SOA(self.soa(cache)))];
                records.extend(self.name_in_zone(&["ns", "dns"]).map(|ns| record(owner, RData::NS(NS(ns)))));
                Existing::Records(records)
            }
            ClusterName::Branch => Existing::Records(Vec::new()),
            ClusterName::NameServer => Existing::Records(address_records(owner, [self.dns_ip])),
            ClusterName::SchemaVersion => {
                Existing::Records(vec![record(owner, RData::TXT(TXT::new(vec![SCHEMA_VERSION.to_string()])))])
            }
            ClusterName::Namespace { namespace } => match cache.has_services_in(namespace) {
                true => Existing::Records(Vec::new()),
                false => Existing::Nothing,
            },
            ClusterName::Service { namespace, service } => self.service_records(cache, owner, namespace, service),
            ClusterName::Endpoint { namespace, service, endpoint } => {
                let is_alias = |kind: &ServiceKind| matches!(kind, ServiceKind::ExternalName(_));
                if cache.service(namespace, service).is_none_or(|s| is_alias(&s.kind)) {
                    return Existing::Nothing;
                }
                let ips: BTreeSet<IpAddr> = ready_endpoints(cache, namespace, service)
                    .filter(|(e, _)| endpoint_label(e) == endpoint)
                    .map(|(e, _)| e.ip)
                    .collect();
                non_empty(address_records(owner, ips))
            }
            ClusterName::Port { namespace, service, port, protocol } => {
                let wanted = |p: &Port| p.name == port && p.protocol == protocol;
                non_empty(self.port_records(cache, owner, namespace, service, wanted))
            }
            ClusterName::Pod { ip } => Existing::Records(address_records(owner, [ip])),
            ClusterName::Unknown => Existing::Nothing,
        }
    }

    fn service_records(&self, cache: &ClusterCache, owner: &Name, namespace: &str, service: &str) -> Existing {
        let Some(found) = cache.service(namespace, service) else { return Existing::Nothing };
        let mut records = match &found.kind {
            ServiceKind::ExternalName(target) => return Existing::Alias(target.clone()),
            ServiceKind::ClusterIp(ips) => address_records(owner, ips.iter().copied()),
            ServiceKind::Headless => {
                let ips: BTreeSet<IpAddr> = ready_endpoints(cache, namespace, service).map(|(e, _)| e.ip).collect();
                // As CoreDNS: a headless service without ready endpoints has no name yet.
                if ips.is_empty() {
                    return Existing::Nothing;
                }
                // Clients take the first address; a fresh order each time spreads them.
                let mut ips: Vec<IpAddr> = ips.into_iter().collect();
                ips.shuffle(&mut rand::rng());
                address_records(owner, ips)
            }
        };
        records.extend(self.port_records(cache, owner, namespace, service, |_| true));
        Existing::Records(records)
    }

    /// SRV records for the service's ports that `wanted` picks: one per port pointing at the
    /// service name, or for a headless service one per ready endpoint and port.
    fn port_records(
        &self,
        cache: &ClusterCache,
        owner: &Name,
        namespace: &str,
        service: &str,
        wanted: impl Fn(&Port) -> bool,
    ) -> Vec<Record> {
        let Some(found) = cache.service(namespace, service) else { return Vec::new() };
        let targets: BTreeSet<(u16, Name)> = match &found.kind {
            ServiceKind::ExternalName(target) => {
                found.ports.iter().filter(|p| wanted(p)).map(|p| (p.port, target.clone())).collect()
            }
            ServiceKind::ClusterIp(_) => {
                let Some(name) = self.name_in_zone(&[service, namespace, "svc"]) else { return Vec::new() };
                found.ports.iter().filter(|p| wanted(p)).map(|p| (p.port, name.clone())).collect()
            }
            ServiceKind::Headless => ready_endpoints(cache, namespace, service)
                .flat_map(|(endpoint, ports)| {
                    let name = self.name_in_zone(&[&endpoint_label(endpoint), service, namespace, "svc"]);
                    ports.iter().filter(|p| wanted(p)).filter_map(move |p| Some((p.port, name.clone()?)))
                })
                .collect(),
        };
        let weight = u16::try_from(100 / targets.len().max(1)).unwrap_or(1).max(1);
        targets.into_iter().map(|(port, target)| record(owner, RData::SRV(SRV::new(0, weight, port, target)))).collect()
    }

    /// The addresses of the in-zone names that SRV and NS answers point at.
    fn additionals(&self, cache: &ClusterCache, answers: &[Record]) -> Vec<Record> {
        let targets: BTreeSet<Name> = answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some(srv.target.clone()),
                RData::NS(ns) => Some(ns.0.clone()),
                _ => None,
            })
            .filter(|target| self.domain.zone_of(target))
            .collect();
        targets
            .iter()
            .flat_map(|target| match self.records_at(cache, target, target) {
                Existing::Records(records) => records,
                Existing::Nothing | Existing::Alias(_) => Vec::new(),
            })
            .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
            .collect()
    }

    /// The names whose address is `ip`: services by cluster IP, and ready endpoints.
    fn ptr_targets(&self, cache: &ClusterCache, ip: IpAddr) -> BTreeSet<Name> {
        let services = cache.services_at(ip).filter_map(|(ns, svc)| self.name_in_zone(&[svc, ns, "svc"]));
        let endpoints = cache.slices_at(ip).flat_map(|(namespace, slice)| {
            let served = cache.service(namespace, &slice.service).is_some();
            slice
                .endpoints
                .iter()
                .filter(move |e| served && e.ip == ip)
                .filter_map(move |e| self.name_in_zone(&[&endpoint_label(e), &slice.service, namespace, "svc"]))
        });
        services.chain(endpoints).collect()
    }

    /// `labels` followed by the cluster domain, or `None` if they do not make a valid name.
    fn name_in_zone(&self, labels: &[&str]) -> Option<Name> {
        Name::from_labels(labels.iter().map(|l| l.as_bytes())).ok()?.append_domain(&self.domain).ok()
    }
}

/// Whether record `r` answers a `qtype` question.
fn answers_type(qtype: RecordType, r: &Record) -> bool {
    qtype == RecordType::ANY || r.record_type() == qtype
}

fn non_empty(records: Vec<Record>) -> Existing {
    match records.is_empty() {
        true => Existing::Nothing,
        false => Existing::Records(records),
    }
}

/// The ready endpoints of a service, each with the ports of its slice.
fn ready_endpoints<'a>(
    cache: &'a ClusterCache,
    namespace: &str,
    service: &str,
) -> impl Iterator<Item = (&'a Endpoint, &'a [Port])> + 'a {
    cache.slices_of(namespace, service).flat_map(|slice| slice.endpoints.iter().map(|e| (e, slice.ports.as_slice())))
}

/// An endpoint's label below its service: its hostname, or its dashed address.
fn endpoint_label(endpoint: &Endpoint) -> String {
    endpoint.hostname.clone().unwrap_or_else(|| names::dashed_label(endpoint.ip))
}

fn address_records(owner: &Name, ips: impl IntoIterator<Item = IpAddr>) -> Vec<Record> {
    ips.into_iter()
        .map(|ip| match ip {
            IpAddr::V4(ip) => record(owner, RData::A(A(ip))),
            IpAddr::V6(ip) => record(owner, RData::AAAA(AAAA(ip))),
        })
        .collect()
}

fn record(owner: &Name, data: RData) -> Record {
    Record::from_rdata(owner.clone(), TTL, data)
}

/// `name` in lowercase and fully qualified (names from the wire always are; ones built in
/// code may lack the trailing dot).
fn fqdn(name: &Name) -> Name {
    let mut lower = name.to_lowercase();
    lower.set_fqdn(true);
    lower
}

/// The address a full `in-addr.arpa` or `ip6.arpa` name stands for.
fn reverse_ip(name: &Name) -> Option<IpAddr> {
    let net = name.parse_arpa_name().ok()?;
    (net.prefix_len() == net.max_prefix_len()).then(|| net.addr())
}
