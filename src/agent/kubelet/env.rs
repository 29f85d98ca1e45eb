//! A container's environment, as the kubelet builds it: service links first, then `envFrom`
//! sources, then `env` entries (later ones win), with `$(VAR)` references expanded — and the
//! same expansion for `command` and `args`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};

/// Where `configMapKeyRef`, `secretKeyRef` and `envFrom` look things up.
pub trait EnvLookup {
    fn config_map(&self, name: &str) -> Option<ConfigMap>;
    fn secret(&self, name: &str) -> Option<Secret>;
}

/// Why a container's environment cannot be built (`CreateContainerConfigError`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(pub String);

/// The environment of `container` in `pod`, in order.
pub fn container_env(
    pod: &Pod,
    container: &Container,
    lookup: &dyn EnvLookup,
    service_env: &[(String, String)],
) -> Result<Vec<(String, String)>, EnvError> {
    let mut env: Vec<(String, String)> = Vec::new();
    let set =
        |env: &mut Vec<(String, String)>, name: String, value: String| match env.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => env.push((name, value)),
        };
    if pod.spec.as_ref().and_then(|s| s.enable_service_links).unwrap_or(true) {
        for (name, value) in service_env {
            set(&mut env, name.clone(), value.clone());
        }
    } else {
        // The API server's own service is always linked.
        for (name, value) in service_env.iter().filter(|(n, _)| n.starts_with("KUBERNETES_")) {
            set(&mut env, name.clone(), value.clone());
        }
    }
    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(cm_ref) = &source.config_map_ref {
            match lookup.config_map(&cm_ref.name) {
                Some(cm) => {
                    for (k, v) in cm.data.unwrap_or_default() {
                        set(&mut env, format!("{prefix}{k}"), v);
                    }
                }
                None if cm_ref.optional == Some(true) => {}
                None => return Err(EnvError(format!("configmap \"{}\" not found", cm_ref.name))),
            }
        }
        if let Some(secret_ref) = &source.secret_ref {
            match lookup.secret(&secret_ref.name) {
                Some(secret) => {
                    for (k, v) in secret.data.unwrap_or_default() {
                        set(&mut env, format!("{prefix}{k}"), String::from_utf8_lossy(&v.0).into_owned());
                    }
                }
                None if secret_ref.optional == Some(true) => {}
                None => return Err(EnvError(format!("secret \"{}\" not found", secret_ref.name))),
            }
        }
    }
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (_, Some(from)) => match value_from(pod, container, from, lookup)? {
                Some(v) => v,
                None => continue,
            },
            (Some(value), None) => expand(value, &env),
            (None, None) => String::new(),
        };
        set(&mut env, var.name.clone(), value);
    }
    Ok(env)
}

fn value_from(
    pod: &Pod,
    container: &Container,
    from: &k8s_openapi::api::core::v1::EnvVarSource,
    lookup: &dyn EnvLookup,
) -> Result<Option<String>, EnvError> {
    if let Some(field) = &from.field_ref {
        return field_value(pod, &field.field_path)
            .map(Some)
            .ok_or_else(|| EnvError(format!("unsupported fieldPath {:?}", field.field_path)));
    }
    if let Some(resource) = &from.resource_field_ref {
        let target = match resource.container_name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => {
                pod.spec.as_ref().and_then(|s| s.containers.iter().find(|c| c.name == name)).unwrap_or(container)
            }
            None => container,
        };
        return resource_value(target, &resource.resource, resource.divisor.as_ref().map(|d| d.0.as_str())).map(Some);
    }
    if let Some(key) = &from.config_map_key_ref {
        let optional = key.optional == Some(true);
        return match lookup.config_map(&key.name).and_then(|cm| cm.data.and_then(|d| d.get(&key.key).cloned())) {
            Some(v) => Ok(Some(v)),
            None if optional => Ok(None),
            None => {
                Err(EnvError(format!("couldn't find key {} in ConfigMap {}/{}", key.key, namespace(pod), key.name)))
            }
        };
    }
    if let Some(key) = &from.secret_key_ref {
        let optional = key.optional == Some(true);
        return match lookup
            .secret(&key.name)
            .and_then(|s| s.data.and_then(|d| d.get(&key.key).map(|b| String::from_utf8_lossy(&b.0).into_owned())))
        {
            Some(v) => Ok(Some(v)),
            None if optional => Ok(None),
            None => Err(EnvError(format!("couldn't find key {} in Secret {}/{}", key.key, namespace(pod), key.name))),
        };
    }
    Ok(None)
}

fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

/// The downward-API value of `path` (also used by downwardAPI volumes).
pub fn field_value(pod: &Pod, path: &str) -> Option<String> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let map_entry = |map: &Option<BTreeMap<String, String>>, key: &str| {
        map.as_ref().and_then(|m| m.get(key).cloned()).unwrap_or_default()
    };
    Some(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
        "status.hostIPs" => status
            .and_then(|s| s.host_ips.as_ref())
            .map(|ips| ips.iter().map(|i| i.ip.clone()).collect::<Vec<_>>().join(","))
            .unwrap_or_default(),
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        "status.podIPs" => status
            .and_then(|s| s.pod_ips.as_ref())
            .map(|ips| ips.iter().map(|i| i.ip.clone()).collect::<Vec<_>>().join(","))
            .unwrap_or_default(),
        other => {
            if let Some(key) = other.strip_prefix("metadata.labels['").and_then(|k| k.strip_suffix("']")) {
                map_entry(&meta.labels, key)
            } else if let Some(key) = other.strip_prefix("metadata.annotations['").and_then(|k| k.strip_suffix("']")) {
                map_entry(&meta.annotations, key)
            } else {
                return None;
            }
        }
    })
}

