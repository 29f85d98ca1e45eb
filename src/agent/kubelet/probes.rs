//! Container probes (liveness, readiness, startup): HTTP GET and TCP checks made from the
//! node against the pod's IP, exec checks through the runtime, and the threshold
//! bookkeeping that turns single results into a verdict.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use http_body_util::Empty;
use k8s_openapi::api::core::v1::{Container, HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    Failure(String),
}

/// Resolves a probe's port, which may name one of the container's ports.
pub fn port_of(port: &IntOrString, container: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("invalid port {n}")),
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| format!("port {name:?} is not a named port of container {:?}", container.name)),
    }
}

/// An HTTP(S) GET: 200–399 is success, as upstream.
pub async fn http_get(ip: IpAddr, action: &HTTPGetAction, container: &Container, timeout: Duration) -> Outcome {
    let port = match port_of(&action.port, container) {
        Ok(p) => p,
        Err(e) => return Outcome::Failure(e),
    };
    let host = action.host.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| ip.to_string());
    let path = action.path.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into());
    let https = action.scheme.as_deref() == Some("HTTPS");
    let result = tokio::time::timeout(timeout, async {
        let addr: SocketAddr = match host.parse::<IpAddr>() {
            Ok(h) => SocketAddr::new(h, port),
            Err(_) => SocketAddr::new(ip, port),
        };
        let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut request = hyper::Request::get(path.clone())
            .header(hyper::header::HOST, format!("{host}:{port}"))
            .header("User-Agent", "kube-probe/1.33");
        for h in action.http_headers.iter().flatten() {
            request = request.header(h.name.as_str(), h.value.as_str());
        }
        let request = request.body(Empty::<bytes::Bytes>::new()).map_err(|e| e.to_string())?;
        let status = if https {
            let tls = tls_connector()
                .connect(rustls::pki_types::ServerName::IpAddress(addr.ip().into()), tcp)
                .await
                .map_err(|e| e.to_string())?;
            send(hyper_util::rt::TokioIo::new(tls), request).await?
        } else {
            send(hyper_util::rt::TokioIo::new(tcp), request).await?
        };
        Ok::<u16, String>(status)
    })
    .await;
    match result {
        Ok(Ok(code)) if (200..400).contains(&code) => Outcome::Success,
        Ok(Ok(code)) => Outcome::Failure(format!("HTTP probe failed with statuscode: {code}")),
        Ok(Err(e)) => Outcome::Failure(format!("Get \"http://{host}:{port}{path}\": {e}")),
        Err(_) => Outcome::Failure(format!("Get \"http://{host}:{port}{path}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")),
    }
}

async fn send<T>(io: T, request: hyper::Request<Empty<bytes::Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

/// HTTPS probes do not verify the pod's certificate (as the kubelet).
fn tls_connector() -> tokio_rustls::TlsConnector {
    crate::agent::https::connector(crate::agent::https::Trust::Anything).expect("ring supports the default versions")
}

/// A TCP connect.
pub async fn tcp_socket(ip: IpAddr, port: u16, timeout: Duration) -> Outcome {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((ip, port))).await {
        Ok(Ok(_)) => Outcome::Success,
        Ok(Err(e)) => Outcome::Failure(format!("dial tcp {ip}:{port}: {e}")),
        Err(_) => Outcome::Failure(format!("dial tcp {ip}:{port}: i/o timeout")),
    }
}

/// Thresholds and timing of one probe of one container, and its running tally.
#[derive(Debug, Clone)]
pub struct Tracker {
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    success_threshold: u32,
    failure_threshold: u32,
    successes: u32,
    failures: u32,
    /// The verdict so far: `None` until a threshold is reached.
    pub verdict: Option<bool>,
    pub last_failure: Option<String>,
    next: Option<Instant>,
}

impl Tracker {
    pub fn new(probe: &Probe) -> Self {
        let secs = |v: Option<i32>, default: i32| Duration::from_secs(v.unwrap_or(default).max(0) as u64);
        Self {
            initial_delay: secs(probe.initial_delay_seconds, 0),
            period: secs(probe.period_seconds, 10).max(Duration::from_secs(1)),
            timeout: secs(probe.timeout_seconds, 1).max(Duration::from_secs(1)),
            success_threshold: probe.success_threshold.unwrap_or(1).max(1) as u32,
            failure_threshold: probe.failure_threshold.unwrap_or(3).max(1) as u32,
            successes: 0,
            failures: 0,
            verdict: None,
            last_failure: None,
            next: None,
        }
    }

    /// Whether a check is due, given when the container started.
    pub fn due(&self, started: Instant, now: Instant) -> bool {
        now >= started + self.initial_delay && self.next.is_none_or(|n| now >= n)
    }

    /// Records a result; returns the verdict if it changed.
    pub fn record(&mut self, outcome: Outcome, now: Instant) -> Option<bool> {
        self.next = Some(now + self.period);
        match outcome {
            Outcome::Success => {
                self.failures = 0;
                self.successes += 1;
                if self.successes >= self.success_threshold && self.verdict != Some(true) {
                    self.verdict = Some(true);
                    return Some(true);
                }
            }
            Outcome::Failure(why) => {
                self.successes = 0;
                self.failures += 1;
                self.last_failure = Some(why);
                if self.failures >= self.failure_threshold && self.verdict != Some(false) {
                    self.verdict = Some(false);
                    return Some(false);
                }
            }
        }
        None
    }

    /// Starts over (the container restarted).
    pub fn reset(&mut self) {
        *self = Self { next: None, successes: 0, failures: 0, verdict: None, last_failure: None, ..self.clone() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thresholds_decide_the_verdict() {
        let probe: Probe =
            serde_json::from_value(json!({"failureThreshold": 2, "successThreshold": 1, "periodSeconds": 1})).unwrap();
        let mut t = Tracker::new(&probe);
        let now = Instant::now();
        assert_eq!(t.record(Outcome::Failure("x".into()), now), None);
        assert_eq!(t.record(Outcome::Failure("x".into()), now), Some(false));
        assert_eq!(t.record(Outcome::Failure("x".into()), now), None);
        assert_eq!(t.record(Outcome::Success, now), Some(true));
        assert!(!t.due(now, now + Duration::from_millis(500)));
        assert!(t.due(now, now + Duration::from_secs(1)));
    }

    #[tokio::test]
    async fn tcp_and_http_checks_against_a_local_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = [0u8; 1024];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]);
                    let code = if req.starts_with("GET /healthz") { "200 OK" } else { "500 Oops" };
                    let _ = s.write_all(format!("HTTP/1.1 {code}\r\ncontent-length: 0\r\n\r\n").as_bytes()).await;
                });
            }
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let container: Container =
            serde_json::from_value(json!({"name": "c", "ports": [{"name": "http", "containerPort": port}]})).unwrap();
        assert_eq!(tcp_socket(ip, port, Duration::from_secs(1)).await, Outcome::Success);
        let ok: HTTPGetAction = serde_json::from_value(json!({"path": "/healthz", "port": "http"})).unwrap();
        assert_eq!(http_get(ip, &ok, &container, Duration::from_secs(1)).await, Outcome::Success);
        let bad: HTTPGetAction = serde_json::from_value(json!({"path": "/bad", "port": port})).unwrap();
        assert!(
            matches!(http_get(ip, &bad, &container, Duration::from_secs(1)).await, Outcome::Failure(m) if m.contains("500"))
        );
    }
}
