//! The resource endpoints: one handler per verb, turning HTTP into registry calls.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use super::negotiate::{self, Output};
use super::query::Query;
use super::request_info::RequestInfo;
use super::respond::{self, HttpResponse};
use super::{subresources, watch_response, ApiServer};
use crate::server::api_error::ApiError;
use crate::server::auth::authn::UserInfo;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::options::PatchType;
use crate::server::registry::printers::{self, IncludeObject};
use crate::server::registry::{Deleted, ObjectList};

/// Serves a request for a resource (its path already parsed into `info`).
pub async fn handle(api: &ApiServer, info: &RequestInfo, req: Request<Body>) -> Result<HttpResponse, ApiError> {
    let rt = catalog::find(&info.group, &info.version, &info.resource).ok_or_else(ApiError::no_such_path)?;
    if !rt.namespaced && info.namespace.is_some() {
        return Err(ApiError::no_such_path());
    }
    if let Some(sub) = &info.subresource {
        if !rt.has_subresource(sub) {
            return Err(ApiError::no_such_path());
        }
    }
    let query = Query::parse(req.uri().query());
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let output = negotiate::output(accept.as_deref())?;
    let view =
        View { output, include: printers::parse_include_object(query.get("includeObject").unwrap_or_default())? };
    let ns = info.namespace.as_deref();
    let name = info.name.as_deref().unwrap_or_default();
    let registry = &api.registry;
    match (info.verb.as_str(), info.subresource.as_deref()) {
        ("get", None | Some("status")) => {
            let obj = registry.get(rt, ns, name).await?;
            Ok(render_one(rt, StatusCode::OK, obj, view, &[]))
        }
        ("list", None) => {
            let list = registry.list(rt, ns, &query.list_options(rt)?).await?;
            Ok(render_list(rt, list, view))
        }
        ("watch", None) => {
            let mut opts = query.watch_options(rt)?;
            if let Some(name) = &info.name {
                opts.field_selector = crate::server::registry::field_selector::FieldSelector::parse(
                    &format!("metadata.name={name}"),
                    rt,
                )?;
            }
            let events = registry.watch(rt, ns, opts).await?;
            Ok(watch_response::stream(rt, events, view, query.timeout_seconds()?))
        }
        ("create", None) if info.name.is_none() => {
            let user = req.extensions().get::<UserInfo>().cloned();
            let body = read_json(req).await?;
            if let Some(user) = &user {
                crate::server::auth::node_authorizer::restrict_creates(user, rt, &body)?;
            }
            let written = registry.create(rt, ns, body, &query.write_options()?).await?;
            Ok(render_one(rt, StatusCode::CREATED, written.object, view, &written.warnings))
        }
        ("update", sub @ (None | Some("status" | "finalize"))) => {
            let body = read_json(req).await?;
            let written = registry.update(rt, ns, name, body, sub, &query.write_options()?).await?;
            Ok(render_one(rt, StatusCode::OK, written.object, view, &written.warnings))
        }
        ("patch", sub @ (None | Some("status"))) => {
            let content_type = content_type(&req);
            let patch_type = PatchType::from_content_type(&content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(&content_type))?;
            let body = read_bytes(req).await?;
            let written = registry.patch(rt, ns, name, patch_type, &body, sub, &query.write_options()?).await?;
            Ok(render_one(rt, StatusCode::OK, written.object, view, &written.warnings))
        }
        ("delete", None) => {
            let body = read_optional_json(req).await?;
            let deleted = registry.delete(rt, ns, name, &query.delete_options(body.as_ref())?).await?;
            let status = match deleted {
                Deleted::Gone(_) => StatusCode::OK,
                Deleted::Pending(_) => StatusCode::ACCEPTED,
            };
            let obj = match deleted {
                Deleted::Gone(o) | Deleted::Pending(o) => o,
            };
            Ok(render_one(rt, status, obj, view, &[]))
        }
        ("deletecollection", None) => {
            let body = read_optional_json(req).await?;
            let opts = query.delete_options(body.as_ref())?;
            let items = registry.delete_collection(rt, ns, &query.list_options(rt)?, &opts).await?;
            let list =
                ObjectList { items, resource_version: registry.store().revision().to_string(), continue_token: None };
            Ok(render_list(rt, list, View { output: Output::Json, include: IncludeObject::Metadata }))
        }
        ("create", Some("token")) => {
            let body = read_json(req).await?;
            let token = subresources::token_request(api, rt, ns, name, body).await?;
            Ok(respond::object(StatusCode::CREATED, &token, output, &[]))
        }
        ("create", Some(sub @ ("binding" | "eviction"))) => {
            let body = read_json(req).await?;
            let status = subresources::create(registry, rt, ns, name, sub, body, &query.write_options()?).await?;
            Ok(respond::object(StatusCode::CREATED, &status, output, &[]))
        }
        (verb @ ("get" | "update" | "patch"), Some("scale")) => {
            let content_type = content_type(&req);
            let body = if verb == "get" { Vec::new() } else { read_bytes(req).await? };
            let scale =
                subresources::scale(registry, rt, ns, name, verb, &content_type, &body, &query.write_options()?)
                    .await?;
            Ok(respond::object(StatusCode::OK, &scale, output, &[]))
        }
        (verb, Some(sub)) => {
            Err(ApiError::method_not_allowed(format!("{verb} is not supported on {}/{sub}", rt.plural)))
        }
        (verb, None) => Err(ApiError::method_not_allowed(format!("{verb} is not supported on {}", rt.plural))),
    }
}

