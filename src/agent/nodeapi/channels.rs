//! Kubernetes' channel protocol, as exec and attach use it: stdin, stdout, stderr, an error
//! channel carrying a `Status` at the end, and resize carrying `{"Width":…,"Height":…}`.
//!
//! Over WebSocket every binary message starts with a channel byte (0 stdin, 1 stdout,
//! 2 stderr, 3 error, 4 resize). `v5.channel.k8s.io` adds a close signal (255, then the
//! channel) so the client can end stdin without closing the connection. The session ends
//! with a normal WebSocket close, which the client takes as end of file on every stream.
//! (Over SPDY each channel is a stream of its own: see `spdy_channels`.)

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub const V5: &str = "v5.channel.k8s.io";
pub const V4: &str = "v4.channel.k8s.io";
/// Subprotocols we speak, preferred first.
pub const PROTOCOLS: &[&str] = &[V5, V4];

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// Largest payload per message; kubectl reads into 32 KiB buffers.
const MAX_MESSAGE: usize = 32 * 1024;
/// How long we wait for the client to answer our close before hanging up.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// What the client sends.
#[derive(Debug, PartialEq)]
pub enum Input {
    Stdin(Bytes),
    /// The client will send no more stdin (v5).
    StdinClosed,
    Resize {
        width: u16,
        height: u16,
    },
}

/// Our side of a channel session: output to the client, input from it (which ends when the
/// client goes away), and the end of the session.
pub struct Session {
    output: Output,
    input: mpsc::Receiver<Input>,
    closer: Closer,
}

/// What goes to the client, for the transport's writer to put on the wire.
pub enum Outgoing {
    Data(u8, Bytes),
    /// Nothing more will be sent: end the session.
    End,
}

/// Sends to the client; clones share the connection.
#[derive(Clone)]
pub struct Output {
    messages: mpsc::Sender<Outgoing>,
}

impl Output {
    /// Sends `data` on `channel`; false once the client is gone.
    pub async fn send(&self, channel: u8, data: &[u8]) -> bool {
        for chunk in data.chunks(MAX_MESSAGE) {
            if self.messages.send(Outgoing::Data(channel, Bytes::copy_from_slice(chunk))).await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Ends a session.
pub struct Closer {
    output: Output,
    /// Ends when the client has gone (after our end, when it has read everything).
    reader: tokio::task::JoinHandle<()>,
    /// Ends once `Outgoing::End` is on the wire.
    writer: tokio::task::JoinHandle<()>,
}

impl Session {
    /// A session from a transport's parts: the writer task drains `outgoing`, the reader task
    /// feeds `input`.
    pub fn assemble(
        messages: mpsc::Sender<Outgoing>,
        input: mpsc::Receiver<Input>,
        reader: tokio::task::JoinHandle<()>,
        writer: tokio::task::JoinHandle<()>,
    ) -> Session {
        let output = Output { messages };
        Session { output: output.clone(), input, closer: Closer { output, reader, writer } }
    }

    pub fn start<S>(socket: WebSocketStream<S>) -> Session
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sink, mut stream) = socket.split();
        let (messages, mut outgoing) = mpsc::channel::<Outgoing>(16);
        let writer = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                let message = match message {
                    Outgoing::Data(channel, data) => {
                        let mut message = BytesMut::with_capacity(data.len() + 1);
                        message.put_u8(channel);
                        message.put_slice(&data);
                        Message::Binary(message.freeze())
                    }
                    Outgoing::End => {
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() })))
                            .await;
                        break;
                    }
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let (input_tx, input) = mpsc::channel(16);
        let reader = tokio::spawn(async move {
            // Reading also answers the client's pings (kubectl sends one every few seconds).
            while let Some(Ok(message)) = stream.next().await {
                let Message::Binary(data) = message else {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                    continue;
                };
                for event in parse_input(&data) {
                    if input_tx.send(event).await.is_err() {
                        return;
                    }
                }
            }
        });
        Session::assemble(messages, input, reader, writer)
    }

    pub fn split(self) -> (Output, mpsc::Receiver<Input>, Closer) {
        (self.output, self.input, self.closer)
    }
}

impl Closer {
    /// Reports how the session ended on the error channel and closes the connection.
    pub async fn finish(self, status: &Value) {
        let Closer { output, reader, writer } = self;
        output.send(ERROR, status.to_string().as_bytes()).await;
        let _ = output.messages.send(Outgoing::End).await;
        drop(output);
        let _ = writer.await;
        // The client answers the close; then the connection can go.
        let mut reader = reader;
        if tokio::time::timeout(CLOSE_WAIT, &mut reader).await.is_err() {
            reader.abort();
        }
    }

    /// The client is gone: drop the connection.
    pub fn abandon(self) {
        self.reader.abort();
        self.writer.abort();
    }
}

fn parse_input(message: &[u8]) -> Vec<Input> {
    let Some((&channel, data)) = message.split_first() else { return Vec::new() };
    match channel {
        STDIN => vec![Input::Stdin(Bytes::copy_from_slice(data))],
        RESIZE => resizes(data),
        CLOSE if data.first() == Some(&STDIN) => vec![Input::StdinClosed],
        _ => Vec::new(),
    }
}

/// The window sizes in `data`: JSON objects one after another.
pub fn resizes(data: &[u8]) -> Vec<Input> {
    serde_json::Deserializer::from_slice(data)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .filter_map(|size| {
            let dimension = |name: &str| size.get(name).and_then(Value::as_u64).map(|v| v.min(u16::MAX as u64) as u16);
            Some(Input::Resize { width: dimension("Width")?, height: dimension("Height")? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_messages() {
        assert_eq!(parse_input(b"\x00ls\n"), vec![Input::Stdin(Bytes::from_static(b"ls\n"))]);
        assert_eq!(
            parse_input(b"\x04{\"Width\":80,\"Height\":24}\n{\"Width\":100,\"Height\":30}\n"),
            vec![Input::Resize { width: 80, height: 24 }, Input::Resize { width: 100, height: 30 }]
        );
        assert_eq!(parse_input(&[CLOSE, STDIN]), vec![Input::StdinClosed]);
        assert!(parse_input(b"").is_empty());
        assert!(parse_input(b"\x04not json").is_empty());
        assert!(parse_input(&[CLOSE, STDOUT]).is_empty());
    }
}
