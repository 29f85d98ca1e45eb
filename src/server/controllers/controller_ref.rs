//! Controller references (the owner reference with `controller: true`) and claiming: a
//! controller adopts orphans its selector matches and releases objects it owns that stopped
//! matching, as Kubernetes' ControllerRefManager does.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::server::api_error::ApiError;
use crate::server::registry::catalog::ResourceType;
use crate::server::registry::{object, Registry, UpdateKind};

/// What a controller writes into the owner references it sets.
#[derive(Debug, Clone, Copy)]
pub struct OwnerKind {
    pub api_version: &'static str,
    pub kind: &'static str,
}

/// The owner reference of `obj` that marks its controller.
pub fn controller_of(obj: &Value) -> Option<&Value> {
    owner_references(obj).iter().find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// The UID of `obj`'s controller.
pub fn controller_uid(obj: &Value) -> Option<&str> {
    controller_of(obj).and_then(|r| r.get("uid")).and_then(Value::as_str)
}

pub fn owner_references(obj: &Value) -> &[Value] {
    obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// A controller reference to the owner `name`/`uid` of `kind`; dependents block the owner's
/// foreground deletion.
pub fn new_controller_ref(kind: OwnerKind, name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": kind.api_version, "kind": kind.kind, "name": name, "uid": uid,
        "controller": true, "blockOwnerDeletion": true,
    })
}

/// Claims objects of type `child` for the controller `owner` (of type `owner_rt`).
pub struct Claimer<'a> {
    pub registry: &'a Registry,
    pub owner_rt: &'static ResourceType,
    pub owner: &'a Value,
    pub kind: OwnerKind,
    pub child: &'static ResourceType,
}

