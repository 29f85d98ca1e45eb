//! The server side of a SPDY/3.1 connection: the peer opens streams (each with headers), we
//! accept every one with a SYN_REPLY and hand it to the caller; data flows both ways until
//! either side sends FIN (half close) or resets the stream. Pings from the peer are echoed
//! (kubectl's tunneled connections ping every few seconds).

pub mod frame;

use std::collections::HashMap;
use std::io;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use frame::{Frame, FrameReader, FrameWriter, Headers, FLAG_FIN};

/// Largest data frame we send; the peer's reads are buffered around this size.
const MAX_DATA_FRAME: usize = 32 * 1024;
/// Data frames queued for one stream before the connection's reader waits for its consumer.
const STREAM_BUFFER: usize = 16;

/// A stream the peer opened.
pub struct Stream {
    pub id: u32,
    pub headers: Headers,
    incoming: mpsc::Receiver<Bytes>,
    writer: StreamWriter,
    reset: watch::Receiver<bool>,
}

impl Stream {
    /// The next data from the peer; `None` once it half-closed or reset the stream, or the
    /// connection ended.
    pub async fn read(&mut self) -> Option<Bytes> {
        self.incoming.recv().await
    }

    pub fn writer(&self) -> StreamWriter {
        self.writer.clone()
    }

    /// Resolves when the peer reset the stream or the connection ended.
    pub fn reset_signal(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut reset = self.reset.clone();
        async move {
            let _ = reset.wait_for(|reset| *reset).await;
        }
    }
}

/// Sends on one stream.
#[derive(Clone)]
pub struct StreamWriter {
    id: u32,
    out: mpsc::Sender<Frame>,
}

impl StreamWriter {
    /// Sends `data`; fails once the connection is gone.
    pub async fn write(&self, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(MAX_DATA_FRAME) {
            self.send(Frame::Data { id: self.id, flags: 0, data: Bytes::copy_from_slice(chunk) }).await?;
        }
        Ok(())
    }

    /// Half-closes the stream: we send nothing more.
    pub async fn close(&self) -> io::Result<()> {
        self.send(Frame::Data { id: self.id, flags: FLAG_FIN, data: Bytes::new() }).await
    }

    async fn send(&self, frame: Frame) -> io::Result<()> {
        self.out.send(frame).await.map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "SPDY connection closed"))
    }
}

struct StreamState {
    /// Dropped when the peer half-closes.
    incoming: Option<mpsc::Sender<Bytes>>,
    reset: watch::Sender<bool>,
}

/// Serves a SPDY connection on `io`, sending each stream the peer opens to `streams`, until
/// the peer goes away. Stream handlers still running then see their streams reset.
pub async fn serve<IO>(io: IO, streams: mpsc::Sender<Stream>) -> io::Result<()>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut read_half, write_half) = tokio::io::split(io);
    let (out, out_rx) = mpsc::channel::<Frame>(64);
    let writer = tokio::spawn(write_frames(write_half, out_rx));
    let mut reader = FrameReader::default();
    let mut open: HashMap<u32, StreamState> = HashMap::new();
    let result = loop {
        let frame = match reader.read(&mut read_half).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        };
        match frame {
            Frame::SynStream { id, flags, headers } => {
                // Client streams have odd, increasing IDs; anything else is refused.
                if id % 2 == 0 || open.contains_key(&id) {
                    let _ = out.send(Frame::RstStream { id, status: frame::PROTOCOL_ERROR }).await;
                    continue;
                }
                let (data_tx, data_rx) = mpsc::channel(STREAM_BUFFER);
                let (reset_tx, reset_rx) = watch::channel(false);
                let finished = flags & FLAG_FIN != 0;
                open.insert(id, StreamState { incoming: (!finished).then_some(data_tx), reset: reset_tx });
                if out.send(Frame::SynReply { id, flags: 0, headers: Vec::new() }).await.is_err() {
                    break Ok(());
                }
                let stream = Stream {
                    id,
                    headers,
                    incoming: data_rx,
                    writer: StreamWriter { id, out: out.clone() },
                    reset: reset_rx,
                };
                if streams.send(stream).await.is_err() {
                    break Ok(());
                }
            }
            Frame::Data { id, flags, data } => {
                let Some(state) = open.get_mut(&id) else { continue };
                if let Some(incoming) = &state.incoming {
                    if !data.is_empty() && incoming.send(data).await.is_err() {
                        // The handler stopped reading; later data for it is dropped.
                        state.incoming = None;
                    }
                }
                if flags & FLAG_FIN != 0 {
                    state.incoming = None;
                }
            }
            Frame::RstStream { id, .. } => {
                if let Some(state) = open.remove(&id) {
                    let _ = state.reset.send(true);
                }
            }
            Frame::Ping { id } => {
                if out.send(Frame::Ping { id }).await.is_err() {
                    break Ok(());
                }
            }
            Frame::GoAway { .. } => break Ok(()),
            Frame::SynReply { .. } | Frame::Ignored => {}
        }
    };
    for state in open.into_values() {
        let _ = state.reset.send(true);
    }
    drop(streams);
    drop(out);
    // The writer ends once every stream writer is dropped; handlers stop on the reset.
    let _ = writer.await;
    result
}

