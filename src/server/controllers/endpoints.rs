//! The Endpoints and EndpointSlice controllers: for every Service with a selector, publish
//! the addresses of the pods behind it (ready and not ready, with node and pod reference)
//! as an Endpoints object and as EndpointSlices, and keep them current as pods come, go and
//! change readiness.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::informer::{cache_key, enqueue_changes, split_key, Informer, Informers};
use super::queue::WorkQueue;
use super::service_backends::{backends, selector, Backend};
use crate::server::registry::options::{DeleteOptions, WriteOptions};
use crate::server::registry::{catalog, object, Registry, UpdateKind};

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// Endpoints per slice, as upstream's default.
const SLICE_CAPACITY: usize = 100;

pub fn spawn(informers: &Arc<Informers>) {
    let services = informers.of("", "services");
    let pods = informers.of("", "pods");
    let slices = informers.of("discovery.k8s.io", "endpointslices");
    let queue = WorkQueue::new();
    enqueue_changes(services.clone(), queue.clone(), |change| vec![cache_key(&change.object)]);
    {
        let services = services.clone();
        enqueue_changes(pods.clone(), queue.clone(), move |change| {
            // Services whose selector matches the pod now or matched it before.
            let ns = object::namespace(&change.object);
            services
                .list(Some(ns))
                .iter()
                .filter(|svc| {
                    selector(svc).is_some_and(|sel| {
                        sel.matches_object(&change.object)
                            || change.old.as_deref().is_some_and(|old| sel.matches_object(old))
                    })
                })
                .map(|svc| cache_key(svc))
                .collect()
        });
    }
    enqueue_changes(slices.clone(), queue.clone(), |change| {
        let labels = change.object.pointer("/metadata/labels");
        let managed = labels.and_then(|l| l.get(MANAGED_BY_LABEL)).and_then(Value::as_str) == Some(MANAGED_BY);
        let service = labels.and_then(|l| l.get(SERVICE_NAME_LABEL)).and_then(Value::as_str);
        match (managed, service) {
            (true, Some(svc)) => vec![format!("{}/{svc}", object::namespace(&change.object))],
            _ => Vec::new(),
        }
    });
    let registry = informers.registry().clone();
    queue.run("endpoints", 2, move |key| {
        let (registry, services, pods, slices) = (registry.clone(), services.clone(), pods.clone(), slices.clone());
        async move {
            let (ns, name) = split_key(&key);
            let ns = ns.unwrap_or("default");
            let service = services.get(Some(ns), name);
            sync_endpoints(&registry, ns, name, service.as_deref(), &pods).await?;
            sync_slices(&registry, ns, name, service.as_deref(), &pods, &slices).await?;
            Ok(None)
        }
    });
}

fn endpoints_subsets(backends: &[Backend]) -> Value {
    // Pods whose ports resolve alike share a subset.
    let mut groups: BTreeMap<String, (Vec<Value>, Vec<Value>, Value)> = BTreeMap::new();
    for b in backends {
        let ports: Vec<Value> = b
            .ports
            .iter()
            .map(|(name, port, proto)| {
                let mut p = json!({"port": port, "protocol": proto});
                if !name.is_empty() {
                    p["name"] = json!(name);
                }
                p
            })
            .collect();
        let group = groups
            .entry(serde_json::to_string(&ports).unwrap_or_default())
            .or_insert_with(|| (Vec::new(), Vec::new(), json!(ports)));
        let mut address = json!({
            "ip": b.ip,
            "targetRef": {"kind": "Pod", "namespace": object::namespace(&b.pod), "name": object::name(&b.pod), "uid": object::uid(&b.pod)},
        });
        if !b.node.is_empty() {
            address["nodeName"] = json!(b.node);
        }
        if let Some(hostname) = &b.hostname {
            address["hostname"] = json!(hostname);
        }
        if b.ready {
            group.0.push(address)
        } else {
            group.1.push(address)
        }
    }
    let subsets: Vec<Value> = groups
        .into_values()
        .filter(|(_, _, ports)| ports.as_array().is_some_and(|p| !p.is_empty()))
        .map(|(ready, not_ready, ports)| {
            let mut subset = json!({"ports": ports});
            if !ready.is_empty() {
                subset["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            subset
        })
        .collect();
    json!(subsets)
}

async fn sync_endpoints(
    registry: &Registry,
    ns: &str,
    name: &str,
    service: Option<&Value>,
    pods: &Informer,
) -> anyhow::Result<()> {
    let rt = catalog::find("", "v1", "endpoints").expect("served");
    let existing = registry.get(rt, Some(ns), name).await.ok();
    let Some(service) = service.filter(|s| selector(s).is_some()) else {
        // Services without a selector keep hand-made endpoints; deleted services lose theirs.
        if service.is_none() && existing.is_some() {
            let _ = registry.delete(rt, Some(ns), name, &DeleteOptions::default()).await;
        }
        return Ok(());
    };
    let subsets = endpoints_subsets(&backends(service, &pods.list(Some(ns))));
    let labels = service.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
    match existing {
        None => {
            let ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns, "labels": labels}, "subsets": subsets});
            match registry.create(rt, Some(ns), ep, &WriteOptions::default()).await {
                Ok(_) => Ok(()),
                Err(err) if err.reason == "AlreadyExists" => anyhow::bail!("endpoints appeared meanwhile"),
                Err(err) => Err(anyhow::anyhow!("{err}")),
            }
        }
        Some(ep)
            if ep.get("subsets").cloned().unwrap_or(json!([])) != subsets
                || ep.pointer("/metadata/labels").cloned().unwrap_or(json!({})) != labels =>
        {
            registry
                .update_with(rt, Some(ns), name, UpdateKind::Object, |ep| {
                    let mut ep = ep.clone();
                    ep["subsets"] = subsets.clone();
                    ep["metadata"]["labels"] = labels.clone();
                    Ok(Some(ep))
                })
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
        Some(_) => Ok(()),
    }
}

