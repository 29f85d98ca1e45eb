//! Creating and deleting a controller's pods, with the events Kubernetes records for them
//! (SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete), and creating many pods in
//! slow-start batches so that a failing template costs one request, not hundreds.

use std::future::Future;
use std::sync::Arc;

use serde_json::{json, Value};

use super::events::{EventType, Recorder};
use crate::server::api_error::ApiError;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::options::{DeleteOptions, WriteOptions};
use crate::server::registry::{object, validation, Registry};

#[derive(Clone)]
pub struct PodControl {
    registry: Arc<Registry>,
    recorder: Recorder,
    pods: &'static ResourceType,
}

impl PodControl {
    pub fn new(registry: Arc<Registry>, recorder: Recorder) -> Self {
        let pods = catalog::find("", "v1", "pods").expect("pods are served");
        Self { registry, recorder, pods }
    }

    /// Creates a pod from `template` in `owner`'s namespace, controlled through `controller_ref`.
    pub async fn create(&self, owner: &Value, template: &Value, controller_ref: &Value) -> Result<Value, ApiError> {
        self.create_with_prefix(owner, template, controller_ref, &generate_name_prefix(object::name(owner))).await
    }

    /// Creates a pod as `create` does, named `<prefix><random>`.
    pub async fn create_with_prefix(
        &self,
        owner: &Value,
        template: &Value,
        controller_ref: &Value,
        prefix: &str,
    ) -> Result<Value, ApiError> {
        let mut pod = pod_from_template(template, object::name(owner), controller_ref);
        pod["metadata"]["generateName"] = json!(prefix);
        match self.registry.create(self.pods, Some(object::namespace(owner)), pod, &WriteOptions::default()).await {
            Ok(written) => {
                let message = format!("Created pod: {}", object::name(&written.object));
                self.recorder.record(owner, EventType::Normal, "SuccessfulCreate", &message).await;
                Ok(written.object)
            }
            Err(err) => {
                if !namespace_terminating(&err) {
                    let message = format!("Error creating: {}", err.message);
                    self.recorder.record(owner, EventType::Warning, "FailedCreate", &message).await;
                }
                Err(err)
            }
        }
    }

    /// Deletes `pod` (only the pod with that UID, not one recreated under its name).
    pub async fn delete(&self, owner: &Value, pod: &Value) -> Result<(), ApiError> {
        let opts = DeleteOptions { precondition_uid: Some(object::uid(pod).to_string()), ..Default::default() };
        match self.registry.delete(self.pods, Some(object::namespace(pod)), object::name(pod), &opts).await {
            Ok(_) => {
                let message = format!("Deleted pod: {}", object::name(pod));
                self.recorder.record(owner, EventType::Normal, "SuccessfulDelete", &message).await;
                Ok(())
            }
            Err(err) => {
                if err.code != 404 {
                    let message = format!("Error deleting: {}", err.message);
                    self.recorder.record(owner, EventType::Warning, "FailedDelete", &message).await;
                }
                Err(err)
            }
        }
    }
}

/// A new pod as `template` describes it: its labels, annotations, finalizers and spec, named
/// `<owner>-<random>`.
pub fn pod_from_template(template: &Value, owner_name: &str, controller_ref: &Value) -> Value {
    let meta = template.get("metadata");
    let field = |name: &str| meta.and_then(|m| m.get(name)).cloned();
    let mut metadata = json!({"generateName": generate_name_prefix(owner_name), "ownerReferences": [controller_ref]});
    for name in ["labels", "annotations", "finalizers"] {
        if let Some(value) = field(name).filter(|v| !v.is_null()) {
            metadata[name] = value;
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    })
}

/// `<owner>-`, or the owner's name alone if the dash would make an invalid name.
pub fn generate_name_prefix(owner_name: &str) -> String {
    let prefix = format!("{owner_name}-");
    // The generated suffix is checked with the name; only the prefix's own syntax matters here.
    if validation::dns1123_subdomain(&format!("{prefix}x")).is_ok() {
        prefix
    } else {
        owner_name.to_string()
    }
}

/// Whether a create failed only because the namespace is going away.
pub fn namespace_terminating(err: &ApiError) -> bool {
    err.code == 403 && err.message.contains("being terminated")
}

/// Runs `count` attempts in batches of 1, 2, 4, … and stops after the first batch with a
/// failure. Returns how many succeeded and the first error.
pub async fn in_slow_start_batches<F, Fut>(count: usize, mut attempt: F) -> (usize, Result<(), ApiError>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    let mut successes = 0;
    let mut remaining = count;
    let mut batch = remaining.min(1);
    while batch > 0 {
        let results = futures::future::join_all((0..batch).map(|_| attempt())).await;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(()) => successes += 1,
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        if let Some(err) = first_error {
            return (successes, Err(err));
        }
        remaining -= batch;
        batch = (batch * 2).min(remaining);
    }
    (successes, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn pods_take_the_template_and_the_owner_name() {
        let template = json!({"metadata": {"name": "ignored", "labels": {"app": "a"}}, "spec": {"containers": []}});
        let pod = pod_from_template(&template, "web", &json!({"uid": "u"}));
        assert_eq!(pod["metadata"]["generateName"], "web-");
        assert_eq!(pod["metadata"]["labels"]["app"], "a");
        assert!(pod["metadata"].get("name").is_none());
        assert_eq!(pod["metadata"]["ownerReferences"][0]["uid"], "u");
        assert_eq!(pod["spec"], json!({"containers": []}));
    }

    #[tokio::test]
    async fn slow_start_stops_after_a_failing_batch() {
        let calls = AtomicUsize::new(0);
        // Attempts 1 (batch 1), 2-3 (batch 2), 4-7 (batch 4): the 5th attempt fails.
        let (ok, result) = in_slow_start_batches(20, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 4 {
                    Err(ApiError::internal("boom"))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 7);
        assert_eq!(ok, 6);
        let (ok, result) = in_slow_start_batches(5, || async { Ok(()) }).await;
        assert!(result.is_ok());
        assert_eq!(ok, 5);
    }
}
