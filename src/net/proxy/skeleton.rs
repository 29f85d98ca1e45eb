//! The fixed part of the proxy's table, after kube-proxy's nftables mode:
//!
//! - `nat-prerouting` and `nat-output` (DNAT priority) jump to `services`, which looks the
//!   destination address, protocol and port up in `service-ips`, and for addresses of this node
//!   (except loopback) protocol and port in `service-nodeports`; entries go to service chains.
//! - `filter-input`, `filter-forward` and `filter-output` (just before DNAT) send new
//!   connections through `endpoints-check`, which looks them up in the "no endpoints" maps:
//!   services without endpoints are rejected there instead of timing out. (Reject is not
//!   allowed in prerouting on older kernels, hence the three hooks.)
//! - `nat-postrouting` masquerades what `mark-for-masquerade` marked.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use netlink_packet_netfilter::nftables::{InetHookNumber, NfTablesMessage, Register};

use crate::net::nft::expr::{self, Expression, Ipv4Field, PortField};
use crate::net::nft::objects::{self, BaseChain, KeyPart, KeyValue, SetKind};

pub const SERVICES: &str = "services";
pub const ENDPOINTS_CHECK: &str = "endpoints-check";
/// Refuses a connection: TCP reset for TCP, ICMP port unreachable otherwise.
pub const REJECT: &str = "reject-chain";
pub const MARK_FOR_MASQUERADE: &str = "mark-for-masquerade";
pub const MASQUERADING: &str = "masquerading";
/// The packet mark bit asking for masquerade, kube-proxy's.
const MASQUERADE_MARK: u32 = 0x4000;
/// Filter chains run just before DNAT, so they see the service address.
const FILTER_PRIORITY: i32 = -110;
const DESTINATION_NAT_PRIORITY: i32 = -100;
const SOURCE_NAT_PRIORITY: i32 = 100;

/// The table's maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Map {
    /// Cluster IP, external IP and load-balancer traffic, by address . protocol . port.
    ServiceIps,
    /// NodePort traffic, by protocol . port.
    NodePorts,
    /// Services without (usable) endpoints, by address . protocol . port.
    NoEndpointServices,
    /// NodePorts without (usable) endpoints, by protocol . port.
    NoEndpointNodePorts,
}

impl Map {
    pub const ALL: [Map; 4] = [Map::ServiceIps, Map::NodePorts, Map::NoEndpointServices, Map::NoEndpointNodePorts];

    pub fn name(self) -> &'static str {
        match self {
            Self::ServiceIps => "service-ips",
            Self::NodePorts => "service-nodeports",
            Self::NoEndpointServices => "no-endpoint-services",
            Self::NoEndpointNodePorts => "no-endpoint-nodeports",
        }
    }

    fn by_address(self) -> bool {
        matches!(self, Self::ServiceIps | Self::NoEndpointServices)
    }

    fn key_parts(self) -> &'static [KeyPart] {
        if self.by_address() {
            &[KeyPart::Ipv4Address, KeyPart::Protocol, KeyPart::Port]
        } else {
            &[KeyPart::Protocol, KeyPart::Port]
        }
    }
}

/// The key of an entry in `ServiceIps` or `NoEndpointServices`.
pub fn address_key(address: Ipv4Addr, protocol: u8, port: u16) -> Vec<u8> {
    objects::key(&[KeyValue::Ipv4Address(address), KeyValue::Protocol(protocol), KeyValue::Port(port)])
}

/// The key of an entry in `NodePorts` or `NoEndpointNodePorts`.
pub fn port_key(protocol: u8, port: u16) -> Vec<u8> {
    objects::key(&[KeyValue::Protocol(protocol), KeyValue::Port(port)])
}

