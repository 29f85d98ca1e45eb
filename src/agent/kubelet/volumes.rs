//! Pod volumes on the host: emptyDir (disk or tmpfs), hostPath, configMap, secret,
//! downwardAPI and projected volumes (including the ServiceAccount token), each rendered
//! under `<agent dir>/pods/<uid>/volumes/<name>` and kept current while the pod runs.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, KeyToPath, Pod, Secret, ServiceAccount, Volume};
use kube::api::{Api, PostParams};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde_json::json;

use super::atomic_dir::{self, Payload, PayloadFile};
use super::env::{field_value, resource_value};

/// `0644`, the mode of rendered files unless the volume says otherwise.
const DEFAULT_MODE: i32 = 0o644;
/// A projected token is renewed once this fraction of its lifetime has passed.
const TOKEN_RENEW_FRACTION: f64 = 0.8;

/// Why a volume cannot be set up (reported as a FailedMount event).
#[derive(Debug, thiserror::Error)]
#[error("MountVolume.SetUp failed for volume \"{volume}\" : {message}")]
pub struct VolumeError {
    pub volume: String,
    pub message: String,
}

fn fail(volume: &Volume, message: impl Into<String>) -> VolumeError {
    VolumeError { volume: volume.name.clone(), message: message.into() }
}

pub struct VolumeManager {
    client: kube::Client,
    /// `<agent dir>/pods`
    root: PathBuf,
    /// Expiry (unix seconds) and issue time of each rendered token, by `uid/volume`.
    tokens: Mutex<HashMap<String, (i64, i64)>>,
}

impl VolumeManager {
    pub fn new(client: kube::Client, agent_dir: &Path) -> Self {
        Self { client, root: agent_dir.join("pods"), tokens: Mutex::default() }
    }

    pub fn pod_dir(&self, uid: &str) -> PathBuf {
        self.root.join(uid)
    }

