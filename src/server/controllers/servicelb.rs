//! ServiceLB, after k3s: gives Services of type LoadBalancer (those without a
//! `loadBalancerClass`, which belong to another implementation) their external addresses in
//! `status.loadBalancer.ingress`.
//!
//! - By default a service gets the InternalIPs of the ready, schedulable nodes (not labelled
//!   `node.kubernetes.io/exclude-from-external-load-balancers`). Every node's service proxy
//!   accepts the service's ports on those addresses. As with k3s' host ports, a port can serve
//!   one service only: a later service asking for a protocol and port an earlier one holds stays
//!   `<pending>` until it is free.
//! - With `--lb-pool` (a CIDR or a `first-last` range, several comma-separated) each service
//!   gets an address of its own from the pool (`spec.loadBalancerIP` when it names a free one),
//!   and one elected node answers for it on the network: the controller names it in the
//!   `onebin.io/loadbalancer-node` annotation (for `externalTrafficPolicy: Local`, a node with
//!   a ready endpoint when there is one) and that node's proxy claims the address.
//!
//! Services that stop being LoadBalancers lose the addresses and the annotation. All services
//! are looked at together, those holding addresses first, then by age, so that what a service
//! holds stays with it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::events::{EventType, Recorder};
use super::informer::{enqueue_changes, Informer, Informers};
use super::queue::WorkQueue;
use crate::net::proxy::announce::NODE_ANNOTATION;
use crate::server::registry::{catalog, object, Registry, UpdateKind};

/// Nodes with this label never carry load-balancer traffic (upstream's convention).
const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";
/// The single work-queue key: every change re-evaluates all services.
const ALL: &str = "all";

/// The addresses `--lb-pool` hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Inclusive ranges.
    ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl Pool {
    /// Parses `192.168.1.240/28`, `192.168.1.240-192.168.1.250`, or several of them separated by
    /// commas. A CIDR leaves out its network and broadcast addresses (for prefixes up to /30).
    pub fn parse(text: &str) -> Result<Self> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            let range = if let Some((first, last)) = part.split_once('-') {
                let first: Ipv4Addr =
                    first.trim().parse().with_context(|| format!("--lb-pool {part:?}: bad first address"))?;
                let last: Ipv4Addr =
                    last.trim().parse().with_context(|| format!("--lb-pool {part:?}: bad last address"))?;
                if first > last {
                    bail!("--lb-pool {part:?}: the first address comes after the last");
                }
                (first, last)
            } else {
                let net: Ipv4Net = part
                    .parse()
                    .with_context(|| format!("--lb-pool {part:?} is neither a CIDR nor a first-last range"))?;
                match net.prefix_len() {
                    31 | 32 => (net.network(), net.broadcast()),
                    _ => (next(net.network()), previous(net.broadcast())),
                }
            };
            ranges.push(range);
        }
        if ranges.is_empty() {
            bail!("--lb-pool {text:?} holds no address");
        }
        Ok(Self { ranges })
    }

    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.ranges.iter().any(|(first, last)| (*first..=*last).contains(&address))
    }

    /// The lowest address of the pool that is not `taken`.
    fn first_free(&self, taken: impl Fn(&Ipv4Addr) -> bool) -> Option<Ipv4Addr> {
        self.ranges.iter().find_map(|(first, last)| {
            let (first, last) = (u32::from(*first), u32::from(*last));
            (first..=last).map(Ipv4Addr::from).find(|address| !taken(address))
        })
    }
}

fn next(address: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address).saturating_add(1))
}

fn previous(address: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address).saturating_sub(1))
}

pub fn spawn(informers: &Arc<Informers>, pool: Option<Pool>) {
    let services = informers.of("", "services");
    let nodes = informers.of("", "nodes");
    let slices = informers.of("discovery.k8s.io", "endpointslices");
    let queue = WorkQueue::new();
    enqueue_changes(services.clone(), queue.clone(), |_| vec![ALL.to_string()]);
    enqueue_changes(nodes.clone(), queue.clone(), |_| vec![ALL.to_string()]);
    if pool.is_some() {
        // Endpoints move the elected node of `Local` services.
        enqueue_changes(slices.clone(), queue.clone(), |_| vec![ALL.to_string()]);
    }
    let registry = informers.registry().clone();
    let events = Recorder::new(registry.clone(), "service-lb-controller");
    let pool = Arc::new(pool);
    queue.run("servicelb", 1, move |_| {
        let (registry, events, services, nodes, slices, pool) =
            (registry.clone(), events.clone(), services.clone(), nodes.clone(), slices.clone(), pool.clone());
        async move {
            let outcome = assign(&services.list(None), &nodes.list(None), &slices, pool.as_ref().as_ref());
            for (service, reason) in &outcome.pending {
                events.record(service, EventType::Warning, "LoadBalancerPending", reason).await;
            }
            for (key, assignment) in outcome.changes {
                write(&registry, &key, &assignment).await?;
            }
            Ok(None)
        }
    });
}

