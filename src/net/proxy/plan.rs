//! The nftables objects one Service needs, computed from the model (no kernel involved):
//!
//! - per service port a chain spreading connections over the endpoints at random
//!   (`service-…`), and one over this node's endpoints only (`local-…`) where a `Local`
//!   traffic policy asks for it;
//! - an `external-…` chain for NodePort, external IP and load-balancer traffic, which marks it
//!   for masquerading (policy `Cluster`) or keeps the client address (`Local`);
//! - one `endpoint-…` chain per endpoint: hairpin masquerade, affinity bookkeeping, DNAT;
//! - for `sessionAffinity: ClientIP`, one `affinity-…` set per endpoint of the clients it serves;
//! - entries in the table's dispatch maps, or in its "no endpoints" maps that reject or drop.
//!
//! Names follow kube-proxy's nftables mode: a hash, then `namespace/name/protocol/port`, which
//! keeps them unique and readable in `nft list ruleset`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use netlink_packet_netfilter::nftables::Register;
use sha2::{Digest, Sha256};

use super::model::{endpoints, usable, Endpoint, ServiceInfo, ServicePort};
use super::skeleton::{address_key, port_key, Map, MARK_FOR_MASQUERADE, REJECT};
use crate::net::nft::expr::{self, Expression, Ipv4Field, PortField};
use crate::net::nft::objects::Verdict;

/// What the rules of every service depend on besides the service itself.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Pod addresses of the whole cluster: traffic from elsewhere to a cluster IP is masqueraded.
    pub cluster_cidr: Ipv4Net,
    /// This node's name, to tell local endpoints.
    pub node_name: String,
}

/// One rule of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Expressions ending in a verdict or action.
    Match(Vec<Expression>),
    /// One of the verdicts, at random (`numgen random mod N vmap { … }`).
    RandomChoice(Vec<Verdict>),
}

/// Everything one Service puts into the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRules {
    pub chains: BTreeMap<String, Vec<Rule>>,
    /// Dynamic sets of client addresses, one per endpoint, for session affinity.
    pub affinity_sets: BTreeSet<String>,
    pub elements: BTreeMap<(Map, Vec<u8>), Verdict>,
}

/// The rules `service` needs given its EndpointSlices.
pub fn plan(service: &ServiceInfo, slices: &[&EndpointSlice], settings: &Settings) -> ServiceRules {
    let mut rules = ServiceRules::default();
    for port in &service.ports {
        plan_port(service, port, &endpoints(port, slices, &settings.node_name), settings, &mut rules);
    }
    rules
}