async fn write_frames<W: AsyncWrite + Unpin>(mut io: W, mut frames: mpsc::Receiver<Frame>) -> io::Result<()> {
    let mut writer = FrameWriter::new()?;
    let mut buf = BytesMut::new();
    while let Some(frame) = frames.recv().await {
        writer.encode(&frame, &mut buf)?;
        // Batch what is already queued into one write.
        while let Ok(frame) = frames.try_recv() {
            writer.encode(&frame, &mut buf)?;
        }
        io.write_all(&buf).await?;
        io.flush().await?;
        buf.clear();
    }
    io.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client end for tests: writes frames, reads frames.
    struct Peer {
        io: tokio::io::DuplexStream,
        writer: FrameWriter,
        reader: FrameReader,
    }

    impl Peer {
        async fn send(&mut self, frame: Frame) {
            let mut buf = BytesMut::new();
            self.writer.encode(&frame, &mut buf).unwrap();
            self.io.write_all(&buf).await.unwrap();
        }
        async fn recv(&mut self) -> Option<Frame> {
            self.reader.read(&mut self.io).await.unwrap()
        }
    }

    #[tokio::test]
    async fn streams_are_accepted_echoed_and_closed() {
        let (client, server) = tokio::io::duplex(1 << 16);
        let (tx, mut streams) = mpsc::channel(4);
        let session = tokio::spawn(serve(server, tx));
        let mut peer = Peer { io: client, writer: FrameWriter::new().unwrap(), reader: FrameReader::default() };
        peer.send(Frame::SynStream { id: 1, flags: 0, headers: vec![("streamtype".into(), "data".into())] }).await;
        assert_eq!(peer.recv().await, Some(Frame::SynReply { id: 1, flags: 0, headers: vec![] }));
        let mut stream = streams.recv().await.unwrap();
        assert_eq!(frame::header(&stream.headers, "streamType"), Some("data"));

        peer.send(Frame::Data { id: 1, flags: FLAG_FIN, data: Bytes::from_static(b"ping") }).await;
        assert_eq!(stream.read().await.as_deref(), Some(&b"ping"[..]));
        assert_eq!(stream.read().await, None, "FIN ends the incoming side");
        stream.writer().write(b"pong").await.unwrap();
        stream.writer().close().await.unwrap();
        assert_eq!(peer.recv().await, Some(Frame::Data { id: 1, flags: 0, data: Bytes::from_static(b"pong") }));
        assert_eq!(peer.recv().await, Some(Frame::Data { id: 1, flags: FLAG_FIN, data: Bytes::new() }));

        peer.send(Frame::Ping { id: 5 }).await;
        assert_eq!(peer.recv().await, Some(Frame::Ping { id: 5 }));

        // Even IDs belong to the server: refused.
        peer.send(Frame::SynStream { id: 2, flags: 0, headers: vec![] }).await;
        assert_eq!(peer.recv().await, Some(Frame::RstStream { id: 2, status: frame::PROTOCOL_ERROR }));

        peer.send(Frame::RstStream { id: 1, status: frame::CANCEL }).await;
        tokio::time::timeout(std::time::Duration::from_secs(5), stream.reset_signal()).await.unwrap();
        drop(stream);
        drop(peer);
        session.await.unwrap().unwrap();
    }
}
