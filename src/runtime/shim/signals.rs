//! Signals for the shim's poll loop, through a self-pipe.
//!
//! Not signalfd: that needs the signals blocked, and a blocked mask is inherited by
//! everything the shim starts, containers included (libcontainer does not reset it). A
//! handler is reset to the default action by `execve`, so containers start with clean
//! signal dispositions. SIGPIPE gets a no-op handler for the same reason: the shim sees
//! EPIPE on a closed socket, while containers keep the default SIGPIPE behaviour that Rust's
//! own `SIG_IGN` would otherwise leak into them.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use anyhow::{Context, Result};
use nix::fcntl::OFlag;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
static TERMINATE: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // SAFETY: errno is thread-local; saving and restoring it keeps the interrupted code's.
    let saved = unsafe { *libc::__errno_location() };
    if signal == libc::SIGTERM || signal == libc::SIGINT {
        TERMINATE.store(1, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; a full pipe just drops the extra wakeup.
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

extern "C" fn ignore(_: libc::c_int) {}

/// The read end of the self-pipe: readable whenever a child exited or termination was asked.
pub struct Wakeup {
    read: OwnedFd,
    _write: OwnedFd,
}

impl Wakeup {
    pub fn install() -> Result<Wakeup> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).context("creating signal pipe")?;
        WAKE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        let wake = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
            SigSet::empty(),
        );
        let noop = SigAction::new(SigHandler::Handler(ignore), SaFlags::SA_RESTART, SigSet::empty());
        // SAFETY: the handlers only touch atomics, errno and write(2).
        unsafe {
            for signal in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT] {
                sigaction(signal, &wake).context("installing signal handler")?;
            }
            sigaction(Signal::SIGPIPE, &noop).context("installing SIGPIPE handler")?;
        }
        Ok(Wakeup { read, _write: write })
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.read
    }

    /// Empties the pipe; returns whether termination was requested.
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        while matches!(nix::unistd::read(self.read.as_raw_fd(), &mut buf), Ok(n) if n > 0) {}
        TERMINATE.load(Ordering::SeqCst) != 0
    }
}
