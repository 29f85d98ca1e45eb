//! Subresources with their own objects: pod binding and eviction, and the scale of
//! workload controllers.

use serde_json::{json, Value};

use crate::server::api_error::{ApiError, Cause};
use crate::server::registry::catalog::ResourceType;
use crate::server::registry::label_selector::LabelSelector;
use crate::server::registry::options::{DeleteOptions, PatchType, WriteOptions};
use crate::server::registry::{object, Registry};

/// POST to `pods/{name}/binding` or `pods/{name}/eviction`; returns a success Status.
pub async fn create(
    registry: &Registry,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
    sub: &str,
    body: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    match sub {
        "binding" => bind(registry, rt, ns, name, body, opts).await,
        _ => evict(registry, rt, ns, name, body).await,
    }
}

async fn bind(
    registry: &Registry,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
    body: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let node = body.pointer("/target/name").and_then(Value::as_str).unwrap_or_default().to_string();
    if node.is_empty() {
        return Err(ApiError::invalid("", "Binding", name, vec![Cause::required("target.name")]));
    }
    let target_kind = body.pointer("/target/kind").and_then(Value::as_str).unwrap_or("Node");
    if target_kind != "Node" && !target_kind.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            name,
            vec![Cause::unsupported("target.kind", target_kind, &["Node"])],
        ));
    }
    if !opts.dry_run {
        registry.bind(rt, ns, name, &node).await?;
    }
    Ok(success())
}

/// Eviction: a delete that respects PodDisruptionBudgets.
async fn evict(
    registry: &Registry,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let pod = registry.get(rt, ns, name).await?;
    if !object::is_deleting(&pod) {
        check_disruption_budgets(registry, &pod).await?;
    }
    let mut opts = DeleteOptions::default();
    if let Some(grace) = body.pointer("/deleteOptions/gracePeriodSeconds").and_then(Value::as_i64) {
        opts.grace_period_seconds = Some(grace);
    }
    registry.delete(rt, ns, name, &opts).await?;
    Ok(success())
}

/// Refuses an eviction that would take a budget below what it allows.
async fn check_disruption_budgets(registry: &Registry, pod: &Value) -> Result<(), ApiError> {
    let pdbs = crate::server::registry::catalog::find("policy", "v1", "poddisruptionbudgets").expect("served");
    let ns = object::namespace(pod);
    let budgets = registry.list(pdbs, Some(ns), &Default::default()).await?.items;
    for pdb in budgets {
        let Some(selector) = pdb.pointer("/spec/selector") else { continue };
        let Ok(selector) = LabelSelector::from_object(selector) else { continue };
        if selector.is_empty() || !selector.matches_object(pod) {
            continue;
        }
        let allowed = pdb.pointer("/status/disruptionsAllowed").and_then(Value::as_i64).unwrap_or(0);
        if allowed <= 0 {
            let mut err =
                ApiError::too_many_requests("Cannot evict pod as it would violate the pod's disruption budget.");
            err.causes.push(Cause {
                reason: "DisruptionBudget",
                field: String::new(),
                message: format!(
                    "The disruption budget {} needs more healthy pods to allow this eviction.",
                    object::name(&pdb)
                ),
            });
            return Err(err);
        }
    }
    Ok(())
}

fn success() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

/// GET, PUT or PATCH of `{name}/scale`.
#[allow(clippy::too_many_arguments, reason = "one parameter per part of the REST request")]
pub async fn scale(
    registry: &Registry,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
    verb: &str,
    content_type: &str,
    body: &[u8],
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let current = registry.get(rt, ns, name).await?;
    if verb == "get" {
        return Ok(scale_of(&current));
    }
    let requested = match verb {
        "update" => serde_json::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("the Scale is not valid JSON: {e}")))?,
        _ => {
            let patch_type = PatchType::from_content_type(content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(content_type))?;
            let patch: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let scale = scale_of(&current);
            match patch_type {
                PatchType::Json => {
                    let ops: json_patch::Patch =
                        serde_json::from_value(patch).map_err(|e| ApiError::bad_request(e.to_string()))?;
                    let mut doc = scale;
                    json_patch::patch(&mut doc, &ops).map_err(ApiError::invalid_patch)?;
                    doc
                }
                PatchType::Merge | PatchType::Strategic => {
                    let mut doc = scale;
                    json_patch::merge(&mut doc, &patch);
                    doc
                }
                PatchType::Apply => return Err(ApiError::unsupported_media_type(content_type)),
            }
        }
    };
    let replicas = requested.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![Cause::invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        ));
    }
    let wanted = requested.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
    if !wanted.is_empty() && wanted != object::resource_version(&current) {
        return Err(ApiError::stale(rt.group, rt.plural, name));
    }
    let mut updated = current.clone();
    updated["spec"]["replicas"] = json!(replicas);
    let written = registry.update(rt, ns, name, updated, None, opts).await?;
    Ok(scale_of(&written.object))
}

