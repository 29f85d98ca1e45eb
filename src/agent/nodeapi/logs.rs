//! `GET /containerLogs/{namespace}/{pod}/{container}`: a container's CRI log as plain text,
//! with the kubelet's options (follow, previous, timestamps, tailLines, sinceSeconds,
//! sinceTime, limitBytes). Pieces of a long line (`P` records) are joined back into the line.
//! Following reads on as the file grows, moves to the new file when the runtime rotates it,
//! and ends once the container has exited and its log is drained.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::containers;
use crate::runtime::logs::{parse_line, Stream};
use crate::runtime::service::RuntimeService;
use crate::runtime::types::ContainerStatus;
use crate::server::api_error::ApiError;

/// How often a followed log is checked for new lines.
const POLL: Duration = Duration::from_millis(100);
/// How often, while a followed log is quiet, the container is checked for having exited.
const STATUS_CHECK: Duration = Duration::from_secs(1);

#[derive(Debug, Default, PartialEq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<usize>,
    pub since: Option<Timestamp>,
    pub limit_bytes: Option<u64>,
}

/// Query booleans as Go's strconv.ParseBool reads them (kubectl sends `true`).
pub fn query_bool(value: &str) -> Result<bool, ApiError> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => Ok(false),
        other => Err(ApiError::bad_request(format!("invalid boolean value {other:?}"))),
    }
}

impl LogOptions {
    pub fn from_query(query: Option<&str>, now: Timestamp) -> Result<Self, ApiError> {
        let mut options = LogOptions::default();
        let mut since_seconds = None;
        let mut since_time = None;
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let number = |what: &str| {
                value.parse::<i64>().map_err(|_| ApiError::bad_request(format!("{what}: invalid value {value:?}")))
            };
            match key.as_ref() {
                "follow" => options.follow = query_bool(&value)?,
                "previous" => options.previous = query_bool(&value)?,
                "timestamps" => options.timestamps = query_bool(&value)?,
                "tailLines" => {
                    let n = number("tailLines")?;
                    if n < 0 {
                        return Err(ApiError::bad_request(
                            "tailLines: Invalid value: must be greater than or equal to 0",
                        ));
                    }
                    options.tail_lines = Some(n as usize);
                }
                "limitBytes" => {
                    let n = number("limitBytes")?;
                    if n < 1 {
                        return Err(ApiError::bad_request("limitBytes: Invalid value: must be greater than 0"));
                    }
                    options.limit_bytes = Some(n as u64);
                }
                "sinceSeconds" => {
                    let n = number("sinceSeconds")?;
                    if n < 1 {
                        return Err(ApiError::bad_request("sinceSeconds: Invalid value: must be greater than 0"));
                    }
                    since_seconds = Some(n);
                }
                "sinceTime" => {
                    let time = value.parse::<Timestamp>().map_err(|e| {
                        ApiError::bad_request(format!("sinceTime: invalid RFC 3339 time {value:?}: {e}"))
                    })?;
                    since_time = Some(time);
                }
                _ => {}
            }
        }
        options.since = match (since_seconds, since_time) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request("at most one of `sinceTime` or `sinceSeconds` may be specified"))
            }
            (Some(seconds), None) => Some(now - jiff::SignedDuration::from_secs(seconds)),
            (None, time) => time,
        };
        Ok(options)
    }
}

/// Opens the log the options ask for; the lines are then sent to `out` as they are read.
pub async fn open(
    runtime: &RuntimeService,
    namespace: &str,
    pod: &str,
    container: &str,
    options: LogOptions,
) -> Result<LogStreamer, ApiError> {
    let current = containers::current(runtime, namespace, pod, container).await?;
    let (path, follow) = if options.previous {
        let path = containers::previous_log(&current).ok_or_else(|| {
            ApiError::bad_request(format!("previous terminated container {container:?} in pod {pod:?} not found"))
        })?;
        (path, None)
    } else {
        let running = options.follow.then(|| runtime_says_running(runtime.clone(), current.id.clone()));
        (current.log_path.clone(), running)
    };
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::internal(format!("opening the log of container {container:?}: {e}")))?;
    Ok(LogStreamer { path, file, follow, options, lines: LineJoiner::default(), sent: 0 })
}

/// Asks whether the container whose log is followed still runs.
type ContainerRunning = Box<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// Asks the runtime whether container `id` runs (or is about to).
fn runtime_says_running(runtime: RuntimeService, id: String) -> ContainerRunning {
    Box::new(move || {
        let (runtime, id) = (runtime.clone(), id.clone());
        Box::pin(async move {
            runtime
                .container_status(&id)
                .await
                .is_ok_and(|c| matches!(c.state.status, ContainerStatus::Running | ContainerStatus::Created))
        })
    })
}