fn plan_port(
    service: &ServiceInfo,
    port: &ServicePort,
    all: &[Endpoint],
    settings: &Settings,
    rules: &mut ServiceRules,
) {
    let base = format!("{}/{}/{}/{}", service.namespace, service.name, port.protocol.name(), port.name);
    let cluster = usable(all.iter().cloned());
    let local = usable(all.iter().filter(|endpoint| endpoint.local).cloned());
    let externally_reachable = port.node_port.is_some() || !service.external_ips.is_empty();
    let has_endpoints = !cluster.is_empty();

    let cluster_chain = object_name("service", &base);
    let local_chain = object_name("local", &base);
    let external_chain = object_name("external", &base);
    let (internal_chain, has_internal) =
        if service.internal_policy_local { (&local_chain, !local.is_empty()) } else { (&cluster_chain, has_endpoints) };
    let (external_policy_chain, has_external) =
        if service.external_policy_local { (&local_chain, !local.is_empty()) } else { (&cluster_chain, has_endpoints) };
    // Without endpoints anywhere, connections are refused; with a `Local` policy and none
    // here, the packets that no short-circuit rule took are dropped, as upstream does.
    let no_endpoints = if has_endpoints { Verdict::Drop } else { Verdict::Goto(REJECT.to_string()) };
    let protocol = port.protocol.number();

    let service_key = |ip: Ipv4Addr, number: u16| address_key(ip, protocol, number);
    if has_internal {
        rules.elements.insert((Map::ServiceIps, service_key(service.cluster_ip, port.port)), goto(internal_chain));
    } else {
        rules
            .elements
            .insert((Map::NoEndpointServices, service_key(service.cluster_ip, port.port)), no_endpoints.clone());
    }
    for &ip in &service.external_ips {
        if has_endpoints {
            rules.elements.insert((Map::ServiceIps, service_key(ip, port.port)), goto(&external_chain));
        }
        if !has_external {
            rules.elements.insert((Map::NoEndpointServices, service_key(ip, port.port)), no_endpoints.clone());
        }
    }
    if let Some(node_port) = port.node_port {
        let key = port_key(protocol, node_port);
        if has_endpoints {
            rules.elements.insert((Map::NodePorts, key.clone()), goto(&external_chain));
        }
        if !has_external {
            rules.elements.insert((Map::NoEndpointNodePorts, key), no_endpoints.clone());
        }
    }

    let uses_cluster_chain = has_endpoints && (!service.internal_policy_local || externally_reachable);
    let uses_local_chain =
        !local.is_empty() && (service.internal_policy_local || (externally_reachable && service.external_policy_local));
    let mut reachable: Vec<&Endpoint> = Vec::new();
    for (used, chain, endpoints) in
        [(uses_cluster_chain, &cluster_chain, &cluster), (uses_local_chain, &local_chain, &local)]
    {
        if !used {
            continue;
        }
        let mut chain_rules = Vec::new();
        if chain == internal_chain {
            chain_rules.push(masquerade_off_cluster_traffic(service.cluster_ip, port, settings.cluster_cidr));
        }
        chain_rules.extend(spread(&base, endpoints, service.affinity_timeout.is_some()));
        rules.chains.insert(chain.clone(), chain_rules);
        let fresh: Vec<&Endpoint> = endpoints.iter().filter(|endpoint| !reachable.contains(endpoint)).collect();
        reachable.extend(fresh);
    }

    if has_endpoints && externally_reachable {
        let mut chain_rules = Vec::new();
        if service.external_policy_local {
            // Pods and the node itself reach the service as they would through a load
            // balancer outside, so the policy does not apply to them (as upstream).
            let mut from_pods = expr::ipv4_in(Ipv4Field::Source, settings.cluster_cidr, true);
            from_pods.push(expr::goto(&cluster_chain));
            chain_rules.push(Rule::Match(from_pods));
            // The node's own address would be the source: masquerade so replies come back.
            let mut from_node = expr::fib_address_is_local(Ipv4Field::Source);
            from_node.push(expr::jump(MARK_FOR_MASQUERADE));
            chain_rules.push(Rule::Match(from_node));
            let mut from_node = expr::fib_address_is_local(Ipv4Field::Source);
            from_node.push(expr::goto(&cluster_chain));
            chain_rules.push(Rule::Match(from_node));
        } else {
            // Endpoints may be on other nodes: replies must come back through this one.
            chain_rules.push(Rule::Match(vec![expr::jump(MARK_FOR_MASQUERADE)]));
        }
        if has_external {
            chain_rules.push(Rule::Match(vec![expr::goto(external_policy_chain)]));
        }
        rules.chains.insert(external_chain, chain_rules);
    }

    for endpoint in reachable {
        let endpoint_base = endpoint_base(&base, endpoint);
        let mut chain_rules = Vec::new();
        // Hairpin: a pod reaching itself through the service must see a source that is not
        // its own address, or it drops the packet.
        let mut hairpin = expr::ipv4_in(Ipv4Field::Source, Ipv4Net::from(endpoint.ip), true);
        hairpin.push(expr::jump(MARK_FOR_MASQUERADE));
        chain_rules.push(Rule::Match(hairpin));
        if let Some(timeout) = service.affinity_timeout {
            let set = object_name("affinity", &endpoint_base);
            chain_rules.push(Rule::Match(vec![
                expr::load_ipv4(Ipv4Field::Source, Register::Reg1),
                expr::update_set(&set, Register::Reg1, timeout),
            ]));
            rules.affinity_sets.insert(set);
        }
        let mut dnat = expr::l4proto_is(protocol);
        dnat.extend(expr::dnat(endpoint.ip, endpoint.port));
        chain_rules.push(Rule::Match(dnat));
        rules.chains.insert(object_name("endpoint", &endpoint_base), chain_rules);
    }
}

