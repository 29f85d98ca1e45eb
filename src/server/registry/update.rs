//! Update (PUT) and the update pipeline that patch and the controllers share: keep what the
//! server owns, split spec from status by subresource, bump the generation, validate, and
//! finish deletions whose finalizers are gone.

use serde_json::{json, Value};

use super::catalog::ResourceType;
use super::create::Written;
use super::options::WriteOptions;
use super::{encode, incoming, kinds, object, object_key, store_error, Registry};
use crate::server::api_error::{ApiError, Cause};
use crate::server::store::StoreError;

/// Metadata a client cannot change by updating.
const SERVER_OWNED_METADATA: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "namespace",
    "name",
    "selfLink",
];

/// Which part of an object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// A client's update of the object: server-owned metadata and status are kept.
    Object,
    /// The `status` subresource: only status changes.
    Status,
    /// The namespace `finalize` subresource: only `spec.finalizers` change.
    Finalize,
    /// The registry's own bookkeeping (deletion): everything may change.
    Internal,
}

impl UpdateKind {
    /// The kind of update a subresource URL asks for.
    pub fn for_subresource(rt: &ResourceType, subresource: Option<&str>) -> Result<Self, ApiError> {
        match subresource {
            None => Ok(Self::Object),
            Some("status") if rt.has_subresource("status") => Ok(Self::Status),
            Some("finalize") if rt.has_subresource("finalize") => Ok(Self::Finalize),
            Some(other) => {
                Err(ApiError::method_not_allowed(format!("the {other} subresource of {} cannot be updated", rt.plural)))
            }
        }
    }
}

/// What an update turns into.
pub(super) enum Plan {
    /// Nothing changed: no write.
    Unchanged(Value),
    Write(Value),
    /// The object was being deleted and nothing holds it any more.
    Remove(Value),
}

impl Registry {
    /// Replaces an object (or, with `subresource`, its `status`/`finalize` part).
    pub async fn update(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let kind = UpdateKind::for_subresource(rt, subresource)?;
        let (new, warnings) = incoming::admit(rt, body, opts.field_validation)?;
        check_identity(rt, &new, namespace, name)?;
        let Some((old, revision)) = self.get_versioned(rt, namespace, name).await? else {
            return Err(ApiError::not_found(rt.group, rt.plural, name));
        };
        let wanted = object::resource_version(&new);
        if !wanted.is_empty() && wanted != revision.to_string() {
            return Err(ApiError::stale(rt.group, rt.plural, name));
        }
        let object = self.commit_update(rt, namespace, &old, revision, new, kind, opts.dry_run).await?;
        Ok(Written { object, warnings })
    }

    /// Runs the update pipeline from `old` (at `revision`) to `new` and writes the result;
    /// a concurrent change surfaces as a Conflict.
    #[allow(clippy::too_many_arguments, reason = "one parameter per part of the REST request")]
    pub(super) async fn commit_update(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        old: &Value,
        revision: u64,
        new: Value,
        kind: UpdateKind,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let name = object::name(old).to_string();
        let strategy = kinds::strategy(rt);
        let plan = plan_update(rt, old, new, kind)?;
        let key = object_key(rt, namespace, &name);
        match plan {
            Plan::Unchanged(obj) => Ok(obj),
            Plan::Remove(obj) if dry_run => Ok(obj),
            Plan::Remove(obj) => match self.store.delete(&key, Some(revision)).await {
                Ok((_, deleted_at)) => {
                    strategy.release(self, &obj);
                    let mut obj = obj;
                    object::metadata_mut(&mut obj).insert("resourceVersion".into(), deleted_at.to_string().into());
                    Ok(obj)
                }
                Err(StoreError::Conflict { .. }) => Err(ApiError::stale(rt.group, rt.plural, &name)),
                Err(StoreError::NotFound) => Err(ApiError::not_found(rt.group, rt.plural, &name)),
                Err(err) => Err(store_error(err)),
            },
            Plan::Write(mut obj) => {
                strategy.reallocate(self, &mut obj, old)?;
                if dry_run {
                    strategy.reallocate(self, &mut old.clone(), &obj)?;
                    return Ok(obj);
                }
                match self.store.update(&key, revision, encode(&obj)?).await {
                    Ok(new_revision) => {
                        object::metadata_mut(&mut obj)
                            .insert("resourceVersion".into(), new_revision.to_string().into());
                        Ok(obj)
                    }
                    Err(err) => {
                        // Give back what this attempt claimed; the stored object keeps its own.
                        let _ = strategy.reallocate(self, &mut old.clone(), &obj);
                        Err(match err {
                            StoreError::Conflict { .. } => ApiError::stale(rt.group, rt.plural, &name),
                            StoreError::NotFound => ApiError::not_found(rt.group, rt.plural, &name),
                            other => store_error(other),
                        })
                    }
                }
            }
        }
    }

