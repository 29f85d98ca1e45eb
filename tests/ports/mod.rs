//! TCP ports for the servers, agents and registries tests start side by side.
//!
//! Asking the kernel for a free port (bind to port 0, then let go) leaves a window in which
//! another test's bind to port 0 or an outgoing connection can take the same port, and two
//! servers of one test run then collide on the port and on every name derived from it. Ports
//! here come from below the kernel's ephemeral range, so neither can take them, and a counter
//! keeps one test process from handing out a port twice.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// Below the ephemeral range (32768 and up) and the NodePort range (30000–32767).
const FIRST: u32 = 20_000;
const COUNT: u32 = 10_000;

/// A port no other caller in this process got, and that nothing listens on now.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Test binaries run one after another; starting each at its own place keeps a port a
    // previous binary's process may still be letting go of out of the way.
    let start = std::process::id().wrapping_mul(1_009) % COUNT;
    for _ in 0..COUNT {
        let port = (FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT) as u16;
        // Binding the wildcard address fails when anything listens on the port on any address.
        if TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
    panic!("every port from {FIRST} to {} is in use", FIRST + COUNT - 1);
}
