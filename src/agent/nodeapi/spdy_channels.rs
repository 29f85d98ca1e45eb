//! The channel protocol over SPDY (`v4.channel.k8s.io`), for clients that do not use the
//! WebSocket form (kubectl with `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`, older client
//! libraries): before anything runs, the client opens one stream per channel, named by its
//! `streamType` header (`error`, `stdin`, `stdout`, `stderr`, `resize`). Stdin ends with its
//! stream's FIN. The session ends with the Status on the error stream and every stream we
//! write to closed, after which the client hangs up.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Result};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use super::channels::{self, Input, Outgoing, Session, ERROR, STDERR, STDOUT};
use super::exec::StreamOptions;
use super::spdy::{self, frame::header, Stream, StreamWriter};

/// Subprotocols we speak over SPDY.
pub const PROTOCOLS: &[&str] = &[channels::V4];

/// How long the client has to open its streams (the kubelet's default stream creation timeout).
const STREAM_WAIT: Duration = Duration::from_secs(30);

/// The session on the SPDY connection `io`, once the client opened the streams `options` call for.
pub async fn start<IO>(io: IO, options: StreamOptions) -> Result<Session>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (streams_tx, mut streams) = mpsc::channel(8);
    let (input_tx, input) = mpsc::channel(16);
    let connection_input = input_tx.clone();
    // The connection's task is the session's reader: the input ends when the client hangs up.
    let reader = tokio::spawn(async move {
        if let Err(err) = spdy::serve(io, streams_tx).await {
            tracing::debug!(%err, "exec over SPDY: the connection ended with an error");
        }
        drop(connection_input);
    });
    let expected = expected_streams(options);
    let mut opened: HashMap<&'static str, Stream> = HashMap::new();
    let waited = tokio::time::timeout(STREAM_WAIT, async {
        while opened.len() < expected.len() {
            let Some(stream) = streams.recv().await else { return false };
            let kind = header(&stream.headers, "streamType").unwrap_or_default();
            match expected.iter().find(|k| **k == kind) {
                Some(kind) => {
                    opened.insert(kind, stream);
                }
                None => tracing::debug!(stream_type = kind, "exec over SPDY: ignoring an unexpected stream"),
            }
        }
        true
    })
    .await;
    if waited != Ok(true) {
        reader.abort();
        bail!("the client did not open the streams {expected:?} in time");
    }

    let writers: HashMap<u8, StreamWriter> = [("error", ERROR), ("stdout", STDOUT), ("stderr", STDERR)]
        .into_iter()
        .filter_map(|(kind, channel)| Some((channel, opened.get(kind)?.writer())))
        .collect();
    if let Some(stdin) = opened.remove("stdin") {
        tokio::spawn(read_stdin(stdin, input_tx.clone()));
    }
    if let Some(resize) = opened.remove("resize") {
        tokio::spawn(read_resizes(resize, input_tx.clone()));
    }
    drop(input_tx);
    let (messages, outgoing) = mpsc::channel(16);
    let writer = tokio::spawn(write(outgoing, writers));
    Ok(Session::assemble(messages, input, reader, writer))
}

/// The stream types a client opens for `options`; the error stream always.
fn expected_streams(options: StreamOptions) -> Vec<&'static str> {
    let mut kinds = vec!["error"];
    for (wanted, kind) in
        [(options.stdin, "stdin"), (options.stdout, "stdout"), (options.stderr, "stderr"), (options.tty, "resize")]
    {
        if wanted {
            kinds.push(kind);
        }
    }
    kinds
}

async fn write(mut outgoing: mpsc::Receiver<Outgoing>, writers: HashMap<u8, StreamWriter>) {
    while let Some(message) = outgoing.recv().await {
        match message {
            Outgoing::Data(channel, data) => {
                if let Some(writer) = writers.get(&channel) {
                    if writer.write(&data).await.is_err() {
                        break;
                    }
                }
            }
            Outgoing::End => {
                for writer in writers.values() {
                    let _ = writer.close().await;
                }
                break;
            }
        }
    }
}

async fn read_stdin(mut stream: Stream, input: mpsc::Sender<Input>) {
    while let Some(data) = stream.read().await {
        if input.send(Input::Stdin(data)).await.is_err() {
            return;
        }
    }
    let _ = input.send(Input::StdinClosed).await;
}

/// Window sizes arrive as JSON objects, one a line; a data frame may end mid-line.
async fn read_resizes(mut stream: Stream, input: mpsc::Sender<Input>) {
    let mut pending = BytesMut::new();
    while let Some(data) = stream.read().await {
        pending.extend_from_slice(&data);
        let Some(end) = pending.iter().rposition(|b| *b == b'\n') else { continue };
        let complete = pending.split_to(end + 1);
        for resize in channels::resizes(&complete) {
            if input.send(resize).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_follow_the_options() {
        let plain = StreamOptions { stdin: false, stdout: true, stderr: true, tty: false };
        assert_eq!(expected_streams(plain), ["error", "stdout", "stderr"]);
        let terminal = StreamOptions { stdin: true, stdout: true, stderr: false, tty: true };
        assert_eq!(expected_streams(terminal), ["error", "stdin", "stdout", "resize"]);
    }
}
