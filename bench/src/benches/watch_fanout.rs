//! Watch fan-out: 1,000 watches of one namespace's ConfigMaps are opened, then 1,000
//! ConfigMaps are created as fast as the API takes them. Every watcher must receive every
//! creation; the time until the last watcher has them all, and the server's memory, are
//! what is measured.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use hyper::{Method, StatusCode};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::objects::{config_map, create_many, create_namespace};
use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::http::{Conn, Endpoint, Protocol};
use crate::process::{cpu_time, Memory};
use crate::report::{thousands, Row, Section};
use crate::server::Server;
use crate::stats::{median, Summary};

const NAMESPACE: &str = "fanout";
/// Where the same burst is written once before the watches open, for comparison.
const BASELINE_NAMESPACE: &str = "unwatched";
const WATCHERS: usize = 1000;
const BURST: usize = 1000;
/// Watches per HTTP/2 connection, below the server's limit on concurrent streams.
const STREAMS_PER_CONNECTION: usize = 100;
/// Creates in flight during the burst.
const WRITERS: usize = 32;
const PREFIX: &str = "burst-";
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

struct Outcome {
    /// Burst start → the last watcher has every event.
    all_delivered: Option<Duration>,
    /// Burst start → each complete watcher had every event, in ms.
    per_watcher_ms: Vec<f64>,
    /// Burst start → the last create acknowledged.
    written: Duration,
    /// The same burst written into another namespace before any watch was opened.
    written_unwatched: Duration,
    complete: usize,
    duplicates: u64,
    first_failure: Option<String>,
    idle: Memory,
    watching: Memory,
    after: Memory,
    /// CPU used from burst start until every watcher is done: by the server, and by this
    /// process (the watchers and the writer).
    server_cpu: Duration,
    client_cpu: Duration,
}

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let rounds = ctx.rounds(1, 3);
    let mut outcomes = Vec::new();
    for round in 0..rounds {
        eprintln!("  round {}/{rounds}", round + 1);
        outcomes.push(one_round(ctx).await?);
    }
    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    let complete: usize = outcomes.iter().map(|o| o.complete).sum();
    let duplicates: u64 = outcomes.iter().map(|o| o.duplicates).sum();
    section.rows.push(
        Row::new(
            format!("watchers that received all {} events (over {rounds} round(s))", thousands(BURST as f64)),
            format!(
                "{} of {}, {duplicates} duplicate events",
                thousands(complete as f64),
                thousands((WATCHERS * rounds) as f64)
            ),
        )
        .target("every watcher, every event", complete == WATCHERS * rounds && duplicates == 0),
    );
    let delivered: Vec<f64> = outcomes.iter().filter_map(|o| o.all_delivered).map(|d| d.as_secs_f64() * 1e3).collect();
    section.rows.push(match median(&delivered) {
        Some(ms) => Row::new(
            format!(
                "burst start → all {} events at all watchers (median of {})",
                thousands((WATCHERS * BURST) as f64),
                delivered.len()
            ),
            format!("{ms:.0} ms ({}/s delivered)", thousands((WATCHERS * BURST) as f64 / (ms / 1e3))),
        ),
        None => Row::not_measured("burst start → all events at all watchers", "no round delivered everything"),
    });
    let per_watcher: Vec<f64> = outcomes.iter().flat_map(|o| o.per_watcher_ms.iter().copied()).collect();
    if let Some(s) = Summary::of(&per_watcher) {
        section.rows.push(Row::new(
            "burst start → one watcher has all events",
            format!("p50 {:.0} ms, p99 {:.0} ms", s.median, s.p99),
        ));
    }
    let ms =
        |f: fn(&Outcome) -> Duration| median(&outcomes.iter().map(|o| f(o).as_secs_f64() * 1e3).collect::<Vec<_>>());
    if let (Some(watched), Some(unwatched)) = (ms(|o| o.written), ms(|o| o.written_unwatched)) {
        let rate = |ms: f64| thousands(BURST as f64 / (ms / 1e3));
        section.rows.push(Row::new(
            format!("burst written: {} durable ConfigMap creates, {WRITERS} in flight", thousands(BURST as f64)),
            format!(
                "{watched:.0} ms ({}/s) while watched; {unwatched:.0} ms ({}/s) with no watch open",
                rate(watched),
                rate(unwatched)
            ),
        ));
    }
    let mib = |f: fn(&Outcome) -> u64| median(&outcomes.iter().map(|o| f(o) as f64 / 1024.0).collect::<Vec<_>>());
    if let (Some(idle), Some(watching), Some(after), Some(peak)) =
        (mib(|o| o.idle.rss_kib), mib(|o| o.watching.rss_kib), mib(|o| o.after.rss_kib), mib(|o| o.after.hwm_kib))
    {
        section.rows.push(Row::new(
            format!("server VmRSS: idle → {} open watches", thousands(WATCHERS as f64)),
            format!(
                "{idle:.1} → {watching:.1} MiB ({:.1} KiB per watch)",
                (watching - idle) * 1024.0 / WATCHERS as f64
            ),
        ));
        section.rows.push(Row::new(
            "server VmRSS after the burst, and its peak (VmHWM)",
            format!("{after:.1} MiB, peak {peak:.1} MiB (+{:.1} MiB over idle)", peak - idle),
        ));
    }
    let seconds =
        |f: fn(&Outcome) -> Duration| median(&outcomes.iter().map(|o| f(o).as_secs_f64()).collect::<Vec<_>>());
    if let (Some(server), Some(client)) = (seconds(|o| o.server_cpu), seconds(|o| o.client_cpu)) {
        section.rows.push(Row::new(
            "CPU from burst start to the last delivery: server, and the watchers and writer",
            format!("server {server:.1} s, watchers and writer {client:.1} s"),
        ));
    }
    for failure in outcomes.iter().filter_map(|o| o.first_failure.as_deref()) {
        section.notes.push(format!("A watcher failed: {failure}"));
    }
    section.notes.push(format!(
        "Watches: HTTP/2, {STREAMS_PER_CONNECTION} per connection, from the resourceVersion of a list taken \
         before the burst, so a watch established late still owes every event. The watchers parse every \
         event on the same cores as the server, so the delivery time includes their own work (see the CPU row)."
    ));
    Ok(section)
}

