//! Letting pod traffic through a host firewall that drops forwarded packets by default.
//!
//! An `accept` in one nftables base chain does not stop another base chain on the same hook
//! from dropping the packet, so a rule in onebin's own table cannot help when the host's
//! firewall (native nftables, or iptables-nft) has a forward chain with policy drop. As flannel
//! does with iptables, onebin then puts two rules at the top of each such chain: accept what
//! enters from its bridge and what leaves through it. They carry a comment naming the bridge, by
//! which they are found again and removed. Chains of iptables-legacy are out of nftables' reach.
//!
//! Like everything nftables here it is synchronous and acts in the calling thread's namespace.

use anyhow::Result;
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, Hook, HookNumber, InetHookNumber, NfTablesMessage, RuleAttribute, RuleMessage,
};
use netlink_packet_netfilter::NetfilterProtoFamily;
use rtnetlink::packet_core::NLM_F_CREATE;

use super::nft::expr::{self, Expression};
use super::nft::{self, Transaction};

/// `NF_DROP` as a chain policy.
const DROP: u32 = 0;

/// A base chain on the IPv4 forward hook.
struct ForwardChain {
    family: NetfilterProtoFamily,
    table: String,
    name: String,
    drops_by_default: bool,
}

/// The two rules for one bridge.
struct AcceptRule {
    comment: Vec<u8>,
    expressions: Vec<Expression>,
}

/// Makes sure every forward chain with policy drop accepts traffic from and to `bridge`.
pub fn ensure(bridge: &str) -> Result<()> {
    let mut transaction = Transaction::new();
    for chain in forward_chains()?.into_iter().filter(|chain| chain.drops_by_default) {
        let present = rule_comments(&chain)?;
        for rule in accept_rules(bridge) {
            if present.iter().any(|(_, comment)| *comment == rule.comment) {
                continue;
            }
            let mut expressions = Vec::new();
            if chain.family == NetfilterProtoFamily::Inet {
                expressions.extend(expr::nfproto_ipv4());
            }
            expressions.extend(rule.expressions);
            // Without NLM_F_APPEND the kernel puts the rule first, ahead of any drop.
            transaction.push(
                chain.family,
                NfTablesMessage::NewRule(RuleMessage {
                    attributes: vec![
                        RuleAttribute::Table(chain.table.clone()),
                        RuleAttribute::Chain(chain.name.clone()),
                        RuleAttribute::Expressions(expressions),
                        RuleAttribute::UserData(rule.comment),
                    ],
                }),
                NLM_F_CREATE,
                format!("adding an accept rule for {bridge} to chain {} {}", chain.table, chain.name),
            );
        }
    }
    transaction.commit()
}

/// Removes the rules `ensure` added for `bridge` from every forward chain.
pub fn remove(bridge: &str) -> Result<()> {
    let ours: Vec<Vec<u8>> = accept_rules(bridge).into_iter().map(|rule| rule.comment).collect();
    let mut transaction = Transaction::new();
    for chain in forward_chains()? {
        for (handle, comment) in rule_comments(&chain)? {
            if ours.contains(&comment) {
                transaction.push(
                    chain.family,
                    NfTablesMessage::DeleteRule(RuleMessage {
                        attributes: vec![
                            RuleAttribute::Table(chain.table.clone()),
                            RuleAttribute::Chain(chain.name.clone()),
                            RuleAttribute::Handle(handle),
                        ],
                    }),
                    0,
                    format!("removing an accept rule for {bridge} from chain {} {}", chain.table, chain.name),
                );
            }
        }
    }
    transaction.commit()
}

fn accept_rules(bridge: &str) -> [AcceptRule; 2] {
    let rule = |direction: &str, mut expressions: Vec<Expression>| {
        expressions.push(expr::accept());
        AcceptRule { comment: expr::comment(&format!("onebin: accept forwarding {direction} {bridge}")), expressions }
    };
    [rule("from", expr::input_interface(bridge)), rule("to", expr::output_interface(bridge))]
}

/// The base chains of `ip` and `inet` tables hooked at forward.
fn forward_chains() -> Result<Vec<ForwardChain>> {
    let objects =
        nft::dump(NetfilterProtoFamily::Unspec, NfTablesMessage::GetChain(ChainMessage { attributes: vec![] }))?;
    let mut chains = Vec::new();
    for object in objects {
        let NfTablesMessage::NewChain(chain) = object.message else { continue };
        if !matches!(object.family, NetfilterProtoFamily::IPv4 | NetfilterProtoFamily::Inet) {
            continue;
        }
        let (mut table, mut name, mut forward, mut policy) = (None, None, false, None);
        for attribute in chain.attributes {
            match attribute {
                ChainAttribute::Table(value) => table = Some(value),
                ChainAttribute::Name(value) => name = Some(value),
                ChainAttribute::Hook(hooks) => {
                    forward = hooks.contains(&Hook::Number(HookNumber::Inet(InetHookNumber::Forward)));
                }
                ChainAttribute::Policy(value) => policy = Some(value),
                _ => {}
            }
        }
        if let (Some(table), Some(name), true) = (table, name, forward) {
            chains.push(ForwardChain { family: object.family, table, name, drops_by_default: policy == Some(DROP) });
        }
    }
    Ok(chains)
}

/// The handle and user data (comment) of each rule in `chain`.
fn rule_comments(chain: &ForwardChain) -> Result<Vec<(u64, Vec<u8>)>> {
    let request = NfTablesMessage::GetRule(RuleMessage {
        attributes: vec![RuleAttribute::Table(chain.table.clone()), RuleAttribute::Chain(chain.name.clone())],
    });
    let mut rules = Vec::new();
    for object in nft::dump(chain.family, request)? {
        let NfTablesMessage::NewRule(rule) = object.message else { continue };
        let (mut handle, mut comment) = (None, Vec::new());
        for attribute in rule.attributes {
            match attribute {
                RuleAttribute::Handle(value) => handle = Some(value),
                RuleAttribute::UserData(value) => comment = value,
                _ => {}
            }
        }
        if let Some(handle) = handle {
            rules.push((handle, comment));
        }
    }
    Ok(rules)
}
