//! Service proxy programming cost at scale: with N-1 services (one port, three endpoints,
//! every tenth with a NodePort) in the table, how long one sync takes to add the Nth service,
//! to change one service's endpoints, and to delete a service. A sync is what the agent does
//! after watch events: plan the service's rules, build the netlink transaction, and have the
//! kernel commit it. For comparison, `nft -f` applies the same service's chains, rules and map
//! entries as text (what an nft-binary-driven proxy would do per change, at best).
//!
//! Runs in a network namespace of its own (needs root). Usage: proxy_sync [SERVICES] [ROUNDS]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use onebin::net::proxy::{Proxy, ProxyConfig};
use serde_json::json;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let services: u32 = args.first().map(|n| n.parse()).transpose().context("SERVICES")?.unwrap_or(1000);
    let rounds: usize = args.get(1).map(|n| n.parse()).transpose().context("ROUNDS")?.unwrap_or(20);
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).context("entering a new network namespace (root?)")?;
    let state = tempfile::tempdir()?;
    let config = ProxyConfig {
        table: "onebin-proxy".into(),
        node_name: "bench".into(),
        node_ip: "192.0.2.1".parse()?,
        cluster_cidr: "10.42.0.0/16".parse()?,
        state_dir: state.path().to_path_buf(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut proxy = Proxy::new(&config)?;
        for index in 0..services - 1 {
            proxy.set_service(service(index));
            proxy.set_slice(slice(index, 0));
        }
        let started = Instant::now();
        let report = proxy.sync().await?;
        println!("rebuild with {} services: {:?} ({} messages)", services - 1, started.elapsed(), report.messages);

        let last = services - 1;
        let mut add = Vec::new();
        let mut change = Vec::new();
        let mut delete = Vec::new();
        for round in 0..rounds {
            proxy.set_service(service(last));
            proxy.set_slice(slice(last, 0));
            add.push(timed(proxy.sync()).await?);
            proxy.set_slice(slice(round as u32 % last, round as u32 + 1));
            change.push(timed(proxy.sync()).await?);
            proxy.delete_service("bench", &format!("svc-{last}"));
            proxy.delete_slice("bench", &format!("svc-{last}-abc"));
            delete.push(timed(proxy.sync()).await?);
            // Let the emptied chains go, as the agent does after its grace period.
            tokio::time::sleep(Duration::from_millis(1010)).await;
            proxy.sync().await?;
        }
        report_line(&format!("add service #{services}"), &mut add);
        report_line("change one service's endpoints", &mut change);
        report_line("delete a service", &mut delete);
        anyhow::Ok(())
    })?;

    let mut nft = Vec::new();
    for round in 0..rounds {
        let text = nft_service(services + round as u32);
        let started = Instant::now();
        nft_apply(&text)?;
        nft.push(started.elapsed());
    }
    report_line("peer: nft -f adding one service", &mut nft);
    Ok(())
}

fn nft_apply(text: &str) -> Result<()> {
    use std::io::Write;
    let mut nft = std::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("running nft")?;
    nft.stdin.take().context("nft's stdin")?.write_all(text.as_bytes())?;
    anyhow::ensure!(nft.wait()?.success(), "nft -f failed");
    Ok(())
}

async fn timed(sync: impl std::future::Future<Output = Result<onebin::net::proxy::SyncReport>>) -> Result<Duration> {
    let started = Instant::now();
    sync.await?;
    Ok(started.elapsed())
}

/// One line in milliseconds: bench/src/proxy_harness.rs (`bench/run service-rules`) reads it.
fn report_line(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let rounds = samples.len();
    let at = |q: f64| samples[((rounds - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!("{what}: median {:.3} ms, p90 {:.3} ms, max {:.3} ms ({rounds} rounds)", at(0.5), at(0.9), at(1.0));
}

fn cluster_ip(index: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 43, 16, 0)) + index)
}

fn endpoint(index: u32, which: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 42, 0, 0)) + (index * 3 + which) % 65_000 + 2)
}

fn service(index: u32) -> Service {
    let mut port = json!({"name": "http", "port": 80, "protocol": "TCP"});
    if index.is_multiple_of(10) {
        port["nodePort"] = json!(30000 + index);
    }
    let kind = if index.is_multiple_of(10) { "NodePort" } else { "ClusterIP" };
    serde_json::from_value(json!({
        "metadata": {"namespace": "bench", "name": format!("svc-{index}")},
        "spec": {"type": kind, "clusterIP": cluster_ip(index).to_string(), "ports": [port]},
    }))
    .expect("a valid service")
}

/// The service's slice; `generation` shifts the endpoints, to change them.
fn slice(index: u32, generation: u32) -> EndpointSlice {
    let endpoints: Vec<_> = (0..3)
        .map(|which| {
            json!({"addresses": [endpoint(index + generation, which).to_string()], "nodeName": "bench",
                   "conditions": {"ready": true}})
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {"namespace": "bench", "name": format!("svc-{index}-abc"),
                     "labels": {"kubernetes.io/service-name": format!("svc-{index}")}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints,
    }))
    .expect("a valid slice")
}

/// The same objects as one service's sync, in nft's language.
fn nft_service(index: u32) -> String {
    let name = format!("bench/svc-{index}/tcp/http");
    let mut text = String::new();
    let mut choices = Vec::new();
    for which in 0..3 {
        let ip = endpoint(index, which);
        let chain = format!("endpoint-nft-{name}__{ip}/8080");
        text += &format!(
            "add chain ip onebin-proxy {chain}\n\
             add rule ip onebin-proxy {chain} ip saddr {ip} jump mark-for-masquerade\n\
             add rule ip onebin-proxy {chain} meta l4proto tcp dnat to {ip}:8080\n"
        );
        choices.push(format!("{which} : goto {chain}"));
    }
    let chain = format!("service-nft-{name}");
    let ip = cluster_ip(index);
    text += &format!(
        "add chain ip onebin-proxy {chain}\n\
         add rule ip onebin-proxy {chain} ip daddr {ip} tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade\n\
         add rule ip onebin-proxy {chain} numgen random mod 3 vmap {{ {} }}\n\
         add element ip onebin-proxy service-ips {{ {ip} . tcp . 80 : goto {chain} }}\n",
        choices.join(", ")
    );
    text
}
