//! `onebin exec [-i] [-t] CONTAINER -- COMMAND…`. Without a TTY the process gets this
//! command's own stdin/stdout/stderr (passed to the shim, no copying); with one, we relay
//! between our terminal (in raw mode) and the pty master, and pass on window size changes.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;

use anyhow::{Context, Result};
use clap::Args;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{self, SetArg};

use super::{exit_with, NodeArgs};
use crate::runtime::service::ExecOptions;

#[derive(Args, Debug)]
pub struct ExecArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Keep stdin open (pass it to the process).
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a TTY.
    #[arg(short, long)]
    tty: bool,
    /// Environment variables to add (NAME=value).
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Container ID (or unique prefix, or name).
    container: String,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn dup(fd: impl AsFd) -> Result<OwnedFd> {
    fd.as_fd().try_clone_to_owned().context("duplicating descriptor")
}

pub async fn run(args: ExecArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    let options = ExecOptions { args: args.command.clone(), env: args.env.clone(), cwd: None, tty: args.tty };
    let stdio = if args.tty {
        None
    } else {
        let stdin = if args.interactive { dup(std::io::stdin())? } else { File::open("/dev/null")?.into() };
        Some([stdin, dup(std::io::stdout())?, dup(std::io::stderr())?])
    };
    let handle = runtime.exec(&args.container, options, stdio).await?;
    let code = match handle.pty_master.as_ref().map(dup).transpose()? {
        Some(master) => {
            let interactive = args.interactive;
            tokio::task::spawn_blocking(move || relay_terminal(master, interactive)).await??;
            tokio::task::spawn_blocking(move || handle.wait()).await??
        }
        None => tokio::task::spawn_blocking(move || handle.wait()).await??,
    };
    exit_with(code)
}

/// Copies between our terminal and the pty master until the process side closes.
fn relay_terminal(master: OwnedFd, interactive: bool) -> Result<()> {
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(stdin.as_fd()).ok();
    if let Some(saved) = &saved {
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).context("setting raw mode")?;
        copy_window_size(&master);
        watch_window_size(dup(&master)?)?;
    }
    if interactive {
        let mut to_process = File::from(dup(&master)?);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut input = std::io::stdin().lock();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 || to_process.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
    let mut from_process = File::from(master);
    let mut out = std::io::stdout();
    let mut buf = [0u8; 4096];
    loop {
        match from_process.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.write_all(&buf[..n])?;
                out.flush()?;
            }
            // EIO: the last process holding the terminal is gone.
            Err(_) => break,
        }
    }
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &saved);
    }
    Ok(())
}

/// Gives the pty our terminal's size.
fn copy_window_size(master: &OwnedFd) {
    // SAFETY: winsize is plain data; the ioctls read and write the struct we pass.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDIN_FILENO, libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}

static RESIZE_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_resize(_: libc::c_int) {
    let fd = RESIZE_PIPE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe.
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
}

/// Resizes the pty whenever our terminal is resized (SIGWINCH, whichever thread gets it).
fn watch_window_size(master: OwnedFd) -> Result<()> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("creating pipe")?;
    RESIZE_PIPE.store(write.as_raw_fd(), Ordering::SeqCst);
    // The write end lives as long as the process: the handler may fire at any time.
    std::mem::forget(write);
    let action = SigAction::new(SigHandler::Handler(on_resize), SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: the handler only loads an atomic and calls write(2).
    unsafe { sigaction(Signal::SIGWINCH, &action) }.context("installing SIGWINCH handler")?;
    thread::spawn(move || {
        let mut pipe = File::from(read);
        let mut byte = [0u8; 1];
        while matches!(pipe.read(&mut byte), Ok(1)) {
            copy_window_size(&master);
        }
    });
    Ok(())
}
