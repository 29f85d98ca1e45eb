//! Building blocks for nftables rules: the register-machine expressions behind matches such as
//! `ip saddr 10.42.0.0/24`, `iifname "onebin0"`, `ct state new` or `fib daddr type local`, set and
//! map lookups (`ip daddr . meta l4proto . th dport vmap @m`), actions such as `dnat to`,
//! `masquerade`, `reject` or `meta mark set`, verdicts, and the comment format `nft` shows for a
//! rule.
//!
//! Expressions the netlink crate has no type for (`nat`, `numgen`, `fib`, `ct`, `reject`,
//! `dynset`, `masq` options) are written as raw attributes, numbered as in the kernel's
//! `uapi/linux/netfilter/nf_tables.h`. Values that live in registers in host byte order (marks,
//! conntrack state, `fib` results, `numgen` output) are written with `to_ne_bytes`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use netlink_packet_netfilter::nftables::{
    Bitwise, Cmp, DataAttribute, ExpressionAttribute, Expressions, Immediate, ListAttribute, Lookup, Meta, MetaKey,
    Operator, Payload, Register, Verdict, VerdictAttribute,
};
use rtnetlink::packet_core::DefaultNla;

/// One expression of a rule, as a rule's expression list holds it.
pub type Expression = ListAttribute<ExpressionAttribute>;

/// `NFT_PAYLOAD_NETWORK_HEADER`: payload offsets count from the IP header.
const NETWORK_HEADER: u32 = 1;
/// `NFT_PAYLOAD_TRANSPORT_HEADER`: offsets count from the TCP/UDP/SCTP header.
const TRANSPORT_HEADER: u32 = 2;
const SOURCE_PORT_OFFSET: u32 = 0;
const DESTINATION_PORT_OFFSET: u32 = 2;
const IPV4_SOURCE_OFFSET: u32 = 12;
const IPV4_DESTINATION_OFFSET: u32 = 16;
/// `IFNAMSIZ`: interface names are compared as fixed, zero-padded buffers.
const INTERFACE_NAME_SIZE: usize = 16;
/// `NFPROTO_IPV4`, as `meta nfproto` reports it in `inet` tables.
const NFPROTO_IPV4: u8 = 2;
/// `NF_DROP`, `NF_ACCEPT`.
const DROP: u32 = 0;
const ACCEPT: u32 = 1;
/// `NFTNL_UDATA_RULE_COMMENT`: the user-data record `nft` shows as `comment "…"`.
const COMMENT_RECORD: u8 = 0;

/// Which IPv4 address of a packet a match looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Field {
    Source,
    Destination,
}

/// Which port of a TCP, UDP or SCTP header a match looks at (`th sport|dport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortField {
    Source,
    Destination,
}

/// `ip saddr|daddr [!=] <net>`: loads the address, masks it to the prefix and compares.
pub fn ipv4_in(field: Ipv4Field, net: Ipv4Net, matches: bool) -> Vec<Expression> {
    let operator = if matches { Operator::Equal } else { Operator::NotEqual };
    let mut expressions = vec![load_ipv4(field, Register::Reg1)];
    // A single address needs no mask.
    if net.prefix_len() < 32 {
        expressions.push(
            Expressions::Bitwise(vec![
                Bitwise::SourceRegister(Register::Reg1),
                Bitwise::DestinationRegister(Register::Reg1),
                Bitwise::Length(4),
                Bitwise::Mask(DataAttribute::Value(net.netmask().octets().to_vec())),
                Bitwise::Xor(DataAttribute::Value(vec![0; 4])),
            ])
            .into(),
        );
    }
    expressions.push(compare(operator, net.network().octets().to_vec()));
    expressions
}

/// Loads the packet's source or destination IPv4 address into `register`.
pub fn load_ipv4(field: Ipv4Field, register: Register) -> Expression {
    let offset = match field {
        Ipv4Field::Source => IPV4_SOURCE_OFFSET,
        Ipv4Field::Destination => IPV4_DESTINATION_OFFSET,
    };
    load_payload(NETWORK_HEADER, offset, 4, register)
}

/// Loads the transport header's source or destination port (`th sport|dport`) into `register`.
pub fn load_port(field: PortField, register: Register) -> Expression {
    let offset = match field {
        PortField::Source => SOURCE_PORT_OFFSET,
        PortField::Destination => DESTINATION_PORT_OFFSET,
    };
    load_payload(TRANSPORT_HEADER, offset, 2, register)
}

