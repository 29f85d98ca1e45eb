//! Container logs in the CRI format the kubelet reads:
//! `<RFC 3339 timestamp with nanoseconds> <stdout|stderr> <F|P> <content>`, one line per
//! line of output; `P` marks a piece of a line longer than [`MAX_LINE`] (the rest follows,
//! the last piece tagged `F`). Files rotate at a size limit: `<log>` is always the current
//! file, `<log>.1` the newest rotated one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

/// Longest line kept whole; longer ones are split into `P` pieces (as containerd does).
pub const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    max_files: u32,
    /// Per stream: the start of a line whose newline has not arrived yet.
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    /// Opens (appending to) the log at `path`. It rotates past `max_size` bytes, keeping
    /// `max_files` files in all (at least two: the current one and one rotated).
    pub fn open(path: &Path, max_size: u64, max_files: u32) -> io::Result<LogWriter> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            max_size: max_size.max(1),
            max_files: max_files.max(2),
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Logs output as it arrives: whole lines now, the unfinished rest when it completes.
    pub fn write(&mut self, stream: Stream, mut data: &[u8]) -> io::Result<()> {
        let i = stream.index();
        while let Some(newline) = data.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.pending[i]);
            line.extend_from_slice(&data[..newline]);
            self.write_line(stream, &line)?;
            data = &data[newline + 1..];
        }
        self.pending[i].extend_from_slice(data);
        while self.pending[i].len() >= MAX_LINE {
            let rest = self.pending[i].split_off(MAX_LINE);
            let piece = std::mem::replace(&mut self.pending[i], rest);
            self.emit(stream, 'P', &piece)?;
        }
        Ok(())
    }

    /// The stream ended: an unfinished last line is logged as it is.
    pub fn finish(&mut self, stream: Stream) -> io::Result<()> {
        let rest = std::mem::take(&mut self.pending[stream.index()]);
        if !rest.is_empty() {
            self.emit(stream, 'F', &rest)?;
        }
        Ok(())
    }

    fn write_line(&mut self, stream: Stream, line: &[u8]) -> io::Result<()> {
        let mut pieces = line.chunks(MAX_LINE).peekable();
        if pieces.peek().is_none() {
            return self.emit(stream, 'F', b"");
        }
        while let Some(piece) = pieces.next() {
            let tag = if pieces.peek().is_some() { 'P' } else { 'F' };
            self.emit(stream, tag, piece)?;
        }
        Ok(())
    }

    fn emit(&mut self, stream: Stream, tag: char, content: &[u8]) -> io::Result<()> {
        let mut record = Vec::with_capacity(content.len() + 48);
        write!(record, "{} {} {} ", timestamp(Timestamp::now()), stream.as_str(), tag)?;
        record.extend_from_slice(content);
        record.push(b'\n');
        if self.size > 0 && self.size + record.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(&record)?;
        self.size += record.len() as u64;
        Ok(())
    }

    /// `<log>.<n-1>` → `<log>.<n>` … `<log>` → `<log>.1`, dropping the oldest; a new `<log>`.
    fn rotate(&mut self) -> io::Result<()> {
        let rotated = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        let oldest = self.max_files - 1;
        let _ = fs::remove_file(rotated(oldest));
        for n in (1..oldest).rev() {
            let _ = fs::rename(rotated(n), rotated(n + 1));
        }
        fs::rename(&self.path, rotated(1))?;
        self.reopen()
    }

    /// Starts a new file at the log path (after rotation, or after someone moved it away).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// RFC 3339 with nine fractional digits, as Go's RFC3339Nano readers accept.
fn timestamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%9fZ").to_string()
}

/// One parsed log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub timestamp: String,
    pub stream: Stream,
    /// False for a `P` piece: the line continues in the next record.
    pub complete: bool,
    pub content: Vec<u8>,
}

pub fn parse_line(line: &[u8]) -> Option<LogLine> {
    let mut parts = line.splitn(4, |&b| b == b' ');
    let timestamp = std::str::from_utf8(parts.next()?).ok()?.to_string();
    let stream = match parts.next()? {
        b"stdout" => Stream::Stdout,
        b"stderr" => Stream::Stderr,
        _ => return None,
    };
    let complete = match parts.next()? {
        b"F" => true,
        b"P" => false,
        _ => return None,
    };
    let content = parts.next().unwrap_or_default();
    let content = content.strip_suffix(b"\n").unwrap_or(content).to_vec();
    Some(LogLine { timestamp, stream, complete, content })
}

/// Reads the records of a log file (current file only, as `kubectl logs` does).
pub fn read_log(path: &Path) -> io::Result<Vec<LogLine>> {
    let reader = BufReader::new(File::open(path)?);
    let mut lines = Vec::new();
    for line in reader.split(b'\n') {
        if let Some(parsed) = parse_line(&line?) {
            lines.push(parsed);
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_full_and_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c/0.log");
        let mut log = LogWriter::open(&path, 1 << 20, 3).unwrap();
        log.write(Stream::Stdout, b"hello\nwor").unwrap();
        log.write(Stream::Stderr, b"err\n").unwrap();
        log.write(Stream::Stdout, b"ld\n").unwrap();
        let long = vec![b'x'; MAX_LINE + 10];
        log.write(Stream::Stdout, &long).unwrap();
        log.write(Stream::Stdout, b"\n").unwrap();
        log.write(Stream::Stdout, b"no newline").unwrap();
        log.finish(Stream::Stdout).unwrap();
        let lines = read_log(&path).unwrap();
        let summary: Vec<(Stream, bool, usize)> =
            lines.iter().map(|l| (l.stream, l.complete, l.content.len())).collect();
        assert_eq!(
            summary,
            vec![
                (Stream::Stdout, true, 5),
                (Stream::Stderr, true, 3),
                (Stream::Stdout, true, 5),
                (Stream::Stdout, false, MAX_LINE),
                (Stream::Stdout, true, 10),
                (Stream::Stdout, true, 10),
            ]
        );
        assert_eq!(lines[2].content, b"world");
        // 2024-01-01T00:00:00.123456789Z
        assert_eq!(lines[0].timestamp.len(), 30, "{}", lines[0].timestamp);
        assert!(lines[0].timestamp.parse::<Timestamp>().is_ok());
    }

    #[test]
    fn timestamps_keep_nine_fractional_digits() {
        let t = Timestamp::new(1_700_000_000, 120_000_000).unwrap();
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.120000000Z");
        assert_eq!(timestamp(Timestamp::new(1_700_000_000, 0).unwrap()), "2023-11-14T22:13:20.000000000Z");
    }

    #[test]
    fn rotates_and_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let mut log = LogWriter::open(&path, 200, 3).unwrap();
        for i in 0..100 {
            log.write(Stream::Stdout, format!("line {i}\n").as_bytes()).unwrap();
        }
        let mut files: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        assert_eq!(files, vec!["0.log", "0.log.1", "0.log.2"]);
        assert!(fs::metadata(&path).unwrap().len() <= 200);
        let last = read_log(&path).unwrap();
        assert_eq!(last.last().unwrap().content, b"line 99");
    }
}
