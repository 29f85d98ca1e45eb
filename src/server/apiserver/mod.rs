//! The HTTPS API server: authentication, authorization, then discovery, health and OpenAPI
//! documents or the resource endpoints.

mod discovery;
pub mod join;
mod negotiate;
pub mod openapi;
pub mod protobuf;
mod query;
pub mod request_info;
mod respond;
mod rest;
mod subresources;
pub mod tls;
mod watch_response;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use serde_json::json;

use crate::server::api_error::ApiError;
use crate::server::auth::authn::{Authenticator, UserInfo};
use crate::server::auth::authz::{Attributes, Authorizer, Decision};
use crate::server::registry::Registry;
use negotiate::Output;
use request_info::RequestInfo;
use respond::HttpResponse;

/// Everything a request handler needs.
pub struct ApiServer {
    pub registry: Arc<Registry>,
    pub authenticator: Authenticator,
    pub authorizer: Box<dyn Authorizer>,
    /// Hands out node credentials to joining agents.
    pub join: join::JoinService,
    /// Signs ServiceAccount tokens (the TokenRequest API).
    pub token_signer: Arc<crate::server::auth::service_account_token::TokenSigner>,
    /// `host:port` clients reach this server at (discovery reports it).
    pub server_address: String,
    /// Set once the server has finished bootstrapping; `/readyz` reports it.
    pub ready: AtomicBool,
}

/// The identity a connection's client certificate carries, attached to each request.
#[derive(Clone, Default)]
pub struct PeerIdentity(pub Option<Arc<UserInfo>>);

/// Paths anyone may read without credentials (as Kubernetes' public-info-viewer role).
const PUBLIC_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/cacerts", JOIN_PATH];

/// Where agents exchange a join token for their credentials (authenticated by the token).
pub const JOIN_PATH: &str = "/v1-onebin/join";

/// The axum application: every request goes through [`dispatch`].
pub fn router(api: Arc<ApiServer>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(api)
}

async fn dispatch(State(api): State<Arc<ApiServer>>, mut req: Request<Body>) -> HttpResponse {
    let query = query::Query::parse(req.uri().query());
    let info = RequestInfo::parse(req.method(), req.uri().path(), query.is_watch());
    let peer = req.extensions().get::<PeerIdentity>().cloned().unwrap_or_default();
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let user = api.authenticator.authenticate(peer.0.as_deref(), authorization);
    let public =
        !info.is_resource && PUBLIC_PATHS.iter().any(|p| info.path == *p || info.path.starts_with(&format!("{p}/")));
    if let Some(user) = &user {
        req.extensions_mut().insert(user.clone());
    }
    let result = match (&user, public) {
        (Some(user), _) => match authorize(&api, user, &info) {
            Ok(()) => route(&api, &info, req).await,
            Err(err) => refuse(req, err).await,
        },
        (None, true) => route(&api, &info, req).await,
        (None, false) => refuse(req, ApiError::unauthorized()).await,
    };
    result.unwrap_or_else(|err| respond::error(&err))
}

/// Refuses a request after reading what it sent (up to a bound), so an HTTP/2 client gets
/// the Status instead of a reset stream.
async fn refuse(req: Request<Body>, err: ApiError) -> Result<HttpResponse, ApiError> {
    use http_body_util::BodyExt;
    let mut body = req.into_body();
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        seen += frame.data_ref().map_or(0, |d| d.len());
        if seen > negotiate::MAX_BODY_BYTES {
            break;
        }
    }
    Err(err)
}

fn authorize(api: &ApiServer, user: &UserInfo, info: &RequestInfo) -> Result<(), ApiError> {
    let attrs = Attributes {
        user,
        verb: &info.verb,
        api_group: &info.group,
        resource: &info.resource,
        subresource: info.subresource.as_deref().unwrap_or_default(),
        namespace: info.namespace.as_deref().unwrap_or_default(),
        name: info.name.as_deref().unwrap_or_default(),
        path: (!info.is_resource).then_some(info.path.as_str()),
    };
    match api.authorizer.authorize(&attrs) {
        Decision::Allow => Ok(()),
        Decision::Deny(why) => {
            let target = if info.is_resource {
                let scope = match &info.namespace {
                    Some(ns) => format!(" in the namespace \"{ns}\""),
                    None => " at the cluster scope".into(),
                };
                let what = crate::server::api_error::qualified(&info.group, &info.resource);
                match info.name.as_deref() {
                    Some(name) => format!("{what} \"{name}\" is forbidden: {why}{scope}"),
                    None => format!("{what} is forbidden: {why}{scope}"),
                }
            } else {
                format!("forbidden: {why} on path \"{}\"", info.path)
            };
            Err(ApiError::forbidden(target))
        }
    }
}

