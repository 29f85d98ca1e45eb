//! SPDY/3.1 framing, as far as Kubernetes' streaming connections (Go's spdystream) use it.
//!
//! A control frame is `1 | version(15) | type(16) | flags(8) | length(24) | payload`, a data
//! frame `0 | stream id(31) | flags(8) | length(24) | data`. Header blocks (in SYN_STREAM,
//! SYN_REPLY and HEADERS) are zlib-compressed with one stream per direction for the whole
//! connection, primed with the dictionary from the SPDY/3 specification; every header block
//! must go through the decompressor, even of frames we ignore, or the stream state is lost.
//! Flow control (SETTINGS, WINDOW_UPDATE) is read and ignored, as spdystream does.

use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The zlib dictionary of SPDY/3 header blocks (section 2.6.10.1 of the specification).
const HEADER_DICTIONARY: &[u8] = include_bytes!("header_dictionary.bin");
const VERSION: u16 = 3;
/// Frames larger than this are refused (a header block or data chunk is far smaller).
const MAX_FRAME: usize = 16 * 1024 * 1024;
/// A decompressed header block may not grow past this.
const MAX_HEADER_BLOCK: usize = 1024 * 1024;

pub const FLAG_FIN: u8 = 0x01;

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;

/// RST_STREAM status codes.
pub const PROTOCOL_ERROR: u32 = 1;
#[cfg(test)]
pub const CANCEL: u32 = 5;

/// Header names (lowercase on the wire) and values.
pub type Headers = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    SynStream {
        id: u32,
        flags: u8,
        headers: Headers,
    },
    SynReply {
        id: u32,
        flags: u8,
        headers: Headers,
    },
    RstStream {
        id: u32,
        status: u32,
    },
    Ping {
        id: u32,
    },
    GoAway {
        last_good: u32,
        status: u32,
    },
    Data {
        id: u32,
        flags: u8,
        data: Bytes,
    },
    /// A frame this implementation has no use for (SETTINGS, WINDOW_UPDATE, HEADERS, …).
    Ignored,
}

/// The value of header `name` (case-insensitive), if present.
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn invalid(why: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("SPDY: {why}"))
}

/// Reads frames from one direction of a connection.
pub struct FrameReader {
    inflate: Decompress,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self { inflate: Decompress::new(true) }
    }
}

impl FrameReader {
    /// The next frame; `None` when the connection ended between frames.
    pub async fn read(&mut self, io: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<Frame>> {
        let mut head = [0u8; 8];
        match io.read_exact(&mut head).await {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(err) => return Err(err),
        }
        let flags = head[4];
        let length = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
        if length > MAX_FRAME {
            return Err(invalid(format!("frame of {length} bytes is too large")));
        }
        let mut payload = vec![0u8; length];
        io.read_exact(&mut payload).await?;
        if head[0] & 0x80 == 0 {
            let id = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            return Ok(Some(Frame::Data { id, flags, data: payload.into() }));
        }
        let version = u16::from_be_bytes([head[0] & 0x7f, head[1]]);
        if version != VERSION {
            return Err(invalid(format!("unsupported version {version}")));
        }
        let kind = u16::from_be_bytes([head[2], head[3]]);
        let word = |at: usize| -> io::Result<u32> {
            let bytes = payload.get(at..at + 4).ok_or_else(|| invalid("truncated control frame"))?;
            Ok(u32::from_be_bytes(bytes.try_into().expect("4 bytes")) & 0x7fff_ffff)
        };
        Ok(Some(match kind {
            SYN_STREAM => {
                let id = word(0)?;
                let block = payload.get(10..).ok_or_else(|| invalid("truncated SYN_STREAM"))?;
                Frame::SynStream { id, flags, headers: self.headers(block)? }
            }
            SYN_REPLY => {
                let id = word(0)?;
                Frame::SynReply { id, flags, headers: self.headers(&payload[4..])? }
            }
            RST_STREAM => Frame::RstStream { id: word(0)?, status: word(4)? },
            PING => Frame::Ping { id: word(0)? },
            GOAWAY => Frame::GoAway { last_good: word(0)?, status: word(4).unwrap_or(0) },
            HEADERS => {
                word(0)?;
                // Keeps the decompressor in step; the headers themselves are not used.
                self.headers(&payload[4..])?;
                Frame::Ignored
            }
            _ => Frame::Ignored,
        }))
    }

    fn headers(&mut self, compressed: &[u8]) -> io::Result<Headers> {
        parse_header_block(&self.inflate_block(compressed)?)
    }

    fn inflate_block(&mut self, input: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() * 4 + 256);
        let mut consumed = 0;
        loop {
            let before = self.inflate.total_in();
            let result = self.inflate.decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync);
            consumed += (self.inflate.total_in() - before) as usize;
            match result {
                Ok(_) => {}
                Err(err) if err.needs_dictionary().is_some() => {
                    self.inflate.set_dictionary(HEADER_DICTIONARY).map_err(invalid)?;
                    continue;
                }
                Err(err) => return Err(invalid(format!("bad header block: {err}"))),
            }
            if consumed >= input.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            if out.len() >= MAX_HEADER_BLOCK {
                return Err(invalid("header block too large"));
            }
            out.reserve(out.capacity());
        }
    }
}

