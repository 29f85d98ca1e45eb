//! Scheduling throughput at scale without the machines: a server without its agent, and one
//! `onebin agent --simulate 100` whose hollow nodes register, heartbeat and report the pods
//! bound to them Running. 10,000 pods are created as fast as the API takes them; a watch on
//! the namespace records when the last one is bound to a node and when the last one is
//! reported Running. The server's memory is read at the end (and its peak since exec).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use hyper::{Method, StatusCode};
use serde::Deserialize;

use super::objects::{create_many, create_namespace, pod};
use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::agent::{self, Agent};
use crate::http::Protocol;
use crate::report::{thousands, Row, Section};
use crate::server::Server;

const NAMESPACE: &str = "sched";
/// Creates in flight.
const CREATORS: usize = 64;
const TIMEOUT: Duration = Duration::from_secs(300);

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    // The size, also with --quick: a smaller one would not say whether the target holds.
    let (nodes, pods): (u32, usize) = (100, 10_000);
    let mut server = Server::start(ctx, false).await?;
    let api = server.admin()?;
    let mut conn = api.connect(Protocol::Http2).await?;

    let mut hollow = Agent::spawn(ctx, &server, agent::Kind::Simulated { prefix: "hollow", count: nodes })?;
    eprintln!("  {nodes} simulated nodes joining");
    let nodes_path = "/api/v1/nodes?labelSelector=node.onebin.io%2Fsimulated%3Dtrue";
    let nodes_ready = agent::wait_until(
        hollow.spawned,
        Duration::from_secs(120),
        Duration::from_millis(100),
        "all simulated nodes Ready",
        async || {
            let body = conn.expect(api.request(Method::GET, nodes_path, None), StatusCode::OK).await?;
            Ok(ready_nodes(&body)? == nodes as usize)
        },
    )
    .await
    .map_err(|err| anyhow!("{err:#}; the agent's log ends with:\n{}", hollow.log_tail()))?;
    hollow.fail_if_exited()?;

    create_namespace(&mut conn, &api, NAMESPACE).await?;
    let collection = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    let list = conn.expect(api.request(Method::GET, &collection, None), StatusCode::OK).await?;
    let version = serde_json::from_slice::<serde_json::Value>(&list)?["metadata"]["resourceVersion"]
        .as_str()
        .ok_or_else(|| anyhow!("the pod list has no resourceVersion"))?
        .to_string();
    let mut watch_conn = api.connect(Protocol::Http2).await?;
    let watch_path = format!("{collection}?watch=true&resourceVersion={version}&timeoutSeconds=600");
    let events = crate::watch::Events::open(&mut watch_conn, api.request(Method::GET, &watch_path, None)).await?;

    eprintln!("  creating {} pods", thousands(pods as f64));
    let started = Instant::now();
    let watcher = tokio::spawn(follow(events, pods, started));
    create_many(&api, &collection, pods, CREATORS, |i| pod(NAMESPACE, &format!("p-{i}")))
        .await
        .context("creating the pods")?;
    let created = started.elapsed();
    let progress = match tokio::time::timeout(TIMEOUT, watcher).await {
        Ok(joined) => joined??,
        Err(_) => bail!("not every pod was bound and Running within {TIMEOUT:?}"),
    };
    let server_memory = server.memory()?;
    let agent_memory = hollow.memory()?;
    server.wait_ready(Duration::from_secs(1)).await.context("the server after the run")?;

    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    let n = thousands(pods as f64);
    section.rows.push(Row::new(
        format!("{nodes} simulated nodes: agent exec → all Ready"),
        format!("{:.2} s", nodes_ready.as_secs_f64()),
    ));
    section.rows.push(Row::new(
        format!("{n} pod creates (the API alone, {CREATORS} in flight over HTTP/2)"),
        format!("{:.2} s ({}/s)", created.as_secs_f64(), thousands(pods as f64 / created.as_secs_f64())),
    ));
    let bound = progress.all_bound.as_secs_f64();
    section.rows.push(
        Row::new(
            format!("{n} pods on {nodes} nodes: first create → all bound"),
            format!("{bound:.2} s ({}/s)", thousands(pods as f64 / bound)),
        )
        .target("≤ 20 s", bound <= 20.0),
    );
    section.rows.push(Row::new(
        format!("{n} pods: first create → all reported Running by their nodes"),
        format!("{:.2} s", progress.all_running.as_secs_f64()),
    ));
    let mib = |kib: u64| kib as f64 / 1024.0;
    let limit_mib = 300e6 / (1024.0 * 1024.0);
    section.rows.push(
        Row::new(
            format!("server memory with {nodes} nodes and {n} pods"),
            format!("VmRSS {:.1} MiB (VmHWM {:.1} MiB)", mib(server_memory.rss_kib), mib(server_memory.hwm_kib)),
        )
        .target(format!("VmRSS ≤ 300 MB ({limit_mib:.1} MiB)"), mib(server_memory.rss_kib) <= limit_mib),
    );
    section.rows.push(Row::new(
        format!("the simulating agent ({nodes} hollow nodes, {n} pods)"),
        format!("VmRSS {:.1} MiB", mib(agent_memory.rss_kib)),
    ));
    section.notes.push(format!(
        "Every hollow node joins with its own node identity (the node authorizer sees {nodes} kubelets), renews \
         its Lease every 10 s and reports each pod bound to it Running with an IP of its pod subnet, so the API \
         takes the status writes of a real cluster while the scheduler works. The pods are `busybox sleep` pods \
         without resource requests, created {CREATORS} at a time; bound and Running are read from one watch of \
         the namespace. Everything runs on the same cores: the server, the {nodes} hollow nodes and the load."
    ));
    Ok(section)
}