/// `key="value"` lines, sorted, as downward-API label and annotation files hold them.
fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    map.map(|m| m.iter().map(|(k, v)| format!("{k}={v:?}")).collect::<Vec<_>>().join("\n")).unwrap_or_default()
}

/// `limits.cpu`, `requests.memory`, … of a container, divided by `divisor`. Unset limits
/// report the node's capacity, as upstream.
pub fn resource_value(container: &Container, resource: &str, divisor: Option<&str>) -> Result<String, EnvError> {
    let resources = container.resources.as_ref();
    let (kind, name) =
        resource.split_once('.').ok_or_else(|| EnvError(format!("unsupported resource {resource:?}")))?;
    let map = match kind {
        "limits" => resources.and_then(|r| r.limits.as_ref()),
        "requests" => resources.and_then(|r| r.requests.as_ref()),
        _ => return Err(EnvError(format!("unsupported resource {resource:?}"))),
    };
    let quantity = map.and_then(|m| m.get(name)).map(|q| q.0.clone());
    let value = match (name, quantity) {
        ("cpu", Some(q)) => crate::agent::quantity::cpu_millis(&q).map(|m| m as f64 / 1000.0),
        ("cpu", None) if kind == "limits" => Some(crate::host::cpu_count() as f64),
        ("memory" | "ephemeral-storage", Some(q)) => crate::agent::quantity::bytes(&q).map(|b| b as f64),
        ("memory", None) if kind == "limits" => Some(crate::host::memory_bytes() as f64),
        (_, None) => Some(0.0),
        _ => None,
    }
    .ok_or_else(|| EnvError(format!("cannot read resource {resource:?}")))?;
    let divisor = match (name, divisor) {
        (_, None) | (_, Some("")) => 1.0,
        ("cpu", Some(d)) => crate::agent::quantity::cpu_millis(d).map(|m| m as f64 / 1000.0).unwrap_or(1.0),
        (_, Some(d)) => crate::agent::quantity::bytes(d).map(|b| b as f64).unwrap_or(1.0),
    };
    Ok(((value / divisor).ceil() as i64).to_string())
}

/// Replaces `$(NAME)` with NAME's value when defined; `$$` escapes a `$`.
pub fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    let name = &inner[..end];
                    match env.iter().rev().find(|(n, _)| n == name) {
                        Some((_, value)) => out.push_str(value),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Objects;
    impl EnvLookup for Objects {
        fn config_map(&self, name: &str) -> Option<ConfigMap> {
            (name == "cfg").then(|| {
                serde_json::from_value(json!({"metadata": {"name": "cfg"}, "data": {"MODE": "fast", "LEVEL": "3"}}))
                    .unwrap()
            })
        }
        fn secret(&self, name: &str) -> Option<Secret> {
            (name == "sec").then(|| {
                serde_json::from_value(json!({"metadata": {"name": "sec"}, "data": {"password": "aHVudGVyMg=="}}))
                    .unwrap()
            })
        }
    }

    fn pod(container: serde_json::Value) -> (Pod, Container) {
        let pod: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}},
            "spec": {"nodeName": "n1", "containers": [container]}, "status": {"podIP": "10.42.0.7"}}))
            .unwrap();
        let c = pod.spec.as_ref().unwrap().containers[0].clone();
        (pod, c)
    }

    #[test]
    fn sources_in_order_with_expansion() {
        let (pod, c) = pod(json!({"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "$(A)-$(MISSING)-$$(A)"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
                    {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                    {"name": "CFG_MODE", "value": "slow"}],
            "resources": {"limits": {"memory": "64Mi"}}}));
        let env = container_env(&pod, &c, &Objects, &[("KUBERNETES_SERVICE_HOST".into(), "10.43.0.1".into())]).unwrap();
        let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("KUBERNETES_SERVICE_HOST"), Some("10.43.0.1"));
        assert_eq!(get("CFG_LEVEL"), Some("3"));
        assert_eq!(get("CFG_MODE"), Some("slow"));
        assert_eq!(get("B"), Some("1-$(MISSING)-$(A)"));
        assert_eq!(get("POD"), Some("p"));
        assert_eq!(get("IP"), Some("10.42.0.7"));
        assert_eq!(get("APP"), Some("x"));
        assert_eq!(get("PW"), Some("hunter2"));
        assert_eq!(get("MEM"), Some("64"));
    }

    #[test]
    fn missing_sources_are_config_errors_unless_optional() {
        let (p, c) = pod(
            json!({"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]}),
        );
        assert_eq!(container_env(&p, &c, &Objects, &[]).unwrap_err().0, "couldn't find key k in ConfigMap ns/nope");
        let (p, c) = pod(
            json!({"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": true}}}]}),
        );
        assert!(container_env(&p, &c, &Objects, &[]).unwrap().is_empty());
        let (p, c) = pod(json!({"name": "c", "envFrom": [{"secretRef": {"name": "gone"}}]}));
        assert_eq!(container_env(&p, &c, &Objects, &[]).unwrap_err().0, "secret \"gone\" not found");
    }
}
