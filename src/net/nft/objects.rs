//! Messages that create, empty and delete nftables objects: tables, chains, rules, sets and
//! maps, and set elements. A `Transaction` carries them to the kernel; `flags` says which netlink
//! flags each message needs there.

use std::net::Ipv4Addr;

use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, DataAttribute, Hook, InetHookNumber, ListAttribute, NfTablesMessage, Register,
    RuleAttribute, RuleMessage, SetAttribute, SetDescription, SetElementAttribute, SetElementList, SetElementMessage,
    SetFlags, SetMessage, TableAttribute, TableMessage, Verdict as VerdictCode, VerdictAttribute,
};
use rtnetlink::packet_core::{NLM_F_APPEND, NLM_F_CREATE};

use super::expr::{self, Expression};

/// `NF_DROP` as a verdict code.
const NF_DROP: u32 = 0;
/// `NFT_DATA_VERDICT`: the data type of verdict maps.
const VERDICT_DATA: u32 = 0xffff_ff00;
/// nft's datatype numbers take this many bits each in a concatenated key type.
const TYPE_BITS: u32 = 6;
/// Elements per message, so that one message stays well below netlink's 64 KiB attribute limit.
const ELEMENTS_PER_MESSAGE: usize = 200;
/// How many entries a dynamic set may hold (nft's default size for such sets).
const DYNAMIC_SET_SIZE: u32 = 65_535;

/// The netlink flags `message` needs: create what does not exist, append rules at the end.
pub fn flags(message: &NfTablesMessage) -> u16 {
    match message {
        NfTablesMessage::NewRule(_) => NLM_F_CREATE | NLM_F_APPEND,
        NfTablesMessage::NewTable(_)
        | NfTablesMessage::NewChain(_)
        | NfTablesMessage::NewSet(_)
        | NfTablesMessage::NewSetElement(_) => NLM_F_CREATE,
        _ => 0,
    }
}

pub fn table(name: &str) -> NfTablesMessage {
    NfTablesMessage::NewTable(TableMessage { attributes: vec![TableAttribute::Name(name.to_string())] })
}

pub fn delete_table(name: &str) -> NfTablesMessage {
    NfTablesMessage::DeleteTable(TableMessage { attributes: vec![TableAttribute::Name(name.to_string())] })
}

/// Where a base chain hooks into the packet path.
#[derive(Debug, Clone, Copy)]
pub struct BaseChain {
    /// `filter` or `nat`.
    pub kind: &'static str,
    pub hook: InetHookNumber,
    /// Lower runs first; `dstnat` is -100, `srcnat` 100, `filter` 0.
    pub priority: i32,
}

/// A chain; a base chain (policy accept) when `base` says where it hooks in.
pub fn chain(table: &str, name: &str, base: Option<BaseChain>) -> NfTablesMessage {
    /// `NF_ACCEPT` as a chain policy.
    const ACCEPT: u32 = 1;
    let mut attributes = vec![ChainAttribute::Table(table.to_string()), ChainAttribute::Name(name.to_string())];
    if let Some(base) = base {
        attributes.extend([
            ChainAttribute::Type(base.kind.to_string()),
            ChainAttribute::Hook(vec![Hook::Number(base.hook.into()), Hook::Priority(base.priority as u32)]),
            ChainAttribute::Policy(ACCEPT),
        ]);
    }
    NfTablesMessage::NewChain(ChainMessage { attributes })
}

/// Removes every rule of a chain.
pub fn flush_chain(table: &str, chain: &str) -> NfTablesMessage {
    NfTablesMessage::DeleteRule(RuleMessage {
        attributes: vec![RuleAttribute::Table(table.to_string()), RuleAttribute::Chain(chain.to_string())],
    })
}

/// Deletes an empty chain that nothing jumps to any more.
pub fn delete_chain(table: &str, chain: &str) -> NfTablesMessage {
    NfTablesMessage::DeleteChain(ChainMessage {
        attributes: vec![ChainAttribute::Table(table.to_string()), ChainAttribute::Name(chain.to_string())],
    })
}

/// A rule at the end of `chain`.
pub fn rule(table: &str, chain: &str, expressions: Vec<Expression>, comment: Option<&str>) -> NfTablesMessage {
    let mut attributes = vec![
        RuleAttribute::Table(table.to_string()),
        RuleAttribute::Chain(chain.to_string()),
        RuleAttribute::Expressions(expressions),
    ];
    attributes.extend(comment.map(|text| RuleAttribute::UserData(expr::comment(text))));
    NfTablesMessage::NewRule(RuleMessage { attributes })
}