async fn one_round(ctx: &Ctx) -> Result<Outcome> {
    let server = Server::start(ctx, false).await?;
    let api = server.admin()?;
    let mut conn = api.connect(Protocol::Http2).await?;
    create_namespace(&mut conn, &api, NAMESPACE).await?;
    create_namespace(&mut conn, &api, BASELINE_NAMESPACE).await?;
    let unwatched_start = Instant::now();
    write_burst(&api, BASELINE_NAMESPACE).await?;
    let written_unwatched = unwatched_start.elapsed();
    let collection = format!("/api/v1/namespaces/{NAMESPACE}/configmaps");
    let list = conn.expect(api.request(Method::GET, &collection, None), StatusCode::OK).await?;
    let version = serde_json::from_slice::<serde_json::Value>(&list)?["metadata"]["resourceVersion"]
        .as_str()
        .ok_or_else(|| anyhow!("the ConfigMap list has no resourceVersion"))?
        .to_string();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.memory()?;

    let watch_path = format!("{collection}?watch=true&resourceVersion={version}&timeoutSeconds=600");
    let (established, mut established_rx) = mpsc::channel(WATCHERS);
    let mut watchers: Vec<JoinHandle<Result<Watched>>> = Vec::with_capacity(WATCHERS);
    for _ in 0..WATCHERS.div_ceil(STREAMS_PER_CONNECTION) {
        let shared = api.connect(Protocol::Http2).await?;
        for _ in 0..STREAMS_PER_CONNECTION.min(WATCHERS - watchers.len()) {
            let conn = shared.share().expect("HTTP/2 connections can be shared");
            let request = api.request(Method::GET, &watch_path, None);
            watchers.push(tokio::spawn(watch(conn, request, established.clone())));
        }
    }
    drop(established);
    let deadline = Instant::now() + Duration::from_secs(60);
    for opened in 0..WATCHERS {
        tokio::time::timeout_at(deadline.into(), established_rx.recv())
            .await
            .map_err(|_| anyhow!("only {opened} of {WATCHERS} watches opened within a minute"))?
            .ok_or_else(|| anyhow!("only {opened} of {WATCHERS} watches opened"))?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let watching = server.memory()?;

    let cpu_before = (cpu_time(server.pid())?, cpu_time(std::process::id())?);
    let burst_start = Instant::now();
    write_burst(&api, NAMESPACE).await?;
    let written = burst_start.elapsed();

    let (mut per_watcher_ms, mut complete, mut duplicates, mut first_failure, mut last) =
        (Vec::new(), 0, 0, None, None::<Instant>);
    let deadline = burst_start + DELIVERY_TIMEOUT;
    for watcher in watchers {
        let outcome = match tokio::time::timeout_at(deadline.into(), watcher).await {
            Ok(joined) => joined.map_err(anyhow::Error::from).and_then(|r| r),
            Err(_) => Err(anyhow!("not all events within {DELIVERY_TIMEOUT:?}")),
        };
        match outcome {
            Ok(watched) => {
                complete += 1;
                duplicates += watched.duplicates;
                per_watcher_ms.push(watched.done.duration_since(burst_start).as_secs_f64() * 1e3);
                last = last.max(Some(watched.done));
            }
            Err(err) => {
                first_failure.get_or_insert_with(|| format!("{err:#}"));
            }
        }
    }
    let (server_cpu, client_cpu) =
        (cpu_time(server.pid())? - cpu_before.0, cpu_time(std::process::id())? - cpu_before.1);
    let after = server.memory()?;
    let all_delivered = (complete == WATCHERS).then(|| last.map(|t| t.duration_since(burst_start))).flatten();
    Ok(Outcome {
        all_delivered,
        per_watcher_ms,
        written,
        written_unwatched,
        complete,
        duplicates,
        first_failure,
        idle,
        watching,
        after,
        server_cpu,
        client_cpu,
    })
}

/// Creates the burst's ConfigMaps in `namespace`, `WRITERS` at a time over one connection.
async fn write_burst(api: &Endpoint, namespace: &'static str) -> Result<()> {
    let collection = format!("/api/v1/namespaces/{namespace}/configmaps");
    create_many(api, &collection, BURST, WRITERS, move |i| config_map(namespace, &format!("{PREFIX}{i}")))
        .await
        .context("writing the burst")
}

struct Watched {
    done: Instant,
    duplicates: u64,
}

#[derive(Deserialize)]
struct EventObject<'a> {
    #[serde(borrow)]
    metadata: Metadata<'a>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(default)]
    name: &'a str,
}

/// One watcher: opens the watch, says so, then reads events until it has seen every burst
/// object added.
async fn watch(
    mut conn: Conn,
    request: hyper::Request<crate::http::Body>,
    established: mpsc::Sender<()>,
) -> Result<Watched> {
    let mut events = crate::watch::Events::open(&mut conn, request).await?;
    let _ = established.send(()).await;
    let (mut seen, mut duplicates) = (HashSet::with_capacity(BURST), 0);
    while seen.len() < BURST {
        let Some(line) = events.next().await? else {
            bail!("the watch ended after {} of {BURST} events", seen.len());
        };
        let event: crate::watch::Event<EventObject> =
            serde_json::from_slice(&line).context("decoding a watch event")?;
        if event.kind == "ERROR" {
            bail!("the watch sent an error: {}", String::from_utf8_lossy(&line));
        }
        if event.kind == "ADDED"
            && event.object.metadata.name.starts_with(PREFIX)
            && !seen.insert(event.object.metadata.name.to_string())
        {
            duplicates += 1;
        }
    }
    Ok(Watched { done: Instant::now(), duplicates })
}