/// The messages filling a new, empty `table` with the skeleton; `next_id` numbers the sets.
pub fn messages(table: &str, next_id: &mut impl FnMut() -> u32) -> Vec<NfTablesMessage> {
    let mut messages: Vec<NfTablesMessage> = Map::ALL
        .iter()
        .map(|map| objects::set(table, map.name(), map.key_parts(), SetKind::VerdictMap, next_id()))
        .collect();
    for chain in [SERVICES, ENDPOINTS_CHECK, REJECT, MARK_FOR_MASQUERADE, MASQUERADING] {
        messages.push(objects::chain(table, chain, None));
    }
    let base_chains = [
        ("filter-input", "filter", InetHookNumber::LocalIn, FILTER_PRIORITY, ENDPOINTS_CHECK),
        ("filter-forward", "filter", InetHookNumber::Forward, FILTER_PRIORITY, ENDPOINTS_CHECK),
        ("filter-output", "filter", InetHookNumber::LocalOut, FILTER_PRIORITY, ENDPOINTS_CHECK),
        ("nat-prerouting", "nat", InetHookNumber::PreRouting, DESTINATION_NAT_PRIORITY, SERVICES),
        ("nat-output", "nat", InetHookNumber::LocalOut, DESTINATION_NAT_PRIORITY, SERVICES),
        ("nat-postrouting", "nat", InetHookNumber::PostRouting, SOURCE_NAT_PRIORITY, MASQUERADING),
    ];
    for (name, kind, hook, priority, target) in base_chains {
        messages.push(objects::chain(table, name, Some(BaseChain { kind, hook, priority })));
        // Checking new connections is enough: the verdict holds for the rest of them.
        let mut jump = if kind == "filter" { expr::ct_state_new() } else { Vec::new() };
        jump.push(expr::jump(target));
        messages.push(objects::rule(table, name, jump, None));
    }
    for (chain, map) in [(SERVICES, Map::ServiceIps), (ENDPOINTS_CHECK, Map::NoEndpointServices)] {
        messages.push(objects::rule(table, chain, dispatch_by_address(map), None));
    }
    for (chain, map) in [(SERVICES, Map::NodePorts), (ENDPOINTS_CHECK, Map::NoEndpointNodePorts)] {
        messages.push(objects::rule(table, chain, dispatch_node_ports(map), None));
    }
    let mut tcp_reset = expr::l4proto_is(6);
    tcp_reset.push(expr::reject_with_tcp_reset());
    messages.push(objects::rule(table, REJECT, tcp_reset, None));
    messages.push(objects::rule(table, REJECT, vec![expr::reject()], None));
    messages.push(objects::rule(table, MARK_FOR_MASQUERADE, expr::mark_set(MASQUERADE_MARK), None));
    let mut unmarked = expr::mark_clear(MASQUERADE_MARK);
    unmarked.push(expr::return_from_chain());
    messages.push(objects::rule(table, MASQUERADING, unmarked, None));
    // Clear the mark so that a packet masqueraded here is not masqueraded again elsewhere.
    messages.push(objects::rule(table, MASQUERADING, expr::mark_toggle(MASQUERADE_MARK), None));
    messages.push(objects::rule(table, MASQUERADING, vec![expr::masquerade_fully_random()], None));
    messages
}

/// `ip daddr . meta l4proto . th dport vmap @<map>`.
fn dispatch_by_address(map: Map) -> Vec<Expression> {
    vec![
        expr::load_ipv4(Ipv4Field::Destination, Register::Reg32_00),
        expr::load_l4proto(Register::Reg32_01),
        expr::load_port(PortField::Destination, Register::Reg32_02),
        expr::verdict_map(map.name(), None, Register::Reg32_00),
    ]
}

/// `fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @<map>`: NodePorts
/// answer on every address of the node but loopback (DNAT from loopback would need
/// `route_localnet`).
fn dispatch_node_ports(map: Map) -> Vec<Expression> {
    let loopback = Ipv4Net::new_assert(Ipv4Addr::LOCALHOST, 8);
    let mut expressions = expr::fib_address_is_local(Ipv4Field::Destination);
    expressions.extend(expr::ipv4_in(Ipv4Field::Destination, loopback, false));
    expressions.extend([
        expr::load_l4proto(Register::Reg32_00),
        expr::load_port(PortField::Destination, Register::Reg32_01),
        expr::verdict_map(map.name(), None, Register::Reg32_00),
    ]);
    expressions
}
