//! Closed-loop load: a fixed number of requests in flight over keep-alive connections for a
//! fixed time, recording each request's latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use http_body_util::BodyExt;
use hyper::{Request, StatusCode};
use tokio::sync::Mutex;

use crate::http::{Body, Conn, Endpoint, Protocol};

/// Builds the request with sequence number `n` (unique within one load run).
pub type RequestFactory = Arc<dyn Fn(u64) -> Request<Body> + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct LoadSpec {
    pub protocol: Protocol,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// HTTP/2 connections the requests are spread over; HTTP/1.1 uses one per request in flight.
    pub http2_connections: usize,
    pub duration: Duration,
}

impl LoadSpec {
    pub fn describe(&self) -> String {
        match self.protocol {
            Protocol::Http1 => format!("{}, {} keep-alive connections", self.protocol.label(), self.concurrency),
            Protocol::Http2 => format!(
                "{}, {} streams over {} connection{}",
                self.protocol.label(),
                self.concurrency,
                self.http2_connections,
                if self.http2_connections == 1 { "" } else { "s" }
            ),
        }
    }
}

#[derive(Debug)]
pub struct LoadResult {
    pub completed: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latency of each successful request, in milliseconds.
    pub latencies_ms: Vec<f64>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `spec` against `endpoint`: each worker sends `make(n)` and waits for `expected`, again
/// and again until the time is up. Connections are opened before the clock starts.
pub async fn run(
    endpoint: &Endpoint,
    spec: LoadSpec,
    make: RequestFactory,
    expected: StatusCode,
) -> Result<LoadResult> {
    ensure!(spec.concurrency > 0 && spec.http2_connections > 0, "load needs at least one worker and connection");
    // A connection that cannot be opened counts as a failed request, as a client would see it,
    // and its worker sits the run out; only when none opens is the run impossible.
    let mut conns = Vec::with_capacity(spec.concurrency);
    let mut failed_connects = Vec::new();
    match spec.protocol {
        Protocol::Http1 => {
            for _ in 0..spec.concurrency {
                match endpoint.connect(Protocol::Http1).await {
                    Ok(conn) => conns.push(conn),
                    Err(err) => failed_connects.push(err),
                }
            }
        }
        Protocol::Http2 => {
            let mut shared = Vec::with_capacity(spec.http2_connections);
            for _ in 0..spec.http2_connections {
                match endpoint.connect(Protocol::Http2).await {
                    Ok(conn) => shared.push(conn),
                    Err(err) => failed_connects.push(err),
                }
            }
            if !shared.is_empty() {
                for i in 0..spec.concurrency {
                    conns.push(shared[i % shared.len()].share().expect("HTTP/2 connections can be shared"));
                }
            }
        }
    }
    if conns.is_empty() {
        let first = failed_connects.into_iter().next().expect("no connection means a failed connect");
        return Err(first.context(format!("no connection to {} could be opened", endpoint.addr)));
    }
    let first_connect_error = failed_connects.first().map(|err| format!("opening a connection: {err:#}"));

    let sequence = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Mutex::new((failed_connects.len() as u64, first_connect_error)));
    let started = Instant::now();
    let deadline = started + spec.duration;
    let workers: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let (make, sequence, errors) = (make.clone(), sequence.clone(), errors.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let request = make(sequence.fetch_add(1, Ordering::Relaxed));
                    let sent = Instant::now();
                    match exchange(&mut conn, request).await {
                        Ok(status) if status == expected => latencies.push(sent.elapsed().as_secs_f64() * 1e3),
                        outcome => {
                            let broken = outcome.is_err();
                            let mut errors = errors.lock().await;
                            errors.0 += 1;
                            errors.1.get_or_insert_with(|| match outcome {
                                Ok(status) => format!("status {status} (expected {expected})"),
                                Err(err) => format!("{err:#}"),
                            });
                            // A broken connection would fail every later request at once.
                            if broken {
                                break;
                            }
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies_ms = Vec::new();
    for worker in workers {
        latencies_ms.extend(worker.await?);
    }
    let elapsed = started.elapsed();
    let (error_count, first_error) = std::mem::take(&mut *errors.lock().await);
    Ok(LoadResult { completed: latencies_ms.len() as u64, errors: error_count, first_error, elapsed, latencies_ms })
}

async fn exchange(conn: &mut Conn, request: Request<Body>) -> Result<StatusCode> {
    let response = conn.send(request).await?;
    let status = response.status();
    response.into_body().collect().await?;
    Ok(status)
}
