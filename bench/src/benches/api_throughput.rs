//! API throughput over HTTPS with keep-alive and client certificates: GETs of one pod and
//! durable pod creates, over HTTP/2 (one connection, many streams, as client-go does) and
//! HTTP/1.1 (one connection per request in flight). The peer is Debian's etcd, the store
//! kube-apiserver keeps its objects in, driven by the same load generator in alternate rounds.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};

use super::objects::{create_namespace, pod};
use super::{Bench, Ctx};
use crate::etcd::{self, Etcd};
use crate::http::{Endpoint, Protocol};
use crate::load::{self, LoadResult, LoadSpec, RequestFactory};
use crate::report::{thousands, Row, Section};
use crate::server::Server;
use crate::stats::median;

const NAMESPACE: &str = "bench";
const GET_NAME: &str = "bench-get";
/// Requests in flight: enough for the store to batch many creates into one fsync.
const CONCURRENCY: usize = 64;

#[derive(Clone, Copy, PartialEq)]
enum Operation {
    Get,
    Create,
}

struct Case {
    operation: Operation,
    protocol: Protocol,
    target: f64,
}

const CASES: [Case; 4] = [
    Case { operation: Operation::Get, protocol: Protocol::Http2, target: 5000.0 },
    Case { operation: Operation::Get, protocol: Protocol::Http1, target: 5000.0 },
    Case { operation: Operation::Create, protocol: Protocol::Http2, target: 1000.0 },
    Case { operation: Operation::Create, protocol: Protocol::Http1, target: 1000.0 },
];

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let mut server = Server::start(ctx, false).await?;
    let api = server.admin()?;
    let mut conn = api.connect(Protocol::Http2).await?;
    create_namespace(&mut conn, &api, NAMESPACE).await?;
    let pods = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    conn.expect(api.request(Method::POST, &pods, Some(pod(NAMESPACE, GET_NAME))), StatusCode::CREATED).await?;
    // The object as stored (defaults, uid, managed fields): etcd gets the same bytes to keep.
    let stored = conn.expect(api.request(Method::GET, &format!("{pods}/{GET_NAME}"), None), StatusCode::OK).await?;

    let mut peer = start_peer(ctx, &stored).await;
    let mut section = ctx.section(
        bench,
        match &peer {
            Ok(etcd) => format!(
                "{}: a bare durable key-value store (GET = range read of one key, create = put of the stored \
                 pod's bytes under a new key), over the same TLS with client certificates through its JSON \
                 gateway. onebin's numbers include the whole API path (authentication, authorization, \
                 admission, defaulting, validation, encoding) on top of its store, so onebin ÷ etcd says how \
                 much of a bare store's rate the full API keeps. The durable creates are the telling \
                 comparison (both batch writers into shared fsyncs); etcd's gateway forwards every request \
                 to etcd's own gRPC port over a second loopback TLS connection, a cost that dominates its \
                 small reads, so the GET ratio flatters onebin. k3s, the peer the issue names, is not \
                 available (not in Debian, no downloads here).",
                etcd.version
            ),
            Err(why) => format!("unavailable: k3s is not in Debian and cannot be downloaded; etcd: {why:#}"),
        },
    );

    let rounds = ctx.rounds(3, 5);
    let duration = Duration::from_secs(if ctx.quick { 3 } else { 10 });
    for case in &CASES {
        let spec = LoadSpec { protocol: case.protocol, concurrency: CONCURRENCY, http2_connections: 1, duration };
        let what = match case.operation {
            Operation::Get => "GET one pod",
            Operation::Create => "durable pod creates",
        };
        eprintln!("  {what}, {}", spec.describe());
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        // A short warm-up of each side first, discarded: connections, caches, allocator.
        let warm_up = LoadSpec { duration: Duration::from_secs(1), ..spec };
        for round in 0..=rounds {
            let spec = if round == 0 { warm_up } else { spec };
            let tag = format!("{}-r{round}", short(case.protocol));
            let mine =
                match load::run(&api, spec, onebin_request(&api, case.operation, tag.clone()), expected(case)).await {
                    Ok(result) => result,
                    Err(err) => return Err(err.context(format!("loading onebin; {}", server.post_mortem().await))),
                };
            let peer_result = match &mut peer {
                Ok(etcd) => Some(
                    load::run(&etcd.endpoint, spec, etcd_request(etcd, case.operation, &tag, &stored), StatusCode::OK)
                        .await
                        .map_err(|err| match etcd.fail_if_exited() {
                            Err(died) => died,
                            Ok(()) => err,
                        }),
                ),
                Err(_) => None,
            };
            if round == 0 {
                continue;
            }
            if let Some(Ok(peer_result)) = &peer_result {
                ratios.push(mine.rate() / peer_result.rate());
            }
            ours.push(mine);
            theirs.push(peer_result);
        }
        section.rows.push(row(case, what, &spec, &ours, &theirs, &ratios));
        for (side, results) in
            [("onebin", ours.iter().collect::<Vec<_>>()), ("etcd", theirs.iter().flatten().flatten().collect())]
        {
            let errors: u64 = results.iter().map(|r| r.errors).sum();
            if let Some(first) = results.iter().find_map(|r| r.first_error.as_deref()) {
                section.notes.push(format!(
                    "{what} over {}: {side} had {errors} failed requests, the first: {first}",
                    case.protocol.label()
                ));
            }
        }
        if let Some(Some(Err(err))) = theirs.iter().find(|r| matches!(r, Some(Err(_)))) {
            section.notes.push(format!("{what} over {}: the etcd run failed: {err:#}", case.protocol.label()));
        }
    }
    section.notes.push(format!(
        "{rounds} rounds of {duration:?} per case after a 1 s warm-up, onebin and etcd alternating; rates are the \
         median over rounds, latencies p50/p99 over every request of every round, onebin ÷ etcd the median of \
         the per-round ratios. The load generator runs on the same cores as the server."
    ));
    Ok(section)
}

