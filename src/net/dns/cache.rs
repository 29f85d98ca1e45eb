//! What cluster DNS knows about the cluster: a compact copy of Services and EndpointSlices that
//! keeps only what answers need (addresses, ports, endpoint hostnames), indexed by service and
//! by address. The watch feed writes it; the answering logic reads it.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use hickory_proto::rr::Name;

/// A namespaced object's identity: `(namespace, name)`.
pub type ObjectKey = (String, String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceKind {
    /// Virtual IPs (one per family) in front of the endpoints.
    ClusterIp(Vec<IpAddr>),
    /// No virtual IP (`clusterIP: None`): the name resolves to the ready endpoints themselves.
    Headless,
    /// An alias of a name outside the cluster.
    ExternalName(Name),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The port's name; empty when it has none.
    pub name: String,
    /// `tcp`, `udp` or `sctp`: lowercase, as SRV names spell it.
    pub protocol: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub kind: ServiceKind,
    pub ports: Vec<Port>,
}

/// A ready endpoint (not-ready ones are never answered, so they are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: IpAddr,
    /// The pod's hostname when its subdomain names the service (StatefulSet pods).
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSlice {
    /// The Service the slice belongs to (its `kubernetes.io/service-name` label).
    pub service: String,
    pub endpoints: Vec<Endpoint>,
    pub ports: Vec<Port>,
}

#[derive(Debug, Default)]
pub struct ClusterCache {
    services: HashMap<ObjectKey, Service>,
    slices: HashMap<ObjectKey, EndpointSlice>,
    /// Slice names by the service they belong to.
    slices_by_service: HashMap<ObjectKey, BTreeSet<String>>,
    services_by_ip: HashMap<IpAddr, BTreeSet<ObjectKey>>,
    slices_by_ip: HashMap<IpAddr, BTreeSet<ObjectKey>>,
    services_per_namespace: HashMap<String, usize>,
    /// Bumped on every change; the zone's SOA serial.
    serial: u32,
}

impl ClusterCache {
    /// Records the newest state of a service; `None` removes it.
    pub fn set_service(&mut self, key: ObjectKey, service: Option<Service>) {
        self.serial = self.serial.wrapping_add(1);
        if let Some(old) = self.services.remove(&key) {
            self.unindex_service(&key, &old);
        }
        if let Some(service) = service {
            self.index_service(&key, &service);
            self.services.insert(key, service);
        }
    }

    /// Replaces every service at once (after a fresh list).
    pub fn replace_services(&mut self, services: Vec<(ObjectKey, Service)>) {
        self.serial = self.serial.wrapping_add(1);
        self.services.clear();
        self.services_by_ip.clear();
        self.services_per_namespace.clear();
        for (key, service) in services {
            self.index_service(&key, &service);
            self.services.insert(key, service);
        }
    }

    /// Records the newest state of a slice; `None` removes it.
    pub fn set_slice(&mut self, key: ObjectKey, slice: Option<EndpointSlice>) {
        self.serial = self.serial.wrapping_add(1);
        if let Some(old) = self.slices.remove(&key) {
            self.unindex_slice(&key, &old);
        }
        if let Some(slice) = slice {
            self.index_slice(&key, &slice);
            self.slices.insert(key, slice);
        }
    }

    /// Replaces every slice at once (after a fresh list).
    pub fn replace_slices(&mut self, slices: Vec<(ObjectKey, EndpointSlice)>) {
        self.serial = self.serial.wrapping_add(1);
        self.slices.clear();
        self.slices_by_service.clear();
        self.slices_by_ip.clear();
        for (key, slice) in slices {
            self.index_slice(&key, &slice);
            self.slices.insert(key, slice);
        }
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.services.get(&(namespace.to_string(), name.to_string()))
    }

    /// The slices of service `name` in `namespace`.
    pub fn slices_of<'a>(&'a self, namespace: &str, name: &str) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        let namespace = namespace.to_string();
        let names = self.slices_by_service.get(&(namespace.clone(), name.to_string()));
        names.into_iter().flatten().filter_map(move |slice| self.slices.get(&(namespace.clone(), slice.clone())))
    }

    /// Whether `namespace` has any service (so that `<namespace>.svc.<domain>` exists).
    pub fn has_services_in(&self, namespace: &str) -> bool {
        self.services_per_namespace.contains_key(namespace)
    }

    /// The services having `ip` as a cluster IP.
    pub fn services_at(&self, ip: IpAddr) -> impl Iterator<Item = &ObjectKey> {
        self.services_by_ip.get(&ip).into_iter().flatten()
    }

    /// The slices with a ready endpoint at `ip`, with their namespace.
    pub fn slices_at(&self, ip: IpAddr) -> impl Iterator<Item = (&str, &EndpointSlice)> {
        self.slices_by_ip
            .get(&ip)
            .into_iter()
            .flatten()
            .filter_map(|key| self.slices.get(key).map(|slice| (key.0.as_str(), slice)))
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    fn index_service(&mut self, key: &ObjectKey, service: &Service) {
        *self.services_per_namespace.entry(key.0.clone()).or_default() += 1;
        if let ServiceKind::ClusterIp(ips) = &service.kind {
            for ip in ips {
                self.services_by_ip.entry(*ip).or_default().insert(key.clone());
            }
        }
    }

    fn unindex_service(&mut self, key: &ObjectKey, service: &Service) {
        if let Some(count) = self.services_per_namespace.get_mut(&key.0) {
            *count -= 1;
            if *count == 0 {
                self.services_per_namespace.remove(&key.0);
            }
        }
        if let ServiceKind::ClusterIp(ips) = &service.kind {
            for ip in ips {
                remove_from_index(&mut self.services_by_ip, *ip, key);
            }
        }
    }

    fn index_slice(&mut self, key: &ObjectKey, slice: &EndpointSlice) {
        let service = (key.0.clone(), slice.service.clone());
        self.slices_by_service.entry(service).or_default().insert(key.1.clone());
        for endpoint in &slice.endpoints {
            self.slices_by_ip.entry(endpoint.ip).or_default().insert(key.clone());
        }
    }

    fn unindex_slice(&mut self, key: &ObjectKey, slice: &EndpointSlice) {
        let service = (key.0.clone(), slice.service.clone());
        remove_from_index(&mut self.slices_by_service, service, &key.1);
        for endpoint in &slice.endpoints {
            remove_from_index(&mut self.slices_by_ip, endpoint.ip, key);
        }
    }
}