impl Claimer<'_> {
    /// The candidates this controller owns after adopting and releasing; `matches` is the
    /// controller's selector. The first failed write is returned after every candidate has
    /// been looked at, so the caller retries while keeping what did work.
    pub async fn claim(
        &self,
        candidates: Vec<Arc<Value>>,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Vec<Arc<Value>>, ApiError> {
        let owner_uid = object::uid(self.owner);
        let owner_deleting = object::is_deleting(self.owner);
        let mut claimed = Vec::new();
        let mut first_error = None;
        let mut may_adopt: Option<Result<(), ApiError>> = None;
        for candidate in candidates {
            let outcome = match controller_uid(&candidate) {
                Some(uid) if uid != owner_uid => continue,
                Some(_) if matches(&candidate) => {
                    // Keeping what we own takes no write, even while being deleted.
                    claimed.push(candidate);
                    continue;
                }
                Some(_) if owner_deleting => continue,
                Some(_) => self.release(&candidate).await.map(|_| None),
                None if owner_deleting || object::is_deleting(&candidate) || !matches(&candidate) => continue,
                None => {
                    if may_adopt.is_none() {
                        may_adopt = Some(self.check_owner_current().await);
                    }
                    match may_adopt.as_ref().expect("just checked") {
                        Ok(()) => self.adopt(&candidate).await,
                        Err(err) => Err(err.clone()),
                    }
                }
            };
            match outcome {
                Ok(Some(adopted)) => claimed.push(adopted),
                Ok(None) => {}
                Err(err) if err.code == 404 => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(claimed),
        }
    }

    /// Adoption is decided from a cache; the owner itself is read fresh so that an owner
    /// that was deleted (or replaced under the same name) adopts nothing.
    async fn check_owner_current(&self) -> Result<(), ApiError> {
        let ns = Some(object::namespace(self.owner)).filter(|n| !n.is_empty());
        let fresh = self.registry.get(self.owner_rt, ns, object::name(self.owner)).await?;
        if object::uid(&fresh) != object::uid(self.owner) {
            return Err(ApiError::conflict(
                self.owner_rt.group,
                self.owner_rt.plural,
                object::name(self.owner),
                &format!("original {} is gone: got uid {}", object::name(self.owner), object::uid(&fresh)),
            ));
        }
        if object::is_deleting(&fresh) {
            return Err(ApiError::conflict(
                self.owner_rt.group,
                self.owner_rt.plural,
                object::name(self.owner),
                "is being deleted; it adopts nothing",
            ));
        }
        Ok(())
    }

    /// Sets the controller reference on an orphan; `None` if someone else took it first.
    async fn adopt(&self, candidate: &Value) -> Result<Option<Arc<Value>>, ApiError> {
        let reference = new_controller_ref(self.kind, object::name(self.owner), object::uid(self.owner));
        let expected_uid = object::uid(candidate).to_string();
        let updated = self
            .registry
            .update_with(self.child, namespace_of(candidate), object::name(candidate), UpdateKind::Object, |current| {
                if object::uid(current) != expected_uid {
                    return Err(ApiError::not_found(self.child.group, self.child.plural, object::name(current)));
                }
                if controller_of(current).is_some() || object::is_deleting(current) {
                    return Ok(None);
                }
                let mut next = current.clone();
                let meta = object::metadata_mut(&mut next);
                let refs = meta.entry("ownerReferences").or_insert_with(|| json!([]));
                match refs.as_array_mut() {
                    Some(list) => list.push(reference.clone()),
                    None => *refs = json!([reference.clone()]),
                }
                Ok(Some(next))
            })
            .await?;
        let adopted = controller_uid(&updated) == Some(object::uid(self.owner));
        Ok(adopted.then(|| Arc::new(updated)))
    }

    /// Removes this owner's reference from an object it no longer selects.
    async fn release(&self, candidate: &Value) -> Result<(), ApiError> {
        let expected_uid = object::uid(candidate).to_string();
        remove_owner_reference(self.registry, self.child, candidate, &expected_uid, object::uid(self.owner)).await
    }
}

/// Removes every owner reference to `owner_uid` from `obj` (as stored now, if it is still the
/// object with `uid`).
pub async fn remove_owner_reference(
    registry: &Registry,
    rt: &ResourceType,
    obj: &Value,
    uid: &str,
    owner_uid: &str,
) -> Result<(), ApiError> {
    remove_owner_references(registry, rt, namespace_of(obj), object::name(obj), uid, &[owner_uid]).await
}

/// Removes the owner references to any of `owner_uids` from the object `name` if its UID is
/// still `uid`.
pub async fn remove_owner_references(
    registry: &Registry,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    uid: &str,
    owner_uids: &[&str],
) -> Result<(), ApiError> {
    registry
        .update_with(rt, namespace, name, UpdateKind::Object, |current| {
            if object::uid(current) != uid {
                return Ok(None);
            }
            let refs = owner_references(current);
            let kept: Vec<Value> = refs
                .iter()
                .filter(|r| !owner_uids.contains(&r.get("uid").and_then(Value::as_str).unwrap_or_default()))
                .cloned()
                .collect();
            if kept.len() == refs.len() {
                return Ok(None);
            }
            let mut next = current.clone();
            let meta = object::metadata_mut(&mut next);
            if kept.is_empty() {
                meta.remove("ownerReferences");
            } else {
                meta.insert("ownerReferences".into(), Value::Array(kept));
            }
            Ok(Some(next))
        })
        .await
        .map(|_| ())
}

/// The namespace of an object for registry calls: `None` for cluster-scoped objects.
pub fn namespace_of(obj: &Value) -> Option<&str> {
    Some(object::namespace(obj)).filter(|ns| !ns.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_controller_among_owners() {
        let pod = json!({"metadata": {"ownerReferences": [
            {"uid": "a", "kind": "ConfigMap", "name": "x"},
            {"uid": "b", "kind": "ReplicaSet", "name": "rs", "controller": true},
        ]}});
        assert_eq!(controller_uid(&pod), Some("b"));
        assert_eq!(controller_uid(&json!({"metadata": {}})), None);
        let r = new_controller_ref(OwnerKind { api_version: "apps/v1", kind: "ReplicaSet" }, "rs", "u");
        assert_eq!(r["blockOwnerDeletion"], true);
        assert_eq!(r["controller"], true);
    }
}