    /// Sets up (or refreshes) every volume of `pod`; returns each volume's host path.
    pub async fn prepare(&self, pod: &Pod) -> Result<HashMap<String, PathBuf>, VolumeError> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let mut paths = HashMap::new();
        for volume in pod.spec.as_ref().and_then(|s| s.volumes.as_ref()).into_iter().flatten() {
            let path = self.prepare_one(pod, &uid, volume).await?;
            paths.insert(volume.name.clone(), path);
        }
        Ok(paths)
    }

    async fn prepare_one(&self, pod: &Pod, uid: &str, volume: &Volume) -> Result<PathBuf, VolumeError> {
        let dir = self.pod_dir(uid).join("volumes").join(&volume.name);
        let io = |e: std::io::Error| fail(volume, e.to_string());
        if let Some(host) = &volume.host_path {
            return host_path(volume, &host.path, host.type_.as_deref().unwrap_or_default());
        }
        if let Some(empty) = &volume.empty_dir {
            std::fs::create_dir_all(&dir).map_err(io)?;
            if empty.medium.as_deref() == Some("Memory") {
                let size = empty.size_limit.as_ref().and_then(|q| crate::agent::quantity::bytes(&q.0));
                ensure_tmpfs(&dir, size).map_err(|e| fail(volume, e.to_string()))?;
            }
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).map_err(io)?;
            return Ok(dir);
        }
        let payload = if let Some(cm) = &volume.config_map {
            let found = self.config_map(pod, &cm.name).await.map_err(|e| fail(volume, e))?;
            match found {
                Some(obj) => {
                    key_files(&config_map_data(&obj), cm.items.as_deref(), cm.default_mode.unwrap_or(DEFAULT_MODE))
                        .map_err(|e| fail(volume, e))?
                }
                None if cm.optional == Some(true) => Payload::new(),
                None => return Err(fail(volume, format!("configmap \"{}\" not found", cm.name))),
            }
        } else if let Some(secret) = &volume.secret {
            let name = secret.secret_name.clone().unwrap_or_default();
            std::fs::create_dir_all(&dir).map_err(io)?;
            ensure_tmpfs(&dir, None).map_err(|e| fail(volume, e.to_string()))?;
            match self.secret(pod, &name).await.map_err(|e| fail(volume, e))? {
                Some(obj) => {
                    key_files(&secret_data(&obj), secret.items.as_deref(), secret.default_mode.unwrap_or(DEFAULT_MODE))
                        .map_err(|e| fail(volume, e))?
                }
                None if secret.optional == Some(true) => Payload::new(),
                None => return Err(fail(volume, format!("secret \"{name}\" not found"))),
            }
        } else if let Some(downward) = &volume.downward_api {
            downward_files(
                pod,
                downward.items.as_deref().unwrap_or_default(),
                downward.default_mode.unwrap_or(DEFAULT_MODE),
            )
            .map_err(|e| fail(volume, e))?
        } else if let Some(projected) = &volume.projected {
            std::fs::create_dir_all(&dir).map_err(io)?;
            ensure_tmpfs(&dir, None).map_err(|e| fail(volume, e.to_string()))?;
            self.projected_files(pod, uid, volume, projected).await?
        } else if volume.persistent_volume_claim.is_some() {
            return Err(fail(volume, "persistentVolumeClaim volumes are not supported on this node yet"));
        } else {
            return Err(fail(volume, "this volume type is not supported by onebin"));
        };
        atomic_dir::write(&dir, &payload).map_err(|e| fail(volume, format!("{e:#}")))?;
        Ok(dir)
    }

    async fn projected_files(
        &self,
        pod: &Pod,
        uid: &str,
        volume: &Volume,
        projected: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
    ) -> Result<Payload, VolumeError> {
        let mode = projected.default_mode.unwrap_or(DEFAULT_MODE);
        let mut payload = Payload::new();
        for source in projected.sources.iter().flatten() {
            if let Some(cm) = &source.config_map {
                match self.config_map(pod, &cm.name).await.map_err(|e| fail(volume, e))? {
                    Some(obj) => payload.extend(
                        key_files(&config_map_data(&obj), cm.items.as_deref(), mode).map_err(|e| fail(volume, e))?,
                    ),
                    None if cm.optional == Some(true) => {}
                    None => return Err(fail(volume, format!("configmap \"{}\" not found", cm.name))),
                }
            }
            if let Some(secret) = &source.secret {
                match self.secret(pod, &secret.name).await.map_err(|e| fail(volume, e))? {
                    Some(obj) => payload.extend(
                        key_files(&secret_data(&obj), secret.items.as_deref(), mode).map_err(|e| fail(volume, e))?,
                    ),
                    None if secret.optional == Some(true) => {}
                    None => return Err(fail(volume, format!("secret \"{}\" not found", secret.name))),
                }
            }
            if let Some(downward) = &source.downward_api {
                payload.extend(
                    downward_files(pod, downward.items.as_deref().unwrap_or_default(), mode)
                        .map_err(|e| fail(volume, e))?,
                );
            }
            if let Some(token) = &source.service_account_token {
                let key = format!("{uid}/{}", volume.name);
                let existing = self.pod_dir(uid).join("volumes").join(&volume.name).join(&token.path);
                let seconds = token.expiration_seconds.unwrap_or(3600);
                let contents = match std::fs::read(&existing) {
                    Ok(old) if !self.token_due(&key) => old,
                    _ => {
                        let audience = token.audience.clone();
                        let (jwt, expires) =
                            self.request_token(pod, audience, seconds).await.map_err(|e| fail(volume, e))?;
                        self.tokens
                            .lock()
                            .expect("token lock")
                            .insert(key, (expires, jiff::Timestamp::now().as_second()));
                        jwt.into_bytes()
                    }
                };
                payload.insert(token.path.clone(), PayloadFile { contents, mode: mode as u32 });
            }
        }
        Ok(payload)
    }

    fn token_due(&self, key: &str) -> bool {
        match self.tokens.lock().expect("token lock").get(key) {
            None => true,
            Some((expires, issued)) => {
                let lifetime = (expires - issued).max(1) as f64;
                let now = jiff::Timestamp::now().as_second();
                (now - issued) as f64 >= lifetime * TOKEN_RENEW_FRACTION
            }
        }
    }

    async fn request_token(&self, pod: &Pod, audience: Option<String>, seconds: i64) -> Result<(String, i64), String> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let sa = pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_else(|| "default".into());
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &ns);
        let mut spec = json!({"expirationSeconds": seconds,
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod.metadata.name, "uid": pod.metadata.uid}});
        if let Some(aud) = audience {
            spec["audiences"] = json!([aud]);
        }
        let body = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec});
        let response: TokenRequest = api
            .create_subresource("token", &sa, &PostParams::default(), &body)
            .await
            .map_err(|e| format!("requesting a token for serviceaccount \"{sa}\": {e}"))?;
        let status = response.status.ok_or("the token request returned no token")?;
        Ok((status.token, status.expiration_timestamp.0.as_second()))
    }

    async fn config_map(&self, pod: &Pod, name: &str) -> Result<Option<ConfigMap>, String> {
        let api: Api<ConfigMap> =
            Api::namespaced(self.client.clone(), pod.metadata.namespace.as_deref().unwrap_or("default"));
        api.get_opt(name).await.map_err(|e| e.to_string())
    }

    async fn secret(&self, pod: &Pod, name: &str) -> Result<Option<Secret>, String> {
        let api: Api<Secret> =
            Api::namespaced(self.client.clone(), pod.metadata.namespace.as_deref().unwrap_or("default"));
        api.get_opt(name).await.map_err(|e| e.to_string())
    }

    /// Unmounts and removes everything the pod's volumes used on this node.
    pub fn cleanup(&self, uid: &str) -> std::io::Result<()> {
        let dir = self.pod_dir(uid);
        let volumes = dir.join("volumes");
        if let Ok(entries) = std::fs::read_dir(&volumes) {
            for entry in entries.flatten() {
                let _ = umount2(&entry.path(), MntFlags::MNT_DETACH);
            }
        }
        self.tokens.lock().expect("token lock").retain(|k, _| !k.starts_with(&format!("{uid}/")));
        match std::fs::remove_dir_all(&dir) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

fn config_map_data(cm: &ConfigMap) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> =
        cm.data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    data.extend(cm.binary_data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)));
    data
}