/// `ip daddr <cluster IP> <proto> dport <port> ip saddr != <cluster CIDR> jump mark-for-masquerade`:
/// traffic from outside the pod network (the node, or hosts routing the service range here)
/// must come back through this node.
fn masquerade_off_cluster_traffic(cluster_ip: Ipv4Addr, port: &ServicePort, cluster_cidr: Ipv4Net) -> Rule {
    let mut expressions = expr::ipv4_in(Ipv4Field::Destination, Ipv4Net::from(cluster_ip), true);
    expressions.extend(expr::l4proto_is(port.protocol.number()));
    expressions.extend(expr::port_is(PortField::Destination, port.port));
    expressions.extend(expr::ipv4_in(Ipv4Field::Source, cluster_cidr, false));
    expressions.push(expr::jump(MARK_FOR_MASQUERADE));
    Rule::Match(expressions)
}

/// Rules sending a connection to one of `endpoints`: first to the endpoint a client stuck to
/// (with affinity), else to one at random.
fn spread(base: &str, endpoints: &[Endpoint], affinity: bool) -> Vec<Rule> {
    let mut rules = Vec::new();
    if affinity {
        for endpoint in endpoints {
            let endpoint_base = endpoint_base(base, endpoint);
            rules.push(Rule::Match(vec![
                expr::load_ipv4(Ipv4Field::Source, Register::Reg1),
                expr::in_set(&object_name("affinity", &endpoint_base), None, Register::Reg1),
                expr::goto(&object_name("endpoint", &endpoint_base)),
            ]));
        }
    }
    rules.push(Rule::RandomChoice(
        endpoints.iter().map(|endpoint| goto(&object_name("endpoint", &endpoint_base(base, endpoint)))).collect(),
    ));
    rules
}

fn goto(chain: &str) -> Verdict {
    Verdict::Goto(chain.to_string())
}

fn endpoint_base(base: &str, endpoint: &Endpoint) -> String {
    format!("{base}__{}/{}", endpoint.ip, endpoint.port)
}