fn ready_nodes(body: &[u8]) -> Result<usize> {
    let list: serde_json::Value = serde_json::from_slice(body)?;
    let items = list["items"].as_array().ok_or_else(|| anyhow!("a node list without items"))?;
    Ok(items
        .iter()
        .filter(|node| {
            node["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        })
        .count())
}

struct Progress {
    all_bound: Duration,
    all_running: Duration,
}

#[derive(Deserialize)]
struct PodView<'a> {
    #[serde(borrow)]
    metadata: Metadata<'a>,
    #[serde(default, borrow)]
    spec: Spec<'a>,
    #[serde(default, borrow)]
    status: Status<'a>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(default, borrow)]
    name: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize, Default)]
struct Spec<'a> {
    #[serde(default, rename = "nodeName", borrow)]
    node_name: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct Status<'a> {
    #[serde(default, borrow)]
    phase: Option<std::borrow::Cow<'a, str>>,
}

/// Reads the namespace's pod events until all `pods` have been bound and reported Running.
async fn follow(mut events: crate::watch::Events, pods: usize, started: Instant) -> Result<Progress> {
    let (mut bound, mut running) = (HashSet::with_capacity(pods), HashSet::with_capacity(pods));
    let mut all_bound = None;
    loop {
        let Some(line) = events.next().await? else {
            bail!("the watch ended with {} of {pods} pods bound and {} Running", bound.len(), running.len());
        };
        let event: crate::watch::Event<PodView> = serde_json::from_slice(&line).context("decoding a watch event")?;
        if event.kind == "ERROR" {
            bail!("the watch sent an error: {}", String::from_utf8_lossy(&line));
        }
        let name = event.object.metadata.name.to_string();
        if event.object.spec.node_name.is_some_and(|n| !n.is_empty()) {
            bound.insert(name.clone());
        }
        if event.object.status.phase.as_deref() == Some("Running") {
            running.insert(name);
        }
        if all_bound.is_none() && bound.len() == pods {
            all_bound = Some(started.elapsed());
        }
        if let (Some(all_bound), true) = (all_bound, running.len() == pods) {
            return Ok(Progress { all_bound, all_running: started.elapsed() });
        }
    }
}
