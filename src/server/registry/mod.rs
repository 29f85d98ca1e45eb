//! The registry: what every resource type means — defaulting, validation, storage layout
//! and the REST semantics (create, update, patch, delete, list, watch) shared by the HTTP
//! API and the in-process controllers.

mod binding;
pub mod catalog;
mod compact;
mod create;
pub mod definitions;
mod delete;
pub mod field_selector;
pub mod field_shapes;
mod incoming;
pub mod kinds;
pub mod label_selector;
mod list;
pub mod object;
pub mod options;
mod patch;
pub mod patch_meta;
pub mod printers;
pub mod service_allocator;
mod stored_form;
pub mod strategic_merge;
pub mod typed;
mod update;
pub mod validation;
mod watch;

use std::sync::Arc;

use serde_json::Value;

use crate::server::api_error::ApiError;
use crate::server::store::{KeyValue, Store, StoreError};
use catalog::ResourceType;
pub use create::Written;
pub use delete::Deleted;
pub use list::ObjectList;
use service_allocator::ServiceAllocator;
use stored_form::encode;
pub use update::UpdateKind;
pub use watch::WatchEvent;

/// Settings of the registry that come from the server's flags.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    pub service_cidr: String,
    pub node_port_range: String,
}

/// The API objects of the cluster, with Kubernetes' semantics on top of the store.
pub struct Registry {
    store: Arc<dyn Store>,
    services: ServiceAllocator,
}

impl Registry {
    /// Opens the registry over `store`, rebuilding the allocators from stored services.
    pub async fn new(store: Arc<dyn Store>, config: &RegistryConfig) -> anyhow::Result<Self> {
        let services = ServiceAllocator::new(&config.service_cidr, &config.node_port_range)?;
        let registry = Self { store, services };
        let rt = catalog::find("", "v1", "services").expect("services are served");
        let existing = registry.list(rt, None, &Default::default()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for svc in &existing.items {
            registry.services.reserve_existing(svc);
        }
        Ok(registry)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn service_allocator(&self) -> &ServiceAllocator {
        &self.services
    }

    /// One object.
    pub async fn get(&self, rt: &ResourceType, namespace: Option<&str>, name: &str) -> Result<Value, ApiError> {
        let key = object_key(rt, namespace, name);
        match self.store.get(&key).await.map_err(store_error)? {
            Some(kv) => decode(&kv),
            None => Err(ApiError::not_found(rt.group, rt.plural, name)),
        }
    }

    /// The stored object with its modification revision, or `None`.
    async fn get_versioned(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<(Value, u64)>, ApiError> {
        let key = object_key(rt, namespace, name);
        match self.store.get(&key).await.map_err(store_error)? {
            Some(kv) => Ok(Some((decode(&kv)?, kv.mod_revision))),
            None => Ok(None),
        }
    }

    /// Checks that `namespace` exists and accepts new objects.
    async fn check_namespace_open(&self, rt: &ResourceType, namespace: &str) -> Result<(), ApiError> {
        let ns_type = catalog::find("", "v1", "namespaces").expect("namespaces are served");
        match self.get_versioned(ns_type, None, namespace).await? {
            None => Err(ApiError::not_found("", "namespaces", namespace)),
            Some((ns, _)) if object::is_deleting(&ns) => Err(ApiError::forbidden(format!(
                "{} is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                crate::server::api_error::qualified(rt.group, rt.plural)
            ))),
            Some(_) => Ok(()),
        }
    }
}

/// The store key of one object.
pub fn object_key(rt: &ResourceType, namespace: Option<&str>, name: &str) -> String {
    match namespace.filter(|_| rt.namespaced) {
        Some(ns) => format!("{}{ns}/{name}", rt.key_prefix()),
        None => format!("{}{name}", rt.key_prefix()),
    }
}

/// The store prefix of a namespace's objects of a type, or of all of them.
pub fn collection_prefix(rt: &ResourceType, namespace: Option<&str>) -> String {
    match namespace.filter(|_| rt.namespaced) {
        Some(ns) => format!("{}{ns}/", rt.key_prefix()),
        None => rt.key_prefix(),
    }
}

fn decode(kv: &KeyValue) -> Result<Value, ApiError> {
    decode_at(&kv.value, kv.mod_revision)
}

fn decode_at(raw: &[u8], revision: u64) -> Result<Value, ApiError> {
    let compact::Compact(mut obj) =
        serde_json::from_slice(raw).map_err(|e| ApiError::internal(format!("corrupt stored object: {e}")))?;
    // Rebuilt rather than inserted into: a map decoded at its exact size doubles on insert.
    let metadata = object::metadata_mut(&mut obj);
    let version = ("resourceVersion".to_string(), Value::from(revision.to_string()));
    *metadata = std::mem::take(metadata).into_iter().chain([version]).collect();
    Ok(obj)
}

pub(crate) fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Compacted { requested, oldest } => {
            ApiError::gone(format!("too old resource version: {requested} ({oldest})"))
        }
        StoreError::Backend(msg) => ApiError::internal(msg),
        other => ApiError::internal(other),
    }
}
