//! Service rules at 1,000 Services, two ways. End to end: `onebin server` with its embedded
//! agent, 999 Services (with hand-made EndpointSlices of three endpoints each) created through
//! the API, then the 1,000th timed from its create request until its ClusterIP entry is in the
//! kernel's nftables map, as `nft monitor` sees the commit; it is deleted again after each
//! round. And the service proxy's sync alone, from its own harness bench/proxy_sync.rs, with
//! `nft -f` of the same rules as text beside it.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;

use super::{Bench, Ctx};
use crate::http::{Conn, Endpoint, Protocol};
use crate::nft_monitor::Monitor;
use crate::proxy_harness;
use crate::report::{Row, Section};
use crate::server::{Server, NODE_NAME};
use crate::stats::Summary;

const SERVICES: u32 = 1000;
const NAMESPACE: &str = "rules";
/// The embedded agent's service proxy table, and its map of every ClusterIP with endpoints.
const SERVICE_MAP: &str = "element ip onebin-proxy service-ips";
const PORT: u16 = 80;
const TARGET_MS: f64 = 50.0;

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let rounds = ctx.rounds(5, 20);
    eprintln!("  building and running bench/proxy_sync.rs");
    let harness = tokio::task::block_in_place(|| proxy_harness::run(ctx.repo_dir(), SERVICES, rounds))?;

    let mut server = Server::start(ctx, true).await?;
    server.wait_node_ready(Duration::from_secs(60)).await?;
    let api = server.admin()?;
    let mut conn = api.connect(Protocol::Http2).await?;
    let mut monitor = Monitor::start()?;
    super::objects::create_namespace(&mut conn, &api, NAMESPACE).await?;
    let existing = count_services(&mut conn, &api).await?;
    let bulk = SERVICES.checked_sub(existing + 1).context("the server has 1,000 Services already")?;
    eprintln!("  creating {bulk} Services with endpoints ({existing} exist)");
    let started = Instant::now();
    let mut last = None;
    for index in 0..bulk {
        last = Some(create(&mut conn, &api, &format!("svc-{index}"), index).await?);
    }
    if let Some(ip) = last {
        monitor
            .wait(started, Duration::from_secs(120), "rules of the bulk's last Service", |l| announces(l, "add", ip))
            .await?;
    }

    let (mut acked_ms, mut programmed_ms) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let name = format!("last-{round}");
        create_slice(&mut conn, &api, &name, bulk + round as u32).await?;
        // The slice reaches the proxy first, as the endpoints of a Service that is not there yet.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let ip = create_service(&mut conn, &api, &name).await?;
        acked_ms.push(ms(started.elapsed()));
        let programmed =
            monitor.wait(started, Duration::from_secs(10), "rules of the new Service", |l| announces(l, "add", ip));
        programmed_ms.push(ms(programmed.await? - started));
        let removed = Instant::now();
        for path in [
            format!("/api/v1/namespaces/{NAMESPACE}/services/{name}"),
            format!("/apis/discovery.k8s.io/v1/namespaces/{NAMESPACE}/endpointslices/{name}"),
        ] {
            conn.expect(api.request(Method::DELETE, &path, None), StatusCode::OK).await?;
        }
        monitor
            .wait(removed, Duration::from_secs(10), "the Service's rules deleted", |l| announces(l, "delete", ip))
            .await?;
        // The proxy drops emptied chains after a grace period; not inside the next round's time.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    server.wait_ready(Duration::from_secs(1)).await.context("the server after the run")?;

    let mut section = ctx.section(
        bench,
        "`nft -f` from Debian applying the same service's chains, rules and map entry as text (to the sync \
         alone: what an nft-binary-driven proxy would do per change at best); end to end there is none here \
         (neither kube-proxy nor k3s is packaged in Debian)",
    );
    if let (Some(e2e), Some(acked)) = (Summary::of(&programmed_ms), Summary::of(&acked_ms)) {
        section.rows.push(
            Row::new(
                format!(
                    "adding the 1,000th Service, end to end: API create → its ClusterIP in the kernel's rules \
                     (median of {rounds})"
                ),
                format!("{:.1} ms (p99 {:.1} ms; the API create alone {:.1} ms)", e2e.median, e2e.p99, acked.median),
            )
            .target(format!("≤ {TARGET_MS:.0} ms"), e2e.median <= TARGET_MS),
        );
    }
    let (add, nft) = (
        proxy_harness::median_ms(&harness, &format!("add service #{SERVICES}"))?,
        proxy_harness::median_ms(&harness, "peer: nft -f adding one service")?,
    );
    section.rows.push(
        Row::new(
            format!("adding the 1,000th Service, the proxy's sync alone (bench/proxy_sync.rs, median of {rounds})"),
            format!("{add:.1} ms"),
        )
        .peer(format!("`nft -f` {nft:.1} ms"), Some(add / nft))
        .target(format!("≤ {TARGET_MS:.0} ms"), add <= TARGET_MS),
    );
    for label in ["change one service's endpoints", "delete a service"] {
        let median = proxy_harness::median_ms(&harness, label)?;
        section.rows.push(Row::new(format!("{label} with 1,000 in place, the sync alone"), format!("{median:.1} ms")));
    }
    section.notes.push(format!(
        "End to end: the {bulk} Services are selector-less ClusterIP Services of one TCP port, each with an \
         EndpointSlice of three ready endpoints on the server's node ({NODE_NAME}); {existing} Services were \
         there before. Each round creates the timed Service's EndpointSlice first, then times from the Service's \
         create request until `nft monitor` prints its entry in the `service-ips` map (the kernel announces \
         elements when their transaction commits), so the time holds the API write, the watch event to the \
         agent, the proxy's planning and the netlink transaction. The Service and slice are deleted after each \
         round, so every round adds the 1,000th."
    ));
    section.notes.push(
        "The sync alone: bench/proxy_sync.rs drives the service proxy in a network namespace of its own with \
         999 services in its table (three endpoints each, every tenth a NodePort), and times one sync adding the \
         1,000th: planning its rules, building the netlink batch and the kernel's commit."
            .into(),
    );
    Ok(section)
}

