//! Namespace lifecycle: once a namespace is being deleted, delete everything in it, then
//! remove the `kubernetes` finalizer so the namespace itself goes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::server::api_error::ApiError;
use crate::server::registry::catalog;
use crate::server::registry::kinds::KUBERNETES_FINALIZER;
use crate::server::registry::options::{DeleteOptions, PropagationPolicy, WatchOptions};
use crate::server::registry::{object, Registry, UpdateKind, WatchEvent};

/// How often a namespace whose content is still going away is looked at again.
const RETRY: Duration = Duration::from_secs(2);

pub fn spawn(registry: Arc<Registry>) {
    tokio::spawn(async move {
        loop {
            if let Err(err) = run(&registry).await {
                tracing::warn!(%err, "namespace controller restarting");
            }
            tokio::time::sleep(RETRY).await;
        }
    });
}

async fn run(registry: &Arc<Registry>) -> Result<(), ApiError> {
    let namespaces = catalog::find("", "v1", "namespaces").expect("served");
    let mut events = registry.watch(namespaces, None, WatchOptions::default()).await?;
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            () = tokio::time::sleep(RETRY) => {
                // Re-check terminating namespaces whose content was still draining.
                for ns in registry.list(namespaces, None, &Default::default()).await?.items {
                    if object::is_deleting(&ns) {
                        spawn_cleanup(registry.clone(), object::name(&ns).to_string());
                    }
                }
                continue;
            }
        };
        match event {
            Some(WatchEvent::Added(ns) | WatchEvent::Modified(ns)) if object::is_deleting(&ns) => {
                spawn_cleanup(registry.clone(), object::name(&ns).to_string());
            }
            Some(WatchEvent::Error(err)) => return Err(err),
            None => return Ok(()),
            Some(_) => {}
        }
    }
}

fn spawn_cleanup(registry: Arc<Registry>, name: String) {
    tokio::spawn(async move {
        if let Err(err) = cleanup(&registry, &name).await {
            tracing::debug!(namespace = %name, %err, "namespace cleanup will be retried");
        }
    });
}

/// Deletes the namespace's content; finalizes it once nothing is left.
async fn cleanup(registry: &Registry, name: &str) -> Result<(), ApiError> {
    let mut remaining = 0;
    let opts = DeleteOptions { propagation_policy: Some(PropagationPolicy::Background), ..Default::default() };
    for rt in catalog::all().iter().filter(|rt| rt.namespaced) {
        let items = registry.list(rt, Some(name), &Default::default()).await?.items;
        for item in &items {
            if !object::is_deleting(item) {
                match registry.delete(rt, Some(name), object::name(item), &opts).await {
                    Ok(_) => {}
                    Err(err) if err.code == 404 => {}
                    Err(err) => return Err(err),
                }
            }
        }
        remaining += registry.list(rt, Some(name), &Default::default()).await?.items.len();
    }
    if remaining > 0 {
        return Ok(());
    }
    let namespaces = catalog::find("", "v1", "namespaces").expect("served");
    registry
        .update_with(namespaces, None, name, UpdateKind::Finalize, |ns| {
            let finalizers: Vec<Value> = ns
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .map(|f| f.iter().filter(|x| x.as_str() != Some(KUBERNETES_FINALIZER)).cloned().collect())
                .unwrap_or_default();
            let mut updated = ns.clone();
            updated["spec"]["finalizers"] = json!(finalizers);
            Ok(Some(updated))
        })
        .await
        .map(|_| ())
        .or_else(|err| if err.code == 404 { Ok(()) } else { Err(err) })
}
