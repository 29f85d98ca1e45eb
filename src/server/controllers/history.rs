//! Controller revisions: the template history that DaemonSets and StatefulSets keep as
//! ControllerRevision objects named `<owner>-<hash>`. A revision's data is the patch that
//! puts its template back (`{"spec": {"template": {…, "$patch": "replace"}}}`, keys sorted as
//! Go writes them), which is exactly what `kubectl rollout undo` applies; rolling back to an
//! old template renumbers its revision instead of making a new one, and revisions no pod
//! uses are trimmed to `revisionHistoryLimit`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::controller_ref::{self, Claimer, OwnerKind};
use super::deployment::template_hash;
use super::informer::{Informer, Informers};
use crate::server::api_error::ApiError;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::label_selector::LabelSelector;
use crate::server::registry::options::{DeleteOptions, WriteOptions};
use crate::server::registry::{object, Registry, UpdateKind};

/// Annotations of the owner that are not copied onto its revisions.
const NOT_COPIED: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration"];

/// Names stay valid object names however long the owner's name is.
const MAX_NAME_PREFIX: usize = 223;

/// The object whose template history is kept.
pub struct RevisionOwner<'a> {
    pub object: &'a Value,
    pub rt: &'static ResourceType,
    pub kind: OwnerKind,
    pub selector: &'a LabelSelector,
    /// The label that carries the template hash on each revision.
    pub hash_label: &'static str,
}

impl RevisionOwner<'_> {
    fn template(&self) -> &Value {
        self.object.pointer("/spec/template").unwrap_or(&Value::Null)
    }

    fn collision_count(&self) -> Option<i32> {
        self.object.pointer("/status/collisionCount").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok())
    }
}

/// The revision of the current template.
pub struct Current {
    pub revision: Arc<Value>,
    pub hash: String,
}

pub struct History {
    registry: Arc<Registry>,
    rt: &'static ResourceType,
    pub revisions: Arc<Informer>,
}

impl History {
    pub fn new(informers: &Informers) -> Self {
        let rt = catalog::find("apps", "v1", "controllerrevisions").expect("controllerrevisions are served");
        Self { registry: informers.registry().clone(), rt, revisions: informers.get(rt) }
    }

    /// The revisions `owner` controls (adopting and releasing by its selector), oldest first.
    pub async fn claim(&self, owner: &RevisionOwner<'_>) -> Result<Vec<Arc<Value>>, ApiError> {
        let claimer = Claimer {
            registry: &self.registry,
            owner_rt: owner.rt,
            owner: owner.object,
            kind: owner.kind,
            child: self.rt,
        };
        let candidates = self.revisions.list(Some(object::namespace(owner.object)));
        let mut owned = claimer.claim(candidates, |rev| owner.selector.matches_object(rev)).await?;
        owned.sort_by_key(|rev| (revision_number(rev), object::name(rev).to_string()));
        Ok(owned)
    }

    /// The revision of `owner`'s current template among `owned` (sorted oldest first): the
    /// newest one with equal data, renumbered to come last if it does not, or a new one.
    /// `None` means the name for this template is taken by a different revision (a hash
    /// collision): the caller bumps `status.collisionCount` and tries again.
    pub async fn current(&self, owner: &RevisionOwner<'_>, owned: &[Arc<Value>]) -> Result<Option<Current>, ApiError> {
        let patch = template_patch(owner.template());
        let next_number = owned.iter().map(|r| revision_number(r)).max().unwrap_or(0) + 1;
        if let Some(equal) = owned.iter().rev().find(|r| r.get("data") == Some(&patch)) {
            let hash = label(equal, owner.hash_label);
            if revision_number(equal) + 1 == next_number {
                return Ok(Some(Current { revision: equal.clone(), hash }));
            }
            let renumbered = self.renumber(equal, next_number).await?;
            return Ok(Some(Current { revision: Arc::new(renumbered), hash }));
        }
        let template = PodTemplateSpec::deserialize(owner.template()).unwrap_or_default();
        let hash = template_hash::compute(&template, owner.collision_count());
        let revision = new_revision(owner, &hash, patch.clone(), next_number);
        let ns = object::namespace(owner.object);
        match self.registry.create(self.rt, Some(ns), revision, &WriteOptions::default()).await {
            Ok(written) => Ok(Some(Current { revision: Arc::new(written.object), hash })),
            Err(err) if err.reason == "AlreadyExists" => {
                let name = revision_name(object::name(owner.object), &hash);
                let existing = self.registry.get(self.rt, Some(ns), &name).await?;
                // Ours but not yet in the cache: use it; anything else is a collision.
                let ours = controller_ref::controller_uid(&existing) == Some(object::uid(owner.object));
                Ok((ours && existing.get("data") == Some(&patch))
                    .then(|| Current { revision: Arc::new(existing), hash }))
            }
            Err(err) => Err(err),
        }
    }