fn content_type(req: &Request<Body>) -> String {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_string()
}

/// Bodies this much over the limit are cut off instead of drained.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads a body of at most [`negotiate::MAX_BODY_BYTES`]. An oversized body is still read
/// to its end (up to a cap) so the client receives the 413 instead of a reset stream.
async fn read_bytes(req: Request<Body>) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let mut body = req.into_body();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if let Some(data) = frame.data_ref() {
            seen += data.len();
            if seen <= negotiate::MAX_BODY_BYTES {
                bytes.extend_from_slice(data);
            } else if seen > DRAIN_LIMIT {
                break;
            }
        }
    }
    if seen > negotiate::MAX_BODY_BYTES {
        return Err(ApiError::too_large(negotiate::MAX_BODY_BYTES));
    }
    Ok(bytes)
}

async fn read_json(req: Request<Body>) -> Result<Value, ApiError> {
    let content_type = content_type(&req);
    let bytes = read_bytes(req).await?;
    negotiate::decode_body(Some(&content_type), &bytes)
}

async fn read_optional_json(req: Request<Body>) -> Result<Option<Value>, ApiError> {
    let content_type = content_type(&req);
    let bytes = read_bytes(req).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    negotiate::decode_body(Some(&content_type), &bytes).map(Some)
}

/// The representation a client asked for.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub output: Output,
    pub include: IncludeObject,
}

/// One object in the representation the client asked for.
pub fn render_one(rt: &ResourceType, status: StatusCode, obj: Value, view: View, warnings: &[String]) -> HttpResponse {
    let body = match view.output {
        Output::PartialMetadata => partial_metadata(&obj),
        Output::Table => {
            let meta =
                json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))});
            printers::table(rt, std::slice::from_ref(&obj), view.include, meta, jiff::Timestamp::now())
        }
        _ => obj,
    };
    respond::object(status, &body, view.output, warnings)
}

/// A list in the representation the client asked for.
pub fn render_list(rt: &ResourceType, list: ObjectList, view: View) -> HttpResponse {
    let mut metadata = json!({"resourceVersion": list.resource_version});
    if let Some(token) = &list.continue_token {
        metadata["continue"] = json!(token);
    }
    let body = match view.output {
        Output::PartialMetadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata,
            "items": list.items.iter().map(partial_metadata).collect::<Vec<_>>(),
        }),
        Output::Table => printers::table(rt, &list.items, view.include, metadata, jiff::Timestamp::now()),
        _ => json!({"kind": rt.list_kind, "apiVersion": rt.api_version(), "metadata": metadata, "items": list.items}),
    };
    respond::object(StatusCode::OK, &body, view.output, &[])
}

/// The `PartialObjectMetadata` form of an object.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))})
}
