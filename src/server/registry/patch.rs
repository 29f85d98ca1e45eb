//! Patch: JSON patch, JSON merge patch and strategic merge patch applied to the stored
//! object, then the update pipeline. Retried on conflicts unless the patch pins a
//! resourceVersion.

use serde_json::Value;

use super::catalog::ResourceType;
use super::create::Written;
use super::options::{PatchType, WriteOptions};
use super::update::{check_identity, UpdateKind};
use super::{incoming, object, strategic_merge, Registry};
use crate::server::api_error::ApiError;

/// Conflicting writers are rare; give up after this many rounds.
const PATCH_ATTEMPTS: usize = 16;

impl Registry {
    #[allow(clippy::too_many_arguments, reason = "one parameter per part of the REST request")]
    pub async fn patch(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        patch_type: PatchType,
        patch: &[u8],
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let patch: Value = match patch_type {
            PatchType::Apply => return Err(ApiError::unsupported_media_type(
                "application/apply-patch+yaml (server-side apply is not supported yet; use client-side kubectl apply)",
            )),
            _ => serde_json::from_slice(patch)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?,
        };
        let kind = UpdateKind::for_subresource(rt, subresource)?;
        for _ in 0..PATCH_ATTEMPTS {
            let Some((old, revision)) = self.get_versioned(rt, namespace, name).await? else {
                return Err(ApiError::not_found(rt.group, rt.plural, name));
            };
            let patched = apply_patch(rt, &old, &patch, patch_type)?;
            let pinned = object::resource_version(&patched);
            let pins_version = !pinned.is_empty() && pinned != object::resource_version(&old);
            if pins_version {
                return Err(ApiError::stale(rt.group, rt.plural, name));
            }
            let (new, warnings) = incoming::admit(rt, patched, opts.field_validation)?;
            check_identity(rt, &new, namespace, name)?;
            match self.commit_update(rt, namespace, &old, revision, new, kind, opts.dry_run).await {
                Err(err) if err.reason == "Conflict" && err.causes.is_empty() && !patch_sets_version(&patch) => {
                    continue
                }
                Ok(object) => return Ok(Written { object, warnings }),
                Err(err) => return Err(err),
            }
        }
        Err(ApiError::stale(rt.group, rt.plural, name))
    }
}

fn patch_sets_version(patch: &Value) -> bool {
    patch.pointer("/metadata/resourceVersion").is_some_and(|v| !v.is_null())
}

/// `original` with `patch` applied.
pub fn apply_patch(
    rt: &ResourceType,
    original: &Value,
    patch: &Value,
    patch_type: PatchType,
) -> Result<Value, ApiError> {
    match patch_type {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("the JSON patch is not a list of operations: {e}")))?;
            let mut doc = original.clone();
            json_patch::patch(&mut doc, &ops).map_err(ApiError::invalid_patch)?;
            Ok(doc)
        }
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            let mut doc = original.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchType::Strategic => strategic_merge::apply(original, patch, &rt.definition),
        PatchType::Apply => Err(ApiError::unsupported_media_type("application/apply-patch+yaml")),
    }
}
