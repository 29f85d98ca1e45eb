//! Building blocks for nftables rules: the register-machine expressions behind matches such as
//! `ip saddr 10.42.0.0/24`, `iifname "onebin0"` and verdicts such as `accept` or `masquerade`,
//! plus the comment format `nft` shows for a rule.

use ipnet::Ipv4Net;
use netlink_packet_netfilter::nftables::{
    Bitwise, Cmp, DataAttribute, ExpressionAttribute, Expressions, Immediate, ListAttribute, Meta, MetaKey, Operator,
    Payload, Register, VerdictAttribute,
};

/// One expression of a rule, as a rule's expression list holds it.
pub type Expression = ListAttribute<ExpressionAttribute>;

/// `NFT_PAYLOAD_NETWORK_HEADER`: payload offsets count from the IP header.
const NETWORK_HEADER: u32 = 1;
const IPV4_SOURCE_OFFSET: u32 = 12;
const IPV4_DESTINATION_OFFSET: u32 = 16;
/// `IFNAMSIZ`: interface names are compared as fixed, zero-padded buffers.
const INTERFACE_NAME_SIZE: usize = 16;
/// `NFPROTO_IPV4`, as `meta nfproto` reports it in `inet` tables.
const NFPROTO_IPV4: u8 = 2;
/// `NF_ACCEPT`.
const ACCEPT: u32 = 1;
/// `NFTNL_UDATA_RULE_COMMENT`: the user-data record `nft` shows as `comment "…"`.
const COMMENT_RECORD: u8 = 0;

/// Which IPv4 address of a packet a match looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Field {
    Source,
    Destination,
}

/// `ip saddr|daddr [!=] <net>`: loads the address, masks it to the prefix and compares.
pub fn ipv4_in(field: Ipv4Field, net: Ipv4Net, matches: bool) -> Vec<Expression> {
    let offset = match field {
        Ipv4Field::Source => IPV4_SOURCE_OFFSET,
        Ipv4Field::Destination => IPV4_DESTINATION_OFFSET,
    };
    vec![
        Expressions::Payload(vec![
            Payload::DestinationRegister(Register::Reg1),
            Payload::Base(NETWORK_HEADER),
            Payload::Offset(offset),
            Payload::Len(4),
        ])
        .into(),
        Expressions::Bitwise(vec![
            Bitwise::SourceRegister(Register::Reg1),
            Bitwise::DestinationRegister(Register::Reg1),
            Bitwise::Length(4),
            Bitwise::Mask(DataAttribute::Value(net.netmask().octets().to_vec())),
            Bitwise::Xor(DataAttribute::Value(vec![0; 4])),
        ])
        .into(),
        compare(if matches { Operator::Equal } else { Operator::NotEqual }, net.network().octets().to_vec()),
    ]
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

/// `accept`.
pub fn accept() -> Expression {
    Expressions::Immediate(vec![
        Immediate::DestinationRegister(Register::Verdict),
        Immediate::Data(DataAttribute::Verdict(vec![VerdictAttribute::Code(ACCEPT.into())])),
    ])
    .into()
}

/// `masquerade`: source NAT to the address of the outgoing interface.
pub fn masquerade() -> Expression {
    ListAttribute::Element(vec![ExpressionAttribute::Name("masq".to_string())])
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

fn load_meta(key: MetaKey) -> Expression {
    Expressions::Meta(vec![Meta::Key(key), Meta::DestinationRegister(Register::Reg1)]).into()
}

fn compare(operator: Operator, value: Vec<u8>) -> Expression {
    Expressions::Cmp(vec![
        Cmp::SourceRegister(Register::Reg1),
        Cmp::Op(operator),
        Cmp::Data(DataAttribute::Value(value)),
    ])
    .into()
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
