//! Finding a pod's sandbox and containers in the runtime by the names the API server uses.
//! The kubelet labels every container with its pod and container names; of several
//! attempts of a container, the highest is the current one.

use std::path::PathBuf;

use crate::agent::kubelet::container_config::{CONTAINER_NAME_LABEL, POD_NAMESPACE_LABEL, POD_NAME_LABEL};
use crate::runtime::service::RuntimeService;
use crate::runtime::types::{ContainerInfo, Sandbox, SandboxState};
use crate::server::api_error::ApiError;

/// The pod's current sandbox: a running one if there is one, else the newest.
pub async fn sandbox(runtime: &RuntimeService, namespace: &str, pod: &str) -> Result<Sandbox, ApiError> {
    let sandboxes = runtime.list_sandboxes().await.map_err(ApiError::internal)?;
    sandboxes
        .into_iter()
        .filter(|s| s.config.namespace == namespace && s.config.name == pod)
        .max_by_key(|s| (s.state == SandboxState::Ready, s.created_at))
        .ok_or_else(|| pod_not_found(pod))
}

/// The current attempt of `container` in the pod.
pub async fn current(
    runtime: &RuntimeService,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Result<ContainerInfo, ApiError> {
    let sandbox = sandbox(runtime, namespace, pod).await?;
    let containers = runtime.list_containers().await.map_err(ApiError::internal)?;
    containers
        .into_iter()
        .filter(|c| {
            c.sandbox_id == sandbox.id
                && c.labels.get(POD_NAMESPACE_LABEL).map(String::as_str) == Some(namespace)
                && c.labels.get(POD_NAME_LABEL).map(String::as_str) == Some(pod)
                && c.labels.get(CONTAINER_NAME_LABEL).map(String::as_str) == Some(container)
        })
        .max_by_key(|c| c.attempt)
        .ok_or_else(|| {
            let mut err = ApiError::no_such_path();
            err.message = format!("container {container:?} not found in pod {pod:?}");
            err
        })
}

/// The log of the newest attempt before `current` that left one.
pub fn previous_log(current: &ContainerInfo) -> Option<PathBuf> {
    let dir = current.log_path.parent()?;
    (0..current.attempt).rev().map(|attempt| dir.join(format!("{attempt}.log"))).find(|path| path.exists())
}

pub fn pod_not_found(pod: &str) -> ApiError {
    let mut err = ApiError::no_such_path();
    err.message = format!("pod {pod:?} does not exist");
    err
}
