//! Port forwarding (`portforward.k8s.io` over SPDY): for every forwarded connection the client
//! opens an error stream and a data stream with the same `requestID` and a `port` header; we
//! connect to that port on localhost inside the pod's network namespace and copy bytes both
//! ways. A failure is written to the error stream, which is closed when the connection ends.

use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::spdy::{self, frame::header, Stream};
use crate::net::netns::NetNs;

pub const PROTOCOL: &str = "portforward.k8s.io";
/// The same, tunneled through a WebSocket (kubectl 1.31 and later try this first).
pub const TUNNELED_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The pod whose ports are forwarded.
#[derive(Clone)]
pub struct Target {
    pub pod: String,
    pub netns: PathBuf,
}

/// Serves port forwarding over the SPDY connection `io` until the client goes away.
pub async fn serve<IO>(io: IO, target: Target)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (streams_tx, mut streams) = mpsc::channel(8);
    let session = tokio::spawn(spdy::serve(io, streams_tx));
    // requestID → (error stream, data stream) until both arrived.
    let mut pending: HashMap<String, (Option<Stream>, Option<Stream>)> = HashMap::new();
    while let Some(stream) = streams.recv().await {
        let kind = header(&stream.headers, "streamType").unwrap_or_default().to_string();
        // Clients older than requestID open the error stream right before its data stream.
        let request_id = match header(&stream.headers, "requestID") {
            Some(id) => id.to_string(),
            None if kind == "data" => stream.id.saturating_sub(2).to_string(),
            None => stream.id.to_string(),
        };
        let pair = pending.entry(request_id.clone()).or_default();
        match kind.as_str() {
            "error" => pair.0 = Some(stream),
            "data" => pair.1 = Some(stream),
            other => {
                tracing::debug!(stream_type = other, "port-forward: ignoring a stream of unknown type");
                continue;
            }
        }
        if pair.0.is_some() && pair.1.is_some() {
            if let Some((Some(error), Some(data))) = pending.remove(&request_id) {
                tokio::spawn(forward(error, data, target.clone()));
            }
        }
    }
    if let Ok(Err(err)) = session.await {
        tracing::debug!(%err, "port-forward connection ended with an error");
    }
}

/// One forwarded connection.
async fn forward(error: Stream, mut data: Stream, target: Target) {
    let errors = error.writer();
    let data_out = data.writer();
    let port = header(&data.headers, "port").unwrap_or_default().to_string();
    let connection = match port.parse::<u16>() {
        Ok(port) if port > 0 => connect(&target, port).await,
        _ => Err(anyhow::anyhow!("invalid port {port:?}")),
    };
    let tcp = match connection {
        Ok(tcp) => tcp,
        Err(err) => {
            let message = format!("error forwarding port {port} to pod {}: {err:#}", target.pod);
            let _ = errors.write(message.as_bytes()).await;
            let _ = errors.close().await;
            let _ = data_out.close().await;
            return;
        }
    };
    let reset = data.reset_signal();
    let (mut from_pod, mut to_pod) = tcp.into_split();
    let upstream = async {
        while let Some(chunk) = data.read().await {
            if to_pod.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to_pod.shutdown().await;
    };
    let downstream = async {
        let mut buf = vec![0u8; 32 * 1024];
        while let Ok(n) = from_pod.read(&mut buf).await {
            if n == 0 || data_out.write(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = data_out.close().await;
    };
    tokio::select! {
        _ = futures::future::join(upstream, downstream) => {}
        () = reset => {}
    }
    let _ = errors.close().await;
}

/// Connects to `port` on the pod's localhost, as the kubelet does (IPv4 first, then IPv6).
async fn connect(target: &Target, port: u16) -> Result<TcpStream> {
    let netns = NetNs::open(&target.netns)?;
    let stream = netns
        .run(move || {
            let mut failures = Vec::new();
            for addr in [SocketAddr::from(([127, 0, 0, 1], port)), SocketAddr::from((Ipv6Addr::LOCALHOST, port))] {
                match std::net::TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                    Ok(stream) => return Ok(stream),
                    Err(err) => failures.push(format!("{addr}: {err}")),
                }
            }
            bail!("failed to connect to localhost:{port} inside the pod's network namespace: {}", failures.join(", "))
        })
        .await?;
    stream.set_nonblocking(true)?;
    Ok(TcpStream::from_std(stream)?)
}
