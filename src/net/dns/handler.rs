//! One DNS request, start to finish: the cluster's answer from the cache, or the upstreams'
//! for everything else, with ExternalName aliases followed to their target's records (stub
//! resolvers in pods expect the whole chain in one reply).

use std::sync::{Arc, RwLock};

use hickory_proto::op::{Edns, Header, HeaderCounts, Message, Metadata, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

use super::answer::{Lookup, Zone, ZoneAnswer};
use super::cache::ClusterCache;
use super::forward::Forwarder;

/// How many aliases in a row are followed before giving up (a loop, or a silly chain).
const MAX_ALIAS_HOPS: usize = 8;
/// The largest UDP reply sent, whatever buffer a client advertises.
const MAX_UDP_PAYLOAD: u16 = 4096;

#[derive(Clone)]
pub struct DnsHandler {
    zone: Zone,
    cache: Arc<RwLock<ClusterCache>>,
    forwarder: Forwarder,
}

/// A reply's header bits and sections.
struct Reply {
    code: ResponseCode,
    authoritative: bool,
    authentic_data: bool,
    answers: Vec<Record>,
    authorities: Vec<Record>,
    additionals: Vec<Record>,
}

impl Reply {
    fn error(code: ResponseCode) -> Self {
        Self::from_zone(ZoneAnswer { code, ..ZoneAnswer::default() }, false)
    }

    fn from_zone(answer: ZoneAnswer, authoritative: bool) -> Self {
        Self {
            code: answer.code,
            authoritative,
            authentic_data: false,
            answers: answer.answers,
            authorities: answer.authorities,
            additionals: answer.additionals,
        }
    }

    fn from_upstream(message: Message) -> Self {
        Self {
            code: message.metadata.response_code,
            authoritative: message.metadata.authoritative,
            authentic_data: message.metadata.authentic_data,
            answers: message.answers,
            authorities: message.authorities,
            additionals: message.additionals,
        }
    }
}

impl DnsHandler {
    pub fn new(zone: Zone, cache: Arc<RwLock<ClusterCache>>, forwarder: Forwarder) -> Self {
        Self { zone, cache, forwarder }
    }

    async fn reply(&self, request: &Request) -> Reply {
        if request.metadata.op_code != OpCode::Query {
            return Reply::error(ResponseCode::NotImp);
        }
        let Ok(info) = request.request_info() else { return Reply::error(ResponseCode::FormErr) };
        let query = info.query.original();
        let over_tcp = request.protocol() == Protocol::Tcp;
        if query.query_class() != DNSClass::IN {
            if self.zone.contains(query.name()) {
                return Reply::error(ResponseCode::Refused);
            }
            return self.forward(request, query, over_tcp).await;
        }
        match self.lookup(query.name(), query.query_type()) {
            Lookup::Forward => self.forward(request, query, over_tcp).await,
            Lookup::Answer(answer) => self.follow_aliases(answer, query.query_type(), over_tcp).await,
        }
    }

    fn lookup(&self, name: &Name, qtype: RecordType) -> Lookup {
        let cache = self.cache.read().expect("DNS cache lock");
        self.zone.lookup(&cache, name, qtype)
    }

    async fn forward(&self, request: &Request, query: &Query, over_tcp: bool) -> Reply {
        match self.forwarder.forward(request.as_slice(), query, over_tcp).await {
            Ok(message) => Reply::from_upstream(message),
            Err(err) => {
                tracing::debug!(name = %query.name(), qtype = %query.query_type(), "forwarding failed: {err:#}");
                Reply::error(ResponseCode::ServFail)
            }
        }
    }

    /// Completes an answer whose name is an alias with the records of its target, in the
    /// cluster or upstream.
    async fn follow_aliases(&self, answer: ZoneAnswer, qtype: RecordType, over_tcp: bool) -> Reply {
        let mut target = answer.alias_target.clone();
        let mut reply = Reply::from_zone(answer, true);
        let mut hops = 0;
        while let Some(name) = target.take() {
            hops += 1;
            if hops > MAX_ALIAS_HOPS {
                reply.code = ResponseCode::ServFail;
                break;
            }
            match self.lookup(&name, qtype) {
                Lookup::Answer(next) => {
                    target = next.alias_target;
                    reply.code = next.code;
                    reply.answers.extend(next.answers);
                    reply.authorities = next.authorities;
                    reply.additionals.extend(next.additionals);
                }
                Lookup::Forward => match self.forwarder.resolve(&name, qtype, over_tcp).await {
                    Ok(upstream) => {
                        reply.code = upstream.metadata.response_code;
                        reply.answers.extend(upstream.answers);
                        reply.authorities = upstream.authorities;
                    }
                    Err(err) => {
                        tracing::debug!(%name, %qtype, "resolving an alias target failed: {err:#}");
                        reply.code = ResponseCode::ServFail;
                    }
                },
            }
        }
        reply
    }
}

#[async_trait::async_trait]
impl RequestHandler for DnsHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, mut response: R) -> ResponseInfo {
        let reply = self.reply(request).await;
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.response_code = reply.code;
        metadata.authoritative = reply.authoritative;
        metadata.authentic_data = reply.authentic_data;
        metadata.recursion_available = true;
        // A client that speaks EDNS gets it back, with the UDP size both sides can take.
        let edns = request.edns.as_ref().map(|asked| {
            let mut edns = Edns::new();
            edns.set_max_payload(asked.max_payload().clamp(512, MAX_UDP_PAYLOAD));
            edns.set_dnssec_ok(asked.flags().dnssec_ok);
            edns
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let message = builder.build(
            metadata,
            reply.answers.iter(),
            reply.authorities.iter(),
            std::iter::empty(),
            reply.additionals.iter(),
        );
        match response.send_response(message).await {
            Ok(info) => info,
            Err(err) => {
                tracing::debug!(client = %request.src(), "sending a DNS reply failed: {err}");
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header { metadata, counts: HeaderCounts::default() })
            }
        }
    }
}