/// Loads the transport protocol number (`meta l4proto`) into `register`.
pub fn load_l4proto(register: Register) -> Expression {
    Expressions::Meta(vec![Meta::Key(MetaKey::L4Proto), Meta::DestinationRegister(register)]).into()
}

/// `meta l4proto <protocol>` (an IANA protocol number: 6 TCP, 17 UDP, 132 SCTP).
pub fn l4proto_is(protocol: u8) -> Vec<Expression> {
    vec![load_l4proto(Register::Reg1), compare(Operator::Equal, vec![protocol])]
}

/// `th dport|sport <port>`.
pub fn port_is(field: PortField, port: u16) -> Vec<Expression> {
    vec![load_port(field, Register::Reg1), compare(Operator::Equal, port.to_be_bytes().to_vec())]
}

/// `meta nfproto ipv4`: needed before IPv4 payload matches in `inet` tables.
pub fn nfproto_ipv4() -> Vec<Expression> {
    vec![load_meta(MetaKey::Nfproto), compare(Operator::Equal, vec![NFPROTO_IPV4])]
}

/// `iifname "<name>"`.
pub fn input_interface(name: &str) -> Vec<Expression> {
    vec![load_meta(MetaKey::Iifname), compare(Operator::Equal, interface_name(name))]
}

/// `oifname "<name>"`.
pub fn output_interface(name: &str) -> Vec<Expression> {
    vec![load_meta(MetaKey::Oifname), compare(Operator::Equal, interface_name(name))]
}

/// `ct state new`: the packet opens a connection.
pub fn ct_state_new() -> Vec<Expression> {
    const CT_STATE: u32 = 0; // NFT_CT_STATE
    const NEW: u32 = 1 << 3; // NF_CT_STATE_BIT(IP_CT_NEW)
    vec![
        raw("ct", &[(CT_DESTINATION_REGISTER, register_value(Register::Reg1)), (CT_KEY, be32(CT_STATE))]),
        mask(Register::Reg1, NEW),
        compare(Operator::NotEqual, vec![0; 4]),
    ]
}

/// `fib saddr|daddr type local`: the address belongs to this host (in the packet's namespace).
pub fn fib_address_is_local(field: Ipv4Field) -> Vec<Expression> {
    const RESULT_ADDRESS_TYPE: u32 = 3; // NFT_FIB_RESULT_ADDRTYPE
    const RTN_LOCAL: u32 = 2;
    let flags: u32 = match field {
        Ipv4Field::Source => 1,      // NFTA_FIB_F_SADDR
        Ipv4Field::Destination => 2, // NFTA_FIB_F_DADDR
    };
    vec![
        raw("fib", &[(1, register_value(Register::Reg1)), (2, be32(RESULT_ADDRESS_TYPE)), (3, be32(flags))]),
        compare(Operator::Equal, RTN_LOCAL.to_ne_bytes().to_vec()),
    ]
}

/// `meta mark & <bits> == 0`.
pub fn mark_clear(bits: u32) -> Vec<Expression> {
    vec![load_meta(MetaKey::Mark), mask(Register::Reg1, bits), compare(Operator::Equal, vec![0; 4])]
}

/// `meta mark set mark | <bits>`.
pub fn mark_set(bits: u32) -> Vec<Expression> {
    rewrite_mark(!bits, bits)
}

/// `meta mark set mark ^ <bits>`.
pub fn mark_toggle(bits: u32) -> Vec<Expression> {
    rewrite_mark(u32::MAX, bits)
}

/// Loads a random number below `modulus` (`numgen random mod <modulus>`) into `register`.
pub fn random_below(modulus: u32, register: Register) -> Expression {
    const RANDOM: u32 = 1; // NFT_NG_RANDOM
    raw("numgen", &[(1, register_value(register)), (2, be32(modulus)), (3, be32(RANDOM))])
}

/// Matches when the key in registers from `key` on is in the named set (`… @set`). `set_id`
/// refers to a set created earlier in the same transaction.
pub fn in_set(set: &str, set_id: Option<u32>, key: Register) -> Expression {
    let mut attributes = vec![Lookup::Set(set.to_string()), Lookup::SourceRegister(key)];
    attributes.extend(set_id.map(Lookup::SetId));
    Expressions::Lookup(attributes).into()
}

/// Looks the key in registers from `key` on up in a verdict map and applies the verdict found
/// (`… vmap @map`); no entry means no verdict.
pub fn verdict_map(map: &str, map_id: Option<u32>, key: Register) -> Expression {
    let mut attributes =
        vec![Lookup::Set(map.to_string()), Lookup::SourceRegister(key), Lookup::DestinationRegister(Register::Verdict)];
    attributes.extend(map_id.map(Lookup::SetId));
    Expressions::Lookup(attributes).into()
}

