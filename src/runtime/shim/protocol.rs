//! The shim's unix-socket protocol.
//!
//! Every message is a 4-byte big-endian length and a JSON body. File descriptors travel
//! with a message as `SCM_RIGHTS` ancillary data on its first byte. That is how exec and
//! attach stream without the shim copying bytes: for a non-TTY exec the client sends the
//! process's stdin, stdout and stderr (its own terminal, pipes, or socket pairs the kubelet
//! serves a stream from); for a TTY exec the shim sends back the pty master, which the
//! client reads and writes and resizes with `TIOCSWINSZ`. When the exec'd process ends,
//! the shim sends [`Response::Exited`] on the same connection.
//!
//! Attach gets the container's stdin writer (or its pty master) the same way, then the
//! container's output as [`AttachFrame`]s: one byte stream number (1 stdout, 2 stderr),
//! a 4-byte big-endian length and the bytes, until the container exits and the shim hangs up.

use std::io::{self, IoSlice, IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::runtime::types::{ContainerState, ContainerStats};

const MAX_MESSAGE: usize = 16 * 1024 * 1024;
const MAX_FDS: usize = 4;

/// What the shim needs to create a container whose bundle the caller prepared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateRequest {
    pub id: String,
    pub bundle: PathBuf,
    pub log_path: PathBuf,
    pub log_max_size: u64,
    pub log_max_files: u32,
    pub tty: bool,
    pub stdin: bool,
    /// Close the container's stdin once the first attached client detaches.
    pub stdin_once: bool,
    /// Signal number `stop` sends first (the image's StopSignal, SIGTERM by default).
    pub stop_signal: i32,
    /// The container's cgroup, for OOM detection and stats.
    pub cgroup_path: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecRequest {
    pub id: String,
    pub args: Vec<String>,
    /// Extra `KEY=value` entries on top of the container's environment.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub tty: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Ping,
    Create(CreateRequest),
    Start {
        id: String,
    },
    /// Stop signal, then SIGKILL after `timeout_secs`; answered once the container exited.
    Stop {
        id: String,
        timeout_secs: u64,
    },
    Kill {
        id: String,
        signal: i32,
    },
    Remove {
        id: String,
    },
    Status {
        id: String,
    },
    List,
    Stats {
        id: String,
    },
    /// Non-TTY: three fds (stdin, stdout, stderr) come with the request.
    Exec(ExecRequest),
    Attach {
        id: String,
    },
    /// Reopen the log file (after someone moved it away).
    ReopenLog {
        id: String,
    },
    /// Kill every container, release the pod's namespaces and exit.
    Shutdown,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    Ok,
    Error {
        message: String,
    },
    Pong {
        pid: i32,
    },
    Status {
        state: ContainerState,
    },
    List {
        containers: Vec<ContainerState>,
    },
    Stats {
        stats: ContainerStats,
    },
    /// TTY: the pty master comes with this message.
    ExecStarted {
        pid: i32,
    },
    Exited {
        exit_code: i32,
    },
    /// The stdin writer or pty master comes with this message, if the container has one.
    Attached {
        has_stdin: bool,
    },
}

/// Sends one message with `fds` attached.
pub fn send<T: Serialize>(stream: &UnixStream, message: &T, fds: &[RawFd]) -> io::Result<()> {
    let body = serde_json::to_vec(message)?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    send_bytes(stream, &frame, fds)
}

/// Writes `data` with `fds` on its first byte; MSG_NOSIGNAL so a closed peer is an error,
/// not a SIGPIPE.
pub fn send_bytes(stream: &UnixStream, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let rights = [ControlMessage::ScmRights(fds)];
    let control: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    let mut sent = sendmsg::<()>(stream.as_raw_fd(), &[IoSlice::new(data)], control, MsgFlags::MSG_NOSIGNAL, None)
        .map_err(io::Error::from)?;
    while sent < data.len() {
        sent += sendmsg::<()>(stream.as_raw_fd(), &[IoSlice::new(&data[sent..])], &[], MsgFlags::MSG_NOSIGNAL, None)
            .map_err(io::Error::from)?;
    }
    Ok(())
}

/// Receives one message and the fds that came with it. `Ok(None)` when the peer hung up
/// between messages.
pub fn recv<T: DeserializeOwned>(stream: &UnixStream) -> io::Result<Option<(T, Vec<OwnedFd>)>> {
    let mut header = [0u8; 4];
    let mut fds = Vec::new();
    let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    let received = {
        let mut iov = [IoSliceMut::new(&mut header)];
        let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)
            .map_err(io::Error::from)?;
        for c in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(raw) = c {
                // SAFETY: the kernel just installed these descriptors in our table for us.
                fds.extend(raw.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
        msg.bytes
    };
    if received == 0 {
        return Ok(None);
    }
    let mut reader = stream;
    reader.read_exact(&mut header[received..])?;
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_MESSAGE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("message of {len} bytes is too large")));
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let message = serde_json::from_slice(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(Some((message, fds)))
}

/// One chunk of attached output.
#[derive(Debug, PartialEq, Eq)]
pub struct AttachFrame {
    pub stream: u8,
    pub data: Vec<u8>,
}

pub const STREAM_STDOUT: u8 = 1;
pub const STREAM_STDERR: u8 = 2;

pub fn encode_frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(data.len() + 5);
    frame.push(stream);
    frame.extend_from_slice(&(data.len() as u32).to_be_bytes());
    frame.extend_from_slice(data);
    frame
}

/// Reads the next frame; `Ok(None)` once the shim hung up.
pub fn read_frame(reader: &mut impl Read) -> io::Result<Option<AttachFrame>> {
    let mut header = [0u8; 5];
    match reader.read_exact(&mut header) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err),
    }
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_MESSAGE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "attach frame too large"));
    }
    let mut data = vec![0u8; len];
    reader.read_exact(&mut data)?;
    Ok(Some(AttachFrame { stream: header[0], data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_fds() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        send(&a, &Request::Start { id: "c1".into() }, &[r.as_raw_fd(), w.as_raw_fd()]).unwrap();
        let (request, fds): (Request, _) = recv(&b).unwrap().unwrap();
        assert!(matches!(request, Request::Start { id } if id == "c1"));
        assert_eq!(fds.len(), 2);
        nix::unistd::write(&fds[1], b"x").unwrap();
        let mut buf = [0u8; 1];
        nix::unistd::read(r.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(&buf, b"x");
        drop(a);
        assert!(recv::<Request>(&b).unwrap().is_none());
    }

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&encode_frame(STREAM_STDERR, b"oops"));
        let mut reader = &buf[..];
        assert_eq!(read_frame(&mut reader).unwrap(), Some(AttachFrame { stream: 2, data: b"oops".to_vec() }));
        assert_eq!(read_frame(&mut reader).unwrap(), None);
    }
}