/// One component of a set key. Each takes a whole 32-bit register, as nft lays out
/// concatenations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPart {
    Ipv4Address,
    /// A transport protocol number (`inet_proto`).
    Protocol,
    /// A TCP/UDP/SCTP port (`inet_service`).
    Port,
    /// A 32-bit number in host byte order, such as `numgen` produces.
    Integer,
}

impl KeyPart {
    /// nft's datatype number, which `nft list` uses to print keys.
    fn datatype(self) -> u32 {
        match self {
            Self::Integer => 4,
            Self::Ipv4Address => 7,
            Self::Protocol => 12,
            Self::Port => 13,
        }
    }
}

/// A value of one key component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyValue {
    Ipv4Address(Ipv4Addr),
    Protocol(u8),
    Port(u16),
    Integer(u32),
}

/// The bytes of a (possibly concatenated) key: each component padded to 4 bytes, as the
/// kernel sees them in its registers.
pub fn key(values: &[KeyValue]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for value in values {
        let mut part = match value {
            KeyValue::Ipv4Address(address) => address.octets().to_vec(),
            KeyValue::Protocol(number) => vec![*number],
            KeyValue::Port(port) => port.to_be_bytes().to_vec(),
            KeyValue::Integer(number) => number.to_ne_bytes().to_vec(),
        };
        part.resize(4, 0);
        bytes.extend(part);
    }
    bytes
}

/// What a set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// Keys only, fixed by the ruleset.
    Plain,
    /// Keys that rules add and refresh (`update @set`) and that expire after a timeout.
    Dynamic,
    /// Keys mapping to verdicts (`vmap`).
    VerdictMap,
    /// A verdict map that belongs to one rule and is fixed with it (`vmap { … }`); it holds
    /// `size` entries.
    AnonymousVerdictMap { size: u32 },
}

/// A named set or map.
pub fn set(table: &str, name: &str, key: &[KeyPart], kind: SetKind, id: u32) -> NfTablesMessage {
    let mut attributes = vec![
        SetAttribute::Table(table.to_string()),
        SetAttribute::Name(name.to_string()),
        SetAttribute::KeyType(key.iter().fold(0, |concat, part| (concat << TYPE_BITS) | part.datatype())),
        SetAttribute::KeyLen(4 * key.len() as u32),
        SetAttribute::Id(id),
    ];
    match kind {
        SetKind::Plain => {}
        SetKind::Dynamic => attributes.extend([
            SetAttribute::Flags(SetFlags::Timeout | SetFlags::Eval),
            SetAttribute::Description(vec![SetDescription::Size(DYNAMIC_SET_SIZE)]),
        ]),
        SetKind::VerdictMap => {
            attributes.extend([SetAttribute::Flags(SetFlags::Map), SetAttribute::DataType(VERDICT_DATA)])
        }
        SetKind::AnonymousVerdictMap { size } => attributes.extend([
            SetAttribute::Flags(SetFlags::Anonymous | SetFlags::Constant | SetFlags::Map),
            SetAttribute::DataType(VERDICT_DATA),
            SetAttribute::Description(vec![SetDescription::Size(size)]),
        ]),
    }
    NfTablesMessage::NewSet(SetMessage { attributes })
}

pub fn delete_set(table: &str, name: &str) -> NfTablesMessage {
    NfTablesMessage::DeleteSet(SetMessage {
        attributes: vec![SetAttribute::Table(table.to_string()), SetAttribute::Name(name.to_string())],
    })
}

/// What a verdict map entry does with a packet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Drop,
    Jump(String),
    Goto(String),
}

impl Verdict {
    fn attributes(&self) -> Vec<VerdictAttribute> {
        match self {
            Self::Drop => vec![VerdictAttribute::Code(VerdictCode::from(NF_DROP))],
            Self::Jump(chain) => {
                vec![VerdictAttribute::Code(VerdictCode::Jump), VerdictAttribute::Chain(chain.clone())]
            }
            Self::Goto(chain) => {
                vec![VerdictAttribute::Code(VerdictCode::Goto), VerdictAttribute::Chain(chain.clone())]
            }
        }
    }

    /// The verdict as an expression ending a rule.
    pub fn expression(&self) -> Expression {
        match self {
            Self::Drop => expr::drop(),
            Self::Jump(chain) => expr::jump(chain),
            Self::Goto(chain) => expr::goto(chain),
        }
    }
}

