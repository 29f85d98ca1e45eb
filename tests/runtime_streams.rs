//! The streaming the kubelet builds `kubectl exec -it` and `kubectl attach` on, through the
//! runtime service: exec with caller-provided pipes, exec with a TTY (and resize), and
//! attach to a container's stdin/stdout.

mod runtime_common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use onebin::runtime::service::ExecOptions;
use onebin::runtime::shim::protocol::{read_frame, STREAM_STDOUT};
use onebin::runtime::types::{ContainerConfig, ContainerStatus, SandboxConfig};
use runtime_common::Node;

fn pipe() -> (OwnedFd, OwnedFd) {
    nix::unistd::pipe().unwrap()
}

#[test]
fn exec_and_attach_stream_through_the_runtime_service() {
    let node = Node::new();
    node.import_test_images();
    let runtime = node.runtime();
    let logs = tempfile::tempdir().unwrap();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    tokio.block_on(async {
        let pod = runtime
            .run_sandbox(SandboxConfig {
                name: "streams".into(),
                namespace: "default".into(),
                uid: "uid-streams".into(),
                hostname: "streams".into(),
                log_directory: logs.path().to_path_buf(),
                ..Default::default()
            })
            .await
            .unwrap();
        let sleeper = runtime
            .create_container(
                &pod.id,
                ContainerConfig {
                    name: "sleeper".into(),
                    image: "busybox".into(),
                    args: vec!["sleep".into(), "600".into()],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        runtime.start_container(&sleeper).await.unwrap();

        // Exec with our pipes: stdin in, stdout and stderr out, exit code back.
        let (stdin_read, stdin_write) = pipe();
        let (stdout_read, stdout_write) = pipe();
        let (stderr_read, stderr_write) = pipe();
        let options = ExecOptions {
            args: vec!["sh".into(), "-c".into(), "cat; echo done >&2; exit 7".into()],
            ..Default::default()
        };
        let handle = runtime.exec(&sleeper, options, Some([stdin_read, stdout_write, stderr_write])).await.unwrap();
        File::from(stdin_write).write_all(b"hello through a pipe\n").unwrap();
        let code = tokio::task::spawn_blocking(move || handle.wait()).await.unwrap().unwrap();
        assert_eq!(code, 7);
        let mut out = String::new();
        File::from(stdout_read).read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello through a pipe\n");
        let mut err = String::new();
        File::from(stderr_read).read_to_string(&mut err).unwrap();
        assert_eq!(err, "done\n");

        // Exec with a TTY: we get the pty master, set its size, talk through it.
        let options = ExecOptions {
            args: vec!["sh".into(), "-c".into(), "read go; stty size; tty".into()],
            tty: true,
            ..Default::default()
        };
        let handle = runtime.exec(&sleeper, options, None).await.unwrap();
        let master = handle.pty_master.as_ref().unwrap().try_clone().unwrap();
        let size = libc::winsize { ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads the winsize we pass.
        assert_eq!(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) }, 0);
        let mut terminal = File::from(master);
        terminal.write_all(b"go\n").unwrap();
        let output = tokio::task::spawn_blocking(move || {
            let mut output = Vec::new();
            let mut buf = [0u8; 1024];
            // Read until the pty closes (EIO once the process is gone).
            while let Ok(n) = terminal.read(&mut buf) {
                if n == 0 {
                    break;
                }
                output.extend_from_slice(&buf[..n]);
            }
            String::from_utf8_lossy(&output).into_owned()
        })
        .await
        .unwrap();
        assert!(output.contains("40 120"), "{output:?}");
        assert!(output.contains("/dev/pts/"), "{output:?}");
        let code = tokio::task::spawn_blocking(move || handle.wait()).await.unwrap().unwrap();
        assert_eq!(code, 0);

        // Attach to a container reading its stdin: what we write comes back as output
        // frames; closing our stdin (stdin_once) ends it.
        let echo = runtime
            .create_container(
                &pod.id,
                ContainerConfig {
                    name: "echo".into(),
                    image: "busybox".into(),
                    args: vec!["cat".into()],
                    stdin: true,
                    stdin_once: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        runtime.start_container(&echo).await.unwrap();
        let attached = runtime.attach(&echo).await.unwrap();
        let mut stdin = File::from(attached.stdin.unwrap());
        stdin.write_all(b"ping\n").unwrap();
        let mut output = attached.output;
        output.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let frame = tokio::task::spawn_blocking(move || read_frame(&mut output).unwrap().unwrap()).await.unwrap();
        assert_eq!(frame.stream, STREAM_STDOUT);
        assert_eq!(frame.data, b"ping\n");
        drop(stdin);
        let info = loop {
            let info = runtime.container_status(&echo).await.unwrap();
            if info.state.status == ContainerStatus::Exited {
                break info;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(info.state.exit_code, Some(0));
        let log = std::fs::read_to_string(&info.log_path).unwrap();
        assert!(log.lines().any(|l| l.ends_with(" stdout F ping")), "{log}");

        runtime.remove_sandbox(&pod.id).await.unwrap();
        assert!(runtime.list_containers().await.unwrap().is_empty());
    });
    assert_eq!(node.mounts(), Vec::<String>::new());
}

#[test]
fn stop_and_remove_are_idempotent_for_what_is_gone() {
    let node = Node::new();
    let runtime = node.runtime();
    let gone = "0".repeat(64);
    let tokio = tokio::runtime::Runtime::new().unwrap();
    tokio.block_on(async {
        runtime.stop_sandbox(&gone).await.unwrap();
        runtime.remove_sandbox(&gone).await.unwrap();
        runtime.stop_container(&gone, Duration::from_secs(1)).await.unwrap();
        runtime.remove_container(&gone).await.unwrap();
        let err = runtime.container_status(&gone).await.unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
    });
}