/// Adds or refreshes the key in `key` in a dynamic set with a timeout
/// (`update @set { <key> timeout <timeout> }`).
pub fn update_set(set: &str, key: Register, timeout: std::time::Duration) -> Expression {
    const UPDATE: u32 = 1; // NFT_DYNSET_OP_UPDATE
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    raw(
        "dynset",
        &[(1, nul_terminated(set)), (3, be32(UPDATE)), (4, register_value(key)), (6, millis.to_be_bytes().to_vec())],
    )
}

/// `dnat to <address>:<port>` for IPv4 (registers 1 and 2 carry the target).
pub fn dnat(address: Ipv4Addr, port: u16) -> Vec<Expression> {
    const DESTINATION_NAT: u32 = 1; // NFT_NAT_DNAT
    const MAP_ADDRESSES_AND_PORTS: u32 = 0x3; // NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED
    let reg1 = register_value(Register::Reg1);
    let reg2 = register_value(Register::Reg2);
    vec![
        load_value(Register::Reg1, address.octets().to_vec()),
        load_value(Register::Reg2, port.to_be_bytes().to_vec()),
        raw(
            "nat",
            &[
                (1, be32(DESTINATION_NAT)),
                (2, be32(u32::from(NFPROTO_IPV4))),
                (3, reg1.clone()),
                (4, reg1),
                (5, reg2.clone()),
                (6, reg2),
                (7, be32(MAP_ADDRESSES_AND_PORTS)),
            ],
        ),
    ]
}

/// `reject`: an ICMP port-unreachable, which TCP, UDP and SCTP clients report as refused.
pub fn reject() -> Expression {
    const ICMP_UNREACHABLE: u32 = 0; // NFT_REJECT_ICMP_UNREACH
    const PORT_UNREACHABLE: u8 = 3; // ICMP_PORT_UNREACH
    raw("reject", &[(1, be32(ICMP_UNREACHABLE)), (2, vec![PORT_UNREACHABLE])])
}

/// `reject with tcp reset` (only valid after a `meta l4proto tcp` match).
pub fn reject_with_tcp_reset() -> Expression {
    const TCP_RESET: u32 = 1; // NFT_REJECT_TCP_RST
    raw("reject", &[(1, be32(TCP_RESET))])
}

/// `accept`.
pub fn accept() -> Expression {
    verdict(VerdictAttribute::Code(ACCEPT.into()), None)
}

/// `drop`.
pub fn drop() -> Expression {
    verdict(VerdictAttribute::Code(DROP.into()), None)
}

/// `return`.
pub fn return_from_chain() -> Expression {
    verdict(VerdictAttribute::Code(Verdict::Return), None)
}

/// `jump <chain>`.
pub fn jump(chain: &str) -> Expression {
    verdict(VerdictAttribute::Code(Verdict::Jump), Some(chain))
}

/// `goto <chain>`.
pub fn goto(chain: &str) -> Expression {
    verdict(VerdictAttribute::Code(Verdict::Goto), Some(chain))
}

/// `masquerade`: source NAT to the address of the outgoing interface.
pub fn masquerade() -> Expression {
    ListAttribute::Element(vec![ExpressionAttribute::Name("masq".to_string())])
}

/// `masquerade fully-random`: as `masquerade`, with randomized source ports so that many
/// clients hidden behind one address do not collide on a port.
pub fn masquerade_fully_random() -> Expression {
    const RANDOM_FULLY: u32 = 1 << 4; // NF_NAT_RANGE_PROTO_RANDOM_FULLY
    raw("masq", &[(1, be32(RANDOM_FULLY))])
}

/// A rule's user data carrying `text` as the comment `nft list ruleset` prints; onebin also
/// recognises its own rules by it. Comments longer than nft's 128-byte limit are cut.
pub fn comment(text: &str) -> Vec<u8> {
    let mut bytes: Vec<u8> = text.bytes().take(127).collect();
    bytes.push(0);
    let mut record = vec![COMMENT_RECORD, bytes.len() as u8];
    record.extend(bytes);
    record
}

/// `NFTA_CT_DREG`, `NFTA_CT_KEY`.
const CT_DESTINATION_REGISTER: u16 = 1;
const CT_KEY: u16 = 2;

fn load_meta(key: MetaKey) -> Expression {
    Expressions::Meta(vec![Meta::Key(key), Meta::DestinationRegister(Register::Reg1)]).into()
}

