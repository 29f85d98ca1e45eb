//! Outbound NAT for pods: traffic from the node's pod CIDR to anything outside the cluster CIDR
//! leaves with the node's address, while pod-to-pod traffic (also across nodes) keeps the pod's.
//!
//! It lives in its own nftables table, `ip onebin-nat`, replaced as a whole in one transaction so
//! that it always matches the configuration and never shows a half-built state. Like everything
//! nftables here it is synchronous and acts in the calling thread's namespace.

use anyhow::Result;
use ipnet::Ipv4Net;
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, Hook, InetHookNumber, NfTablesMessage, RuleAttribute, RuleMessage, TableAttribute,
    TableMessage,
};
use netlink_packet_netfilter::NetfilterProtoFamily;
use rtnetlink::packet_core::{NLM_F_APPEND, NLM_F_CREATE};

use super::nft::expr::{self, Ipv4Field};
use super::nft::{self, Transaction};

pub const TABLE: &str = "onebin-nat";
const FAMILY: NetfilterProtoFamily = NetfilterProtoFamily::IPv4;
const CHAIN: &str = "postrouting";
/// `NF_IP_PRI_NAT_SRC` ("srcnat"), where `nft` places masquerading.
const SOURCE_NAT_PRIORITY: i32 = 100;
/// `NF_ACCEPT` as a chain policy.
const ACCEPT: u32 = 1;

/// Creates or replaces the table so that it masquerades `pod_cidr` traffic leaving `cluster_cidr`.
pub fn ensure(pod_cidr: Ipv4Net, cluster_cidr: Ipv4Net) -> Result<()> {
    let mut transaction = Transaction::new();
    // Creating before deleting makes the delete succeed whether or not the table existed.
    transaction.push(FAMILY, new_table(), NLM_F_CREATE, format!("creating table ip {TABLE}"));
    transaction.push(FAMILY, delete_table(), 0, format!("replacing table ip {TABLE}"));
    transaction.push(FAMILY, new_table(), NLM_F_CREATE, format!("creating table ip {TABLE}"));
    transaction.push(
        FAMILY,
        NfTablesMessage::NewChain(ChainMessage {
            attributes: vec![
                ChainAttribute::Table(TABLE.to_string()),
                ChainAttribute::Name(CHAIN.to_string()),
                ChainAttribute::Type("nat".to_string()),
                ChainAttribute::Hook(vec![
                    Hook::Number(InetHookNumber::PostRouting.into()),
                    Hook::Priority(SOURCE_NAT_PRIORITY as u32),
                ]),
                ChainAttribute::Policy(ACCEPT),
            ],
        }),
        NLM_F_CREATE,
        format!("creating chain ip {TABLE} {CHAIN}"),
    );
    let mut expressions = expr::ipv4_in(Ipv4Field::Source, pod_cidr, true);
    expressions.extend(expr::ipv4_in(Ipv4Field::Destination, cluster_cidr, false));
    expressions.push(expr::masquerade());
    transaction.push(
        FAMILY,
        NfTablesMessage::NewRule(RuleMessage {
            attributes: vec![
                RuleAttribute::Table(TABLE.to_string()),
                RuleAttribute::Chain(CHAIN.to_string()),
                RuleAttribute::Expressions(expressions),
                RuleAttribute::UserData(expr::comment("onebin: masquerade pod traffic leaving the cluster")),
            ],
        }),
        NLM_F_CREATE | NLM_F_APPEND,
        format!("adding the masquerade rule for {pod_cidr}"),
    );
    transaction.commit()
}

/// Deletes the table; a table that is already gone is not an error.
pub fn remove() -> Result<()> {
    let mut transaction = Transaction::new();
    transaction.push(FAMILY, delete_table(), 0, format!("deleting table ip {TABLE}"));
    match transaction.commit() {
        Err(error) if nft::is_not_found(&error) => Ok(()),
        other => other,
    }
}

fn new_table() -> NfTablesMessage {
    NfTablesMessage::NewTable(TableMessage { attributes: vec![TableAttribute::Name(TABLE.to_string())] })
}

fn delete_table() -> NfTablesMessage {
    NfTablesMessage::DeleteTable(TableMessage { attributes: vec![TableAttribute::Name(TABLE.to_string())] })
}