/// What a service should carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Assignment {
    ingress: Vec<Ipv4Addr>,
    announcer: Option<String>,
}

/// What one look at all services found.
#[derive(Debug, Default)]
struct Outcome {
    /// The assignment of every service whose current one differs, by `namespace/name`.
    changes: BTreeMap<String, Assignment>,
    /// Load balancers left without addresses, and why.
    pending: Vec<(Value, &'static str)>,
}

fn assign(services: &[Arc<Value>], nodes: &[Arc<Value>], slices: &Informer, pool: Option<&Pool>) -> Outcome {
    let eligible: Vec<&Value> = nodes.iter().map(AsRef::as_ref).filter(|node| carries_load_balancers(node)).collect();
    let mut ordered: Vec<&Value> = services.iter().map(AsRef::as_ref).collect();
    // Services holding addresses keep them; then the oldest goes first.
    ordered.sort_by_key(|service| {
        (current(service).ingress.is_empty(), text(service, "/metadata/creationTimestamp"), key(service))
    });
    let mut held_ports: BTreeSet<(String, i64)> = BTreeSet::new();
    // Pool addresses services already hold stay theirs, whatever order they were handed out in.
    let mut owners: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    if let Some(pool) = pool {
        for service in ordered.iter().filter(|service| handled(service)) {
            if let Some(address) = current(service).ingress.first().filter(|address| pool.contains(**address)) {
                owners.entry(*address).or_insert_with(|| key(service));
            }
        }
    }
    let mut outcome = Outcome::default();
    for service in ordered {
        if !text(service, "/spec/loadBalancerClass").is_empty() {
            continue;
        }
        let mut pending = None;
        let wanted = if !handled(service) {
            Assignment::default()
        } else if let Some(pool) = pool {
            let name = key(service);
            let mine = current(service).ingress.first().copied().filter(|address| owners.get(address) == Some(&name));
            let requested =
                text(service, "/spec/loadBalancerIP").parse::<Ipv4Addr>().ok().filter(|a| pool.contains(*a));
            let address = match requested {
                Some(requested) if Some(requested) == mine => Some(requested),
                Some(requested) if !owners.contains_key(&requested) => {
                    if let Some(mine) = mine {
                        owners.remove(&mine);
                    }
                    Some(requested)
                }
                _ => mine.or_else(|| pool.first_free(|address| owners.contains_key(address))),
            };
            match address {
                Some(address) => {
                    owners.insert(address, name);
                    Assignment { ingress: vec![address], announcer: elect(service, &eligible, slices) }
                }
                None => {
                    pending = Some("the load-balancer pool has no free address");
                    Assignment::default()
                }
            }
        } else {
            let ports = ports(service);
            if ports.iter().any(|port| held_ports.contains(port)) {
                pending = Some("a port of the service is taken by an earlier load balancer");
                Assignment::default()
            } else {
                held_ports.extend(ports);
                let mut ingress: Vec<Ipv4Addr> = eligible.iter().filter_map(|node| internal_ip(node)).collect();
                ingress.sort();
                ingress.dedup();
                Assignment { ingress, announcer: None }
            }
        };
        if let Some(reason) = pending {
            outcome.pending.push((service.clone(), reason));
        }
        if current(service) != wanted {
            outcome.changes.insert(key(service), wanted);
        }
    }
    outcome
}

/// Whether ServiceLB gives `service` addresses.
fn handled(service: &Value) -> bool {
    text(service, "/spec/type") == "LoadBalancer" && text(service, "/spec/loadBalancerClass").is_empty()
}

/// The assignment `service` carries now.
fn current(service: &Value) -> Assignment {
    let ingress = service
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|ingress| ingress.get("ip")?.as_str()?.parse().ok())
        .collect();
    let announcer =
        service.pointer("/metadata/annotations").and_then(|a| a.get(NODE_ANNOTATION)).and_then(Value::as_str);
    Assignment { ingress, announcer: announcer.map(str::to_string) }
}

fn carries_load_balancers(node: &Value) -> bool {
    let ready = node.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|conditions| {
        conditions.iter().any(|c| c.get("type") == Some(&json!("Ready")) && c.get("status") == Some(&json!("True")))
    });
    let schedulable = node.pointer("/spec/unschedulable").and_then(Value::as_bool) != Some(true);
    let excluded = node.pointer("/metadata/labels").and_then(|labels| labels.get(EXCLUDE_LABEL)).is_some();
    ready && schedulable && !excluded
}