/// A set element: its key, and for a map the verdict it maps to.
pub type Element = (Vec<u8>, Option<Verdict>);

/// Adds elements (keys, with verdicts for a map) to the set called `set`, or to the set created
/// with `set_id` in the same transaction. Several messages when there are many elements.
pub fn add_elements(table: &str, set: &str, set_id: Option<u32>, elements: &[Element]) -> Vec<NfTablesMessage> {
    elements
        .chunks(ELEMENTS_PER_MESSAGE)
        .map(|chunk| {
            let elements = chunk
                .iter()
                .map(|(key, verdict)| {
                    let mut attributes = vec![SetElementAttribute::Key(DataAttribute::Value(key.clone()))];
                    attributes.extend(
                        verdict
                            .as_ref()
                            .map(|verdict| SetElementAttribute::Data(DataAttribute::Verdict(verdict.attributes()))),
                    );
                    ListAttribute::Element(attributes)
                })
                .collect();
            NfTablesMessage::NewSetElement(element_message(table, set, set_id, elements))
        })
        .collect()
}

/// Removes the elements with these keys from the set called `set`.
pub fn delete_elements(table: &str, set: &str, keys: &[Vec<u8>]) -> Vec<NfTablesMessage> {
    keys.chunks(ELEMENTS_PER_MESSAGE)
        .map(|chunk| {
            let elements = chunk
                .iter()
                .map(|key| ListAttribute::Element(vec![SetElementAttribute::Key(DataAttribute::Value(key.clone()))]))
                .collect();
            NfTablesMessage::DeleteSetElement(element_message(table, set, None, elements))
        })
        .collect()
}

fn element_message(
    table: &str,
    set: &str,
    set_id: Option<u32>,
    elements: Vec<ListAttribute<SetElementAttribute>>,
) -> SetElementMessage {
    let mut attributes = vec![SetElementList::Table(table.to_string()), SetElementList::Set(set.to_string())];
    attributes.extend(set_id.map(SetElementList::SetId));
    attributes.push(SetElementList::Elements(elements));
    SetElementMessage { attributes }
}

/// A rule choosing one of `choices` at random for each new connection, as
/// `numgen random mod N vmap { 0 : …, 1 : …, … }` does: the messages creating the rule's
/// anonymous map (its id is `map_id`, unique in the transaction) and the rule itself.
pub fn random_choice_rule(table: &str, chain: &str, choices: &[Verdict], map_id: u32) -> Vec<NfTablesMessage> {
    /// The kernel numbers anonymous sets itself, replacing `%d`.
    const ANONYMOUS_MAP: &str = "__map%d";
    let size = choices.len() as u32;
    let map = set(table, ANONYMOUS_MAP, &[KeyPart::Integer], SetKind::AnonymousVerdictMap { size }, map_id);
    let elements: Vec<Element> = choices
        .iter()
        .enumerate()
        .map(|(index, verdict)| (key(&[KeyValue::Integer(index as u32)]), Some(verdict.clone())))
        .collect();
    let mut messages = vec![map];
    messages.extend(add_elements(table, ANONYMOUS_MAP, Some(map_id), &elements));
    let expressions =
        vec![expr::random_below(size, Register::Reg1), expr::verdict_map(ANONYMOUS_MAP, Some(map_id), Register::Reg1)];
    messages.push(rule(table, chain, expressions, None));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_keys_pad_each_part_to_a_register() {
        let bytes =
            key(&[KeyValue::Ipv4Address(Ipv4Addr::new(10, 43, 0, 1)), KeyValue::Protocol(6), KeyValue::Port(443)]);
        assert_eq!(bytes, vec![10, 43, 0, 1, 6, 0, 0, 0, 1, 187, 0, 0]);
    }

    #[test]
    fn concatenated_key_types_read_like_nft() {
        let NfTablesMessage::NewSet(SetMessage { attributes }) =
            set("t", "m", &[KeyPart::Ipv4Address, KeyPart::Protocol, KeyPart::Port], SetKind::VerdictMap, 1)
        else {
            panic!("not a set");
        };
        assert!(attributes.contains(&SetAttribute::KeyType((7 << 12) | (12 << 6) | 13)));
        assert!(attributes.contains(&SetAttribute::KeyLen(12)));
    }

    #[test]
    fn many_elements_are_split_over_messages() {
        let elements: Vec<_> = (0..450).map(|i| (key(&[KeyValue::Integer(i)]), None)).collect();
        assert_eq!(add_elements("t", "s", None, &elements).len(), 3);
    }
}
