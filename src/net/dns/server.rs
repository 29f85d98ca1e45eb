//! The listening side: UDP and TCP sockets on one address, served by hickory's server with
//! the cluster DNS handler.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use tokio::net::{TcpSocket, UdpSocket};

use super::handler::DnsHandler;

/// A TCP client idle this long is disconnected.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Replies queued per TCP connection.
const TCP_RESPONSE_BUFFER: usize = 32;
const TCP_BACKLOG: u32 = 1024;

pub struct DnsServer {
    server: hickory_server::Server<DnsHandler>,
    address: SocketAddr,
}

impl DnsServer {
    /// Binds UDP and TCP on `address`; port 0 picks a free port, the same for both. Serving
    /// starts at once and stops when the server is dropped.
    pub async fn bind(address: SocketAddr, handler: DnsHandler) -> Result<Self> {
        let udp = UdpSocket::bind(address).await.with_context(|| format!("binding UDP {address}"))?;
        let address = udp.local_addr().context("reading the bound UDP address")?;
        let tcp = match address {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .context("opening a TCP socket")?;
        // A restarted agent must not wait for the old connections' TIME_WAIT to end.
        tcp.set_reuseaddr(true).context("setting SO_REUSEADDR")?;
        tcp.bind(address).with_context(|| format!("binding TCP {address}"))?;
        let listener = tcp.listen(TCP_BACKLOG).with_context(|| format!("listening on TCP {address}"))?;
        let mut server = hickory_server::Server::new(handler);
        server.register_socket(udp);
        server.register_listener(listener, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        Ok(Self { server, address })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Serves until a socket fails.
    pub async fn run(mut self) -> Result<()> {
        self.server.block_until_done().await.map_err(|err| anyhow!("DNS server on {}: {err}", self.address))
    }
}
