//! Forwarding what the cluster does not own to the node's resolvers.
//!
//! A plain relay rather than a resolver library: the client's query goes upstream as it came
//! (its EDNS buffer size, DNSSEC bits and all), so the answer is the upstream's and not a
//! re-synthesis of it; caching stays with the pod's resolver and the upstreams. Each query
//! gets a fresh random ID and a fresh socket (a fresh source port), and a reply counts only
//! when its ID and question match. UDP first, TCP when the reply is truncated or the client
//! itself came over TCP; each upstream in turn, each within its own time limit.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use hickory_proto::op::{Edns, Message, MessageType, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one upstream gets to answer; with at most three upstreams a client (which waits
/// five seconds per try) hears back before it gives up.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// The EDNS buffer size advertised in queries this server makes itself (the DNS flag day
/// value, which avoids fragmentation).
pub const EDNS_PAYLOAD: u16 = 1232;
/// The largest DNS message.
const MAX_MESSAGE: usize = 65535;

#[derive(Debug, Clone)]
pub struct Forwarder {
    upstreams: Vec<SocketAddr>,
    attempt_timeout: Duration,
}

impl Forwarder {
    pub fn new(upstreams: Vec<SocketAddr>) -> Self {
        Self { upstreams, attempt_timeout: ATTEMPT_TIMEOUT }
    }

    /// Gives each upstream `timeout` instead of the default.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    pub fn upstreams(&self) -> &[SocketAddr] {
        &self.upstreams
    }

    /// Relays `query`, a whole DNS message asking `question`, and returns the first upstream
    /// reply. `over_tcp` skips UDP (a client that came over TCP expects a large answer).
    pub async fn forward(&self, query: &[u8], question: &Query, over_tcp: bool) -> Result<Message> {
        if query.len() < 12 {
            bail!("a DNS message of {} bytes is too short to forward", query.len());
        }
        let mut failure = anyhow!("no upstream name servers are configured");
        for upstream in &self.upstreams {
            let id: u16 = rand::random();
            let mut message = query.to_vec();
            message[..2].copy_from_slice(&id.to_be_bytes());
            let exchange = async {
                if !over_tcp {
                    let reply = udp_exchange(*upstream, &message, id, question).await?;
                    if !reply.metadata.truncation {
                        return Ok(reply);
                    }
                }
                tcp_exchange(*upstream, &message, id, question).await
            };
            match tokio::time::timeout(self.attempt_timeout, exchange).await {
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(err)) => failure = err.context(format!("asking {upstream}")),
                Err(_) => failure = anyhow!("{upstream} did not answer within {:?}", self.attempt_timeout),
            }
        }
        Err(failure)
    }

    /// Asks the upstreams for the `qtype` records of `name`, recursively (to follow an alias
    /// out of the cluster).
    pub async fn resolve(&self, name: &Name, qtype: RecordType, over_tcp: bool) -> Result<Message> {
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(name.clone(), qtype));
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        query.set_edns(edns);
        let bytes = query.to_vec().context("encoding a query")?;
        self.forward(&bytes, &query.queries[0], over_tcp).await
    }
}

async fn udp_exchange(upstream: SocketAddr, message: &[u8], id: u16, question: &Query) -> Result<Message> {
    let local: SocketAddr = match upstream {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await.context("opening a UDP socket")?;
    socket.connect(upstream).await.context("connecting the UDP socket")?;
    socket.send(message).await.context("sending the query")?;
    let mut buffer = vec![0; MAX_MESSAGE];
    loop {
        let length = socket.recv(&mut buffer).await.context("receiving the reply")?;
        // Anything else arriving on the port (late or forged replies) is ignored.
        if let Ok(reply) = Message::from_vec(&buffer[..length]) {
            if answers(&reply, id, question) {
                return Ok(reply);
            }
        }
    }
}

async fn tcp_exchange(upstream: SocketAddr, message: &[u8], id: u16, question: &Query) -> Result<Message> {
    let mut stream = TcpStream::connect(upstream).await.context("connecting over TCP")?;
    let length = u16::try_from(message.len()).context("the query is too large")?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed).await.context("sending the query over TCP")?;
    let mut length = [0; 2];
    stream.read_exact(&mut length).await.context("reading the reply length")?;
    let mut reply = vec![0; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut reply).await.context("reading the reply")?;
    let reply = Message::from_vec(&reply).context("decoding the reply")?;
    if !answers(&reply, id, question) {
        bail!("the reply over TCP does not answer the query");
    }
    Ok(reply)
}

/// Whether `reply` answers the query with `id` asking `question` (names compare without case;
/// some servers leave the question out of error replies).
fn answers(reply: &Message, id: u16, question: &Query) -> bool {
    reply.metadata.id == id
        && reply.metadata.message_type == MessageType::Response
        && (reply.queries.is_empty()
            || reply.queries.iter().any(|q| {
                q.name() == question.name()
                    && q.query_type() == question.query_type()
                    && q.query_class() == question.query_class()
            }))
}
