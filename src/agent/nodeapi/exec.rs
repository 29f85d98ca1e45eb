//! `exec` and `attach` sessions: a process in a container (or the container's own stdio)
//! wired to a channel session. Without a TTY the runtime gives the process pipes we read and
//! write; with one, we talk through the pty master and resize it as the client asks.
//! The session ends with the Status the client turns into its exit code.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::channels::{Input, Output, Session, STDERR, STDOUT};
use super::fdio::FdStream;
use super::logs::query_bool;
use crate::runtime::service::{ExecOptions, RuntimeService};
use crate::runtime::shim::protocol::{read_frame, STREAM_STDERR};
use crate::server::api_error::ApiError;

/// After the process exits, how long its output may still take to drain (a background child
/// can hold the pipes open for good).
const DRAIN: Duration = Duration::from_secs(2);

/// Which streams the client wants, from the query (`stdin`, `stdout`, `stderr`, `tty`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamOptions {
    /// The options and, for exec, the command (`command`, repeated).
    pub fn from_query(query: Option<&str>) -> Result<(StreamOptions, Vec<String>), ApiError> {
        let mut options = StreamOptions::default();
        let mut command = Vec::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "stdin" => options.stdin = query_bool(&value)?,
                "stdout" => options.stdout = query_bool(&value)?,
                "stderr" => options.stderr = query_bool(&value)?,
                "tty" => options.tty = query_bool(&value)?,
                "command" => command.push(value.into_owned()),
                _ => {}
            }
        }
        // A terminal has one output stream.
        if options.tty {
            options.stderr = false;
        }
        if !options.stdin && !options.stdout && !options.stderr {
            return Err(ApiError::bad_request("you must specify at least 1 of stdin, stdout, stderr"));
        }
        Ok((options, command))
    }
}

/// Runs `command` in the container and reports its exit on the session.
pub async fn exec(
    runtime: RuntimeService,
    container_id: String,
    command: Vec<String>,
    options: StreamOptions,
    session: Session,
) {
    let (output, input, finish) = session.split();
    let status = match run_process(&runtime, &container_id, command, options, output, input).await {
        Ok(Some(code)) => exit_status(code),
        Ok(None) => return finish.abandon(),
        Err(err) => failure_status(&format!("error executing command in container: {err:#}")),
    };
    finish.finish(&status).await;
}

/// The exit code, or `None` when the client went away first.
async fn run_process(
    runtime: &RuntimeService,
    container_id: &str,
    command: Vec<String>,
    options: StreamOptions,
    output: Output,
    input: mpsc::Receiver<Input>,
) -> Result<Option<i32>> {
    let exec_options = ExecOptions { args: command, env: Vec::new(), cwd: None, tty: options.tty };
    if options.tty {
        let mut handle = runtime.exec(container_id, exec_options, None).await?;
        let master = handle.pty_master.take().context("the runtime gave no terminal")?;
        let terminal = Arc::new(FdStream::new(master)?);
        let pump = tokio::spawn(pump(terminal.clone(), output, STDOUT));
        let exit = tokio::task::spawn_blocking(move || handle.wait());
        let stdin = options.stdin.then(|| terminal.clone());
        return finish_process(exit, vec![pump], forward_input(input, stdin, Some(terminal))).await;
    }
    let (stdin, stdin_writer) = if options.stdin { pipe()? } else { (dev_null()?, None) };
    let (stdout_reader, stdout) = output_pipe(options.stdout)?;
    let (stderr_reader, stderr) = output_pipe(options.stderr)?;
    let handle = runtime.exec(container_id, exec_options, Some([stdin, stdout, stderr])).await?;
    let mut pumps = Vec::new();
    for (reader, channel) in [(stdout_reader, STDOUT), (stderr_reader, STDERR)] {
        if let Some(reader) = reader {
            pumps.push(tokio::spawn(pump(Arc::new(FdStream::new(reader)?), output.clone(), channel)));
        }
    }
    let stdin_writer = stdin_writer.map(FdStream::new).transpose()?.map(Arc::new);
    let exit = tokio::task::spawn_blocking(move || handle.wait());
    finish_process(exit, pumps, forward_input(input, stdin_writer, None)).await
}

/// Waits for the exit (or the client leaving), then for the output to drain.
async fn finish_process(
    exit: tokio::task::JoinHandle<Result<i32>>,
    pumps: Vec<tokio::task::JoinHandle<()>>,
    input: impl std::future::Future<Output = ()>,
) -> Result<Option<i32>> {
    let code = tokio::select! {
        code = exit => code.context("waiting for the process")??,
        () = input => return Ok(None),
    };
    let _ = tokio::time::timeout(DRAIN, futures::future::join_all(pumps)).await;
    Ok(Some(code))
}