/// Whether `line` of `nft monitor` is `verb` ("add" or "delete") of the map entry for `ip`.
fn announces(line: &str, verb: &str, ip: Ipv4Addr) -> bool {
    line.strip_prefix(verb).is_some_and(|rest| rest.trim_start().starts_with(SERVICE_MAP))
        && line.contains(&format!("{{ {ip} . tcp . {PORT}"))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

async fn count_services(conn: &mut Conn, api: &Endpoint) -> Result<u32> {
    let body = conn.expect(api.request(Method::GET, "/api/v1/services", None), StatusCode::OK).await?;
    let list: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(list["items"].as_array().map_or(0, Vec::len) as u32)
}

/// A Service and its EndpointSlice; returns the ClusterIP.
async fn create(conn: &mut Conn, api: &Endpoint, name: &str, index: u32) -> Result<Ipv4Addr> {
    create_slice(conn, api, name, index).await?;
    create_service(conn, api, name).await
}

/// A selector-less Service: its endpoints are the slice of the same name.
async fn create_service(conn: &mut Conn, api: &Endpoint, name: &str) -> Result<Ipv4Addr> {
    let spec = json!({"ports": [{"name": "http", "port": PORT, "targetPort": 8080, "protocol": "TCP"}]});
    super::objects::create_service(conn, api, NAMESPACE, name, spec).await
}

/// Three ready endpoints on this node; `index` picks their addresses in the pod network.
async fn create_slice(conn: &mut Conn, api: &Endpoint, service: &str, index: u32) -> Result<()> {
    let endpoints: Vec<_> = (0..3)
        .map(|which| {
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 42, 0, 2)) + (index * 3 + which) % 65_000);
            json!({"addresses": [ip.to_string()], "nodeName": NODE_NAME, "conditions": {"ready": true}})
        })
        .collect();
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": service, "namespace": NAMESPACE, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints,
    });
    let path = format!("/apis/discovery.k8s.io/v1/namespaces/{NAMESPACE}/endpointslices");
    conn.expect(api.request(Method::POST, &path, Some(Bytes::from(slice.to_string()))), StatusCode::CREATED).await?;
    Ok(())
}
