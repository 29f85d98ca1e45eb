//! TCP connection latency as a client sees it: connect, send one byte, receive one byte back,
//! close; against a responder of the run's own listening inside another namespace. Both ends
//! are plain blocking sockets on threads of their own, so little but the network is timed.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::socket::{setsockopt, sockopt::ReceiveTimeout};
use nix::sys::time::TimeVal;

use crate::netns;

/// How long a connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Answers every connection on `port` of the namespace it was started in with one byte, until
/// dropped.
pub struct Responder {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    pub fn start(netns: &Path, port: u16) -> Result<Self> {
        let listener = netns::run_in(netns, move || {
            let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).context("listening in the pod")?;
            // accept() gives up after this long, so the thread sees `stop` in time.
            setsockopt(&listener, ReceiveTimeout, &TimeVal::new(0, 100_000))?;
            Ok(listener)
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((stream, _)) = listener.accept() {
                    let _ = answer(stream);
                }
            }
        });
        Ok(Self { stop, thread: Some(thread) })
    }
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut byte = [0u8];
    stream.read_exact(&mut byte)?;
    stream.write_all(&byte)
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One exchange with `target`: connect, one byte each way, close.
fn exchange(target: SocketAddr) -> Result<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(CONNECT_TIMEOUT))?;
    stream.write_all(b"?")?;
    let mut byte = [0u8];
    stream.read_exact(&mut byte)?;
    Ok(started.elapsed())
}

/// From the namespace at `netns`: waits (up to `wait`) until every target answers, makes
/// `warmup` untimed exchanges with each, then `samples` timed ones with each, the targets taking
/// turns. Returns each target's times in microseconds.
pub fn measure(
    netns: &Path,
    targets: Vec<SocketAddr>,
    wait: Duration,
    warmup: usize,
    samples: usize,
) -> Result<Vec<Vec<f64>>> {
    netns::run_in(netns, move || {
        let deadline = Instant::now() + wait;
        for &target in &targets {
            while let Err(err) = exchange(target) {
                if Instant::now() > deadline {
                    return Err(err.context(format!("{target} did not answer within {wait:?}")));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let mut times = vec![Vec::with_capacity(samples); targets.len()];
        for round in 0..warmup + samples {
            // Every other round in reverse order: neither target always follows the other.
            let mut order: Vec<usize> = (0..targets.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let target = targets[i];
                let took = exchange(target).with_context(|| format!("exchange {round} with {target}"))?;
                if round >= warmup {
                    times[i].push(took.as_secs_f64() * 1e6);
                }
            }
        }
        Ok(times)
    })
}
