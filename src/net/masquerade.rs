//! Outbound NAT for pods: traffic from the node's pod CIDR to anything outside the cluster CIDR
//! leaves with the node's address, while pod-to-pod traffic (also across nodes) keeps the pod's.
//!
//! It lives in an nftables table of its own per pod bridge, `ip onebin-nat-<bridge>` (nodes that
//! share a network namespace, as test and simulated nodes do, must not replace each other's),
//! replaced as a whole in one transaction so that it always matches the configuration and
//! never shows a half-built state. Like everything
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

/// The masquerade table of the pods on `bridge`.
pub fn table_name(bridge: &str) -> String {
    format!("onebin-nat-{bridge}")
}
const FAMILY: NetfilterProtoFamily = NetfilterProtoFamily::IPv4;
const CHAIN: &str = "postrouting";
/// `NF_IP_PRI_NAT_SRC` ("srcnat"), where `nft` places masquerading.
const SOURCE_NAT_PRIORITY: i32 = 100;
/// `NF_ACCEPT` as a chain policy.
const ACCEPT: u32 = 1;

/// Creates or replaces the table so that it masquerades `pod_cidr` traffic leaving `cluster_cidr`.
pub fn ensure(table: &str, pod_cidr: Ipv4Net, cluster_cidr: Ipv4Net) -> Result<()> {
    let mut transaction = Transaction::new();
    // Creating before deleting makes the delete succeed whether or not the table existed.
    transaction.push(FAMILY, new_table(table), NLM_F_CREATE, format!("creating table ip {table}"));
    transaction.push(FAMILY, delete_table(table), 0, format!("replacing table ip {table}"));
    transaction.push(FAMILY, new_table(table), NLM_F_CREATE, format!("creating table ip {table}"));
    transaction.push(
        FAMILY,
        NfTablesMessage::NewChain(ChainMessage {
            attributes: vec![
                ChainAttribute::Table(table.to_string()),
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
        format!("creating chain ip {table} {CHAIN}"),
    );
    let mut expressions = expr::ipv4_in(Ipv4Field::Source, pod_cidr, true);
    expressions.extend(expr::ipv4_in(Ipv4Field::Destination, cluster_cidr, false));
    expressions.push(expr::masquerade());
    transaction.push(
        FAMILY,
        NfTablesMessage::NewRule(RuleMessage {
            attributes: vec![
                RuleAttribute::Table(table.to_string()),
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
pub fn remove(table: &str) -> Result<()> {
    let mut transaction = Transaction::new();
    transaction.push(FAMILY, delete_table(table), 0, format!("deleting table ip {table}"));
    match transaction.commit() {
        Err(error) if nft::is_not_found(&error) => Ok(()),
        other => other,
    }
}

fn new_table(table: &str) -> NfTablesMessage {
    NfTablesMessage::NewTable(TableMessage { attributes: vec![TableAttribute::Name(table.to_string())] })
}

fn delete_table(table: &str) -> NfTablesMessage {
    NfTablesMessage::DeleteTable(TableMessage { attributes: vec![TableAttribute::Name(table.to_string())] })
}