fn secret_data(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    secret.data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect()
}

/// The files of a configMap/secret source: every key, or just `items` (key → path, mode).
fn key_files(data: &BTreeMap<String, Vec<u8>>, items: Option<&[KeyToPath]>, mode: i32) -> Result<Payload, String> {
    let mut payload = Payload::new();
    match items {
        Some(items) if !items.is_empty() => {
            for item in items {
                let contents = data
                    .get(&item.key)
                    .ok_or_else(|| format!("configmap references non-existent config key: {}", item.key))?;
                payload.insert(
                    item.path.clone(),
                    PayloadFile { contents: contents.clone(), mode: item.mode.unwrap_or(mode) as u32 },
                );
            }
        }
        _ => {
            for (key, contents) in data {
                payload.insert(key.clone(), PayloadFile { contents: contents.clone(), mode: mode as u32 });
            }
        }
    }
    Ok(payload)
}

fn downward_files(
    pod: &Pod,
    items: &[k8s_openapi::api::core::v1::DownwardAPIVolumeFile],
    mode: i32,
) -> Result<Payload, String> {
    let mut payload = Payload::new();
    for item in items {
        let value = if let Some(field) = &item.field_ref {
            field_value(pod, &field.field_path)
                .ok_or_else(|| format!("unsupported fieldPath {:?}", field.field_path))?
        } else if let Some(resource) = &item.resource_field_ref {
            let containers = pod.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or_default();
            let name = resource.container_name.as_deref().unwrap_or_default();
            let container =
                containers.iter().find(|c| c.name == name).ok_or_else(|| format!("container {name:?} not found"))?;
            resource_value(container, &resource.resource, resource.divisor.as_ref().map(|d| d.0.as_str()))
                .map_err(|e| e.0)?
        } else {
            continue;
        };
        payload.insert(
            item.path.clone(),
            PayloadFile { contents: value.into_bytes(), mode: item.mode.unwrap_or(mode) as u32 },
        );
    }
    Ok(payload)
}