/// The `autoscaling/v1` Scale view of a controller.
fn scale_of(obj: &Value) -> Value {
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    let selector = match obj.pointer("/spec/selector") {
        Some(sel) if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() => selector_string(sel),
        Some(Value::Object(map)) => {
            map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(",")
        }
        _ => String::new(),
    };
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"), "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

/// A LabelSelector object as the text form (`app=web,env in (a,b)`).
fn selector_string(selector: &Value) -> String {
    let mut parts = Vec::new();
    for (k, v) in selector.get("matchLabels").and_then(Value::as_object).into_iter().flatten() {
        parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    for expr in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> =
            expr.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        parts.push(match expr.get("operator").and_then(Value::as_str).unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    parts.join(",")
}

/// Shortest and default lifetime of a requested token, as upstream.
const MIN_TOKEN_SECONDS: i64 = 600;
const DEFAULT_TOKEN_SECONDS: i64 = 3600;

/// POST `serviceaccounts/{name}/token`: a signed token for the account, optionally bound
/// to a pod.
pub async fn token_request(
    api: &super::ApiServer,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
    body: Value,
) -> Result<Value, ApiError> {
    use crate::server::auth::service_account_token::{claims, TokenSubject};
    let sa = api.registry.get(rt, ns, name).await?;
    let ns = ns.unwrap_or_default();
    let seconds = body.pointer("/spec/expirationSeconds").and_then(Value::as_i64).unwrap_or(DEFAULT_TOKEN_SECONDS);
    if seconds < MIN_TOKEN_SECONDS {
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            name,
            vec![Cause::invalid("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")],
        ));
    }
    let audiences: Vec<String> = body
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let pod = match body.pointer("/spec/boundObjectRef") {
        Some(bound) if !bound.is_null() => {
            let kind = bound.get("kind").and_then(Value::as_str).unwrap_or_default();
            if kind != "Pod" {
                return Err(ApiError::invalid(
                    "authentication.k8s.io",
                    "TokenRequest",
                    name,
                    vec![Cause::unsupported("spec.boundObjectRef.kind", kind, &["Pod"])],
                ));
            }
            let pod_name = bound.get("name").and_then(Value::as_str).unwrap_or_default();
            let pods = crate::server::registry::catalog::find("", "v1", "pods").expect("served");
            let live = api.registry.get(pods, Some(ns), pod_name).await?;
            let uid = bound.get("uid").and_then(Value::as_str).unwrap_or_default();
            if !uid.is_empty() && uid != object::uid(&live) {
                return Err(ApiError::conflict(
                    "",
                    "pods",
                    pod_name,
                    "the UID in the bound object reference does not match the pod",
                ));
            }
            Some((pod_name.to_string(), object::uid(&live).to_string()))
        }
        _ => None,
    };
    let subject = TokenSubject {
        namespace: ns,
        service_account: name,
        service_account_uid: object::uid(&sa),
        pod: pod.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
    };
    let token = api.token_signer.sign(&claims(&subject, &audiences, seconds)).map_err(ApiError::internal)?;
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(seconds);
    let mut spec = body.get("spec").cloned().unwrap_or(json!({}));
    spec["expirationSeconds"] = json!(seconds);
    if audiences.is_empty() {
        spec["audiences"] = json!([crate::server::auth::service_account_token::ISSUER]);
    }
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": null},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": object::format_time(expires)},
    }))
}