/// Removes `value` from the set at `index[key]`, dropping the set when it empties.
fn remove_from_index<K, V>(index: &mut HashMap<K, BTreeSet<V>>, key: K, value: &V)
where
    K: std::hash::Hash + Eq,
    V: Ord,
{
    if let std::collections::hash_map::Entry::Occupied(mut entry) = index.entry(key) {
        entry.get_mut().remove(value);
        if entry.get().is_empty() {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(namespace: &str, name: &str) -> ObjectKey {
        (namespace.to_string(), name.to_string())
    }

    fn cluster_ip(ip: &str) -> Service {
        Service { kind: ServiceKind::ClusterIp(vec![ip.parse().unwrap()]), ports: vec![] }
    }

    fn slice(service: &str, ips: &[&str]) -> EndpointSlice {
        EndpointSlice {
            service: service.to_string(),
            endpoints: ips.iter().map(|ip| Endpoint { ip: ip.parse().unwrap(), hostname: None }).collect(),
            ports: vec![],
        }
    }

    #[test]
    fn indexes_follow_updates_and_deletes() {
        let mut cache = ClusterCache::default();
        cache.set_service(key("shop", "web"), Some(cluster_ip("10.43.0.20")));
        let ip = "10.43.0.20".parse().unwrap();
        assert_eq!(cache.services_at(ip).collect::<Vec<_>>(), [&key("shop", "web")]);
        assert!(cache.has_services_in("shop"));

        cache.set_service(key("shop", "web"), Some(cluster_ip("10.43.0.21")));
        assert_eq!(cache.services_at(ip).count(), 0);
        cache.set_service(key("shop", "web"), None);
        assert!(!cache.has_services_in("shop"));
        assert!(cache.service("shop", "web").is_none());

        cache.set_slice(key("shop", "web-abc"), Some(slice("web", &["10.42.0.5", "10.42.0.6"])));
        cache.set_slice(key("shop", "web-def"), Some(slice("web", &["10.42.0.7"])));
        assert_eq!(cache.slices_of("shop", "web").count(), 2);
        let pod_ip = "10.42.0.5".parse().unwrap();
        assert_eq!(
            cache.slices_at(pod_ip).map(|(ns, s)| (ns, s.service.as_str())).collect::<Vec<_>>(),
            [("shop", "web")]
        );

        cache.set_slice(key("shop", "web-abc"), Some(slice("web", &["10.42.0.6"])));
        assert_eq!(cache.slices_at(pod_ip).count(), 0);
        cache.set_slice(key("shop", "web-def"), None);
        assert_eq!(cache.slices_of("shop", "web").count(), 1);
    }

    #[test]
    fn replacing_drops_what_the_new_list_lacks() {
        let mut cache = ClusterCache::default();
        cache.set_service(key("a", "old"), Some(cluster_ip("10.43.0.30")));
        cache.set_slice(key("a", "old-1"), Some(slice("old", &["10.42.0.9"])));
        let before = cache.serial();
        cache.replace_services(vec![(key("b", "new"), cluster_ip("10.43.0.31"))]);
        cache.replace_slices(vec![]);
        assert_ne!(cache.serial(), before);
        assert!(cache.service("a", "old").is_none());
        assert!(!cache.has_services_in("a"));
        assert_eq!(cache.services_at("10.43.0.30".parse().unwrap()).count(), 0);
        assert_eq!(cache.slices_at("10.42.0.9".parse().unwrap()).count(), 0);
        assert!(cache.service("b", "new").is_some());
    }
}
