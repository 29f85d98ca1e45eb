//! Feeding the cache: watches of every Service and EndpointSlice through the agent's client,
//! each object cut down to what answers need as it arrives, so the full objects are not kept.
//! A relist (after a watch expired or the server restarted) replaces the cache's contents in
//! one step once complete; until then the previous contents keep answering.

use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use hickory_proto::rr::Name;
use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::api::discovery::v1::{EndpointPort, EndpointSlice};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::cache::{self, ClusterCache, ObjectKey};

/// The label naming an EndpointSlice's Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// A watched kind and how it lands in the cache.
pub trait Mirrored: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + 'static {
    type Entry: Send;
    /// What the cache keeps of the object; `None` when DNS serves nothing for it.
    fn entry(&self) -> Option<Self::Entry>;
    fn set(cache: &mut ClusterCache, key: ObjectKey, entry: Option<Self::Entry>);
    fn replace(cache: &mut ClusterCache, entries: Vec<(ObjectKey, Self::Entry)>);
}

/// A cache that watches of every Service and EndpointSlice keep up to date from now on (the
/// watches run on the current tokio runtime for as long as it lives).
pub fn mirror_cluster(client: kube::Client) -> Arc<RwLock<ClusterCache>> {
    let cache = Arc::new(RwLock::new(ClusterCache::default()));
    tokio::spawn(follow::<Service>(client.clone(), cache.clone()));
    tokio::spawn(follow::<EndpointSlice>(client, cache.clone()));
    cache
}

/// Mirrors every `K` in the cluster into `cache` until the process ends, retrying with back-off
/// when the watch fails.
pub async fn follow<K: Mirrored>(client: kube::Client, cache: Arc<RwLock<ClusterCache>>) {
    let api: Api<K> = Api::all(client);
    let mut events = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
    let mut listing: Vec<(ObjectKey, K::Entry)> = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => listing.clear(),
            Ok(Event::InitApply(object)) => listing.extend(object.entry().map(|entry| (key(&object), entry))),
            Ok(Event::InitDone) => {
                K::replace(&mut cache.write().expect("DNS cache lock"), std::mem::take(&mut listing))
            }
            Ok(Event::Apply(object)) => {
                K::set(&mut cache.write().expect("DNS cache lock"), key(&object), object.entry())
            }
            Ok(Event::Delete(object)) => K::set(&mut cache.write().expect("DNS cache lock"), key(&object), None),
            Err(err) => tracing::warn!(kind = %K::kind(&()), %err, "cluster DNS watch failed; retrying"),
        }
    }
}

fn key(object: &impl ResourceExt) -> ObjectKey {
    (object.namespace().unwrap_or_default(), object.name_any())
}

impl Mirrored for Service {
    type Entry = cache::Service;

    fn entry(&self) -> Option<cache::Service> {
        let spec = self.spec.as_ref()?;
        let kind = if spec.type_.as_deref() == Some("ExternalName") {
            let target = spec.external_name.as_deref()?;
            let mut name = Name::from_ascii(target.trim_end_matches('.')).ok()?;
            name.set_fqdn(true);
            cache::ServiceKind::ExternalName(name)
        } else if spec.cluster_ip.as_deref() == Some("None") {
            cache::ServiceKind::Headless
        } else {
            // clusterIPs holds clusterIP first; older objects may only have clusterIP.
            let listed = match spec.cluster_ips.as_deref() {
                Some(ips) if !ips.is_empty() => ips,
                _ => spec.cluster_ip.as_slice(),
            };
            let ips: Vec<IpAddr> = listed.iter().filter_map(|ip| ip.parse().ok()).collect();
            if ips.is_empty() {
                // No address allocated (yet): nothing to answer with.
                return None;
            }
            cache::ServiceKind::ClusterIp(ips)
        };
        let ports = spec.ports.iter().flatten().filter_map(service_port).collect();
        Some(cache::Service { kind, ports })
    }

    fn set(cache: &mut ClusterCache, key: ObjectKey, entry: Option<cache::Service>) {
        cache.set_service(key, entry);
    }

    fn replace(cache: &mut ClusterCache, entries: Vec<(ObjectKey, cache::Service)>) {
        cache.replace_services(entries);
    }
}

impl Mirrored for EndpointSlice {
    type Entry = cache::EndpointSlice;

