//! Unix socket paths may be at most 107 bytes, which a sandbox's run dir with its 64-character
//! ID can exceed under a long `--run-dir`. Longer paths are reached through an open handle
//! on their directory (`/proc/self/fd/<n>/<name>`), which is always short.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// Longest path we pass to bind/connect directly (sun_path holds 108 bytes with the NUL).
const MAX_DIRECT: usize = 100;

/// Runs `f` with a path for `path` that fits in a socket address.
fn with_short_path<T>(path: &Path, f: impl FnOnce(&Path) -> io::Result<T>) -> io::Result<T> {
    if path.as_os_str().len() <= MAX_DIRECT {
        return f(path);
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return f(path);
    };
    let handle = File::open(dir)?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", handle.as_raw_fd())).join(name);
    f(&short)
}

pub fn bind(path: &Path) -> io::Result<UnixListener> {
    with_short_path(path, |p| UnixListener::bind(p))
}

pub fn connect(path: &Path) -> io::Result<UnixStream> {
    with_short_path(path, |p| UnixStream::connect(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_work() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("d".repeat(60)).join("e".repeat(60));
        std::fs::create_dir_all(&deep).unwrap();
        let path = deep.join("test.sock");
        assert!(path.as_os_str().len() > 108);
        let listener = bind(&path).unwrap();
        let _client = connect(&path).unwrap();
        listener.accept().unwrap();
        assert!(path.exists());
    }
}