    async fn renumber(&self, revision: &Value, number: i64) -> Result<Value, ApiError> {
        let uid = object::uid(revision).to_string();
        let ns = object::namespace(revision);
        self.registry
            .update_with(self.rt, Some(ns), object::name(revision), UpdateKind::Object, |current| {
                if object::uid(current) != uid {
                    return Err(ApiError::conflict("apps", "controllerrevisions", object::name(current), "replaced"));
                }
                let mut next = current.clone();
                next["revision"] = json!(number);
                Ok(Some(next))
            })
            .await
    }

    /// Deletes the oldest revisions that are not `live` (current, or used by a pod) so that
    /// at most `limit` unused ones remain. `owned` is sorted oldest first.
    pub async fn truncate(
        &self,
        owned: &[Arc<Value>],
        live: impl Fn(&Value) -> bool,
        limit: usize,
    ) -> Result<(), ApiError> {
        let unused: Vec<&Arc<Value>> = owned.iter().filter(|r| !live(r)).collect();
        let excess = unused.len().saturating_sub(limit);
        for revision in unused.into_iter().take(excess) {
            let opts =
                DeleteOptions { precondition_uid: Some(object::uid(revision).to_string()), ..Default::default() };
            match self.registry.delete(self.rt, Some(object::namespace(revision)), object::name(revision), &opts).await
            {
                Ok(_) => {}
                Err(err) if err.code == 404 => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

fn new_revision(owner: &RevisionOwner<'_>, hash: &str, data: Value, number: i64) -> Value {
    let mut labels: Map<String, Value> =
        owner.template().pointer("/metadata/labels").and_then(Value::as_object).cloned().unwrap_or_default();
    labels.insert(owner.hash_label.into(), hash.into());
    let annotations: Map<String, Value> = owner
        .object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter().filter(|(k, _)| !NOT_COPIED.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    let mut metadata = json!({
        "name": revision_name(object::name(owner.object), hash),
        "namespace": object::namespace(owner.object),
        "labels": labels,
        "ownerReferences": [controller_ref::new_controller_ref(owner.kind, object::name(owner.object), object::uid(owner.object))],
    });
    if !annotations.is_empty() {
        metadata["annotations"] = Value::Object(annotations);
    }
    json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": metadata, "data": data, "revision": number})
}

/// `<owner>-<hash>`, the owner's name shortened if needed.
pub fn revision_name(owner_name: &str, hash: &str) -> String {
    let prefix: String = owner_name.chars().take(MAX_NAME_PREFIX).collect();
    format!("{prefix}-{hash}")
}

pub fn revision_number(revision: &Value) -> i64 {
    revision.get("revision").and_then(Value::as_i64).unwrap_or(0)
}

fn label(obj: &Value, key: &str) -> String {
    obj.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The patch that restores `template`, as Kubernetes (and kubectl, which compares it byte for
/// byte) writes it: the template in its typed form, every object's keys sorted.
pub fn template_patch(template: &Value) -> Value {
    let typed = PodTemplateSpec::deserialize(template)
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or_else(|| template.clone());
    let mut template = match sorted(typed) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    template.insert("$patch".into(), "replace".into());
    json!({"spec": {"template": sorted(Value::Object(template))}})
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_replace_the_template_with_sorted_keys() {
        let template = json!({"spec": {"containers": [{"name": "c", "image": "nginx"}]},
                              "metadata": {"labels": {"b": "2", "a": "1"}}});
        let patch = template_patch(&template);
        assert_eq!(
            serde_json::to_string(&patch).unwrap(),
            r#"{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"a":"1","b":"2"}},"spec":{"containers":[{"image":"nginx","name":"c"}]}}}}"#
        );
        assert_eq!(patch, template_patch(&template), "stable");
    }

    #[test]
    fn revisions_are_named_and_numbered() {
        assert_eq!(revision_name("web", "abc"), "web-abc");
        assert_eq!(revision_name(&"x".repeat(300), "h").len(), MAX_NAME_PREFIX + 2);
        assert_eq!(revision_number(&json!({"revision": 4})), 4);
        assert_eq!(revision_number(&json!({})), 0);
    }
}