    fn entry(&self) -> Option<cache::EndpointSlice> {
        let service = self.labels().get(SERVICE_NAME_LABEL)?.clone();
        if !matches!(self.address_type.as_str(), "IPv4" | "IPv6") {
            return None;
        }
        let endpoints = self
            .endpoints
            .iter()
            // An unknown readiness counts as ready, as the API documents.
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
            .filter_map(|e| {
                // The addresses of one endpoint are interchangeable; consumers use the first.
                let ip = e.addresses.first()?.parse().ok()?;
                Some(cache::Endpoint { ip, hostname: e.hostname.as_deref().map(str::to_ascii_lowercase) })
            })
            .collect();
        let ports = self.ports.iter().flatten().filter_map(endpoint_port).collect();
        Some(cache::EndpointSlice { service, endpoints, ports })
    }

    fn set(cache: &mut ClusterCache, key: ObjectKey, entry: Option<cache::EndpointSlice>) {
        cache.set_slice(key, entry);
    }

    fn replace(cache: &mut ClusterCache, entries: Vec<(ObjectKey, cache::EndpointSlice)>) {
        cache.replace_slices(entries);
    }
}

fn service_port(port: &ServicePort) -> Option<cache::Port> {
    Some(cache::Port {
        name: port.name.clone().unwrap_or_default(),
        protocol: protocol(port.protocol.as_deref()),
        port: u16::try_from(port.port).ok()?,
    })
}

fn endpoint_port(port: &EndpointPort) -> Option<cache::Port> {
    Some(cache::Port {
        name: port.name.clone().unwrap_or_default(),
        protocol: protocol(port.protocol.as_deref()),
        port: u16::try_from(port.port?).ok()?,
    })
}

/// A port's protocol as SRV names spell it; TCP when unset, as the API defaults it.
fn protocol(protocol: Option<&str>) -> String {
    protocol.unwrap_or("TCP").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn service(spec: serde_json::Value) -> Service {
        serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec})).unwrap()
    }

    #[test]
    fn services_keep_addresses_and_ports() {
        let plain = service(json!({"clusterIP": "10.43.0.20", "clusterIPs": ["10.43.0.20"],
            "ports": [{"name": "http", "port": 80}, {"port": 53, "protocol": "UDP"}]}));
        assert_eq!(
            plain.entry(),
            Some(cache::Service {
                kind: cache::ServiceKind::ClusterIp(vec!["10.43.0.20".parse().unwrap()]),
                ports: vec![
                    cache::Port { name: "http".into(), protocol: "tcp".into(), port: 80 },
                    cache::Port { name: String::new(), protocol: "udp".into(), port: 53 },
                ],
            })
        );
        assert_eq!(service(json!({"clusterIP": "None"})).entry().unwrap().kind, cache::ServiceKind::Headless);
        let external = service(json!({"type": "ExternalName", "externalName": "db.example.com."}));
        assert_eq!(
            external.entry().unwrap().kind,
            cache::ServiceKind::ExternalName(Name::from_ascii("db.example.com.").unwrap())
        );
        assert_eq!(service(json!({"type": "ClusterIP"})).entry(), None, "no address allocated yet");
        assert_eq!(service(json!({"type": "ExternalName", "externalName": "bad..name"})).entry(), None);
    }

    #[test]
    fn slices_keep_ready_endpoints() {
        let slice: EndpointSlice = serde_json::from_value(json!({
            "metadata": {"name": "web-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.42.0.5"], "conditions": {"ready": true}, "hostname": "Web-0"},
                {"addresses": ["10.42.0.6"], "conditions": {"ready": false}},
                {"addresses": ["10.42.0.7"]},
                {"addresses": ["not-an-ip"]},
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "all"}],
        }))
        .unwrap();
        let entry = slice.entry().unwrap();
        assert_eq!(entry.service, "web");
        assert_eq!(
            entry.endpoints,
            [
                cache::Endpoint { ip: "10.42.0.5".parse().unwrap(), hostname: Some("web-0".into()) },
                cache::Endpoint { ip: "10.42.0.7".parse().unwrap(), hostname: None },
            ]
        );
        assert_eq!(entry.ports, [cache::Port { name: "http".into(), protocol: "tcp".into(), port: 8080 }]);

        let mut unlabelled = slice.clone();
        unlabelled.metadata.labels = None;
        assert_eq!(unlabelled.entry(), None);
        let mut fqdn = slice;
        fqdn.address_type = "FQDN".into();
        assert_eq!(fqdn.entry(), None);
    }
}