    /// Reads, changes and writes an object, retrying on conflicts: how controllers and the
    /// registry itself update objects. `change` returns `None` to leave it alone.
    pub async fn update_with<F>(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        kind: UpdateKind,
        mut change: F,
    ) -> Result<Value, ApiError>
    where
        F: FnMut(&Value) -> Result<Option<Value>, ApiError>,
    {
        loop {
            let Some((old, revision)) = self.get_versioned(rt, namespace, name).await? else {
                return Err(ApiError::not_found(rt.group, rt.plural, name));
            };
            let Some(new) = change(&old)? else { return Ok(old) };
            match self.commit_update(rt, namespace, &old, revision, new, kind, false).await {
                Err(err) if err.reason == "Conflict" => continue,
                other => return other,
            }
        }
    }
}

/// The name and namespace in the body must be the ones in the URL.
pub(super) fn check_identity(
    rt: &ResourceType,
    obj: &Value,
    namespace: Option<&str>,
    name: &str,
) -> Result<(), ApiError> {
    let body_name = object::name(obj);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if rt.namespaced {
        let body_ns = object::namespace(obj);
        if !body_ns.is_empty() && Some(body_ns) != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    Ok(())
}

/// Computes the object an update stores.
pub(super) fn plan_update(rt: &ResourceType, old: &Value, mut new: Value, kind: UpdateKind) -> Result<Plan, ApiError> {
    let strategy = kinds::strategy(rt);
    match kind {
        UpdateKind::Status => {
            // Status writes change only status; everything else stays as stored.
            let status = new.get("status").cloned().unwrap_or(Value::Null);
            new = old.clone();
            new["status"] = status;
        }
        UpdateKind::Finalize => {
            let finalizers = new.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
            new = old.clone();
            new["spec"]["finalizers"] = finalizers;
        }
        UpdateKind::Internal => {}
        UpdateKind::Object => {
            keep_server_metadata(&mut new, old);
            if rt.has_subresource("status") {
                match old.get("status") {
                    Some(status) => new["status"] = status.clone(),
                    None => {
                        new.as_object_mut().map(|o| o.remove("status"));
                    }
                }
            }
            strategy.default(&mut new);
            strategy.prepare_update(&mut new, old);
        }
    }
    // Deleting objects may only lose finalizers, never gain new ones.
    if object::is_deleting(old) {
        let before = object::finalizers(old);
        if let Some(added) = object::finalizers(&new).into_iter().find(|f| !before.contains(f)) {
            return Err(ApiError::invalid(rt.group, rt.kind, object::name(old), vec![Cause::forbidden(
                "metadata.finalizers",
                format!("no new finalizers can be added if the object is being deleted, found new finalizers [\"{added}\"]"),
            )]));
        }
    }
    bump_generation(&mut new, old);
    let mut causes = incoming::validate_metadata(&new);
    causes.extend(strategy.validate(&new));
    // The registry's own writes (binding, deletion) may change what clients may not.
    if kind != UpdateKind::Internal {
        causes.extend(strategy.validate_update(&new, old));
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(rt.group, rt.kind, object::name(old), causes));
    }
    let grace = new.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0);
    if object::is_deleting(&new) && object::finalizers(&new).is_empty() && grace == 0 && !strategy.holds_deletion(&new)
    {
        return Ok(Plan::Remove(new));
    }
    if same_content(&new, old) {
        return Ok(Plan::Unchanged(old.clone()));
    }
    Ok(Plan::Write(new))
}

fn keep_server_metadata(new: &mut Value, old: &Value) {
    let old_meta = old.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    let meta = object::metadata_mut(new);
    for field in SERVER_OWNED_METADATA {
        match old_meta.get(*field) {
            Some(v) => meta.insert(field.to_string(), v.clone()),
            None => meta.remove(*field),
        };
    }
}

/// `metadata.generation` counts changes to what the user asked for (everything but
/// metadata and status), for kinds that report `observedGeneration`.
fn bump_generation(new: &mut Value, old: &Value) {
    let Some(generation) = old.pointer("/metadata/generation").and_then(Value::as_i64) else { return };
    let desired = |obj: &Value| {
        obj.as_object().map(|o| {
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<serde_json::Map<_, _>>()
        })
    };
    let changed = desired(new) != desired(old);
    // Starting deletion also counts, so controllers notice it.
    let deletion_started = object::is_deleting(new) && !object::is_deleting(old);
    object::metadata_mut(new)
        .insert("generation".into(), json!(if changed || deletion_started { generation + 1 } else { generation }));
}

fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        v
    };
    strip(a) == strip(b)
}