/// Attaches the session to the container's own stdio until the container exits.
pub async fn attach(runtime: RuntimeService, container_id: String, options: StreamOptions, session: Session) {
    let (output, input, finish) = session.split();
    let status = match relay_container(&runtime, &container_id, options, output, input).await {
        Ok(true) => json!({"metadata": {}, "status": "Success"}),
        Ok(false) => return finish.abandon(),
        Err(err) => failure_status(&format!("error attaching to container: {err:#}")),
    };
    finish.finish(&status).await;
}

/// True once the container's output ended, false when the client went away first.
async fn relay_container(
    runtime: &RuntimeService,
    container_id: &str,
    options: StreamOptions,
    output: Output,
    input: mpsc::Receiver<Input>,
) -> Result<bool> {
    let handle = runtime.attach(container_id).await?;
    let stdin = handle.stdin.map(FdStream::new).transpose()?.map(Arc::new);
    let mut frames = handle.output;
    let hang_up = frames.try_clone()?;
    let (tx, mut rx) = mpsc::channel(16);
    // The shim's frames come over a blocking socket.
    let reader = tokio::task::spawn_blocking(move || {
        while let Ok(Some(frame)) = read_frame(&mut frames) {
            if tx.blocking_send(frame).is_err() {
                break;
            }
        }
    });
    let relay = async {
        while let Some(frame) = rx.recv().await {
            let channel = if frame.stream == STREAM_STDERR && !options.tty { STDERR } else { STDOUT };
            let wanted = if channel == STDERR { options.stderr } else { options.stdout };
            if wanted && !output.send(channel, &frame.data).await {
                break;
            }
        }
    };
    let ended = tokio::select! {
        () = relay => true,
        () = forward_input(input, stdin.clone().filter(|_| options.stdin), stdin.filter(|_| options.tty)) => false,
    };
    let _ = hang_up.shutdown(std::net::Shutdown::Both);
    let _ = reader.await;
    Ok(ended)
}

/// Copies `source` to the client on `channel` until it ends.
async fn pump(source: Arc<FdStream>, output: Output, channel: u8) {
    let mut buf = vec![0u8; 32 * 1024];
    while let Ok(n) = source.read(&mut buf).await {
        if n == 0 || !output.send(channel, &buf[..n]).await {
            break;
        }
    }
}

/// Feeds the client's stdin to `stdin` (dropped when the client ends its input, which is
/// end of file for a pipe) and its window sizes to `terminal`. Resolves when the client is
/// gone.
async fn forward_input(
    mut input: mpsc::Receiver<Input>,
    mut stdin: Option<Arc<FdStream>>,
    terminal: Option<Arc<FdStream>>,
) {
    while let Some(event) = input.recv().await {
        match event {
            Input::Stdin(data) => {
                if let Some(writer) = &stdin {
                    if writer.write_all(&data).await.is_err() {
                        stdin = None;
                    }
                }
            }
            Input::StdinClosed => stdin = None,
            Input::Resize { width, height } => {
                if let Some(terminal) = &terminal {
                    let _ = terminal.resize(width, height);
                }
            }
        }
    }
}

fn pipe() -> Result<(OwnedFd, Option<OwnedFd>)> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("creating a pipe")?;
    Ok((read, Some(write)))
}

fn dev_null() -> Result<OwnedFd> {
    Ok(File::options().read(true).write(true).open("/dev/null").context("opening /dev/null")?.into())
}

/// (our reading end, the process's writing end) — /dev/null when the stream is not wanted.
fn output_pipe(wanted: bool) -> Result<(Option<OwnedFd>, OwnedFd)> {
    if !wanted {
        return Ok((None, dev_null()?));
    }
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("creating a pipe")?;
    Ok((Some(read), write))
}

/// The Status ending an exec: success, or the exit code as kubectl reads it.
pub fn exit_status(code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: exit status {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

fn failure_status(message: &str) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("Internal error occurred: {message}"),
        "reason": "InternalError",
        "code": 500,
        "details": {"causes": [{"message": message}]},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_options() {
        let (options, command) = StreamOptions::from_query(Some(
            "command=sh&command=-c&command=exit+3&stdin=true&stdout=1&stderr=true&tty=true",
        ))
        .unwrap();
        assert_eq!(options, StreamOptions { stdin: true, stdout: true, stderr: false, tty: true });
        assert_eq!(command, ["sh", "-c", "exit 3"]);
        assert!(StreamOptions::from_query(Some("command=ls")).is_err());
        assert!(StreamOptions::from_query(Some("stdout=yes")).is_err());
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(exit_status(0)["status"], "Success");
        let failed = exit_status(137);
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(failed["details"]["causes"][0], json!({"reason": "ExitCode", "message": "137"}));
    }
}
