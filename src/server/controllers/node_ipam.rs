//! Node IPAM: gives every node a pod CIDR (`spec.podCIDR`) out of the cluster CIDR, one
//! subnet per node, and takes it back when the node goes.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::informer::{enqueue_changes, ChangeKind, Informers};
use super::queue::WorkQueue;
use crate::server::registry::{catalog, object, UpdateKind};

/// Carves per-node subnets out of the cluster CIDR.
pub struct CidrAllocator {
    subnets: Vec<Ipv4Net>,
    used: Mutex<BTreeSet<Ipv4Net>>,
}

impl CidrAllocator {
    /// `node_prefix` is the size of each node's subnet (24 → /24 per node).
    pub fn new(cluster_cidr: &str, node_prefix: u8) -> anyhow::Result<Self> {
        let net: Ipv4Net =
            cluster_cidr.parse().with_context(|| format!("--cluster-cidr {cluster_cidr:?} is not an IPv4 CIDR"))?;
        if node_prefix < net.prefix_len() || node_prefix > 30 {
            bail!("--cluster-cidr {cluster_cidr} cannot be split into /{node_prefix} node subnets");
        }
        Ok(Self { subnets: net.subnets(node_prefix)?.collect(), used: Mutex::default() })
    }

    /// Marks `cidr` as taken (a node already has it); false if it was taken already.
    pub fn occupy(&self, cidr: &str) -> bool {
        cidr.parse().map(|c| self.used.lock().expect("cidr lock").insert(c)).unwrap_or(false)
    }

    pub fn release(&self, cidr: &str) {
        if let Ok(c) = cidr.parse::<Ipv4Net>() {
            self.used.lock().expect("cidr lock").remove(&c);
        }
    }

    pub fn allocate(&self) -> Option<Ipv4Net> {
        let mut used = self.used.lock().expect("cidr lock");
        let free = self.subnets.iter().find(|s| !used.contains(s)).copied()?;
        used.insert(free);
        Some(free)
    }
}

fn pod_cidr(node: &Value) -> Option<&str> {
    node.pointer("/spec/podCIDR").and_then(Value::as_str).filter(|c| !c.is_empty())
}

pub fn spawn(informers: &Arc<Informers>, allocator: Arc<CidrAllocator>) {
    let nodes = informers.of("", "nodes");
    let queue = WorkQueue::new();
    {
        let allocator = allocator.clone();
        enqueue_changes(nodes.clone(), queue.clone(), move |change| {
            let cidr = pod_cidr(&change.object);
            match change.kind {
                ChangeKind::Deleted => {
                    cidr.inspect(|c| allocator.release(c));
                    Vec::new()
                }
                _ => {
                    // Nodes that already have a subnet keep it.
                    cidr.inspect(|c| {
                        allocator.occupy(c);
                    });
                    vec![object::name(&change.object).to_string()]
                }
            }
        });
    }
    let registry = informers.registry().clone();
    queue.run("node-ipam", 1, move |name| {
        let (nodes, registry, allocator) = (nodes.clone(), registry.clone(), allocator.clone());
        async move {
            let Some(node) = nodes.get(None, &name) else { return Ok(None) };
            if pod_cidr(&node).is_some() {
                return Ok(None);
            }
            // Every subnet some node holds is taken, whatever order nodes were seen in.
            for other in nodes.list(None) {
                if let Some(c) = pod_cidr(&other) {
                    allocator.occupy(c);
                }
            }
            let cidr = allocator.allocate().context("the cluster CIDR has no free node subnet left")?;
            let rt = catalog::find("", "v1", "nodes").expect("served");
            let result = registry
                .update_with(rt, None, &name, UpdateKind::Object, |node| {
                    if pod_cidr(node).is_some() {
                        return Ok(None);
                    }
                    let mut node = node.clone();
                    node["spec"]["podCIDR"] = json!(cidr.to_string());
                    node["spec"]["podCIDRs"] = json!([cidr.to_string()]);
                    Ok(Some(node))
                })
                .await;
            match result {
                Ok(updated) if pod_cidr(&updated) == Some(&cidr.to_string()) => Ok(None),
                Ok(_) => {
                    allocator.release(&cidr.to_string());
                    Ok(None)
                }
                Err(err) => {
                    allocator.release(&cidr.to_string());
                    if err.code == 404 {
                        Ok(None)
                    } else {
                        Err(anyhow::anyhow!("{err}"))
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_unique_until_released() {
        let alloc = CidrAllocator::new("10.42.0.0/22", 24).unwrap();
        assert!(alloc.occupy("10.42.1.0/24"));
        let got: Vec<_> = (0..3).map(|_| alloc.allocate().unwrap().to_string()).collect();
        assert_eq!(got, ["10.42.0.0/24", "10.42.2.0/24", "10.42.3.0/24"]);
        assert!(alloc.allocate().is_none());
        alloc.release("10.42.2.0/24");
        assert_eq!(alloc.allocate().unwrap().to_string(), "10.42.2.0/24");
        assert!(CidrAllocator::new("10.42.0.0/16", 8).is_err());
    }
}