async fn route(api: &ApiServer, info: &RequestInfo, req: Request<Body>) -> Result<HttpResponse, ApiError> {
    if info.is_resource {
        return rest::handle(api, info, req).await;
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let path = info.path.trim_end_matches('/');
    match path {
        "/healthz" | "/livez" => Ok(respond::raw("text/plain; charset=utf-8", "ok")),
        "/readyz" if api.ready.load(Ordering::Acquire) => Ok(respond::raw("text/plain; charset=utf-8", "ok")),
        "/readyz" => Err(ApiError::unavailable("the server is starting")),
        "/version" => Ok(respond::object(StatusCode::OK, &version(), Output::Json, &[])),
        "/openapi/v2" => {
            // Only JSON is produced; a client that accepts nothing else (the protobuf form)
            // gets a clear refusal rather than bytes it cannot parse.
            let wants_json = accept.as_deref().is_none_or(|a| {
                a.split(',').any(|m| {
                    let m = m.trim();
                    m.starts_with("application/json") || m.starts_with("*/*") || m.is_empty()
                })
            });
            if !wants_json {
                return Err(ApiError::not_acceptable("the OpenAPI v2 document is served as application/json only"));
            }
            Ok(respond::raw("application/json", openapi::v2()))
        }
        "/openapi/v3" => Ok(respond::raw("application/json", openapi::v3_index())),
        "/cacerts" => Ok(respond::raw("application/x-pem-file", api.join.ca_pem())),
        JOIN_PATH if req.method() == axum::http::Method::POST => {
            let headers = req.headers().clone();
            let body =
                axum::body::to_bytes(req.into_body(), 64 * 1024).await.map_err(|_| ApiError::too_large(64 * 1024))?;
            let response = api.join.join(&headers, &body)?;
            Ok(respond::object(
                StatusCode::OK,
                &serde_json::to_value(response).map_err(ApiError::internal)?,
                Output::Json,
                &[],
            ))
        }
        "/api" | "/apis" => {
            let legacy = path == "/api";
            match negotiate::output(accept.as_deref())? {
                Output::AggregatedDiscovery { beta } => {
                    let body = serde_json::to_vec(&discovery::aggregated(legacy, beta)).map_err(ApiError::internal)?;
                    let version = if beta { "v2beta1" } else { "v2" };
                    let content_type =
                        format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
                    Ok(respond::raw(&content_type, body))
                }
                _ if legacy => Ok(respond::object(
                    StatusCode::OK,
                    &discovery::api_versions(&api.server_address),
                    Output::Json,
                    &[],
                )),
                _ => Ok(respond::object(StatusCode::OK, &discovery::api_group_list(), Output::Json, &[])),
            }
        }
        _ => {
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let doc = match segments.as_slice() {
                ["api", version] => discovery::api_resource_list("", version),
                ["apis", group] => discovery::api_group(group),
                ["apis", group, version] => discovery::api_resource_list(group, version),
                ["openapi", "v3", rest @ ..] => return openapi_v3(&rest.join("/")),
                _ => None,
            };
            doc.map(|d| respond::object(StatusCode::OK, &d, Output::Json, &[])).ok_or_else(ApiError::no_such_path)
        }
    }
}

/// One group-version's OpenAPI v3 document; its hash is its ETag and, since the URL
/// carries the hash, it may be cached for good.
fn openapi_v3(path: &str) -> Result<HttpResponse, ApiError> {
    let doc = openapi::v3_group_version(path).ok_or_else(ApiError::no_such_path)?;
    let mut response = respond::raw("application/json", doc);
    if let Some(hash) = openapi::v3_hash(path) {
        let headers = response.headers_mut();
        if let Ok(etag) = header::HeaderValue::from_str(&format!("\"{hash}\"")) {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("public, immutable"));
    }
    Ok(response)
}

fn version() -> serde_json::Value {
    json!({
        "major": crate::version::KUBE_MAJOR,
        "minor": crate::version::KUBE_MINOR,
        "gitVersion": crate::version::GIT_VERSION,
        "gitCommit": option_env!("ONEBIN_GIT_COMMIT").unwrap_or("unknown"),
        "gitTreeState": "clean",
        "buildDate": option_env!("ONEBIN_BUILD_DATE").unwrap_or("1970-01-01T00:00:00Z"),
        "goVersion": "n/a (rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, goarch()),
    })
}

/// The architecture name as Go (and so kubectl) spells it.
pub fn goarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        other => other,
    }
}
