//! Delete: preconditions, graceful deletion (pods), finalizers and propagation policy, and
//! delete-collection.

use serde_json::{json, Value};

use super::catalog::ResourceType;
use super::options::{DeleteOptions, ListOptions, PropagationPolicy};
use super::update::UpdateKind;
use super::{kinds, object, object_key, store_error, Registry};
use crate::server::api_error::ApiError;
use crate::server::store::StoreError;

pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
pub const ORPHAN_FINALIZER: &str = "orphan";

/// What a delete did.
#[derive(Debug)]
pub enum Deleted {
    /// The object is gone; this was its last state.
    Gone(Value),
    /// Deletion has started (grace period or finalizers); the object as it now is.
    Pending(Value),
}

impl Deleted {
    pub fn object(&self) -> &Value {
        match self {
            Self::Gone(o) | Self::Pending(o) => o,
        }
    }
}

impl Registry {
    pub async fn delete(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let strategy = kinds::strategy(rt);
        loop {
            let Some((current, revision)) = self.get_versioned(rt, namespace, name).await? else {
                return Err(ApiError::not_found(rt.group, rt.plural, name));
            };
            check_preconditions(rt, &current, opts)?;
            let mut obj = current.clone();
            let mut finalizers = object::finalizers(&obj);
            match opts.propagation_policy {
                Some(PropagationPolicy::Foreground) => add_once(&mut finalizers, FOREGROUND_FINALIZER),
                Some(PropagationPolicy::Orphan) => add_once(&mut finalizers, ORPHAN_FINALIZER),
                Some(PropagationPolicy::Background) => {
                    finalizers.retain(|f| f != ORPHAN_FINALIZER && f != FOREGROUND_FINALIZER)
                }
                None => {}
            }
            let grace = strategy.grace_period(&obj, opts.grace_period_seconds).unwrap_or(0);
            let held = !finalizers.is_empty() || strategy.holds_deletion(&obj) || grace > 0;
            if !held {
                if opts.dry_run {
                    return Ok(Deleted::Gone(obj));
                }
                let key = object_key(rt, namespace, name);
                match self.store.delete(&key, Some(revision)).await {
                    Ok((_, deleted_at)) => {
                        strategy.release(self, &obj);
                        object::metadata_mut(&mut obj).insert("resourceVersion".into(), deleted_at.to_string().into());
                        return Ok(Deleted::Gone(obj));
                    }
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(StoreError::NotFound) => return Err(ApiError::not_found(rt.group, rt.plural, name)),
                    Err(err) => return Err(store_error(err)),
                }
            }
            object::set_finalizers(&mut obj, &finalizers);
            let deadline = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
            let already = obj.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64);
            let meta = object::metadata_mut(&mut obj);
            // A later delete may only shorten the grace period.
            if already.is_none_or(|a| grace < a) {
                meta.insert("deletionTimestamp".into(), json!(object::format_time(deadline)));
                meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
            strategy.prepare_delete(&mut obj);
            if obj == current {
                return Ok(Deleted::Pending(obj));
            }
            match self.commit_update(rt, namespace, &current, revision, obj, UpdateKind::Internal, opts.dry_run).await {
                Ok(updated) => return Ok(Deleted::Pending(updated)),
                Err(err) if err.reason == "Conflict" => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// Deletes every object of a type in a namespace matching `list`'s selectors.
    pub async fn delete_collection(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        list: &ListOptions,
        opts: &DeleteOptions,
    ) -> Result<Vec<Value>, ApiError> {
        let items = self.list(rt, namespace, list).await?.items;
        let mut deleted = Vec::new();
        for item in items {
            match self
                .delete(rt, Some(object::namespace(&item)).filter(|n| !n.is_empty()), object::name(&item), opts)
                .await
            {
                Ok(outcome) => deleted.push(outcome.object().clone()),
                Err(err) if err.code == 404 => {}
                Err(err) => return Err(err),
            }
        }
        Ok(deleted)
    }
}

fn add_once(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|f| f == item) {
        list.push(item.to_string());
    }
}

fn check_preconditions(rt: &ResourceType, obj: &Value, opts: &DeleteOptions) -> Result<(), ApiError> {
    let name = object::name(obj);
    if let Some(uid) = &opts.precondition_uid {
        if uid != object::uid(obj) {
            return Err(ApiError::conflict(
                rt.group,
                rt.plural,
                name,
                &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", object::uid(obj)),
            ));
        }
    }
    if let Some(rv) = &opts.precondition_resource_version {
        if rv != object::resource_version(obj) {
            return Err(ApiError::conflict(
                rt.group,
                rt.plural,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    object::resource_version(obj)
                ),
            ));
        }
    }
    Ok(())
}
