//! Resolving an image's `User` (`name`, `uid`, `name:group`, `uid:gid`) to numeric IDs with
//! the container's own /etc/passwd and /etc/group, read without leaving its rootfs.

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Groups the user is a member of in /etc/group.
    pub additional_gids: Vec<u32>,
}

/// Reads `path` inside `rootfs` as if `rootfs` were `/` (symlinks cannot leave it).
fn read_in_root(rootfs: &Path, path: &str) -> Option<String> {
    let root = File::open(rootfs).ok()?;
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = openat2(std::os::fd::AsRawFd::as_raw_fd(&root), path, how).ok()?;
    // SAFETY: `openat2` just returned this descriptor and nothing else owns it.
    let file = unsafe { File::from_raw_fd(fd) };
    let mut text = String::new();
    file.take(4 * 1024 * 1024).read_to_string(&mut text).ok()?;
    Some(text)
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
}

fn passwd(rootfs: &Path) -> Vec<PasswdEntry> {
    read_in_root(rootfs, "etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: fields.first()?.to_string(),
                uid: fields.get(2)?.parse().ok()?,
                gid: fields.get(3)?.parse().ok()?,
            })
        })
        .collect()
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn groups(rootfs: &Path) -> Vec<GroupEntry> {
    read_in_root(rootfs, "etc/group")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some(GroupEntry {
                name: fields.first()?.to_string(),
                gid: fields.get(2)?.parse().ok()?,
                members: fields
                    .get(3)
                    .map(|m| m.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Resolves `spec` (an image's User, possibly empty) against the rootfs. A numeric user
/// missing from /etc/passwd is fine (gid 0, as Docker does); a missing name is an error.
pub fn resolve(rootfs: &Path, spec: &str) -> Result<ResolvedUser> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let users = passwd(rootfs);
    let (uid, name, mut gid) = if user.is_empty() {
        (0, Some("root".to_string()), 0)
    } else if let Ok(uid) = user.parse::<u32>() {
        let entry = users.iter().find(|e| e.uid == uid);
        (uid, entry.map(|e| e.name.clone()), entry.map_or(0, |e| e.gid))
    } else {
        let entry = users
            .iter()
            .find(|e| e.name == user)
            .with_context(|| format!("user {user:?} not found in the container's /etc/passwd"))?;
        (entry.uid, Some(entry.name.clone()), entry.gid)
    };
    let all_groups = groups(rootfs);
    if let Some(group) = group.filter(|g| !g.is_empty()) {
        gid = match group.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => match all_groups.iter().find(|g| g.name == group) {
                Some(g) => g.gid,
                None => bail!("group {group:?} not found in the container's /etc/group"),
            },
        };
    }
    let additional_gids = match &name {
        Some(name) => all_groups.iter().filter(|g| g.members.contains(name) && g.gid != gid).map(|g| g.gid).collect(),
        None => Vec::new(),
    };
    Ok(ResolvedUser { uid, gid, additional_gids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_numbers() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n",
        )
        .unwrap();
        std::fs::write(root.path().join("etc/group"), "root:x:0:\nwww-data:x:33:\nadm:x:4:www-data\n").unwrap();
        let r = |s: &str| resolve(root.path(), s);
        assert_eq!(r("").unwrap(), ResolvedUser { uid: 0, gid: 0, additional_gids: vec![] });
        assert_eq!(r("www-data").unwrap(), ResolvedUser { uid: 33, gid: 33, additional_gids: vec![4] });
        assert_eq!(r("33:adm").unwrap(), ResolvedUser { uid: 33, gid: 4, additional_gids: vec![] });
        assert_eq!(r("1000").unwrap(), ResolvedUser { uid: 1000, gid: 0, additional_gids: vec![] });
        assert_eq!(r("1000:1000").unwrap().gid, 1000);
        assert!(r("nobody").is_err());
        assert!(r("root:nogroup").is_err());
    }

    #[test]
    fn symlinks_do_not_leave_the_rootfs() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("etc/passwd")).unwrap();
        // /etc/passwd inside the rootfs is the symlink itself, which points at itself there.
        assert!(resolve(root.path(), "root").is_err());
    }
}
