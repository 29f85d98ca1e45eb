//! Per-namespace essentials: the `default` ServiceAccount and the `kube-root-ca.crt`
//! ConfigMap that pods mount to trust the API server.

use std::sync::Arc;

use serde_json::{json, Value};

use super::informer::{enqueue_changes, ChangeKind, Informers};
use super::queue::WorkQueue;
use crate::server::registry::options::WriteOptions;
use crate::server::registry::{catalog, object, UpdateKind};

pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

pub fn spawn(informers: &Arc<Informers>, ca_pem: String) {
    let namespaces = informers.of("", "namespaces");
    let service_accounts = informers.of("", "serviceaccounts");
    let configmaps = informers.of("", "configmaps");
    let queue = WorkQueue::new();
    enqueue_changes(namespaces.clone(), queue.clone(), |change| {
        if change.kind == ChangeKind::Deleted {
            return Vec::new();
        }
        vec![object::name(&change.object).to_string()]
    });
    // Someone deleting the default account or the CA bundle gets them back.
    enqueue_changes(service_accounts.clone(), queue.clone(), |change| {
        (change.kind == ChangeKind::Deleted && object::name(&change.object) == "default")
            .then(|| object::namespace(&change.object).to_string())
            .into_iter()
            .collect()
    });
    enqueue_changes(configmaps.clone(), queue.clone(), |change| {
        (object::name(&change.object) == ROOT_CA_CONFIGMAP)
            .then(|| object::namespace(&change.object).to_string())
            .into_iter()
            .collect()
    });
    let registry = informers.registry().clone();
    queue.run("serviceaccount", 2, move |ns| {
        let (registry, namespaces, service_accounts, configmaps, ca_pem) =
            (registry.clone(), namespaces.clone(), service_accounts.clone(), configmaps.clone(), ca_pem.clone());
        async move {
            let Some(namespace) = namespaces.get(None, &ns) else { return Ok(None) };
            if object::is_deleting(&namespace) {
                return Ok(None);
            }
            if service_accounts.get(Some(&ns), "default").is_none() {
                let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
                create(&registry, "serviceaccounts", &ns, sa).await?;
            }
            let data = json!({"ca.crt": ca_pem});
            match configmaps.get(Some(&ns), ROOT_CA_CONFIGMAP) {
                None => {
                    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": ns,
                                     "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
                        "data": data});
                    create(&registry, "configmaps", &ns, cm).await?;
                }
                Some(cm) if cm.get("data") != Some(&data) => {
                    let rt = catalog::find("", "v1", "configmaps").expect("served");
                    registry
                        .update_with(rt, Some(&ns), ROOT_CA_CONFIGMAP, UpdateKind::Object, |cm| {
                            let mut cm: Value = cm.clone();
                            cm["data"] = data.clone();
                            Ok(Some(cm))
                        })
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                Some(_) => {}
            }
            Ok(None)
        }
    });
}

async fn create(
    registry: &crate::server::registry::Registry,
    plural: &str,
    ns: &str,
    obj: Value,
) -> anyhow::Result<()> {
    let rt = catalog::find("", "v1", plural).expect("served");
    match registry.create(rt, Some(ns), obj, &WriteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(err) if err.reason == "AlreadyExists" || err.code == 403 || err.code == 404 => Ok(()),
        Err(err) => Err(anyhow::anyhow!("{err}")),
    }
}