/// Streams one log file (and, following, its successors after rotation).
pub struct LogStreamer {
    path: PathBuf,
    file: tokio::fs::File,
    /// Set when following: whether the container still runs (its exit ends following).
    follow: Option<ContainerRunning>,
    options: LogOptions,
    lines: LineJoiner,
    sent: u64,
}

impl LogStreamer {
    /// Sends the log to `out` until it is done (or the receiver is gone).
    pub async fn run(mut self, out: mpsc::Sender<Bytes>) {
        let mut first = Vec::new();
        if self.file.read_to_end(&mut first).await.is_err() {
            return;
        }
        let mut lines = self.lines.push(&first);
        if let Some(tail) = self.options.tail_lines {
            lines.drain(..lines.len().saturating_sub(tail));
        }
        if !self.send(lines, &out).await {
            return;
        }
        let Some(running) = self.follow.take() else { return };
        let mut last_check = tokio::time::Instant::now();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match self.file.read(&mut buf).await {
                Ok(n) => n,
                Err(_) => return,
            };
            if n > 0 {
                let lines = self.lines.push(&buf[..n]);
                if !self.send(lines, &out).await {
                    return;
                }
                continue;
            }
            if self.rotated().await {
                // Lines written to the old file between our last read and the rotation.
                let mut rest = Vec::new();
                if self.file.read_to_end(&mut rest).await.is_ok() {
                    let lines = self.lines.push(&rest);
                    if !self.send(lines, &out).await {
                        return;
                    }
                }
                match tokio::fs::File::open(&self.path).await {
                    Ok(file) => self.file = file,
                    Err(_) => return,
                }
                continue;
            }
            if last_check.elapsed() >= STATUS_CHECK {
                last_check = tokio::time::Instant::now();
                if !running().await {
                    // One more read: lines written just before the exit.
                    let mut rest = Vec::new();
                    if self.file.read_to_end(&mut rest).await.is_ok() {
                        let lines = self.lines.push(&rest);
                        self.send(lines, &out).await;
                    }
                    return;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = out.closed() => return,
            }
        }
    }

    /// Whether the file at the log path is no longer the one we read.
    async fn rotated(&self) -> bool {
        let (Ok(open), Ok(at_path)) = (self.file.metadata().await, tokio::fs::metadata(&self.path).await) else {
            return false;
        };
        (open.dev(), open.ino()) != (at_path.dev(), at_path.ino())
    }

    /// Sends the lines that pass the filters; false when done (limit reached, receiver gone).
    async fn send(&mut self, lines: Vec<LogLine>, out: &mpsc::Sender<Bytes>) -> bool {
        let mut chunk = Vec::new();
        let mut done = false;
        for line in lines {
            if self.options.since.is_some_and(|since| line.timestamp.is_some_and(|t| t < since)) {
                continue;
            }
            let start = chunk.len();
            if self.options.timestamps {
                if let Some(t) = line.timestamp {
                    chunk.extend_from_slice(format!("{t} ").as_bytes());
                }
            }
            chunk.extend_from_slice(&line.content);
            chunk.push(b'\n');
            if let Some(limit) = self.options.limit_bytes {
                let room = limit.saturating_sub(self.sent + start as u64) as usize;
                if chunk.len() - start >= room {
                    chunk.truncate(start + room);
                    done = true;
                    break;
                }
            }
        }
        self.sent += chunk.len() as u64;
        if !chunk.is_empty() && out.send(Bytes::from(chunk)).await.is_err() {
            return false;
        }
        !done
    }
}

/// A log line put back together.
#[derive(Debug, PartialEq)]
pub struct LogLine {
    /// When its first piece was written.
    timestamp: Option<Timestamp>,
    content: Vec<u8>,
}

/// Turns file bytes into whole lines, across reads: records cut by the end of a read and
/// lines split into `P` pieces (per stream) wait for their rest.
#[derive(Default)]
struct LineJoiner {
    unfinished_record: Vec<u8>,
    /// Per stream (stdout, stderr): the pieces of a line so far.
    pieces: [Option<LogLine>; 2],
}

