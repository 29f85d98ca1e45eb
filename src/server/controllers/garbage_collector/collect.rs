//! The collector's decisions, each made on fresh reads rather than on the graph alone: does a
//! referenced owner exist, must a dependent go (and with which propagation), may a foreground
//! deletion finish, and orphaning an owner's dependents.

use serde_json::Value;

use super::graph::{Identity, Snapshot, FOREGROUND, ORPHAN};
use super::Collector;
use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::{owner_references, remove_owner_references};
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::options::{DeleteOptions, PropagationPolicy};
use crate::server::registry::{object, UpdateKind};

/// What a dependent's owner references turned out to point at.
#[derive(Default)]
struct Owners {
    /// Owners that exist and keep the dependent.
    solid: Vec<String>,
    /// Owners that are gone (or were never there).
    dangling: Vec<String>,
    /// Owners being deleted in the foreground, waiting for their dependents.
    waiting: Vec<String>,
}

impl Collector {
    pub(super) async fn attempt_to_delete(&self, uid: &str) -> Result<(), ApiError> {
        let Some(item) = self.graph().snapshot(uid) else { return Ok(()) };
        let Some(rt) = item.identity.rt else { return Ok(()) };
        if item.observed && item.deleting && !item.deleting_dependents {
            // On its way out already; its dependents are handled when it is gone.
            return Ok(());
        }
        let Some(latest) = self.read(rt, &item.identity).await? else {
            // Gone, or never there: its dependents are now orphans to collect.
            let work = self.graph().remove(uid);
            self.schedule(work);
            return Ok(());
        };
        if !item.observed {
            // An owner known only by reference exists after all.
            let work = self.graph().upsert(rt, &latest);
            self.schedule(work);
            return Ok(());
        }
        if item.deleting_dependents {
            return self.finish_foreground_deletion(&item).await;
        }
        if owner_references(&latest).is_empty() {
            return Ok(());
        }
        let owners = self.classify(&item.identity, &latest).await?;
        if !owners.solid.is_empty() {
            if owners.dangling.is_empty() && owners.waiting.is_empty() {
                return Ok(());
            }
            // Kept by another owner: drop the references that would hold anything up.
            let drop: Vec<&str> = owners.dangling.iter().chain(&owners.waiting).map(String::as_str).collect();
            return ignore_gone(
                remove_owner_references(&self.registry, rt, ns(&item.identity), &item.identity.name, uid, &drop).await,
            );
        }
        let policy = if !owners.waiting.is_empty() && !item.dependents.is_empty() {
            // An owner waits for this one, which has dependents of its own: those go first.
            if item.dependents.iter().any(|d| d.deleting_dependents) {
                // Waiting on each other in a cycle would never end; stop blocking.
                ignore_gone(self.unblock_owners(rt, &item.identity).await)?;
            }
            PropagationPolicy::Foreground
        } else {
            let finalizers = object::finalizers(&latest);
            if finalizers.iter().any(|f| f == ORPHAN) {
                PropagationPolicy::Orphan
            } else if finalizers.iter().any(|f| f == FOREGROUND) {
                PropagationPolicy::Foreground
            } else {
                PropagationPolicy::Background
            }
        };
        let opts = DeleteOptions {
            propagation_policy: Some(policy),
            precondition_uid: Some(uid.to_string()),
            ..Default::default()
        };
        ignore_gone(self.registry.delete(rt, ns(&item.identity), &item.identity.name, &opts).await.map(|_| ()))
    }

    /// Removes the foreground finalizer once no dependent blocks the owner any more; until
    /// then makes sure every blocking dependent is being collected.
    async fn finish_foreground_deletion(&self, item: &Snapshot) -> Result<(), ApiError> {
        let blocking: Vec<_> = item.dependents.iter().filter(|d| d.blocks).collect();
        if blocking.is_empty() {
            return self.remove_finalizer(&item.identity, FOREGROUND).await;
        }
        for dependent in blocking.into_iter().filter(|d| !d.deleting_dependents) {
            self.deletions.add(dependent.identity.uid.to_string());
        }
        Ok(())
    }

