//! `onebin teardown`: removes what one node's onebin made on this machine, keeping its data:
//! every pod (containers, shims, mounts, cgroups), then in the current network namespace the
//! pod bridge, the VXLAN device and the other `onebin*` devices, the `onebin-*` nftables tables
//! and the accept rules added to the host's forward chains. The killall script the installer
//! writes runs it after stopping the service; it is safe to run again.
//!
//! Only this node's things are touched: pods by its data dir, run dir and cgroup parent, network
//! pieces by name in the namespace it runs in.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use netlink_packet_netfilter::nftables::{NfTablesMessage, TableAttribute, TableMessage};
use rtnetlink::packet_route::link::InfoKind;

use crate::net::netlink;
use crate::net::netns::NetNs;
use crate::net::nft::{self, Transaction};
use crate::runtime::cli::NodeArgs;
use crate::runtime::service::RuntimeConfig;

/// Devices and nftables tables onebin makes are named with this prefix.
const NAME_PREFIX: &str = "onebin";

#[derive(Args, Debug, Clone)]
pub struct TeardownArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Name of the pod bridge.
    #[arg(long, env = "ONEBIN_BRIDGE", default_value = crate::net::cni::DEFAULT_BRIDGE)]
    pub bridge: String,
    /// Name of the VXLAN overlay device.
    #[arg(long, env = "ONEBIN_VXLAN_DEVICE", default_value = crate::net::vxlan::DEFAULT_DEVICE)]
    pub vxlan_device: String,
    /// The cluster DNS address the agent put on loopback.
    #[arg(long, env = "ONEBIN_CLUSTER_DNS", default_value = "10.43.0.10")]
    pub cluster_dns: std::net::Ipv4Addr,
}

pub fn run(args: TeardownArgs) -> Result<()> {
    let data_dir = args.node.common.data_dir.clone();
    if let Some(pid) = node_process_using(&data_dir) {
        bail!(
            "onebin (pid {pid}) still runs with data dir {}: stop it first (the onebin service, or onebin-killall.sh)",
            data_dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async move {
        if data_dir.join("agent").is_dir() {
            let mut config = RuntimeConfig::new(&data_dir, &args.node.run_dir)?;
            config.cgroup_parent = args.node.cgroup_parent.clone();
            crate::runtime::teardown::remove_everything(config).await.context("removing the pods")?;
        }
        remove_network(&args.bridge, &args.vxlan_device).await?;
        crate::net::dns::cleanup(args.cluster_dns).await.context("removing the cluster DNS address")
    })?;
    println!(
        "onebin teardown: pods, mounts, cgroups and network devices of this node removed; data kept in {}",
        args.node.common.data_dir.display()
    );
    Ok(())
}

async fn remove_network(bridge: &str, vxlan_device: &str) -> Result<()> {
    let host = NetNs::current()?;
    let bridge_name = bridge.to_string();
    host.run(move || {
        crate::net::forward_accept::remove(&bridge_name)?;
        remove_tables()
    })
    .await?;
    let handle = host.route_handle().await?;
    let mut links = Vec::new();
    let mut stream = handle.link().get().execute();
    use futures::TryStreamExt;
    while let Some(link) = stream.try_next().await.context("listing links")? {
        links.push(link);
    }
    for link in links {
        let Some(name) = netlink::link_name(&link) else { continue };
        let ours = name == bridge
            || name == vxlan_device
            || (name.starts_with(NAME_PREFIX)
                && matches!(netlink::link_kind(&link), Some(InfoKind::Bridge | InfoKind::Vxlan | InfoKind::Dummy)));
        if ours {
            netlink::delete_link(&handle, link.header.index).await.with_context(|| format!("deleting link {name}"))?;
        }
    }
    Ok(())
}

/// Deletes every nftables table, in any family, whose name starts with `onebin-`.
fn remove_tables() -> Result<()> {
    let tables = nft::dump(
        netlink_packet_netfilter::NetfilterProtoFamily::Unspec,
        NfTablesMessage::GetTable(TableMessage { attributes: vec![] }),
    )?;
    let mut transaction = Transaction::new();
    for table in tables {
        let NfTablesMessage::NewTable(message) = table.message else { continue };
        let Some(name) = message.attributes.iter().find_map(|a| match a {
            TableAttribute::Name(name) => Some(name.clone()),
            _ => None,
        }) else {
            continue;
        };
        if name.starts_with(&format!("{NAME_PREFIX}-")) {
            let delete = TableMessage { attributes: vec![TableAttribute::Name(name.clone())] };
            transaction.push(table.family, NfTablesMessage::DeleteTable(delete), 0, format!("deleting table {name}"));
        }
    }
    transaction.commit()
}

/// A running `onebin server` or `onebin agent` whose data dir is `data_dir`.
fn node_process_using(data_dir: &Path) -> Option<i32> {
    let wanted = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let own = std::process::id() as i32;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
        if pid == own {
            return None;
        }
        let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
        if !exe.file_name()?.to_string_lossy().starts_with(NAME_PREFIX) {
            return None;
        }
        let argv = split_nul(&std::fs::read(entry.path().join("cmdline")).ok()?);
        let environ = split_nul(&std::fs::read(entry.path().join("environ")).unwrap_or_default());
        let dir = node_data_dir(&argv, &environ)?;
        (std::fs::canonicalize(&dir).unwrap_or(dir) == wanted).then_some(pid)
    })
}

fn split_nul(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
}

/// The data dir of a `server` or `agent` command line (flag, then environment, then default);
/// `None` for any other onebin command.
fn node_data_dir(argv: &[String], environ: &[String]) -> Option<PathBuf> {
    let subcommand = argv.iter().skip(1).find(|a| !a.starts_with('-'))?;
    if subcommand != "server" && subcommand != "agent" {
        return None;
    }
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(value));
        }
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
    }
    let from_env = environ.iter().find_map(|e| e.strip_prefix("ONEBIN_DATA_DIR="));
    Some(PathBuf::from(from_env.unwrap_or("/var/lib/onebin")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_node_process_data_dir_comes_from_flag_environment_or_default() {
        let flag = strings(&["onebin", "agent", "--server", "https://x", "--data-dir", "/d1"]);
        assert_eq!(node_data_dir(&flag, &[]), Some(PathBuf::from("/d1")));
        let equals = strings(&["onebin", "server", "--data-dir=/d2"]);
        assert_eq!(node_data_dir(&equals, &strings(&["ONEBIN_DATA_DIR=/e"])), Some(PathBuf::from("/d2")));
        let env = strings(&["onebin", "server"]);
        assert_eq!(node_data_dir(&env, &strings(&["ONEBIN_DATA_DIR=/e"])), Some(PathBuf::from("/e")));
        assert_eq!(node_data_dir(&env, &[]), Some(PathBuf::from("/var/lib/onebin")));
    }

    #[test]
    fn other_onebin_commands_are_not_node_processes() {
        assert_eq!(node_data_dir(&strings(&["onebin", "shim", "--run-dir", "/r"]), &[]), None);
        assert_eq!(node_data_dir(&strings(&["onebin", "teardown"]), &[]), None);
        assert_eq!(node_data_dir(&strings(&["onebin"]), &[]), None);
    }
}
