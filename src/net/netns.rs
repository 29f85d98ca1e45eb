//! Network namespaces: a handle on one, and running work inside it.
//!
//! setns(2) moves a single thread, and a netlink socket (like a /proc/sys/net file) belongs to
//! the namespace of the thread that opened it. So work that must happen inside a namespace runs
//! on a short-lived thread that enters it; tokio workers never change namespace, and sockets
//! opened that way keep talking to their namespace from any thread afterwards.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use nix::sched::{setns, CloneFlags};
use nix::sys::statfs::{fstatfs, NSFS_MAGIC};

/// An open network namespace (a `/proc/<pid>/ns/net` file or a bind mount of one).
#[derive(Debug)]
pub struct NetNs {
    file: File,
    path: PathBuf,
}

impl NetNs {
    /// Opens the namespace at `path`, failing clearly if it is missing or not a namespace.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("opening network namespace {}", path.display()))?;
        let fs = fstatfs(&file).with_context(|| format!("inspecting {}", path.display()))?;
        if fs.filesystem_type() != NSFS_MAGIC {
            bail!("{} is not a network namespace", path.display());
        }
        Ok(Self { file, path: path.to_path_buf() })
    }

    /// The namespace of the calling thread.
    pub fn current() -> Result<Self> {
        Self::open(Path::new("/proc/thread-self/ns/net"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on a new thread that has entered this namespace, and returns its result.
    ///
    /// The thread enters the caller's tokio runtime (when there is one), so `work` may create
    /// tokio-registered sockets that are then used from the async side.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce() -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let file = self.file.try_clone().context("duplicating a network namespace handle")?;
        let path = self.path.clone();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("netns".to_string())
            .spawn(move || {
                let _runtime = runtime.as_ref().map(|runtime| runtime.enter());
                let outcome = setns(&file, CloneFlags::CLONE_NEWNET)
                    .with_context(|| format!("entering network namespace {}", path.display()))
                    .and_then(|()| work());
                // The receiver is gone only when the caller stopped waiting; nothing to report to.
                let _ = done.send(outcome);
            })
            .context("starting a thread to work in a network namespace")?;
        result.await.map_err(|_| anyhow!("the thread working in network namespace {} panicked", self.path.display()))?
    }

    /// Opens an rtnetlink connection inside this namespace; its driver runs on the current
    /// runtime and stops when the returned handle (and its clones) are dropped.
    pub async fn route_handle(&self) -> Result<rtnetlink::Handle> {
        let (connection, handle, _) =
            self.run(|| rtnetlink::new_connection().context("opening a netlink route socket")).await?;
        tokio::spawn(connection);
        Ok(handle)
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
