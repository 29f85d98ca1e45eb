//! The pod network across nodes: a two-node local cluster (`onebin cluster create --nodes 2`,
//! each node a network namespace on a bridge of the run's namespace) with a busybox pod pinned
//! to each node. The run enters the pods' network namespaces from outside (the containers
//! need no tools): iperf3 from pod A to pod B crosses the VXLAN overlay, and the same iperf3
//! between the two nodes' own namespaces takes the bare veth/bridge path under it; rounds
//! alternate. Then a ClusterIP Service in front of pod B, where a responder of the run's own
//! listens, and connection latency from pod A through the ClusterIP and to pod B's IP,
//! interleaved.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;

use super::pod_ready::condition_true;
use super::{Bench, Ctx};
use crate::cluster::{LocalCluster, Node};
use crate::http::{Conn, Endpoint, Protocol};
use crate::report::{Row, Section};
use crate::stats::{median, Summary};
use crate::{agent, iperf, netns, rtt};

const NAMESPACE: &str = "net";
/// Where the responder listens in pod B, and the Service's port in front of it.
const POD_PORT: u16 = 8080;
const SERVICE_PORT: u16 = 80;

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let images = tempfile::Builder::new().prefix("onebin-bench-images-").tempdir_in(&ctx.work_dir)?;
    crate::images::build(ctx, images.path())?;
    // Dropped last: deleting the cluster also removes its pods, namespaces and links.
    let cluster = LocalCluster::new(ctx, 0)?;
    let archive = images.path().join("busybox.tar").display().to_string();
    tokio::task::block_in_place(|| cluster.create(&["--nodes", "2", "--image-archive", &archive]))?;
    let nodes = cluster.nodes()?;
    let [node_a, node_b] = &nodes[..] else { anyhow::bail!("the cluster has {} nodes, not 2", nodes.len()) };
    let api = crate::kubeconfig::admin_endpoint(&cluster.kubeconfig())?;
    let mut conn = api.connect(Protocol::Http2).await?;
    super::objects::create_namespace(&mut conn, &api, NAMESPACE).await?;
    let pod_a = start_pod(&mut conn, &api, "a", node_a).await?;
    let pod_b = start_pod(&mut conn, &api, "b", node_b).await?;
    let spec = json!({"selector": {"app": "b"},
                      "ports": [{"port": SERVICE_PORT, "targetPort": POD_PORT, "protocol": "TCP"}]});
    let cluster_ip = super::objects::create_service(&mut conn, &api, NAMESPACE, "b", spec).await?;
    let netns_a = netns::of_pod(&cluster.run_dir(node_a), pod_a)?;
    let netns_b = netns::of_pod(&cluster.run_dir(node_b), pod_b)?;

    let (rounds, seconds) = (ctx.rounds(2, 5), if ctx.quick { 3 } else { 5 });
    let [overlay, bare] = tokio::task::block_in_place(|| -> Result<[Vec<f64>; 2]> {
        let _servers = [iperf::Server::start(&netns_b, pod_b)?, iperf::Server::start(&node_b.netns_path(), node_b.ip)?];
        // Client namespace and server address: pod to pod over the overlay, node to node under it.
        let paths = [(netns_a.clone(), pod_b), (node_a.netns_path(), node_b.ip)];
        let mut gbps = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            eprintln!("  throughput round {}/{rounds}", round + 1);
            // Every other round the bare path goes first: neither always runs on a warmer machine.
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                gbps[i].push(iperf::throughput(&paths[i].0, paths[i].1, seconds)? / 1e9);
            }
        }
        Ok(gbps)
    })?;

    let samples = ctx.rounds(500, 2000);
    eprintln!("  connection latency: {samples} exchanges each through the ClusterIP and to the pod IP");
    let latency = tokio::task::block_in_place(|| {
        let _responder = rtt::Responder::start(&netns_b, POD_PORT)?;
        let targets = vec![SocketAddr::from((cluster_ip, SERVICE_PORT)), SocketAddr::from((pod_b, POD_PORT))];
        rtt::measure(&netns_a, targets, Duration::from_secs(30), 100, samples)
    })?;
    let (pod_mtu, node_mtu) = (mtu(&netns_a)?, mtu(&node_a.netns_path())?);
    tokio::task::block_in_place(|| drop(cluster));

    let mut section = ctx.section(
        bench,
        "iperf3 from Debian between the two nodes' own network namespaces, over the veths and bridge that join \
         them (the path the overlay's packets take, without the overlay), in the same run, rounds alternating; \
         for latency, the same exchange with pod B's IP instead of the ClusterIP",
    );
    if let (Some(overlay_gbps), Some(bare_gbps)) = (median(&overlay), median(&bare)) {
        let ratio = overlay_gbps / bare_gbps;
        section.rows.push(
            Row::new(
                format!(
                    "TCP throughput, pod → pod on another node over VXLAN (iperf3, median of {rounds} × {seconds} s)"
                ),
                format!("{overlay_gbps:.2} Gbit/s"),
            )
            .peer(format!("{bare_gbps:.2} Gbit/s node → node over the bare veth/bridge path"), Some(ratio))
            .target("≥ 0.8 × the bare path", ratio >= 0.8),
        );
    }
    if let (Some(service), Some(direct)) = (Summary::of(&latency[0]), Summary::of(&latency[1])) {
        let ratio = service.median / direct.median;
        section.rows.push(
            Row::new(
                format!(
                    "TCP connect + 1-byte request/response, pod A → ClusterIP → pod B on another node \
                     (median of {samples})"
                ),
                format!("{:.0} µs (p99 {:.0} µs)", service.median, service.p99),
            )
            .peer(format!("pod B's IP directly: {:.0} µs (p99 {:.0} µs)", direct.median, direct.p99), Some(ratio))
            .target("≤ 1.1 × pod IP", ratio <= 1.1),
        );
    }
    section.notes.push(format!(
        "Throughput: `iperf3 --client … --time {seconds} --omit 1` (one TCP stream, slow start not counted), run \
         with nsenter in pod A's network namespace towards pod B's IP, and in node A's namespace towards node B's \
         address; the throughput is what the server received. Each node's overlay is the VXLAN device onebin \
         made (VNI 1, UDP 8472); MTU of the pods' interfaces {pod_mtu}, of the nodes' {node_mtu}. Every round of \
         {seconds} s: overlay {:?} Gbit/s, bare {:?} Gbit/s.",
        rounded(&overlay),
        rounded(&bare)
    ));
    section.notes.push(format!(
        "Latency: a thread of the run inside pod B's namespace answers one byte per connection on port \
         {POD_PORT}; a thread inside pod A's namespace connects, sends one byte, reads the answer and closes, \
         alternately through the Service's ClusterIP (port {SERVICE_PORT}, DNATed by node A's service proxy, a \
         new conntrack entry per connection) and to pod B's IP, after 100 untimed exchanges with each. Both \
         paths cross the overlay; the ratio is of the medians."
    ));
    Ok(section)
}

