//! Turning a pod's container spec into the runtime's container config: command and args
//! with `$(VAR)` expansion, environment, volume mounts (with subPath), resource limits and
//! the security context.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Container, Pod};

use super::env::expand;
use crate::agent::quantity;
use crate::runtime::types::{ContainerConfig, Mount, Resources, SecurityContext};

/// Labels that tie runtime objects to their pod and container, so a restarted agent finds
/// them again.
pub const POD_UID_LABEL: &str = "io.kubernetes.pod.uid";
pub const POD_NAME_LABEL: &str = "io.kubernetes.pod.name";
pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
pub const CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";

/// OOM score adjustments by QoS class, as the kubelet sets them.
fn oom_score_adj(qos: &str, memory_request: Option<u64>) -> i32 {
    match qos {
        "Guaranteed" => -997,
        "BestEffort" => 1000,
        _ => {
            let total = crate::host::memory_bytes().max(1);
            let request = memory_request.unwrap_or(0);
            (1000 - (1000 * request / total) as i32).clamp(2, 999)
        }
    }
}

/// Why a container cannot be configured (`CreateContainerConfigError`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

pub struct ConfigInputs<'a> {
    pub pod: &'a Pod,
    pub container: &'a Container,
    pub attempt: u32,
    pub env: Vec<(String, String)>,
    /// Host paths of the pod's volumes, by volume name.
    pub volumes: &'a HashMap<String, PathBuf>,
    pub log_path: PathBuf,
}