    pub(super) async fn attempt_to_orphan(&self, uid: &str) -> Result<(), ApiError> {
        let Some(owner) = self.graph().snapshot(uid) else { return Ok(()) };
        for dependent in &owner.dependents {
            let Some(rt) = dependent.identity.rt else { continue };
            let id = &dependent.identity;
            ignore_gone(remove_owner_references(&self.registry, rt, ns(id), &id.name, &id.uid, &[uid]).await)?;
        }
        self.remove_finalizer(&owner.identity, ORPHAN).await
    }

    /// The object as stored, if it is still the one with this identity's UID.
    async fn read(&self, rt: &ResourceType, identity: &Identity) -> Result<Option<Value>, ApiError> {
        match self.registry.get(rt, ns(identity), &identity.name).await {
            Ok(obj) if object::uid(&obj) == &*identity.uid => Ok(Some(obj)),
            Ok(_) => Ok(None),
            Err(err) if err.code == 404 => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn classify(&self, identity: &Identity, latest: &Value) -> Result<Owners, ApiError> {
        let mut owners = Owners::default();
        for reference in owner_references(latest) {
            let field = |name: &str| reference.get(name).and_then(Value::as_str).unwrap_or_default();
            let uid = field("uid").to_string();
            let Some(owner_rt) = catalog::find_kind(field("apiVersion"), field("kind")) else {
                // A kind this server does not serve cannot be judged; keep the dependent.
                owners.solid.push(uid);
                continue;
            };
            // A cluster-scoped object cannot be owned by a namespaced one.
            let namespace = match (owner_rt.namespaced, identity.namespace.as_deref()) {
                (true, None) => {
                    owners.dangling.push(uid);
                    continue;
                }
                (true, ns) => ns,
                (false, _) => None,
            };
            match self.registry.get(owner_rt, namespace, field("name")).await {
                Ok(owner) if object::uid(&owner) == uid => {
                    if object::is_deleting(&owner) && object::finalizers(&owner).iter().any(|f| f == FOREGROUND) {
                        owners.waiting.push(uid);
                    } else {
                        owners.solid.push(uid);
                    }
                }
                Ok(_) => owners.dangling.push(uid),
                Err(err) if err.code == 404 => owners.dangling.push(uid),
                Err(err) => return Err(err),
            }
        }
        Ok(owners)
    }

    async fn remove_finalizer(&self, identity: &Identity, finalizer: &str) -> Result<(), ApiError> {
        let Some(rt) = identity.rt else { return Ok(()) };
        let result = self
            .registry
            .update_with(rt, ns(identity), &identity.name, UpdateKind::Object, |current| {
                let finalizers = object::finalizers(current);
                if object::uid(current) != &*identity.uid || !finalizers.iter().any(|f| f == finalizer) {
                    return Ok(None);
                }
                let kept: Vec<String> = finalizers.into_iter().filter(|f| f != finalizer).collect();
                let mut next = current.clone();
                object::set_finalizers(&mut next, &kept);
                Ok(Some(next))
            })
            .await;
        ignore_gone(result.map(|_| ()))
    }

    /// Sets `blockOwnerDeletion: false` on every owner reference of the object.
    async fn unblock_owners(&self, rt: &ResourceType, identity: &Identity) -> Result<(), ApiError> {
        self.registry
            .update_with(rt, ns(identity), &identity.name, UpdateKind::Object, |current| {
                if object::uid(current) != &*identity.uid {
                    return Ok(None);
                }
                let mut next = current.clone();
                let mut changed = false;
                if let Some(refs) = next.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                    for reference in refs.iter_mut().filter(|r| r.get("blockOwnerDeletion") == Some(&Value::Bool(true)))
                    {
                        reference["blockOwnerDeletion"] = Value::Bool(false);
                        changed = true;
                    }
                }
                Ok(changed.then_some(next))
            })
            .await
            .map(|_| ())
    }
}

fn ns(identity: &Identity) -> Option<&str> {
    identity.namespace.as_deref()
}

/// An object that is already gone needs nothing more.
fn ignore_gone(result: Result<(), ApiError>) -> Result<(), ApiError> {
    match result {
        Err(err) if err.code == 404 => Ok(()),
        // A UID precondition that failed means the object was replaced: not ours to touch.
        Err(err) if err.code == 409 && err.message.contains("Precondition failed") => Ok(()),
        other => other,
    }
}