impl LineJoiner {
    fn push(&mut self, bytes: &[u8]) -> Vec<LogLine> {
        let mut data = std::mem::take(&mut self.unfinished_record);
        data.extend_from_slice(bytes);
        let Some(end) = data.iter().rposition(|&b| b == b'\n') else {
            self.unfinished_record = data;
            return Vec::new();
        };
        self.unfinished_record = data.split_off(end + 1);
        let mut lines = Vec::new();
        for record in data.split(|&b| b == b'\n').filter_map(parse_line) {
            let slot = &mut self.pieces[match record.stream {
                Stream::Stdout => 0,
                Stream::Stderr => 1,
            }];
            let line =
                slot.get_or_insert_with(|| LogLine { timestamp: record.timestamp.parse().ok(), content: Vec::new() });
            line.content.extend_from_slice(&record.content);
            if record.complete {
                lines.extend(slot.take());
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn line(ts: &str, content: &str) -> LogLine {
        LogLine { timestamp: ts.parse().ok(), content: content.as_bytes().to_vec() }
    }

    #[test]
    fn records_and_pieces_are_joined_across_reads() {
        let mut joiner = LineJoiner::default();
        let first = b"2024-01-01T00:00:00.000000001Z stdout F one\n2024-01-01T00:00:01.000000000Z stdout P tw";
        assert_eq!(joiner.push(first), vec![line("2024-01-01T00:00:00.000000001Z", "one")]);
        let rest = b"o-\n2024-01-01T00:00:02.000000000Z stderr F err\n2024-01-01T00:00:03.000000000Z stdout F pieces\n";
        assert_eq!(
            joiner.push(rest),
            vec![line("2024-01-01T00:00:02Z", "err"), line("2024-01-01T00:00:01Z", "two-pieces")]
        );
        assert!(joiner.push(b"garbage without newline").is_empty());
    }

    #[test]
    fn options_from_the_query() {
        let now: Timestamp = "2024-01-01T00:01:00Z".parse().unwrap();
        let options =
            LogOptions::from_query(Some("follow=true&tailLines=3&timestamps=1&sinceSeconds=60&limitBytes=10"), now)
                .unwrap();
        assert_eq!(
            options,
            LogOptions {
                follow: true,
                previous: false,
                timestamps: true,
                tail_lines: Some(3),
                since: Some("2024-01-01T00:00:00Z".parse().unwrap()),
                limit_bytes: Some(10),
            }
        );
        for bad in ["tailLines=-1", "limitBytes=0", "sinceSeconds=0", "sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z"] {
            assert!(LogOptions::from_query(Some(bad), now).is_err(), "{bad}");
        }
        assert!(LogOptions::from_query(Some("follow=maybe"), now).is_err());
    }

    #[tokio::test]
    async fn tail_since_timestamps_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(
            &path,
            "2024-01-01T00:00:00.000000000Z stdout F a\n2024-01-01T00:00:01.500000000Z stdout F b\n\
             2024-01-01T00:00:02.000000000Z stderr F c\n",
        )
        .unwrap();
        let run = |options: LogOptions| {
            let path = path.clone();
            async move {
                let file = tokio::fs::File::open(&path).await.unwrap();
                let streamer = LogStreamer { path, file, follow: None, options, lines: LineJoiner::default(), sent: 0 };
                let (tx, mut rx) = mpsc::channel(8);
                streamer.run(tx).await;
                let mut text = Vec::new();
                while let Some(chunk) = rx.recv().await {
                    text.extend_from_slice(&chunk);
                }
                String::from_utf8(text).unwrap()
            }
        };
        assert_eq!(run(LogOptions::default()).await, "a\nb\nc\n");
        assert_eq!(run(LogOptions { tail_lines: Some(2), ..Default::default() }).await, "b\nc\n");
        assert_eq!(run(LogOptions { tail_lines: Some(0), ..Default::default() }).await, "");
        let since = Some("2024-01-01T00:00:01Z".parse().unwrap());
        assert_eq!(run(LogOptions { since, ..Default::default() }).await, "b\nc\n");
        assert_eq!(
            run(LogOptions { timestamps: true, tail_lines: Some(1), ..Default::default() }).await,
            "2024-01-01T00:00:02Z c\n"
        );
        assert_eq!(run(LogOptions { limit_bytes: Some(3), ..Default::default() }).await, "a\nb");
    }

    #[tokio::test]
    async fn following_crosses_rotation_and_ends_when_the_container_exits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let record = |text: &str| format!("2024-01-01T00:00:00.000000000Z stdout F {text}\n");
        std::fs::write(&path, record("first")).unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let still = running.clone();
        let follow: ContainerRunning = Box::new(move || {
            let running = still.load(std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move { running })
        });
        let streamer = LogStreamer {
            file: tokio::fs::File::open(&path).await.unwrap(),
            path: path.clone(),
            follow: Some(follow),
            options: LogOptions { follow: true, ..Default::default() },
            lines: LineJoiner::default(),
            sent: 0,
        };
        let (tx, mut rx) = mpsc::channel(8);
        let task = tokio::spawn(streamer.run(tx));
        assert_eq!(rx.recv().await.unwrap(), "first\n");
        // The runtime rotates: the old file moves away, a new one takes its place.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(record("last in old").as_bytes())
            .unwrap();
        std::fs::rename(&path, dir.path().join("0.log.1")).unwrap();
        std::fs::write(&path, record("new file")).unwrap();
        assert_eq!(rx.recv().await.unwrap(), "last in old\n");
        assert_eq!(rx.recv().await.unwrap(), "new file\n");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(record("before exit").as_bytes())
            .unwrap();
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut rest = Vec::new();
        while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap() {
            rest.extend_from_slice(&chunk);
        }
        assert_eq!(rest, b"before exit\n");
        task.await.unwrap();
    }
}