fn load_payload(base: u32, offset: u32, length: u32, register: Register) -> Expression {
    Expressions::Payload(vec![
        Payload::DestinationRegister(register),
        Payload::Base(base),
        Payload::Offset(offset),
        Payload::Len(length),
    ])
    .into()
}

fn load_value(register: Register, value: Vec<u8>) -> Expression {
    Expressions::Immediate(vec![Immediate::DestinationRegister(register), Immediate::Data(DataAttribute::Value(value))])
        .into()
}

fn compare(operator: Operator, value: Vec<u8>) -> Expression {
    Expressions::Cmp(vec![
        Cmp::SourceRegister(Register::Reg1),
        Cmp::Op(operator),
        Cmp::Data(DataAttribute::Value(value)),
    ])
    .into()
}

/// `register &= bits` on a host-order 32-bit value.
fn mask(register: Register, bits: u32) -> Expression {
    Expressions::Bitwise(vec![
        Bitwise::SourceRegister(register),
        Bitwise::DestinationRegister(register),
        Bitwise::Length(4),
        Bitwise::Mask(DataAttribute::Value(bits.to_ne_bytes().to_vec())),
        Bitwise::Xor(DataAttribute::Value(vec![0; 4])),
    ])
    .into()
}

/// `meta mark set (mark & and) ^ xor`.
fn rewrite_mark(and: u32, xor: u32) -> Vec<Expression> {
    vec![
        load_meta(MetaKey::Mark),
        Expressions::Bitwise(vec![
            Bitwise::SourceRegister(Register::Reg1),
            Bitwise::DestinationRegister(Register::Reg1),
            Bitwise::Length(4),
            Bitwise::Mask(DataAttribute::Value(and.to_ne_bytes().to_vec())),
            Bitwise::Xor(DataAttribute::Value(xor.to_ne_bytes().to_vec())),
        ])
        .into(),
        Expressions::Meta(vec![Meta::Key(MetaKey::Mark), Meta::SourceRegister(Register::Reg1)]).into(),
    ]
}

fn verdict(code: VerdictAttribute, chain: Option<&str>) -> Expression {
    let mut attributes = vec![code];
    attributes.extend(chain.map(|chain| VerdictAttribute::Chain(chain.to_string())));
    Expressions::Immediate(vec![
        Immediate::DestinationRegister(Register::Verdict),
        Immediate::Data(DataAttribute::Verdict(attributes)),
    ])
    .into()
}

/// An expression the netlink crate has no type for, from its numbered attributes.
fn raw(name: &str, attributes: &[(u16, Vec<u8>)]) -> Expression {
    Expressions::Other {
        expression_type: name.to_string(),
        attributes: attributes.iter().map(|(kind, value)| DefaultNla::new(*kind, value.clone())).collect(),
    }
    .into()
}

fn register_value(register: Register) -> Vec<u8> {
    be32(register.into())
}

fn be32(value: u32) -> Vec<u8> {
    value.to_be_bytes().to_vec()
}

fn nul_terminated(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

fn interface_name(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(INTERFACE_NAME_SIZE, 0);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matches_mask_the_address() {
        let net: Ipv4Net = "10.42.0.0/16".parse().unwrap();
        let expressions = ipv4_in(Ipv4Field::Destination, net, false);
        assert_eq!(expressions.len(), 3);
        let ListAttribute::Element(attributes) = &expressions[1] else { panic!("not an expression") };
        let ExpressionAttribute::Data(Expressions::Bitwise(bitwise)) = &attributes[1] else { panic!("not bitwise") };
        assert!(bitwise.contains(&Bitwise::Mask(DataAttribute::Value(vec![255, 255, 0, 0]))));
        let ListAttribute::Element(attributes) = &expressions[2] else { panic!("not an expression") };
        let ExpressionAttribute::Data(Expressions::Cmp(cmp)) = &attributes[1] else { panic!("not cmp") };
        assert!(cmp.contains(&Cmp::Op(Operator::NotEqual)));
        assert!(cmp.contains(&Cmp::Data(DataAttribute::Value(vec![10, 42, 0, 0]))));
    }

    #[test]
    fn comments_use_nft_user_data_records() {
        assert_eq!(comment("hi"), vec![0, 3, b'h', b'i', 0]);
        assert_eq!(comment(&"x".repeat(300)).len(), 2 + 128);
    }

    #[test]
    fn interface_names_are_zero_padded() {
        assert_eq!(interface_name("onebin0"), b"onebin0\0\0\0\0\0\0\0\0\0".to_vec());
    }
}