fn parse_header_block(block: &[u8]) -> io::Result<Headers> {
    let mut rest = block;
    let mut take = |n: usize| -> io::Result<&[u8]> {
        if rest.len() < n {
            return Err(invalid("truncated header block"));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let number = |bytes: &[u8]| u32::from_be_bytes(bytes.try_into().expect("4 bytes")) as usize;
    let count = number(take(4)?);
    let mut headers = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let len = number(take(4)?);
        let name = String::from_utf8_lossy(take(len)?).into_owned();
        let len = number(take(4)?);
        let value = String::from_utf8_lossy(take(len)?).into_owned();
        headers.push((name, value));
    }
    Ok(headers)
}

/// Encodes frames for one direction of a connection.
pub struct FrameWriter {
    deflate: Compress,
}

impl FrameWriter {
    pub fn new() -> io::Result<Self> {
        let mut deflate = Compress::new(Compression::default(), true);
        deflate.set_dictionary(HEADER_DICTIONARY).map_err(invalid)?;
        Ok(Self { deflate })
    }

    pub fn encode(&mut self, frame: &Frame, out: &mut BytesMut) -> io::Result<()> {
        match frame {
            Frame::Data { id, flags, data } => {
                out.put_u32(id & 0x7fff_ffff);
                put_flags_length(out, *flags, data.len())?;
                out.put_slice(data);
            }
            Frame::SynStream { id, flags, headers } => {
                let block = self.header_block(headers)?;
                control(out, SYN_STREAM, *flags, 10 + block.len())?;
                out.put_u32(*id);
                out.put_u32(0);
                out.put_u16(0);
                out.put_slice(&block);
            }
            Frame::SynReply { id, flags, headers } => {
                let block = self.header_block(headers)?;
                control(out, SYN_REPLY, *flags, 4 + block.len())?;
                out.put_u32(*id);
                out.put_slice(&block);
            }
            Frame::RstStream { id, status } => {
                control(out, RST_STREAM, 0, 8)?;
                out.put_u32(*id);
                out.put_u32(*status);
            }
            Frame::Ping { id } => {
                control(out, PING, 0, 4)?;
                out.put_u32(*id);
            }
            Frame::GoAway { last_good, status } => {
                control(out, GOAWAY, 0, 8)?;
                out.put_u32(*last_good);
                out.put_u32(*status);
            }
            Frame::Ignored => {}
        }
        Ok(())
    }

    fn header_block(&mut self, headers: &Headers) -> io::Result<Vec<u8>> {
        let mut plain = Vec::new();
        plain.put_u32(headers.len() as u32);
        for (name, value) in headers {
            plain.put_u32(name.len() as u32);
            plain.put_slice(name.to_ascii_lowercase().as_bytes());
            plain.put_u32(value.len() as u32);
            plain.put_slice(value.as_bytes());
        }
        let mut out = Vec::with_capacity(plain.len() + 64);
        let mut consumed = 0;
        loop {
            let before = self.deflate.total_in();
            self.deflate.compress_vec(&plain[consumed..], &mut out, FlushCompress::Sync).map_err(invalid)?;
            consumed += (self.deflate.total_in() - before) as usize;
            if consumed >= plain.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(out.capacity().max(64));
        }
    }
}

fn control(out: &mut BytesMut, kind: u16, flags: u8, length: usize) -> io::Result<()> {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(kind);
    put_flags_length(out, flags, length)
}

fn put_flags_length(out: &mut BytesMut, flags: u8, length: usize) -> io::Result<()> {
    if length > 0xff_ffff {
        return Err(invalid("frame too large to encode"));
    }
    out.put_u32(((flags as u32) << 24) | length as u32);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(frames: &[Frame]) -> Vec<Frame> {
        let mut writer = FrameWriter::new().unwrap();
        let mut wire = BytesMut::new();
        for frame in frames {
            writer.encode(frame, &mut wire).unwrap();
        }
        let mut reader = FrameReader::default();
        let mut input = &wire[..];
        let mut read = Vec::new();
        while let Some(frame) = reader.read(&mut input).await.unwrap() {
            read.push(frame);
        }
        read
    }

    #[tokio::test]
    async fn frames_and_compressed_headers_round_trip() {
        let headers: Headers = vec![("streamtype".into(), "error".into()), ("port".into(), "80".into())];
        let frames = vec![
            Frame::SynStream { id: 1, flags: 0, headers: headers.clone() },
            // The second block depends on the first's compression state.
            Frame::SynStream { id: 3, flags: FLAG_FIN, headers: headers.clone() },
            Frame::SynReply { id: 1, flags: 0, headers: vec![] },
            Frame::Data { id: 1, flags: FLAG_FIN, data: Bytes::from_static(b"hello") },
            Frame::RstStream { id: 3, status: CANCEL },
            Frame::Ping { id: 7 },
            Frame::GoAway { last_good: 3, status: 0 },
        ];
        assert_eq!(round_trip(&frames).await, frames);
        assert_eq!(header(&headers, "streamType"), Some("error"));
    }

    #[tokio::test]
    async fn garbage_is_an_error_not_a_panic() {
        let mut reader = FrameReader::default();
        let bad_version = [0x80u8, 0x02, 0, 1, 0, 0, 0, 0];
        assert!(reader.read(&mut &bad_version[..]).await.is_err());
        let truncated = [0x80u8, 0x03, 0, 3, 0, 0, 0, 2, 0, 0];
        assert!(FrameReader::default().read(&mut &truncated[..]).await.is_err());
        let bad_block = [0x80u8, 0x03, 0, 2, 0, 0, 0, 8, 0, 0, 0, 1, 1, 2, 3, 4];
        assert!(FrameReader::default().read(&mut &bad_block[..]).await.is_err());
        assert!(FrameReader::default().read(&mut &[][..]).await.unwrap().is_none());
    }
}