fn internal_ip(node: &Value) -> Option<Ipv4Addr> {
    node.pointer("/status/addresses")?.as_array()?.iter().find_map(|address| {
        (address.get("type")? == "InternalIP").then(|| address.get("address")?.as_str()?.parse().ok()).flatten()
    })
}

/// The node that answers for `service`'s pool address: the current one while it qualifies,
/// else one picked by the service's name, so that services spread over the nodes.
fn elect(service: &Value, eligible: &[&Value], slices: &Informer) -> Option<String> {
    let mut candidates: Vec<&str> = eligible.iter().map(|node| object::name(node)).collect();
    if text(service, "/spec/externalTrafficPolicy") == "Local" {
        let hosting = nodes_with_ready_endpoints(service, slices);
        if candidates.iter().any(|node| hosting.contains(*node)) {
            candidates.retain(|node| hosting.contains(*node));
        }
    }
    candidates.sort_unstable();
    if let Some(current) = current(service).announcer.filter(|node| candidates.contains(&node.as_str())) {
        return Some(current);
    }
    let spread = key(service).bytes().fold(0usize, |hash, byte| hash.wrapping_mul(31).wrapping_add(byte.into()));
    candidates.get(spread % candidates.len().max(1)).map(|node| node.to_string())
}

fn nodes_with_ready_endpoints(service: &Value, slices: &Informer) -> BTreeSet<String> {
    let name = object::name(service);
    slices
        .list(Some(object::namespace(service)))
        .iter()
        .filter(|slice| {
            slice.pointer("/metadata/labels/kubernetes.io~1service-name").and_then(Value::as_str) == Some(name)
        })
        .flat_map(|slice| slice.get("endpoints").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter(|endpoint| endpoint.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false))
        .filter_map(|endpoint| endpoint.get("nodeName")?.as_str().map(str::to_string))
        .collect()
}

/// The (protocol, port) pairs a service listens on.
fn ports(service: &Value) -> Vec<(String, i64)> {
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|port| {
            Some((
                port.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string(),
                port.get("port")?.as_i64()?,
            ))
        })
        .collect()
}

fn key(service: &Value) -> String {
    format!("{}/{}", object::namespace(service), object::name(service))
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// Writes the assignment: the annotation through the object, the addresses through status.
async fn write(registry: &Registry, key: &str, assignment: &Assignment) -> Result<()> {
    let rt = catalog::find("", "v1", "services").expect("served");
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    let result = registry
        .update_with(rt, Some(namespace), name, UpdateKind::Object, |service| {
            if current(service).announcer == assignment.announcer {
                return Ok(None);
            }
            let mut service = service.clone();
            let annotations = object::metadata_mut(&mut service).entry("annotations").or_insert_with(|| json!({}));
            if !annotations.is_object() {
                *annotations = json!({});
            }
            if let Some(map) = annotations.as_object_mut() {
                match &assignment.announcer {
                    Some(node) => map.insert(NODE_ANNOTATION.to_string(), json!(node)),
                    None => map.remove(NODE_ANNOTATION),
                };
            }
            Ok(Some(service))
        })
        .await;
    match result {
        Err(error) if error.code == 404 => return Ok(()),
        other => other.map_err(|error| anyhow::anyhow!("annotating service {key}: {error}"))?,
    };
    let ingress: Vec<Value> = assignment.ingress.iter().map(|address| json!({"ip": address.to_string()})).collect();
    let result = registry
        .update_with(rt, Some(namespace), name, UpdateKind::Status, |service| {
            if current(service).ingress == assignment.ingress {
                return Ok(None);
            }
            let mut service = service.clone();
            service["status"]["loadBalancer"] =
                if ingress.is_empty() { json!({}) } else { json!({"ingress": ingress.clone()}) };
            Ok(Some(service))
        })
        .await;
    match result {
        Err(error) if error.code == 404 => Ok(()),
        other => {
            other.map(|_| ()).map_err(|error| anyhow::anyhow!("setting the load-balancer status of {key}: {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_parse_cidrs_and_ranges() {
        let pool = Pool::parse("192.0.2.0/30, 198.51.100.7-198.51.100.9").unwrap();
        assert!(!pool.contains("192.0.2.0".parse().unwrap()) && pool.contains("192.0.2.1".parse().unwrap()));
        assert!(pool.contains("192.0.2.2".parse().unwrap()) && !pool.contains("192.0.2.3".parse().unwrap()));
        assert!(pool.contains("198.51.100.9".parse().unwrap()));
        assert_eq!(Pool::parse("192.0.2.5/32").unwrap().first_free(|_| false), Some("192.0.2.5".parse().unwrap()));
        for bad in ["", "192.0.2.9-192.0.2.1", "nonsense", "192.0.2.0/33"] {
            assert!(Pool::parse(bad).is_err(), "{bad:?}");
        }
    }
}
