//! nftables spoken directly over netlink (`NETLINK_NETFILTER`), with no `nft` binary: atomic
//! transactions and dumps. Messages come from `netlink-packet-netfilter`; `expr` builds the rule
//! expressions onebin needs.
//!
//! Everything here is synchronous and acts in the network namespace of the calling thread, so
//! callers run it through `NetNs::run`.

pub mod expr;
pub mod objects;

use std::io;

use anyhow::{anyhow, Context, Result};
use netlink_packet_netfilter::nftables::NfTablesMessage;
use netlink_packet_netfilter::none::ControlMessage;
use netlink_packet_netfilter::{NetfilterHeader, NetfilterMessage, NetfilterMessageInner, NetfilterProtoFamily};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST};
use rtnetlink::sys::protocols::NETLINK_NETFILTER;
use rtnetlink::sys::Socket;

/// `NFNL_SUBSYS_NFTABLES`: batch begin/end messages name the subsystem they wrap.
const SUBSYSTEM_NFTABLES: u16 = 10;

/// How often a dump is retried when the ruleset changed while it was being read.
const DUMP_ATTEMPTS: usize = 5;

/// A set of nftables changes the kernel applies all together or not at all.
#[derive(Default)]
pub struct Transaction {
    messages: Vec<(NetlinkMessage<NetfilterMessage>, String)>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `message` for `family` with extra netlink `flags` (`NLM_F_CREATE`, `NLM_F_APPEND`…);
    /// `what` names the change in errors.
    pub fn push(
        &mut self,
        family: NetfilterProtoFamily,
        message: NfTablesMessage,
        flags: u16,
        what: impl Into<String>,
    ) {
        let mut netlink = NetlinkMessage::from(NetfilterMessage::new(NetfilterHeader::new(family, 0, 0), message));
        // No NLM_F_ACK: the kernel reports failures anyway, and a batch of thousands of changes
        // would otherwise overflow the socket's receive buffer with acknowledgements.
        netlink.header.flags = NLM_F_REQUEST | flags;
        self.messages.push((netlink, what.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Sends the transaction and reports the first change the kernel refused (the kernel then
    /// applied none of them).
    pub fn commit(self) -> Result<()> {
        if self.messages.is_empty() {
            return Ok(());
        }
        let socket = open_socket()?;
        let mut batch = vec![control(ControlMessage::BatchBegin)];
        batch.extend(self.messages.iter().map(|(message, _)| message.clone()));
        batch.push(control(ControlMessage::BatchEnd));
        // The kernel reads a batch from one datagram only.
        let mut buffer = Vec::new();
        for (sequence, message) in batch.iter_mut().enumerate() {
            message.header.sequence_number = sequence as u32;
            append(&mut buffer, message);
        }
        make_room(&socket, buffer.len())?;
        socket.send(&buffer, 0).context("sending an nftables transaction")?;
        // The kernel handles the batch inside send(), so every answer is already queued.
        socket.set_non_blocking(true).context("configuring the nftables socket")?;
        loop {
            let datagram = match socket.recv_from_full() {
                Ok((datagram, _)) => datagram,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(error) => return Err(error).context("reading the nftables transaction result"),
            };
            for message in parse_all(&datagram)? {
                if let NetlinkPayload::Error(error) = &message.payload {
                    if error.code.is_some() {
                        let sequence = message.header.sequence_number as usize;
                        let what = sequence
                            .checked_sub(1)
                            .and_then(|index| self.messages.get(index))
                            .map_or("the transaction", |(_, what)| what.as_str());
                        return Err(anyhow::Error::new(error.to_io()).context(format!("nftables refused {what}")));
                    }
                }
            }
        }
    }
}

/// An nftables object as the kernel reports it in a dump.
#[derive(Debug, Clone)]
pub struct Object {
    pub family: NetfilterProtoFamily,
    pub message: NfTablesMessage,
}

/// Dumps the objects `request` selects (a `Get*` message, possibly with filter attributes) in
/// `family` (`Unspec` for all families).
pub fn dump(family: NetfilterProtoFamily, request: NfTablesMessage) -> Result<Vec<Object>> {
    let mut netlink = NetlinkMessage::from(NetfilterMessage::new(NetfilterHeader::new(family, 0, 0), request));
    netlink.header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    for _ in 0..DUMP_ATTEMPTS {
        if let Some(objects) = dump_once(&netlink)? {
            return Ok(objects);
        }
    }
    Err(anyhow!("the nftables ruleset kept changing while it was being read"))
}

/// One dump; `None` when the kernel flags it as interrupted by a concurrent change.
fn dump_once(request: &NetlinkMessage<NetfilterMessage>) -> Result<Option<Vec<Object>>> {
    let socket = open_socket()?;
    let mut buffer = Vec::new();
    append(&mut buffer, &mut request.clone());
    socket.send(&buffer, 0).context("sending an nftables dump request")?;
    let mut objects = Vec::new();
    let mut interrupted = false;
    loop {
        let (datagram, _) = socket.recv_from_full().context("reading an nftables dump")?;
        for message in parse_all(&datagram)? {
            interrupted |= message.header.flags & NLM_F_DUMP_INTR != 0;
            match message.payload {
                NetlinkPayload::Done(_) => return Ok((!interrupted).then_some(objects)),
                NetlinkPayload::Error(error) if error.code.is_some() => {
                    return Err(anyhow::Error::new(error.to_io()).context("nftables refused a dump"));
                }
                NetlinkPayload::InnerMessage(NetfilterMessage {
                    header,
                    inner: NetfilterMessageInner::NfTables(message),
                    ..
                }) => objects.push(Object { family: header.family, message }),
                _ => {}
            }
        }
    }
}

/// Whether `error` (from `commit` or `dump`) says the table, chain or rule does not exist.
pub fn is_not_found(error: &anyhow::Error) -> bool {
    error.downcast_ref::<io::Error>().and_then(io::Error::raw_os_error) == Some(nix::libc::ENOENT)
}

fn open_socket() -> Result<Socket> {
    let mut socket = Socket::new(NETLINK_NETFILTER).context("opening a netfilter netlink socket")?;
    socket.bind_auto().context("binding a netfilter netlink socket")?;
    Ok(socket)
}

/// Raises the socket's send buffer so that a `length`-byte batch fits in one datagram.
fn make_room(socket: &Socket, length: usize) -> Result<()> {
    /// Below this the default buffer (`net.core.wmem_default`) is large enough.
    const DEFAULT_ROOM: usize = 128 * 1024;
    if length <= DEFAULT_ROOM {
        return Ok(());
    }
    // SO_SNDBUFFORCE (root) ignores net.core.wmem_max; the kernel doubles the value for overhead.
    nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::SndBufForce, &(length + 4096))
        .context("enlarging the nftables socket's send buffer")
}

fn control(message: ControlMessage) -> NetlinkMessage<NetfilterMessage> {
    let header = NetfilterHeader::new(NetfilterProtoFamily::Unspec, 0, SUBSYSTEM_NFTABLES);
    let mut netlink = NetlinkMessage::from(NetfilterMessage::new(header, message));
    netlink.header.flags = NLM_F_REQUEST;
    netlink
}

/// Serializes `message` at the end of `buffer`, padded to netlink's 4-byte alignment.
fn append(buffer: &mut Vec<u8>, message: &mut NetlinkMessage<NetfilterMessage>) {
    message.finalize();
    let start = buffer.len();
    buffer.resize(start + message.buffer_len(), 0);
    message.serialize(&mut buffer[start..]);
    buffer.resize(buffer.len().next_multiple_of(4), 0);
}

/// Splits a datagram into its netlink messages. Messages the parser does not understand (rules
/// written by other tools may use expressions it lacks) are skipped rather than failing the read.
fn parse_all(datagram: &[u8]) -> Result<Vec<NetlinkMessage<NetfilterMessage>>> {
    let mut messages = Vec::new();
    let mut rest = datagram;
    while rest.len() >= 16 {
        let length = u32::from_ne_bytes(rest[..4].try_into().expect("four bytes")) as usize;
        if length < 16 || length > rest.len() {
            return Err(anyhow!("malformed netlink message from the kernel ({length} bytes of {})", rest.len()));
        }
        match NetlinkMessage::<NetfilterMessage>::deserialize(&rest[..length]) {
            Ok(message) => messages.push(message),
            Err(error) => tracing::debug!(%error, "skipping an nftables message that does not parse"),
        }
        rest = &rest[length.next_multiple_of(4).min(rest.len())..];
    }
    Ok(messages)
}