fn slice_endpoints(backends: &[Backend]) -> Vec<Value> {
    backends
        .iter()
        .map(|b| {
            let mut endpoint = json!({
                "addresses": [b.ip],
                "conditions": {"ready": b.ready && !b.terminating, "serving": b.ready, "terminating": b.terminating},
                "targetRef": {"kind": "Pod", "namespace": object::namespace(&b.pod), "name": object::name(&b.pod), "uid": object::uid(&b.pod)},
            });
            if !b.node.is_empty() {
                endpoint["nodeName"] = json!(b.node);
            }
            if let Some(hostname) = &b.hostname {
                endpoint["hostname"] = json!(hostname);
            }
            endpoint
        })
        .collect()
}

async fn sync_slices(
    registry: &Registry,
    ns: &str,
    name: &str,
    service: Option<&Value>,
    pods: &Informer,
    slices: &Informer,
) -> anyhow::Result<()> {
    let rt = catalog::find("discovery.k8s.io", "v1", "endpointslices").expect("served");
    let mut existing: Vec<Arc<Value>> = slices
        .list(Some(ns))
        .into_iter()
        .filter(|s| {
            let labels = s.pointer("/metadata/labels");
            labels.and_then(|l| l.get(SERVICE_NAME_LABEL)).and_then(Value::as_str) == Some(name)
                && labels.and_then(|l| l.get(MANAGED_BY_LABEL)).and_then(Value::as_str) == Some(MANAGED_BY)
        })
        .collect();
    existing.sort_by(|a, b| object::name(a).cmp(object::name(b)));
    let wanted: Vec<(Value, Vec<Value>)> = match service.filter(|s| selector(s).is_some()) {
        None => Vec::new(),
        Some(service) => {
            let all = backends(service, &pods.list(Some(ns)));
            let mut groups: BTreeMap<String, (Value, Vec<Backend>)> = BTreeMap::new();
            for b in all {
                let ports: Vec<Value> =
                    b.ports.iter().map(|(n, p, proto)| json!({"name": n, "port": p, "protocol": proto})).collect();
                groups
                    .entry(serde_json::to_string(&ports).unwrap_or_default())
                    .or_insert_with(|| (json!(ports), Vec::new()))
                    .1
                    .push(b);
            }
            if groups.is_empty() {
                let ports: Vec<Value> = service
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| json!({"name": p.get("name").and_then(Value::as_str).unwrap_or_default(), "port": p.get("port"), "protocol": p.get("protocol")}))
                    .collect();
                vec![(json!(ports), Vec::new())]
            } else {
                groups
                    .into_values()
                    .flat_map(|(ports, bs)| {
                        bs.chunks(SLICE_CAPACITY).map(|c| (ports.clone(), slice_endpoints(c))).collect::<Vec<_>>()
                    })
                    .collect()
            }
        }
    };
    let owner = service.map(|s| {
        json!([{"apiVersion": "v1", "kind": "Service", "name": name, "uid": object::uid(s), "controller": true, "blockOwnerDeletion": true}])
    });
    for (i, (ports, endpoints)) in wanted.iter().enumerate() {
        match existing.get(i) {
            Some(slice)
                if slice.get("ports") == Some(ports)
                    && slice.get("endpoints").cloned().unwrap_or(json!([])) == json!(endpoints) => {}
            Some(slice) => {
                registry
                    .update_with(rt, Some(ns), object::name(slice), UpdateKind::Object, |s| {
                        let mut s = s.clone();
                        s["ports"] = ports.clone();
                        s["endpoints"] = json!(endpoints);
                        Ok(Some(s))
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            None => {
                let slice = json!({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"generateName": format!("{name}-"), "namespace": ns, "ownerReferences": owner,
                                 "labels": {SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}},
                    "addressType": "IPv4", "ports": ports, "endpoints": endpoints,
                });
                registry
                    .create(rt, Some(ns), slice, &WriteOptions::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
    }
    for extra in existing.iter().skip(wanted.len()) {
        let _ = registry.delete(rt, Some(ns), object::name(extra), &DeleteOptions::default()).await;
    }
    Ok(())
}
