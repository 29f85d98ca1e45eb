//! The proxy's state: the Services and EndpointSlices it was told about, which services changed
//! since the table was last written, and the table as written. `sync` programs the changes:
//! the first time (and after a failure) by replacing the whole table, otherwise service by
//! service.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::model::{slice_service_key, ServiceInfo};
use super::plan::{plan, ServiceRules, Settings};
use super::ruleset::{Change, Ruleset};
use super::ProxyConfig;
use crate::net::netns::NetNs;

pub struct Proxy {
    settings: Settings,
    host: NetNs,
    ruleset: Ruleset,
    services: HashMap<String, Service>,
    /// EndpointSlices by `namespace/name`.
    slices: HashMap<String, EndpointSlice>,
    /// Slice keys by the key of their service.
    slices_by_service: HashMap<String, BTreeSet<String>>,
    /// Services whose rules may have changed since the last sync.
    dirty: BTreeSet<String>,
    /// The table must be replaced as a whole (at start, and after a refused transaction).
    rebuild: bool,
}

/// What one `sync` wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The whole table was replaced.
    pub rebuilt: bool,
    /// Services looked at.
    pub services: usize,
    /// Netlink messages in the transactions.
    pub messages: usize,
}

impl Proxy {
    /// A proxy for the network namespace of the calling thread. Nothing is written before the
    /// first `sync`.
    pub fn new(config: &ProxyConfig) -> Result<Self> {
        super::validate_table_name(&config.table)?;
        Ok(Self {
            settings: Settings { cluster_cidr: config.cluster_cidr, node_name: config.node_name.clone() },
            host: NetNs::current()?,
            ruleset: Ruleset::new(&config.table),
            services: HashMap::new(),
            slices: HashMap::new(),
            slices_by_service: HashMap::new(),
            dirty: BTreeSet::new(),
            rebuild: true,
        })
    }

    pub fn table(&self) -> &str {
        self.ruleset.table()
    }

    /// Adds or updates a Service.
    pub fn set_service(&mut self, service: Service) {
        let key = object_key(&service.metadata);
        if self.services.get(&key) != Some(&service) {
            self.dirty.insert(key.clone());
            self.services.insert(key, service);
        }
    }

    pub fn delete_service(&mut self, namespace: &str, name: &str) {
        let key = format!("{namespace}/{name}");
        if self.services.remove(&key).is_some() {
            self.dirty.insert(key);
        }
    }

    /// Replaces every Service (after a relist).
    pub fn replace_services(&mut self, services: Vec<Service>) {
        let fresh: HashMap<String, Service> =
            services.into_iter().map(|service| (object_key(&service.metadata), service)).collect();
        let old = std::mem::replace(&mut self.services, fresh);
        for (key, service) in &old {
            if self.services.get(key) != Some(service) {
                self.dirty.insert(key.clone());
            }
        }
        let added: Vec<String> = self.services.keys().filter(|key| !old.contains_key(*key)).cloned().collect();
        self.dirty.extend(added);
    }

    /// Adds or updates an EndpointSlice.
    pub fn set_slice(&mut self, slice: EndpointSlice) {
        let key = object_key(&slice.metadata);
        if self.slices.get(&key) == Some(&slice) {
            return;
        }
        if let Some(old) = self.remove_slice(&key) {
            self.dirty.extend(slice_service_key(&old));
        }
        if let Some(service) = slice_service_key(&slice) {
            self.slices_by_service.entry(service.clone()).or_default().insert(key.clone());
            self.dirty.insert(service);
        }
        self.slices.insert(key, slice);
    }

    pub fn delete_slice(&mut self, namespace: &str, name: &str) {
        if let Some(old) = self.remove_slice(&format!("{namespace}/{name}")) {
            self.dirty.extend(slice_service_key(&old));
        }
    }

    /// Replaces every EndpointSlice (after a relist).
    pub fn replace_slices(&mut self, slices: Vec<EndpointSlice>) {
        let fresh: HashMap<String, EndpointSlice> =
            slices.into_iter().map(|slice| (object_key(&slice.metadata), slice)).collect();
        let gone: Vec<String> = self.slices.keys().filter(|key| !fresh.contains_key(*key)).cloned().collect();
        for key in gone {
            if let Some(old) = self.remove_slice(&key) {
                self.dirty.extend(slice_service_key(&old));
            }
        }
        for slice in fresh.into_values() {
            self.set_slice(slice);
        }
    }

    fn remove_slice(&mut self, key: &str) -> Option<EndpointSlice> {
        let old = self.slices.remove(key)?;
        if let Some(service) = slice_service_key(&old) {
            if let Some(keys) = self.slices_by_service.get_mut(&service) {
                keys.remove(key);
                if keys.is_empty() {
                    self.slices_by_service.remove(&service);
                }
            }
        }
        Some(old)
    }

    /// Whether `sync` has something to write now.
    pub fn has_pending_changes(&self, now: Instant) -> bool {
        self.rebuild || !self.dirty.is_empty() || self.ruleset.next_stale_deadline().is_some_and(|due| due <= now)
    }

    /// When `sync` should run again even without news (to delete emptied chains).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.ruleset.next_stale_deadline()
    }

    /// Writes what changed. A refused transaction makes the next sync replace the whole table.
    pub async fn sync(&mut self) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        if self.rebuild {
            let desired: BTreeMap<String, ServiceRules> =
                self.services.keys().filter_map(|key| Some((key.clone(), self.rules_of(key)?))).collect();
            report.services = self.services.len();
            let change = self.ruleset.rebuild(desired);
            report.messages += change.transaction.len();
            let retry = self.commit(change).await.context("replacing the service proxy's nftables table")?;
            self.rebuild = false;
            self.dirty = retry;
            report.rebuilt = true;
        } else if !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            report.services = dirty.len();
            let desired = dirty.iter().map(|key| (key.clone(), self.rules_of(key))).collect();
            let change = self.ruleset.update(desired);
            report.messages += change.transaction.len();
            match self.commit(change).await {
                Ok(retry) => self.dirty = retry,
                Err(error) => {
                    self.rebuild = true;
                    return Err(error.context("updating the service proxy's nftables rules"));
                }
            }
        }
        if let Some(change) = self.ruleset.delete_stale_chains(Instant::now()) {
            report.messages += change.transaction.len();
            if let Err(error) = self.commit(change).await {
                self.rebuild = true;
                return Err(error.context("deleting unused service chains"));
            }
        }
        Ok(report)
    }

    /// The rules `key`'s service needs now (`None`: it has none).
    fn rules_of(&self, key: &str) -> Option<ServiceRules> {
        let info = ServiceInfo::from_service(self.services.get(key)?)?;
        let slices: Vec<&EndpointSlice> =
            self.slices_by_service.get(key).into_iter().flatten().filter_map(|slice| self.slices.get(slice)).collect();
        Some(plan(&info, &slices, &self.settings))
    }

    async fn commit(&mut self, mut change: Change) -> Result<BTreeSet<String>> {
        let transaction = std::mem::take(&mut change.transaction);
        self.host.run(move || transaction.commit()).await?;
        Ok(self.ruleset.apply(change, Instant::now()))
    }

    /// The Services it knows, by `namespace/name`.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
}

fn object_key(metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    format!("{}/{}", metadata.namespace.as_deref().unwrap_or_default(), metadata.name.as_deref().unwrap_or_default())
}
