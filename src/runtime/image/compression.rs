//! Reading data that may be gzip- or zstd-compressed (layers, image archives), recognised
//! by magic bytes rather than by name or media type, which are often wrong.

use std::io::{BufRead, BufReader, Read};

use anyhow::{Context, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// `input` decompressed if it starts like gzip or zstd, as is otherwise.
pub fn decompressed<'a>(input: impl Read + 'a) -> Result<Box<dyn Read + 'a>> {
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let head = reader.fill_buf().context("reading")?;
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else if head.starts_with(&ZSTD_MAGIC) {
        Box::new(zstd::stream::read::Decoder::with_buffer(reader).context("starting zstd decoder")?)
    } else {
        Box::new(reader)
    })
}