/// Checks (or creates) a hostPath of the given `type`.
fn host_path(volume: &Volume, path: &str, kind: &str) -> Result<PathBuf, VolumeError> {
    let p = PathBuf::from(path);
    let meta = std::fs::metadata(&p);
    let ok = match kind {
        "" => true,
        "DirectoryOrCreate" => {
            if meta.is_err() {
                std::fs::create_dir_all(&p).map_err(|e| fail(volume, e.to_string()))?;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| fail(volume, e.to_string()))?;
            }
            std::fs::metadata(&p).is_ok_and(|m| m.is_dir())
        }
        "FileOrCreate" => {
            if meta.is_err() {
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| fail(volume, e.to_string()))?;
                }
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .map_err(|e| fail(volume, e.to_string()))?;
            }
            std::fs::metadata(&p).is_ok_and(|m| m.is_file())
        }
        "Directory" => meta.as_ref().is_ok_and(|m| m.is_dir()),
        "File" => meta.as_ref().is_ok_and(|m| m.is_file()),
        "Socket" => meta.as_ref().is_ok_and(|m| m.file_type().is_socket()),
        "CharDevice" => meta.as_ref().is_ok_and(|m| m.file_type().is_char_device()),
        "BlockDevice" => meta.as_ref().is_ok_and(|m| m.file_type().is_block_device()),
        other => return Err(fail(volume, format!("unsupported hostPath type {other:?}"))),
    };
    if !ok {
        let what = kind.trim_end_matches("OrCreate").to_lowercase();
        return Err(fail(volume, format!("hostPath type check failed: {path} is not a {what}")));
    }
    Ok(p)
}

/// Mounts a tmpfs on `dir` unless one is there already.
fn ensure_tmpfs(dir: &Path, size: Option<u64>) -> anyhow::Result<()> {
    let mounted = std::fs::read_to_string("/proc/self/mountinfo")?
        .lines()
        .any(|l| l.split_whitespace().nth(4).is_some_and(|m| Path::new(m) == dir));
    if mounted {
        return Ok(());
    }
    let options = size.map(|s| format!("size={s},mode=0755")).unwrap_or_else(|| "mode=0755".into());
    mount(Some("tmpfs"), dir, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some(options.as_str()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_select_and_rename_keys() {
        let data: BTreeMap<String, Vec<u8>> =
            [("a".to_string(), b"1".to_vec()), ("b".to_string(), b"2".to_vec())].into();
        let all = key_files(&data, None, 0o644).unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b"]);
        let items: Vec<KeyToPath> =
            serde_json::from_value(json!([{"key": "b", "path": "dir/b.txt", "mode": 0o400}])).unwrap();
        let some = key_files(&data, Some(&items), 0o644).unwrap();
        assert_eq!(some["dir/b.txt"], PayloadFile { contents: b"2".to_vec(), mode: 0o400 });
        let missing: Vec<KeyToPath> = serde_json::from_value(json!([{"key": "zz", "path": "z"}])).unwrap();
        assert!(key_files(&data, Some(&missing), 0o644).is_err());
    }

    #[test]
    fn host_path_types_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let volume: Volume = serde_json::from_value(json!({"name": "h"})).unwrap();
        let made = dir.path().join("made");
        host_path(&volume, made.to_str().unwrap(), "DirectoryOrCreate").unwrap();
        assert!(made.is_dir());
        assert!(host_path(&volume, made.to_str().unwrap(), "File").unwrap_err().to_string().contains("is not a file"));
        let file = dir.path().join("f");
        host_path(&volume, file.to_str().unwrap(), "FileOrCreate").unwrap();
        assert!(file.is_file());
    }
}
