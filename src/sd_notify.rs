//! Telling systemd that onebin is ready (`Type=notify` units): one `READY=1` datagram to the
//! socket systemd names in `$NOTIFY_SOCKET`. Without that variable it does nothing, so the same
//! binary works under openrc, a plain supervisor or a terminal.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// Sends `READY=1` if systemd asked for it; a failure is logged, never fatal.
pub fn ready() {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else { return };
    if let Err(err) = send(&socket.to_string_lossy(), "READY=1") {
        tracing::warn!("telling systemd onebin is ready failed ({socket:?}): {err}");
    }
}

fn send(socket: &str, message: &str) -> std::io::Result<()> {
    // A leading '@' names a socket in the abstract namespace.
    let address = match socket.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(socket)?,
    };
    UnixDatagram::unbound()?.send_to_addr(message.as_bytes(), &address)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_reaches_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        send(path.to_str().unwrap(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn ready_reaches_an_abstract_socket() {
        let name = format!("onebin-test-notify-{}", std::process::id());
        let listener = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        send(&format!("@{name}"), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn a_missing_socket_is_an_error_not_a_panic() {
        assert!(send("/nonexistent/notify", "READY=1").is_err());
    }
}