pub fn container_config(inputs: ConfigInputs<'_>) -> Result<ContainerConfig, ConfigError> {
    let ConfigInputs { pod, container, attempt, env, volumes, log_path } = inputs;
    let meta = &pod.metadata;
    let mut mounts = Vec::new();
    for m in container.volume_mounts.iter().flatten() {
        let base = volumes.get(&m.name).ok_or_else(|| ConfigError(format!("volume {:?} is not prepared", m.name)))?;
        let sub =
            m.sub_path_expr.as_deref().map(|e| expand(e, &env)).or_else(|| m.sub_path.clone()).unwrap_or_default();
        let host_path = if sub.is_empty() {
            base.clone()
        } else {
            let sub_path = std::path::Path::new(&sub);
            if sub_path.is_absolute() || sub_path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                return Err(ConfigError(format!("subPath {sub:?} must be a relative path without '..'")));
            }
            let joined = base.join(sub_path);
            if !joined.exists() {
                std::fs::create_dir_all(&joined).map_err(|e| ConfigError(format!("creating subPath {sub:?}: {e}")))?;
            }
            joined
        };
        mounts.push(Mount { host_path, container_path: m.mount_path.clone(), readonly: m.read_only.unwrap_or(false) });
    }
    let resources = container.resources.as_ref();
    let limit = |name: &str| resources.and_then(|r| r.limits.as_ref()).and_then(|l| l.get(name)).map(|q| q.0.clone());
    let request = |name: &str| {
        resources
            .and_then(|r| r.requests.as_ref())
            .and_then(|l| l.get(name))
            .map(|q| q.0.clone())
            .or_else(|| limit(name))
    };
    let qos = pod.status.as_ref().and_then(|s| s.qos_class.clone()).unwrap_or_else(|| "BestEffort".into());
    let memory_request = request("memory").and_then(|q| quantity::bytes(&q));
    let resources = Resources {
        cpu_limit_millis: limit("cpu").and_then(|q| quantity::cpu_millis(&q)),
        cpu_request_millis: request("cpu").and_then(|q| quantity::cpu_millis(&q)),
        memory_limit_bytes: limit("memory").and_then(|q| quantity::bytes(&q)).map(|b| b as i64),
        pids_limit: None,
        oom_score_adj: Some(oom_score_adj(&qos, memory_request)),
    };
    let security = security(pod, container);
    let labels: BTreeMap<String, String> = [
        (POD_UID_LABEL, meta.uid.clone().unwrap_or_default()),
        (POD_NAME_LABEL, meta.name.clone().unwrap_or_default()),
        (POD_NAMESPACE_LABEL, meta.namespace.clone().unwrap_or_default()),
        (CONTAINER_NAME_LABEL, container.name.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(ContainerConfig {
        name: container.name.clone(),
        attempt,
        image: container.image.clone().unwrap_or_default(),
        command: container.command.iter().flatten().map(|c| expand(c, &env)).collect(),
        args: container.args.iter().flatten().map(|a| expand(a, &env)).collect(),
        env,
        working_dir: container.working_dir.clone().filter(|w| !w.is_empty()),
        mounts,
        resources,
        security,
        tty: container.tty.unwrap_or(false),
        stdin: container.stdin.unwrap_or(false),
        stdin_once: container.stdin_once.unwrap_or(false),
        log_path: Some(log_path),
        labels,
        annotations: BTreeMap::new(),
    })
}

/// The container's security context over the pod's.
fn security(pod: &Pod, container: &Container) -> SecurityContext {
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc = container.security_context.as_ref();
    let caps = sc.and_then(|s| s.capabilities.as_ref());
    SecurityContext {
        privileged: sc.and_then(|s| s.privileged).unwrap_or(false),
        capabilities_add: caps.and_then(|c| c.add.clone()).unwrap_or_default(),
        capabilities_drop: caps.and_then(|c| c.drop.clone()).unwrap_or_default(),
        readonly_rootfs: sc.and_then(|s| s.read_only_root_filesystem).unwrap_or(false),
        run_as_user: sc
            .and_then(|s| s.run_as_user)
            .or_else(|| pod_sc.and_then(|p| p.run_as_user))
            .and_then(|u| u32::try_from(u).ok()),
        run_as_group: sc
            .and_then(|s| s.run_as_group)
            .or_else(|| pod_sc.and_then(|p| p.run_as_group))
            .and_then(|g| u32::try_from(g).ok()),
        supplemental_groups: pod_sc
            .and_then(|p| p.supplemental_groups.clone())
            .unwrap_or_default()
            .into_iter()
            .chain(pod_sc.and_then(|p| p.fs_group))
            .filter_map(|g| u32::try_from(g).ok())
            .collect(),
        no_new_privileges: sc.and_then(|s| s.allow_privilege_escalation) == Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_becomes_runtime_config() {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"securityContext": {"runAsUser": 1000, "fsGroup": 2000}, "containers": [{
                "name": "c", "image": "busybox", "command": ["sh", "-c"], "args": ["echo $(GREETING)"],
                "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "sub", "readOnly": true}],
                "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}},
                "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "allowPrivilegeEscalation": false}}]},
            "status": {"qosClass": "Guaranteed"}}))
        .unwrap();
        let container = pod.spec.as_ref().unwrap().containers[0].clone();
        let dir = tempfile::tempdir().unwrap();
        let volumes: HashMap<String, PathBuf> = [("data".to_string(), dir.path().to_path_buf())].into();
        let config = container_config(ConfigInputs {
            pod: &pod,
            container: &container,
            attempt: 2,
            env: vec![("GREETING".into(), "hi".into())],
            volumes: &volumes,
            log_path: dir.path().join("c.log"),
        })
        .unwrap();
        assert_eq!(config.args, ["echo hi"]);
        assert_eq!(config.mounts[0].host_path, dir.path().join("sub"));
        assert!(config.mounts[0].readonly);
        assert_eq!(config.resources.cpu_limit_millis, Some(500));
        assert_eq!(config.resources.memory_limit_bytes, Some(64 * 1024 * 1024));
        assert_eq!(config.resources.oom_score_adj, Some(-997));
        assert_eq!(config.security.run_as_user, Some(1000));
        assert_eq!(config.security.supplemental_groups, [2000]);
        assert!(config.security.no_new_privileges);
        assert_eq!(config.labels[POD_UID_LABEL], "u1");
        let escaping: Container = serde_json::from_value(
            json!({"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/d", "subPath": "../x"}]}),
        )
        .unwrap();
        assert!(container_config(ConfigInputs {
            pod: &pod,
            container: &escaping,
            attempt: 0,
            env: vec![],
            volumes: &volumes,
            log_path: dir.path().join("l")
        })
        .is_err());
    }
}