/// `<kind>-<hash>-<base>`. Chain and set names start with a letter and are unique per service port
/// (and endpoint): the hash tells apart bases that differ only at the end.
fn object_name(kind: &str, base: &str) -> String {
    let digest = Sha256::digest(base.as_bytes());
    format!("{kind}-{}-{base}", hex::encode_upper(&digest[..4]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::proxy::model::Protocol;
    use std::time::Duration;

    fn settings() -> Settings {
        Settings { cluster_cidr: "10.42.0.0/16".parse().unwrap(), node_name: "me".into() }
    }

    fn web(node_port: Option<u16>) -> ServiceInfo {
        ServiceInfo {
            namespace: "ns".into(),
            name: "web".into(),
            cluster_ip: Ipv4Addr::new(10, 43, 0, 20),
            external_ips: BTreeSet::new(),
            ports: vec![ServicePort { name: "http".into(), protocol: Protocol::Tcp, port: 80, node_port }],
            affinity_timeout: None,
            external_policy_local: false,
            internal_policy_local: false,
        }
    }

    fn slice(endpoints: &[(&str, &str, bool)]) -> EndpointSlice {
        let endpoints: Vec<serde_json::Value> = endpoints
            .iter()
            .map(|(ip, node, ready)| serde_json::json!({"addresses": [ip], "nodeName": node, "conditions": {"ready": ready}}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "ns"}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}], "endpoints": endpoints,
        }))
        .unwrap()
    }

    fn chains_starting(rules: &ServiceRules, kind: &str) -> Vec<String> {
        rules.chains.keys().filter(|name| name.starts_with(kind)).cloned().collect()
    }

    #[test]
    fn a_cluster_ip_spreads_over_ready_endpoints() {
        let slice = slice(&[("10.42.0.5", "me", true), ("10.42.1.5", "other", true), ("10.42.1.6", "other", false)]);
        let rules = plan(&web(None), &[&slice], &settings());
        assert_eq!(chains_starting(&rules, "endpoint-").len(), 2);
        let service_chain = &chains_starting(&rules, "service-")[0];
        assert!(service_chain.ends_with("-ns/web/tcp/http"), "{service_chain}");
        let chain = &rules.chains[service_chain];
        assert_eq!(chain.len(), 2, "masquerade rule, then the random choice");
        let Rule::RandomChoice(choices) = &chain[1] else { panic!("no random choice") };
        assert_eq!(choices.len(), 2);
        assert_eq!(rules.elements.len(), 1);
        let ((map, key), verdict) = rules.elements.iter().next().unwrap();
        assert_eq!(*map, Map::ServiceIps);
        assert_eq!(key, &vec![10, 43, 0, 20, 6, 0, 0, 0, 0, 80, 0, 0]);
        assert_eq!(verdict, &Verdict::Goto(service_chain.clone()));
    }

    #[test]
    fn no_endpoints_reject_and_a_node_port_goes_through_the_external_chain() {
        let empty = plan(&web(Some(30080)), &[], &settings());
        assert!(empty.chains.is_empty());
        let maps: Vec<Map> = empty.elements.keys().map(|(map, _)| *map).collect();
        assert_eq!(maps, [Map::NoEndpointServices, Map::NoEndpointNodePorts]);
        assert!(empty.elements.values().all(|verdict| *verdict == Verdict::Goto(REJECT.into())));

        let slice = slice(&[("10.42.1.5", "other", true)]);
        let rules = plan(&web(Some(30080)), &[&slice], &settings());
        let external = &chains_starting(&rules, "external-")[0];
        assert_eq!(rules.chains[external].len(), 2, "masquerade mark, then the service chain");
        assert!(rules.elements.contains_key(&(Map::NodePorts, port_key(6, 30080))));
    }

    #[test]
    fn local_external_policy_without_local_endpoints_drops_external_traffic_only() {
        let mut service = web(Some(30080));
        service.external_policy_local = true;
        let slice = slice(&[("10.42.1.5", "other", true)]);
        let rules = plan(&service, &[&slice], &settings());
        assert_eq!(rules.elements[&(Map::NoEndpointNodePorts, port_key(6, 30080))], Verdict::Drop);
        assert!(chains_starting(&rules, "local-").is_empty());
        let external = &chains_starting(&rules, "external-")[0];
        assert_eq!(rules.chains[external].len(), 3, "short-circuits for pods and the node, no local chain");

        let slice = self::slice(&[("10.42.0.5", "me", true), ("10.42.1.5", "other", true)]);
        let rules = plan(&service, &[&slice], &settings());
        let local = &chains_starting(&rules, "local-")[0];
        let Rule::RandomChoice(choices) = rules.chains[local].last().unwrap() else { panic!() };
        assert_eq!(choices.len(), 1);
    }

    #[test]
    fn client_ip_affinity_adds_a_set_per_endpoint() {
        let mut service = web(None);
        service.affinity_timeout = Some(Duration::from_secs(30));
        let slice = slice(&[("10.42.0.5", "me", true), ("10.42.0.6", "me", true)]);
        let rules = plan(&service, &[&slice], &settings());
        assert_eq!(rules.affinity_sets.len(), 2);
        let service_chain = &chains_starting(&rules, "service-")[0];
        assert_eq!(rules.chains[service_chain].len(), 4, "masquerade, two sticky lookups, random choice");
    }
}