/// Creates a busybox pod bound to `node` and waits until it is Ready; returns its IP.
async fn start_pod(conn: &mut Conn, api: &Endpoint, name: &str, node: &Node) -> Result<Ipv4Addr> {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": {
            // Bound at creation, as with a nodeName in a manifest: the scheduler has no say.
            "nodeName": node.name,
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"]}],
        },
    });
    let pods = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    conn.expect(api.request(Method::POST, &pods, Some(Bytes::from(pod.to_string()))), StatusCode::CREATED).await?;
    let path = format!("{pods}/{name}");
    let mut ip = None;
    let ready = format!("pod {name} Ready");
    agent::wait_until(Instant::now(), Duration::from_secs(60), Duration::from_millis(50), &ready, async || {
        let body = conn.expect(api.request(Method::GET, &path, None), StatusCode::OK).await?;
        let pod: serde_json::Value = serde_json::from_slice(&body)?;
        ip = pod["status"]["podIP"].as_str().and_then(|ip| ip.parse().ok()).filter(|_| condition_true(&body, "Ready"));
        Ok(ip.is_some())
    })
    .await?;
    ip.context("the pod has no IP")
}

/// The MTU of eth0 in the network namespace at `netns`, as `ip link` shows it.
fn mtu(netns: &Path) -> Result<u32> {
    let out = netns::command(netns, "ip").args(["-o", "link", "show", "eth0"]).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|word| *word != "mtu")
        .nth(1)
        .and_then(|mtu| mtu.parse().ok())
        .with_context(|| format!("no MTU in `ip link show eth0`: {text}"))
}

fn rounded(values: &[f64]) -> Vec<f64> {
    values.iter().map(|v| (v * 100.0).round() / 100.0).collect()
}
