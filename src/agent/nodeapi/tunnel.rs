//! A byte stream carried in WebSocket binary messages, as kubectl tunnels SPDY through a
//! WebSocket for port forwarding: every write is one message, reads run on across messages.

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const BUFFER: usize = 64 * 1024;

/// The stream inside `socket`; it ends when the client closes the WebSocket, and closing it
/// closes the WebSocket.
pub fn bytes_of<S>(socket: WebSocketStream<S>) -> DuplexStream
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (inner, outer) = tokio::io::duplex(BUFFER);
    let (mut from_inner, mut to_inner) = tokio::io::split(inner);
    let (mut sink, mut messages) = socket.split();
    tokio::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            match message {
                Message::Binary(data) if to_inner.write_all(&data).await.is_err() => break,
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = to_inner.shutdown().await;
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; BUFFER];
        while let Ok(n) = from_inner.read(&mut buf).await {
            if n == 0 || sink.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                break;
            }
        }
        let close = CloseFrame { code: CloseCode::Normal, reason: "".into() };
        let _ = sink.send(Message::Close(Some(close))).await;
    });
    outer
}
