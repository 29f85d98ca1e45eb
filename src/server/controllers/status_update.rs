//! Writing a controller's status for an object it manages: only when it changed, only to
//! the object it was computed for (same UID), and an object deleted meanwhile is no error.

use serde_json::Value;

use crate::server::api_error::ApiError;
use crate::server::controllers::controller_ref::namespace_of;
use crate::server::registry::catalog::ResourceType;
use crate::server::registry::{object, Registry, UpdateKind};

/// Replaces `obj`'s status with `status` through the status subresource; returns the object
/// as written (or as it was, if nothing changed or it is gone).
pub async fn write_status(
    registry: &Registry,
    rt: &ResourceType,
    obj: &Value,
    status: Value,
) -> Result<Option<Value>, ApiError> {
    if obj.get("status") == Some(&status) {
        return Ok(None);
    }
    let uid = object::uid(obj);
    let written = registry
        .update_with(rt, namespace_of(obj), object::name(obj), UpdateKind::Status, |current| {
            if object::uid(current) != uid || current.get("status") == Some(&status) {
                return Ok(None);
            }
            let mut next = current.clone();
            next["status"] = status.clone();
            Ok(Some(next))
        })
        .await;
    match written {
        Ok(written) => Ok(Some(written)),
        Err(err) if err.code == 404 => Ok(None),
        Err(err) => Err(err),
    }
}
