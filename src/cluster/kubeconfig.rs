//! Handing a local cluster to kubectl: its admin kubeconfig pointed at the server's address
//! on the cluster bridge, written to a file of its own or merged into ~/.kube/config as the
//! context `onebin-<name>` (made current), and taken out again on delete.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_yaml::{Mapping, Value};

/// The default kubeconfig kubectl reads.
pub fn default_path() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root")).join(".kube").join("config")
}

pub fn context_name(cluster: &str) -> String {
    format!("onebin-{cluster}")
}

/// The server's own kubeconfig with the server URL replaced and every entry renamed to
/// `onebin-<cluster>`.
pub fn for_host(server_kubeconfig: &Path, cluster: &str, server_url: &str) -> Result<Value> {
    let text = std::fs::read_to_string(server_kubeconfig)
        .with_context(|| format!("reading {}", server_kubeconfig.display()))?;
    let mut config: Value = serde_yaml::from_str(&text)?;
    let name = context_name(cluster);
    for (list, field) in [("clusters", "cluster"), ("users", "user"), ("contexts", "context")] {
        if let Some(entries) = config.get_mut(list).and_then(Value::as_sequence_mut) {
            for entry in entries.iter_mut() {
                entry["name"] = Value::from(name.clone());
                if list == "clusters" {
                    entry[field]["server"] = Value::from(server_url);
                }
                if list == "contexts" {
                    entry[field]["cluster"] = Value::from(name.clone());
                    entry[field]["user"] = Value::from(name.clone());
                }
            }
        }
    }
    config["current-context"] = Value::from(name);
    Ok(config)
}

/// Writes `config` to `path`: alone if `path` is new or ours, merged into what is there
/// otherwise (entries with the same names are replaced).
pub fn install(config: &Value, path: &Path, merge: bool) -> Result<()> {
    let merged = match (merge, std::fs::read_to_string(path)) {
        (true, Ok(existing)) if !existing.trim().is_empty() => {
            let mut base: Value =
                serde_yaml::from_str(&existing).with_context(|| format!("{} is not valid YAML", path.display()))?;
            for list in ["clusters", "users", "contexts"] {
                let incoming = config.get(list).and_then(Value::as_sequence).cloned().unwrap_or_default();
                let names: Vec<Value> = incoming.iter().filter_map(|e| e.get("name").cloned()).collect();
                if !base.get(list).is_some_and(Value::is_sequence) {
                    base[list] = Value::Sequence(Vec::new());
                }
                let entries = base[list].as_sequence_mut().expect("just made a sequence");
                entries.retain(|e| e.get("name").is_none_or(|n| !names.contains(n)));
                entries.extend(incoming);
            }
            base["current-context"] = config["current-context"].clone();
            base
        }
        _ => config.clone(),
    };
    crate::server::auth::files::write_private(path, serde_yaml::to_string(&merged)?.as_bytes())
}

/// Takes the cluster's entries out of `path` (and the file itself if nothing else is left).
pub fn uninstall(path: &Path, cluster: &str) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let mut config: Value = serde_yaml::from_str(&text).unwrap_or(Value::Mapping(Mapping::new()));
    let name = Value::from(context_name(cluster));
    let mut left = 0;
    for list in ["clusters", "users", "contexts"] {
        if let Some(entries) = config.get_mut(list).and_then(Value::as_sequence_mut) {
            entries.retain(|e| e.get("name") != Some(&name));
            left += entries.len();
        }
    }
    if left == 0 {
        let _ = std::fs::remove_file(path);
        return Ok(());
    }
    if config.get("current-context") == Some(&name) {
        config["current-context"] = Value::from("");
    }
    crate::server::auth::files::write_private(path, serde_yaml::to_string(&config)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_replaces_our_entries_and_keeps_others() {
        let dir = tempfile::tempdir().unwrap();
        let server = dir.path().join("server.yaml");
        std::fs::write(&server, "apiVersion: v1\nkind: Config\nclusters: [{name: default, cluster: {server: 'https://127.0.0.1:6443'}}]\nusers: [{name: default, user: {}}]\ncontexts: [{name: default, context: {cluster: default, user: default}}]\ncurrent-context: default\n").unwrap();
        let ours = for_host(&server, "dev", "https://172.30.0.10:6443").unwrap();
        let target = dir.path().join("config");
        std::fs::write(&target, "apiVersion: v1\nkind: Config\nclusters: [{name: other, cluster: {server: 'https://x'}}]\nusers: [{name: other, user: {}}]\ncontexts: [{name: other, context: {cluster: other, user: other}}]\ncurrent-context: other\n").unwrap();
        install(&ours, &target, true).unwrap();
        install(&ours, &target, true).unwrap();
        let merged: Value = serde_yaml::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
        assert_eq!(merged["clusters"].as_sequence().unwrap().len(), 2);
        assert_eq!(merged["current-context"], "onebin-dev");
        assert_eq!(merged["clusters"][1]["cluster"]["server"], "https://172.30.0.10:6443");
        uninstall(&target, "dev").unwrap();
        let left: Value = serde_yaml::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
        assert_eq!(left["clusters"].as_sequence().unwrap().len(), 1);
        uninstall(&target, "other").unwrap();
        let mut alone = ours.clone();
        alone["current-context"] = Value::from("onebin-dev");
        install(&alone, &dir.path().join("solo"), false).unwrap();
        uninstall(&dir.path().join("solo"), "dev").unwrap();
        assert!(!dir.path().join("solo").exists());
    }
}
