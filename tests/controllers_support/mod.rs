//! Helpers the controller tests share: reading objects as JSON through kubectl, applying
//! manifests, and a stand-in kubelet that marks pods running and ready (there is no node
//! agent in these tests).

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{eventually, text, Server};

/// `kubectl get <args> -o json`.
pub fn get_json(server: &Server, args: &[&str]) -> Value {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&server.kubectl_ok(&full)).expect("kubectl prints JSON")
}

/// The items of a list as returned by `get_json`.
pub fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

pub fn name(obj: &Value) -> String {
    obj["metadata"]["name"].as_str().unwrap_or_default().to_string()
}

/// Pods of a namespace matching a label selector.
pub fn pods(server: &Server, ns: &str, selector: &str) -> Vec<Value> {
    items(&get_json(server, &["pods", "-n", ns, "-l", selector]))
}

/// Pods not being deleted.
pub fn live_pods(server: &Server, ns: &str, selector: &str) -> Vec<Value> {
    pods(server, ns, selector).into_iter().filter(|p| p["metadata"]["deletionTimestamp"].is_null()).collect()
}

pub fn apply(server: &Server, ns: &str, manifest: &str) {
    let out = server.kubectl_stdin(&["apply", "-n", ns, "-f", "-"], manifest);
    assert!(out.status.success(), "apply failed:\n{}\n{}\n{manifest}", text(&out.stdout), text(&out.stderr));
}

/// `kubectl create namespace` speaks protobuf, which the server does not (yet); apply JSON.
pub fn create_namespace(server: &Server, ns: &str) {
    let manifest = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    let out = server.kubectl_stdin(&["apply", "-f", "-"], &manifest.to_string());
    assert!(out.status.success(), "creating namespace {ns} failed: {}", text(&out.stderr));
}

/// Waits until `count` live pods match `selector`; returns them.
pub fn wait_for_pods(server: &Server, ns: &str, selector: &str, count: usize) -> Vec<Value> {
    eventually(Duration::from_secs(30), &format!("{count} pods matching {selector} in {ns}"), || {
        let found = live_pods(server, ns, selector);
        (found.len() == count).then_some(found)
    })
}

/// Owner references of an object, as (kind, name, controller).
pub fn owners(obj: &Value) -> Vec<(String, String, bool)> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
                r["controller"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// Stands in for the kubelet in one namespace: pods whose first image does not contain
/// "bad" are reported Running and Ready.
pub struct FakeKubelet<'a> {
    server: &'a Server,
    namespace: String,
    stop: AtomicBool,
}

impl<'a> FakeKubelet<'a> {
    pub fn new(server: &'a Server, namespace: &str) -> Self {
        Self { server, namespace: namespace.to_string(), stop: AtomicBool::new(false) }
    }

    /// Runs until `stop` is called (call from a scoped thread).
    pub fn run(&self) {
        while !self.stop.load(Ordering::Relaxed) {
            self.mark_ready_once();
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn mark_ready_once(&self) {
        let out = self.server.kubectl(&["get", "pods", "-n", &self.namespace, "-o", "json"]);
        let Ok(list) = serde_json::from_slice::<Value>(&out.stdout) else { return };
        for pod in items(&list) {
            let image = pod["spec"]["containers"][0]["image"].as_str().unwrap_or_default();
            if image.contains("bad")
                || pod["status"]["phase"] == "Running"
                || !pod["metadata"]["deletionTimestamp"].is_null()
            {
                continue;
            }
            let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            let status = serde_json::json!({"status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
            // A pod deleted meanwhile is fine to miss.
            let _ = self.server.kubectl(&[
                "patch",
                "pod",
                &name(&pod),
                "-n",
                &self.namespace,
                "--subresource=status",
                "--type=merge",
                "-p",
                &status.to_string(),
            ]);
        }
    }
}