async fn start_peer(ctx: &Ctx, stored: &Bytes) -> Result<Etcd> {
    let etcd = Etcd::start(&ctx.work_dir).await?;
    let mut conn = etcd.endpoint.connect(Protocol::Http1).await?;
    conn.expect(etcd::put(&etcd.endpoint, &etcd_key(GET_NAME), stored), StatusCode::OK)
        .await
        .context("storing the pod in etcd")?;
    Ok(etcd)
}

fn etcd_key(name: &str) -> String {
    format!("/registry/pods/{NAMESPACE}/{name}")
}

fn short(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Http1 => "h1",
        Protocol::Http2 => "h2",
    }
}

fn expected(case: &Case) -> StatusCode {
    match case.operation {
        Operation::Get => StatusCode::OK,
        Operation::Create => StatusCode::CREATED,
    }
}

fn onebin_request(api: &Endpoint, operation: Operation, tag: String) -> RequestFactory {
    let api = api.clone();
    let pods = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    match operation {
        Operation::Get => {
            let path = format!("{pods}/{GET_NAME}");
            Arc::new(move |_| api.request(Method::GET, &path, None))
        }
        Operation::Create => {
            Arc::new(move |n| api.request(Method::POST, &pods, Some(pod(NAMESPACE, &format!("c-{tag}-{n}")))))
        }
    }
}

fn etcd_request(etcd: &Etcd, operation: Operation, tag: &str, stored: &Bytes) -> RequestFactory {
    let endpoint = etcd.endpoint.clone();
    match operation {
        Operation::Get => {
            let key = etcd_key(GET_NAME);
            Arc::new(move |_| etcd::get(&endpoint, &key))
        }
        Operation::Create => {
            let (tag, stored) = (tag.to_string(), stored.clone());
            Arc::new(move |n| etcd::put(&endpoint, &etcd_key(&format!("c-{tag}-{n}")), &stored))
        }
    }
}

fn row(
    case: &Case,
    what: &str,
    spec: &LoadSpec,
    ours: &[LoadResult],
    theirs: &[Option<Result<LoadResult>>],
    ratios: &[f64],
) -> Row {
    let measure = format!("{what}, {}", spec.describe());
    let Some(rate) = median(&ours.iter().map(LoadResult::rate).collect::<Vec<_>>()) else {
        return Row::not_measured(measure, "no rounds");
    };
    let peer_results: Vec<&LoadResult> = theirs.iter().flatten().flatten().collect();
    let peer = match median(&peer_results.iter().map(|r| r.rate()).collect::<Vec<_>>()) {
        Some(peer_rate) => format!("{}/s ({})", thousands(peer_rate), latency(&peer_results)),
        None => "—".into(),
    };
    Row::new(measure, format!("{}/s ({})", thousands(rate), latency(&ours.iter().collect::<Vec<_>>())))
        .peer(peer, median(ratios))
        .target(format!("≥ {}/s", thousands(case.target)), rate >= case.target)
}

/// p50 and p99 over every request of `results`.
fn latency(results: &[&LoadResult]) -> String {
    let all: Vec<f64> = results.iter().flat_map(|r| r.latencies_ms.iter().copied()).collect();
    match crate::stats::Summary::of(&all) {
        Some(s) => format!("p50 {:.1} ms, p99 {:.1} ms", s.median, s.p99),
        None => "no successful request".into(),
    }
}
