//! Unpacks one image layer (a tar, plain or gzip/zstd compressed) into its own directory,
//! in the form overlayfs reads as a lower dir: OCI whiteouts (`.wh.name`) become 0:0
//! character devices and opaque markers (`.wh..wh..opq`) the `trusted.overlay.opaque`
//! xattr.
//!
//! Layers come from registries and archives we do not trust. Entries with `..` or an
//! absolute path are refused outright, so a crafted layer fails loudly instead of being
//! silently reinterpreted; every remaining path is resolved with `openat2(RESOLVE_IN_ROOT)`
//! against the layer directory, so a symlink planted by an earlier entry cannot lead a
//! write outside it either. Device nodes are skipped: containers get theirs from the runtime.

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fchmod, mkdirat, mknodat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

use super::compression::decompressed;
use super::digest::{Digest, HashingReader};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What unpacking a layer found out about it.
#[derive(Debug)]
pub struct UnpackedLayer {
    pub diff_id: Digest,
    pub uncompressed_size: u64,
}

/// Unpacks the layer read from `blob` into the empty directory `target` and checks that the
/// uncompressed stream hashes to `expected_diff_id`, if given.
pub fn unpack_layer<'a>(
    blob: impl Read + 'a,
    target: &Path,
    expected_diff_id: Option<&Digest>,
) -> Result<UnpackedLayer> {
    let algorithm = expected_diff_id.map_or(super::digest::Algorithm::Sha256, |d| d.algorithm());
    let mut hashing = HashingReader::new(decompressed(blob).context("reading layer")?, algorithm);
    let root = open_dir(target)?;
    apply_tar(&mut hashing, &root).with_context(|| format!("unpacking layer into {}", target.display()))?;
    let (diff_id, uncompressed_size) = hashing.finish().context("reading the rest of the layer")?;
    if let Some(expected) = expected_diff_id {
        if &diff_id != expected {
            bail!("layer content does not match its diff ID: expected {expected}, got {diff_id}");
        }
    }
    Ok(UnpackedLayer { diff_id, uncompressed_size })
}

fn open_dir(path: &Path) -> Result<OwnedFd> {
    let fd = nix::fcntl::open(path, OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: `open` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A layer-relative path, checked: no `..`, leading `/` and `.` removed. Empty means the root.
fn clean_path(raw: &Path) -> Result<PathBuf> {
    let mut clean = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            // Layers list paths relative to the root; an absolute one is a crafted layer.
            Component::RootDir => bail!("entry {:?} is an absolute path", raw),
            Component::ParentDir => bail!("entry {:?} refers to a parent directory (`..`)", raw),
            Component::Prefix(_) => bail!("entry {:?} has a path prefix", raw),
        }
    }
    Ok(clean)
}

/// Opens `rel` (a directory) inside `root`, resolving every component as if `root` were `/`.
fn open_in_root(root: &OwnedFd, rel: &Path) -> nix::Result<OwnedFd> {
    let path: &Path = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
    let how = OpenHow::new()
        .flags(OFlag::O_DIRECTORY | OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = openat2(root.as_raw_fd(), path, how)?;
    // SAFETY: `openat2` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens directory `rel` inside `root`, creating missing components (mode 0755, like tar).
fn ensure_dir(root: &OwnedFd, rel: &Path) -> Result<OwnedFd> {
    match open_in_root(root, rel) {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) => {}
        Err(err) => return Err(err).with_context(|| format!("opening directory {}", rel.display())),
    }
    let parent = ensure_dir(root, rel.parent().unwrap_or(Path::new("")))?;
    let name = rel.file_name().context("directory without a name")?;
    match mkdirat(Some(parent.as_raw_fd()), name, Mode::from_bits_truncate(0o755)) {
        Ok(()) => open_in_root(root, rel).with_context(|| format!("opening directory {}", rel.display())),
        // Something that is not a directory is in the way: a symlink leading nowhere inside
        // the layer (e.g. to a host path), or a file.
        Err(Errno::EEXIST) => bail!(
            "{} is a symlink or file, not a directory inside the layer, but entries are placed beneath it",
            rel.display()
        ),
        Err(err) => Err(err).with_context(|| format!("creating directory {}", rel.display())),
    }
}

/// Splits a cleaned entry path into its parent directory (opened, created if missing) and name.
fn parent_and_name<'a>(root: &OwnedFd, path: &'a Path) -> Result<(OwnedFd, &'a OsStr)> {
    let name = path.file_name().context("entry without a name")?;
    let parent = ensure_dir(root, path.parent().unwrap_or(Path::new("")))?;
    Ok((parent, name))
}

