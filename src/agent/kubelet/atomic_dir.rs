//! Files published into a volume directory all at once, the way Kubernetes' atomic writer
//! does it: the payload goes into a fresh hidden directory, a `..data` symlink is switched
//! to it in one rename, and each visible name is a symlink through `..data`. A reader never
//! sees half of an update, and updates reach running containers.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

use anyhow::{bail, Context, Result};

const DATA_LINK: &str = "..data";

/// One file of a payload: its contents and mode.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadFile {
    pub contents: Vec<u8>,
    pub mode: u32,
}

/// Relative paths (`key`, `dir/key`) to files.
pub type Payload = BTreeMap<String, PayloadFile>;

/// Makes `dir` hold exactly `payload`; does nothing if it already does.
pub fn write(dir: &Path, payload: &Payload) -> Result<()> {
    for path in payload.keys() {
        check_relative(path)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if current(dir)? == *payload {
        return Ok(());
    }
    let version = format!("..{}_{:08x}", jiff::Timestamp::now().as_nanosecond(), rand::random::<u32>());
    let staged = dir.join(&version);
    std::fs::create_dir(&staged)?;
    for (path, file) in payload {
        let target = staged.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &file.contents)?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(file.mode & 0o7777))?;
    }
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755))?;
    let tmp_link = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp_link);
    std::os::unix::fs::symlink(&version, &tmp_link)?;
    let old_version = std::fs::read_link(dir.join(DATA_LINK)).ok();
    std::fs::rename(&tmp_link, dir.join(DATA_LINK))?;
    let visible: std::collections::BTreeSet<&str> = payload.keys().map(|p| p.split('/').next().unwrap_or(p)).collect();
    for name in &visible {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(Path::new(DATA_LINK).join(name), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") {
            continue;
        }
        if !visible.contains(name.as_str()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if let Some(old) = old_version {
        if old != Path::new(&version) {
            let _ = std::fs::remove_dir_all(dir.join(old));
        }
    }
    Ok(())
}

/// The payload `dir` holds now (empty if it holds none).
fn current(dir: &Path) -> Result<Payload> {
    let mut payload = Payload::new();
    let Ok(target) = std::fs::read_link(dir.join(DATA_LINK)) else { return Ok(payload) };
    let root = dir.join(target);
    collect(&root, &root, &mut payload)?;
    Ok(payload)
}

fn collect(root: &Path, dir: &Path, payload: &mut Payload) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            collect(root, &entry.path(), payload)?;
        } else {
            let rel = entry.path().strip_prefix(root).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            payload.insert(
                rel,
                PayloadFile { contents: std::fs::read(entry.path())?, mode: meta.permissions().mode() & 0o7777 },
            );
        }
    }
    Ok(())
}

/// Payload paths must stay inside the volume and not collide with the `..` names.
fn check_relative(path: &str) -> Result<()> {
    let p = Path::new(path);
    if path.is_empty() || p.is_absolute() || path.starts_with("..") {
        bail!("invalid volume file path {path:?}");
    }
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        bail!("invalid volume file path {path:?}: it must not contain '..'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PayloadFile {
        PayloadFile { contents: text.as_bytes().to_vec(), mode: 0o644 }
    }

    #[test]
    fn updates_swap_the_whole_payload() {
        let dir = tempfile::tempdir().unwrap();
        let mut payload = Payload::new();
        payload.insert("a".into(), file("1"));
        payload.insert("sub/b".into(), file("2"));
        write(dir.path(), &payload).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(dir.path().join("sub/b")).unwrap(), "2");
        let before = std::fs::read_link(dir.path().join("..data")).unwrap();
        write(dir.path(), &payload).unwrap();
        assert_eq!(
            std::fs::read_link(dir.path().join("..data")).unwrap(),
            before,
            "unchanged payload is not rewritten"
        );
        payload.remove("sub/b");
        payload.insert("a".into(), file("3"));
        write(dir.path(), &payload).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "3");
        assert!(!dir.path().join("sub").exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "only ..data, its target and a remain: {:?}",
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn escaping_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "/etc/passwd", "a/../../x", "..data"] {
            let mut payload = Payload::new();
            payload.insert(bad.into(), file("x"));
            assert!(write(dir.path(), &payload).is_err(), "{bad}");
        }
    }
}
