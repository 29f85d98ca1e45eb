//! Where a pod's `log`, `exec`, `attach` and `portforward` requests go: the container they are
//! about (checked against the pod's spec and, for logs, its status, with the API server's and
//! kubelet's wording), the node the pod runs on, and the node API path.

use serde_json::Value;

use crate::server::api_error::ApiError;

/// The node API path (and query) a pod subresource request becomes, or `None` for the log of
/// a pod no node runs yet (which is empty, as in Kubernetes).
pub fn kubelet_path(pod: &Value, subresource: &str, query: Option<&str>) -> Result<Option<String>, ApiError> {
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let asked = pairs.iter().find(|(k, _)| k == "container").map(|(_, v)| v.clone()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "container");
    let scheduled = pod.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    let path = match subresource {
        "log" => {
            let container = container(pod, &asked)?;
            if !scheduled {
                return Ok(None);
            }
            let previous = pairs.iter().any(|(k, v)| k == "previous" && matches!(v.as_str(), "true" | "1"));
            if !log_target_is_previous(pod, &container, previous)? {
                pairs.retain(|(k, _)| k != "previous");
            }
            format!("/containerLogs/{namespace}/{name}/{container}")
        }
        "exec" | "attach" => {
            let container = container(pod, &asked)?;
            if !scheduled {
                return Err(not_scheduled(name));
            }
            format!("/{subresource}/{namespace}/{name}/{container}")
        }
        _ => {
            if !scheduled {
                return Err(not_scheduled(name));
            }
            format!("/portForward/{namespace}/{name}")
        }
    };
    if pairs.is_empty() {
        return Ok(Some(path));
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    Ok(Some(format!("{path}?{query}")))
}

fn not_scheduled(pod: &str) -> ApiError {
    ApiError::bad_request(format!("pod {pod} does not have a host assigned"))
}

fn names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{list}"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The container a request is about: the one asked for, which must exist, or the pod's only
/// container.
fn container(pod: &Value, asked: &str) -> Result<String, ApiError> {
    let pod_name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let containers = names(pod, "containers");
    let init = names(pod, "initContainers");
    if !asked.is_empty() {
        let ephemeral = names(pod, "ephemeralContainers");
        if containers.iter().chain(&init).chain(&ephemeral).any(|c| c == asked) {
            return Ok(asked.to_string());
        }
        return Err(ApiError::bad_request(format!("container {asked} is not valid for pod {pod_name}")));
    }
    match containers.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(ApiError::bad_request(format!("a container name must be specified for pod {pod_name}"))),
        _ => {
            let mut message = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init.is_empty() {
                message.push_str(&format!(" or one of the init containers: [{}]", init.join(" ")));
            }
            Err(ApiError::bad_request(message))
        }
    }
}

/// Whether the log wanted is the one before the container's newest attempt, judged from the
/// container's status as the kubelet does. A container waiting to restart has its last
/// terminated attempt as its newest, so `previous` then means that one.
fn log_target_is_previous(pod: &Value, container: &str, previous: bool) -> Result<bool, ApiError> {
    let pod_name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let status = ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"]
        .iter()
        .filter_map(|list| pod.pointer(&format!("/status/{list}")).and_then(Value::as_array))
        .flatten()
        .find(|s| s["name"].as_str() == Some(container));
    let Some(status) = status else {
        return Err(ApiError::bad_request(format!(
            "container {container:?} in pod {pod_name:?} is waiting to start: ContainerCreating"
        )));
    };
    let last_terminated = status.pointer("/lastState/terminated").is_some_and(Value::is_object);
    let state = |kind: &str| status.pointer(&format!("/state/{kind}")).filter(|v| v.is_object());
    if previous {
        if !last_terminated {
            return Err(ApiError::bad_request(format!(
                "previous terminated container {container:?} in pod {pod_name:?} not found"
            )));
        }
        return Ok(state("waiting").is_none());
    }
    if state("running").is_some() || state("terminated").is_some() || last_terminated {
        return Ok(false);
    }
    let reason = state("waiting").and_then(|w| w["reason"].as_str()).unwrap_or_default();
    Err(ApiError::bad_request(match reason {
        "" => format!("container {container:?} in pod {pod_name:?} is waiting to start - no logs yet"),
        "ErrImagePull" => {
            format!("container {container:?} in pod {pod_name:?} is waiting to start: image can't be pulled")
        }
        "ImagePullBackOff" => {
            format!("container {container:?} in pod {pod_name:?} is waiting to start: trying and failing to pull image")
        }
        reason => format!("container {container:?} in pod {pod_name:?} is waiting to start: {reason}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: Value) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"nodeName": "n1", "containers": [{"name": "nginx"}, {"name": "sidecar"}], "initContainers": [{"name": "setup"}]},
            "status": {"containerStatuses": [status]},
        })
    }

    #[test]
    fn containers_are_checked_against_the_spec() {
        let running = pod(json!({"name": "nginx", "state": {"running": {}}}));
        assert_eq!(
            kubelet_path(&running, "exec", Some("container=nginx&command=ls&stdout=true")).unwrap().unwrap(),
            "/exec/default/web/nginx?command=ls&stdout=true"
        );
        let err = kubelet_path(&running, "exec", Some("command=ls")).unwrap_err();
        assert_eq!(
            err.message,
            "a container name must be specified for pod web, choose one of: [nginx sidecar] or one of the init containers: [setup]"
        );
        assert_eq!(
            kubelet_path(&running, "log", Some("container=nope")).unwrap_err().message,
            "container nope is not valid for pod web"
        );
        assert_eq!(
            kubelet_path(&running, "portforward", Some("ports=80")).unwrap().unwrap(),
            "/portForward/default/web?ports=80"
        );
        let mut pending = running.clone();
        pending["spec"]["nodeName"] = json!(null);
        assert_eq!(kubelet_path(&pending, "log", Some("container=nginx")).unwrap(), None);
        assert_eq!(
            kubelet_path(&pending, "exec", Some("container=nginx")).unwrap_err().message,
            "pod web does not have a host assigned"
        );
    }

    #[test]
    fn log_status_decides_previous() {
        let fresh = pod(json!({"name": "nginx", "state": {"running": {}}, "lastState": {}}));
        assert_eq!(
            kubelet_path(&fresh, "log", Some("container=nginx&previous=true")).unwrap_err().message,
            "previous terminated container \"nginx\" in pod \"web\" not found"
        );
        let restarted =
            pod(json!({"name": "nginx", "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1}}}));
        assert_eq!(
            kubelet_path(&restarted, "log", Some("container=nginx&previous=true")).unwrap().unwrap(),
            "/containerLogs/default/web/nginx?previous=true"
        );
        let backing_off = pod(
            json!({"name": "nginx", "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1}}}),
        );
        assert_eq!(
            kubelet_path(&backing_off, "log", Some("container=nginx&previous=true")).unwrap().unwrap(),
            "/containerLogs/default/web/nginx"
        );
        let pulling = pod(json!({"name": "nginx", "state": {"waiting": {"reason": "ErrImagePull"}}}));
        assert_eq!(
            kubelet_path(&pulling, "log", Some("container=nginx")).unwrap_err().message,
            "container \"nginx\" in pod \"web\" is waiting to start: image can't be pulled"
        );
    }
}
