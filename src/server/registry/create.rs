//! Create: name generation, server-set metadata, defaults, validation, allocations, store.

use serde_json::{json, Value};

use super::catalog::ResourceType;
use super::options::WriteOptions;
use super::{encode, incoming, kinds, object, object_key, store_error, Registry};
use crate::server::api_error::{ApiError, Cause};
use crate::server::store::StoreError;

/// The result of a write: the object as stored and warnings for the client.
#[derive(Debug)]
pub struct Written {
    pub object: Value,
    pub warnings: Vec<String>,
}

/// Attempts at a free generated name before giving up.
const GENERATE_NAME_ATTEMPTS: usize = 8;

impl Registry {
    /// Creates `body` (a client's object) in `namespace`.
    pub async fn create(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let (mut obj, warnings) = incoming::admit(rt, body, opts.field_validation)?;
        let namespace = place_in_namespace(rt, &mut obj, namespace)?;
        let generate = object::name(&obj).is_empty();
        let prefix = obj.pointer("/metadata/generateName").and_then(Value::as_str).unwrap_or_default().to_string();
        if generate && prefix.is_empty() {
            return Err(ApiError::invalid(rt.group, rt.kind, "", vec![Cause::required("metadata.name")]));
        }
        reset_server_metadata(rt, &mut obj);
        let strategy = kinds::strategy(rt);
        strategy.default(&mut obj);
        strategy.prepare_create(&mut obj);
        if let Some(ns) = namespace.as_deref() {
            if rt.kind != "Namespace" {
                self.check_namespace_open(rt, ns).await?;
            }
        }
        for _ in 0..GENERATE_NAME_ATTEMPTS {
            if generate {
                let name = format!("{prefix}{}", object::random_suffix(5));
                object::metadata_mut(&mut obj).insert("name".into(), name.into());
            }
            self.validate_new(rt, &obj)?;
            let key = object_key(rt, namespace.as_deref(), object::name(&obj));
            // Report a taken name before allocations can report a taken IP or port.
            if !generate && self.store.get(&key).await.map_err(store_error)?.is_some() {
                return Err(ApiError::already_exists(rt.group, rt.plural, object::name(&obj)));
            }
            // Only a generated name can take another turn, from the object as it was.
            let mut candidate = if generate { obj.clone() } else { std::mem::take(&mut obj) };
            strategy.allocate(self, &mut candidate)?;
            if opts.dry_run {
                strategy.release(self, &candidate);
                return Ok(Written { object: candidate, warnings });
            }
            match self.store.create(&key, encode(&candidate)?).await {
                Ok(revision) => {
                    object::metadata_mut(&mut candidate).insert("resourceVersion".into(), revision.to_string().into());
                    return Ok(Written { object: candidate, warnings });
                }
                Err(err) => {
                    strategy.release(self, &candidate);
                    match err {
                        StoreError::AlreadyExists if generate => continue,
                        StoreError::AlreadyExists => {
                            return Err(ApiError::already_exists(rt.group, rt.plural, object::name(&candidate)))
                        }
                        other => return Err(store_error(other)),
                    }
                }
            }
        }
        Err(ApiError::already_exists(rt.group, rt.plural, &format!("{prefix}*")))
    }

    fn validate_new(&self, rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
        let strategy = kinds::strategy(rt);
        let name = object::name(obj);
        let mut causes = Vec::new();
        if let Err(why) = strategy.validate_name(name) {
            causes.push(Cause::invalid("metadata.name", name, why));
        }
        causes.extend(incoming::validate_metadata(obj));
        causes.extend(strategy.validate(obj));
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(rt.group, rt.kind, name, causes))
        }
    }
}

/// Puts the object in the request's namespace (or none for cluster-scoped kinds).
fn place_in_namespace(rt: &ResourceType, obj: &mut Value, namespace: Option<&str>) -> Result<Option<String>, ApiError> {
    let meta = object::metadata_mut(obj);
    if !rt.namespaced {
        meta.remove("namespace");
        return Ok(None);
    }
    let Some(ns) = namespace else {
        return Err(ApiError::bad_request(format!("{} must be created in a namespace", rt.plural)));
    };
    match meta.get("namespace").and_then(Value::as_str) {
        Some(given) if !given.is_empty() && given != ns => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => {
            meta.insert("namespace".into(), ns.into());
            Ok(Some(ns.to_string()))
        }
    }
}

/// Fields only the server sets on a new object.
fn reset_server_metadata(rt: &ResourceType, obj: &mut Value) {
    let meta = object::metadata_mut(obj);
    for field in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
        meta.remove(field);
    }
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(object::now_rfc3339()));
    if rt.has_subresource("status") && rt.kind != "Pod" && rt.kind != "Namespace" && rt.kind != "Node" {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
}