/// Removes whatever is at `name` (a tar entry replaces an earlier one of the same name).
fn remove_existing(dir: &OwnedFd, name: &OsStr) -> Result<()> {
    match unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(Errno::EISDIR) => remove_tree_at(dir, name),
        Err(err) => Err(err).with_context(|| format!("removing {:?}", name)),
    }
}

/// `/proc/self/fd/<dir>/<name>`: a path that reaches `name` inside the already opened `dir`
/// without resolving any other component again.
fn fd_path(dir: &OwnedFd, name: &OsStr) -> PathBuf {
    Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

fn remove_tree_at(dir: &OwnedFd, name: &OsStr) -> Result<()> {
    // remove_dir_all does not follow symlinks inside the tree.
    std::fs::remove_dir_all(fd_path(dir, name)).with_context(|| format!("removing directory {:?}", name))
}

fn set_xattr(dir: &OwnedFd, name: &OsStr, key: &str, value: &[u8]) -> io::Result<()> {
    let path = CString::new(fd_path(dir, name).into_os_string().into_vec())?;
    let key = CString::new(key)?;
    // SAFETY: both strings are NUL-terminated and outlive the call; value is a valid slice.
    let rc = unsafe { libc::lsetxattr(path.as_ptr(), key.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn is_directory(dir: &OwnedFd, name: &OsStr) -> bool {
    nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// Extended attributes a layer may carry: file capabilities and user attributes. Anything
/// else (notably `trusted.overlay.*`) could change how overlayfs reads the layer.
fn xattr_allowed(key: &str) -> bool {
    key == "security.capability" || key.starts_with("user.")
}

struct Ownership {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: i64,
}

fn apply_tar(reader: &mut impl Read, root: &OwnedFd) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    // Directory times are set last: creating entries inside a directory changes its mtime.
    let mut dir_times: HashMap<PathBuf, i64> = HashMap::new();
    for entry in archive.entries().context("reading tar")? {
        let mut entry = entry.context("reading tar entry")?;
        let raw_path = entry.path().context("reading tar entry path")?.into_owned();
        let path = clean_path(&raw_path)?;
        let header = entry.header();
        let owner = Ownership {
            uid: header.uid().context("entry uid")? as u32,
            gid: header.gid().context("entry gid")? as u32,
            mode: header.mode().context("entry mode")? & 0o7777,
            mtime: header.mtime().unwrap_or(0) as i64,
        };
        let kind = header.entry_type();
        let xattrs = pax_xattrs(&mut entry)?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());

        if let Some(name) = &file_name {
            if name == OPAQUE_MARKER {
                let dir_path = path.parent().unwrap_or(Path::new(""));
                let (parent, dir_name) = match dir_path.file_name() {
                    Some(_) => parent_and_name(root, dir_path)?,
                    None => bail!("opaque marker at the layer root"),
                };
                ensure_dir(root, dir_path)?;
                set_xattr(&parent, dir_name, "trusted.overlay.opaque", b"y")
                    .with_context(|| format!("marking {} opaque", dir_path.display()))?;
                continue;
            }
            if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
                let (parent, _) = parent_and_name(root, &path)?;
                let hidden = OsStr::new(hidden);
                remove_existing(&parent, hidden)?;
                mknodat(Some(parent.as_raw_fd()), hidden, SFlag::S_IFCHR, Mode::empty(), 0)
                    .with_context(|| format!("creating whiteout for {}", path.with_file_name(hidden).display()))?;
                continue;
            }
        }

        if path.as_os_str().is_empty() {
            // The layer root itself (`./`): only its mode and owner matter.
            if kind.is_dir() {
                fchmod(root.as_raw_fd(), Mode::from_bits_truncate(owner.mode)).context("setting root mode")?;
                fchownat(
                    Some(root.as_raw_fd()),
                    ".",
                    Some(Uid::from_raw(owner.uid)),
                    Some(Gid::from_raw(owner.gid)),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .context("setting root owner")?;
            }
            continue;
        }

        let (parent, name) = parent_and_name(root, &path)?;
        let context = || format!("creating {}", path.display());
        match kind {
            tar::EntryType::Directory => {
                if !is_directory(&parent, name) {
                    remove_existing(&parent, name)?;
                    mkdirat(Some(parent.as_raw_fd()), name, Mode::from_bits_truncate(0o700)).with_context(context)?;
                }
                dir_times.insert(path.clone(), owner.mtime);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_existing(&parent, name)?;
                let how = OpenHow::new()
                    .flags(OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
                    .mode(Mode::from_bits_truncate(0o600))
                    .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
                let fd = openat2(parent.as_raw_fd(), name, how).with_context(context)?;
                // SAFETY: `openat2` just returned this descriptor and nothing else owns it.
                let mut file = unsafe { File::from_raw_fd(fd) };
                io::copy(&mut entry, &mut file).with_context(context)?;
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name().context("reading symlink target")?.context("symlink without target")?;
                remove_existing(&parent, name)?;
                symlinkat(target.as_ref(), Some(parent.as_raw_fd()), name).with_context(context)?;
            }
            tar::EntryType::Link => {
                let target =
                    entry.link_name().context("reading hard link target")?.context("hard link without target")?;
                let target = clean_path(&target)?;
                let target_name = target.file_name().context("hard link target without a name")?;
                let target_parent = open_in_root(root, target.parent().unwrap_or(Path::new("")))
                    .with_context(|| format!("hard link target {} is not in the layer", target.display()))?;
                remove_existing(&parent, name)?;
                linkat(Some(target_parent.as_raw_fd()), target_name, Some(parent.as_raw_fd()), name, AtFlags::empty())
                    .with_context(|| format!("linking {} to {}", path.display(), target.display()))?;
                // A hard link shares the inode (and so owner and mode) of its target.
                continue;
            }
            tar::EntryType::Fifo => {
                remove_existing(&parent, name)?;
                mknodat(Some(parent.as_raw_fd()), name, SFlag::S_IFIFO, Mode::from_bits_truncate(0o600), 0)
                    .with_context(context)?;
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                tracing::debug!(path = %path.display(), "skipping device node in layer");
                continue;
            }
            tar::EntryType::XGlobalHeader
            | tar::EntryType::XHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => continue,
            other => bail!("entry {} has unsupported type {:?}", path.display(), other),
        }
        apply_metadata(&parent, name, &owner, kind.is_symlink(), &xattrs)
            .with_context(|| format!("setting metadata of {}", path.display()))?;
    }
    for (path, mtime) in dir_times {
        let (parent, name) = parent_and_name(root, &path)?;
        set_mtime(&parent, name, mtime).with_context(|| format!("setting time of {}", path.display()))?;
    }
    Ok(())
}

fn pax_xattrs<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Vec<(String, Vec<u8>)>> {
    let mut xattrs = Vec::new();
    if let Some(extensions) = entry.pax_extensions().context("reading pax headers")? {
        for extension in extensions {
            let extension = extension.context("reading pax header")?;
            let Ok(key) = extension.key() else { continue };
            if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                if xattr_allowed(name) {
                    xattrs.push((name.to_string(), extension.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(xattrs)
}

fn apply_metadata(
    parent: &OwnedFd,
    name: &OsStr,
    owner: &Ownership,
    is_symlink: bool,
    xattrs: &[(String, Vec<u8>)],
) -> Result<()> {
    fchownat(
        Some(parent.as_raw_fd()),
        name,
        Some(Uid::from_raw(owner.uid)),
        Some(Gid::from_raw(owner.gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .context("chown")?;
    if !is_symlink {
        // After chown, which clears set-uid bits. Symlinks have no mode of their own.
        nix::sys::stat::fchmodat(
            Some(parent.as_raw_fd()),
            name,
            Mode::from_bits_truncate(owner.mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .context("chmod")?;
    }
    for (key, value) in xattrs {
        set_xattr(parent, name, key, value).with_context(|| format!("setting xattr {key}"))?;
    }
    set_mtime(parent, name, owner.mtime)
}

fn set_mtime(parent: &OwnedFd, name: &OsStr, mtime: i64) -> Result<()> {
    let time = TimeSpec::new(mtime, 0);
    utimensat(Some(parent.as_raw_fd()), name, &time, &time, UtimensatFlags::NoFollowSymlink).context("setting mtime")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    /// Appends an entry with exactly `name` (tar::Builder would refuse hostile names).
    fn entry(builder: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, link: Option<&str>, data: &[u8]) {
        let mut header = tar::Header::new_old();
        let raw = &mut header.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }

    fn layer(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        build(&mut builder);
        builder.into_inner().unwrap()
    }

    fn unpack(data: &[u8]) -> (tempfile::TempDir, Result<UnpackedLayer>) {
        let parent = tempfile::tempdir().unwrap();
        std::fs::create_dir(parent.path().join("layer")).unwrap();
        let result = unpack_layer(data, &parent.path().join("layer"), None);
        (parent, result)
    }

    /// Everything under `dir` except `layer/`: what a hostile layer must not have created.
    fn outside(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "layer")
            .collect()
    }

    #[test]
    fn unpacks_files_links_whiteouts_and_opaque_dirs() {
        let data = layer(|b| {
            entry(b, "./etc/", tar::EntryType::Directory, None, b"");
            entry(b, "etc/hostname", tar::EntryType::Regular, None, b"box\n");
            entry(b, "etc/alias", tar::EntryType::Link, Some("etc/hostname"), b"");
            entry(b, "etc/sym", tar::EntryType::Symlink, Some("/etc/hostname"), b"");
            entry(b, "var/lib/.wh..wh..opq", tar::EntryType::Regular, None, b"");
            entry(b, "usr/.wh.games", tar::EntryType::Regular, None, b"");
            entry(b, "dev/null", tar::EntryType::Char, None, b"");
        });
        let compressed = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut enc, &data).unwrap();
            enc.finish().unwrap()
        };
        let (dir, result) = unpack(&compressed);
        let unpacked = result.unwrap();
        assert_eq!(unpacked.diff_id, Digest::sha256_of(&data));
        let root = dir.path().join("layer");
        assert_eq!(std::fs::read(root.join("etc/hostname")).unwrap(), b"box\n");
        assert_eq!(
            std::fs::metadata(root.join("etc/alias")).unwrap().ino(),
            std::fs::metadata(root.join("etc/hostname")).unwrap().ino()
        );
        assert_eq!(std::fs::read_link(root.join("etc/sym")).unwrap(), Path::new("/etc/hostname"));
        let whiteout = std::fs::symlink_metadata(root.join("usr/games")).unwrap();
        assert!(whiteout.file_type().is_char_device() && whiteout.rdev() == 0);
        let mut opaque = [0u8; 4];
        let path = CString::new(root.join("var/lib").into_os_string().into_vec()).unwrap();
        // SAFETY: valid NUL-terminated strings and a buffer of the length passed.
        let n = unsafe {
            libc::lgetxattr(path.as_ptr(), c"trusted.overlay.opaque".as_ptr(), opaque.as_mut_ptr().cast(), 4)
        };
        assert_eq!(&opaque[..n as usize], b"y");
        assert!(!root.join("dev/null").exists(), "device nodes are skipped");
    }

    #[test]
    fn zstd_layers_unpack_and_diff_ids_are_checked() {
        let data = layer(|b| entry(b, "a", tar::EntryType::Regular, None, b"x"));
        let compressed = zstd::encode_all(&data[..], 1).unwrap();
        let parent = tempfile::tempdir().unwrap();
        let err = unpack_layer(&compressed[..], parent.path(), Some(&Digest::sha256_of(b"other"))).unwrap_err();
        assert!(format!("{err:#}").contains("does not match its diff ID"), "{err:#}");
        let ok = tempfile::tempdir().unwrap();
        unpack_layer(&compressed[..], ok.path(), Some(&Digest::sha256_of(&data))).unwrap();
        assert_eq!(std::fs::read(ok.path().join("a")).unwrap(), b"x");
    }

    #[test]
    fn parent_directory_entries_are_refused() {
        let data = layer(|b| entry(b, "../escaped", tar::EntryType::Regular, None, b"x"));
        let (dir, result) = unpack(&data);
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("parent directory"), "{err}");
        assert!(outside(dir.path()).is_empty());
        let data = layer(|b| entry(b, "a/../../escaped", tar::EntryType::Regular, None, b"x"));
        assert!(unpack(&data).1.is_err());
    }

    #[test]
    fn absolute_paths_are_refused() {
        let parent = tempfile::tempdir().unwrap();
        let victim = parent.path().join("victim");
        let data = layer(|b| entry(b, victim.to_str().unwrap(), tar::EntryType::Regular, None, b"x"));
        std::fs::create_dir(parent.path().join("layer")).unwrap();
        let err = format!("{:#}", unpack_layer(&data[..], &parent.path().join("layer"), None).unwrap_err());
        assert!(err.contains("absolute path"), "{err}");
        assert!(!victim.exists());
    }

    #[test]
    fn symlinks_cannot_lead_writes_outside() {
        let parent = tempfile::tempdir().unwrap();
        let outside_dir = parent.path().join("outside");
        std::fs::create_dir(&outside_dir).unwrap();
        let absolute = outside_dir.to_str().unwrap().to_string();
        for (target, through) in [(absolute.as_str(), "link/pwned"), ("../../outside", "link/pwned")] {
            let data = layer(|b| {
                entry(b, "link", tar::EntryType::Symlink, Some(target), b"");
                entry(b, through, tar::EntryType::Regular, None, b"x");
            });
            let layer_dir = tempfile::tempdir_in(parent.path()).unwrap();
            let err = format!("{:#}", unpack_layer(&data[..], layer_dir.path(), None).unwrap_err());
            assert!(err.contains("not a directory inside the layer"), "{err}");
            assert_eq!(std::fs::read_dir(&outside_dir).unwrap().count(), 0, "nothing written outside");
        }
    }

    #[test]
    fn symlinks_resolve_inside_the_layer() {
        let data = layer(|b| {
            entry(b, "real/", tar::EntryType::Directory, None, b"");
            entry(b, "alias", tar::EntryType::Symlink, Some("/real"), b"");
            entry(b, "alias/file", tar::EntryType::Regular, None, b"x");
            entry(b, "file", tar::EntryType::Symlink, Some("../outside/target"), b"");
            entry(b, "file", tar::EntryType::Regular, None, b"replaces the symlink");
        });
        let (dir, result) = unpack(&data);
        result.unwrap();
        assert_eq!(std::fs::read(dir.path().join("layer/real/file")).unwrap(), b"x");
        assert_eq!(std::fs::read(dir.path().join("layer/file")).unwrap(), b"replaces the symlink");
        assert!(outside(dir.path()).is_empty());
    }

    #[test]
    fn hard_links_cannot_reach_outside() {
        let parent = tempfile::tempdir().unwrap();
        let secret = parent.path().join("secret");
        std::fs::write(&secret, b"s").unwrap();
        let data = layer(|b| entry(b, "stolen", tar::EntryType::Link, Some(secret.to_str().unwrap()), b""));
        std::fs::create_dir(parent.path().join("layer")).unwrap();
        let err = unpack_layer(&data[..], &parent.path().join("layer"), None).unwrap_err();
        assert!(format!("{err:#}").contains("absolute path"), "{err:#}");
        assert_eq!(std::fs::metadata(&secret).unwrap().nlink(), 1);
    }

    #[test]
    fn truncated_layers_fail() {
        let data = layer(|b| entry(b, "big", tar::EntryType::Regular, None, &[7u8; 10_000]));
        assert!(unpack(&data[..3000]).1.is_err());
    }
}
