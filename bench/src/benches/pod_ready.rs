//! Pod start through the whole path (API, scheduler, kubelet, runtime, network), image
//! present: a server without its agent and one `onebin agent` joined to it, with the test
//! images (tests/images/build.sh) imported at its start. 50 pods are created one after the
//! other, each timed from create until the API says Ready; then a 100-replica Deployment is
//! timed until all its replicas are ready. The agent's own memory is read idle, with 10 and
//! with 30 running pods, and each pod's shim at the end of the series.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;

use super::{Bench, Ctx, K3S_UNAVAILABLE};
use crate::agent::{self, Agent};
use crate::http::{Conn, Endpoint, Protocol};
use crate::process::Memory;
use crate::report::{Row, Section};
use crate::server::Server;
use crate::stats::{median, Summary};

const NAMESPACE: &str = "ready";
const NODE: &str = "bench-agent";
const REPLICAS: usize = 100;
const POLL: Duration = Duration::from_millis(5);

pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    let images = tempfile::Builder::new().prefix("onebin-bench-images-").tempdir_in(&ctx.work_dir)?;
    crate::images::build(ctx, images.path())?;
    let mut server = Server::start(ctx, false).await?;
    let archives = [images.path().join("busybox.tar"), images.path().join("nginx.tar")];
    let mut node = Agent::spawn(ctx, &server, agent::Kind::Real { name: NODE, images: &archives })?;
    let api = server.admin()?;
    let mut conn = api.connect(Protocol::Http2).await?;
    let node_path = format!("/api/v1/nodes/{NODE}");
    let node_ready =
        agent::wait_until(node.spawned, Duration::from_secs(60), POLL, "the agent's node Ready", async || {
            let (status, body) = conn.call(api.request(Method::GET, &node_path, None)).await?;
            Ok(status == StatusCode::OK && crate::server::node_is_ready(&body))
        })
        .await
        .map_err(|err| anyhow::anyhow!("{err:#}; the agent's log ends with:\n{}", node.log_tail()))?;
    let idle = super::idle_memory::settle(node.pid()).await?;
    super::objects::create_namespace(&mut conn, &api, NAMESPACE).await?;

    let count = ctx.rounds(20, 50);
    let pods = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    let (mut times_ms, mut with_10, mut with_30) = (Vec::new(), None, None);
    for i in 0..count {
        let started = Instant::now();
        conn.expect(api.request(Method::POST, &pods, Some(pod(&format!("p-{i}")))), StatusCode::CREATED).await?;
        let path = format!("{pods}/p-{i}");
        agent::wait_until(started, Duration::from_secs(60), POLL, &format!("pod p-{i} Ready"), async || {
            let (status, body) = conn.call(api.request(Method::GET, &path, None)).await?;
            Ok(status == StatusCode::OK && condition_true(&body, "Ready"))
        })
        .await
        .map_err(|err| anyhow::anyhow!("{err:#}; the agent's log ends with:\n{}", node.log_tail()))?;
        times_ms.push(started.elapsed().as_secs_f64() * 1e3);
        match i + 1 {
            10 => with_10 = Some(node.memory()?),
            30 => with_30 = Some(node.memory()?),
            _ => {}
        }
    }
    let shims = shim_memory(&node.run_dir());
    delete_all(&mut conn, &api, &pods, &node).await?;

    let deployments = format!("/apis/apps/v1/namespaces/{NAMESPACE}/deployments");
    let started = Instant::now();
    conn.expect(api.request(Method::POST, &deployments, Some(deployment())), StatusCode::CREATED).await?;
    let path = format!("{deployments}/web");
    let all_ready = agent::wait_until(
        started,
        Duration::from_secs(180),
        Duration::from_millis(20),
        "the Deployment all ready",
        async || {
            let body = conn.expect(api.request(Method::GET, &path, None), StatusCode::OK).await?;
            let deployment: serde_json::Value = serde_json::from_slice(&body)?;
            Ok(deployment["status"]["readyReplicas"].as_u64() == Some(REPLICAS as u64))
        },
    )
    .await
    .map_err(|err| anyhow::anyhow!("{err:#}; the agent's log ends with:\n{}", node.log_tail()))?;
    let with_100 = node.memory()?;
    conn.expect(api.request(Method::DELETE, &path, None), StatusCode::OK).await?;
    delete_all(&mut conn, &api, &pods, &node).await?;
    node.fail_if_exited()?;
    server.wait_ready(Duration::from_secs(1)).await.context("the server after the run")?;

    let mut section = ctx.section(bench, K3S_UNAVAILABLE);
    section.rows.push(Row::new("agent exec → node Ready (joined agent)", format!("{:.0} ms", ms(node_ready))));
    if let Some(s) = Summary::of(&times_ms) {
        section.rows.push(
            Row::new(format!("pod create → Ready, one at a time (median of {count})"), format!("{:.0} ms", s.median))
                .target("≤ 150 ms", s.median <= 150.0),
        );
        section.rows.push(
            Row::new(format!("pod create → Ready, one at a time (p99 of {count})"), format!("{:.0} ms", s.p99))
                .target("≤ 400 ms", s.p99 <= 400.0),
        );
    }
    let seconds = all_ready.as_secs_f64();
    section.rows.push(
        Row::new(format!("{REPLICAS}-replica Deployment: create → all ready"), format!("{seconds:.2} s"))
            .target("≤ 10 s", seconds <= 10.0),
    );
    let mib = |m: &Memory| m.rss_kib as f64 / 1024.0;
    section.rows.push(Row::new("agent alone, node Ready, no pods", format!("VmRSS {:.1} MiB", mib(&idle))));
    if let Some(m) = with_10 {
        let limit = 30e6 / (1024.0 * 1024.0);
        section.rows.push(
            Row::new("agent with 10 running pods", format!("VmRSS {:.1} MiB", mib(&m)))
                .target(format!("VmRSS ≤ 30 MB ({limit:.1} MiB)"), mib(&m) <= limit),
        );
    }
    if let Some(m) = with_30 {
        let growth = mib(&m) - mib(&idle);
        let limit = 10e6 / (1024.0 * 1024.0);
        section.rows.push(
            Row::new("agent with 30 running pods: growth over idle", format!("+{growth:.1} MiB ({:.1} MiB)", mib(&m)))
                .target(format!("≤ +10 MB ({limit:.1} MiB)"), growth <= limit),
        );
    }
    section
        .rows
        .push(Row::new(format!("agent with {REPLICAS} running pods"), format!("VmRSS {:.1} MiB", mib(&with_100))));
    let shim_mib: Vec<f64> = shims.iter().map(mib).collect();
    if let Some(rss) = median(&shim_mib) {
        let limit = 2e6 / (1024.0 * 1024.0);
        section.rows.push(
            Row::new(
                format!("per-pod shim, one running container (median of {})", shim_mib.len()),
                format!("VmRSS {rss:.2} MiB"),
            )
            .target(format!("VmRSS ≤ 2 MB ({limit:.2} MiB)"), rss <= limit),
        );
    }
    section.notes.push(format!(
        "Pods are `busybox sleep` pods (image present, pull policy IfNotPresent, no probes) created one at a time; \
         Ready is read from the API every {POLL:?} over one kept-alive HTTP/2 connection, so each time includes \
         scheduling, the kubelet's watch, sandbox and network setup, container start and the status write. The \
         agent's memory is its VmRSS when the 10th and 30th pods are Ready (the embedded agent of `onebin server` \
         would count the server's memory too; this one is a process of its own). The pods stay running while \
         the series goes on; the Deployment starts after they are deleted."
    ));
    Ok(section)
}

/// The memory of each pod's shim, from the pid files the runtime keeps per sandbox.
fn shim_memory(run_dir: &Path) -> Vec<Memory> {
    let sandboxes: Vec<PathBuf> =
        std::fs::read_dir(run_dir.join("sandboxes")).into_iter().flatten().flatten().map(|e| e.path()).collect();
    sandboxes
        .iter()
        .filter_map(|dir| std::fs::read_to_string(dir.join("shim.pid")).ok())
        .filter_map(|pid| pid.trim().parse().ok())
        .filter_map(|pid| Memory::of(pid).ok())
        .collect()
}

/// Deletes every pod of the namespace and waits until they are gone from the API and the
/// node has torn down their sandboxes (shims, network, mounts).
async fn delete_all(conn: &mut Conn, api: &Endpoint, pods: &str, node: &Agent) -> Result<()> {
    conn.expect(api.request(Method::DELETE, pods, None), StatusCode::OK).await?;
    let sandboxes = node.run_dir().join("sandboxes");
    agent::wait_until(
        Instant::now(),
        Duration::from_secs(120),
        Duration::from_millis(100),
        "the pods removed",
        async || {
            let body = conn.expect(api.request(Method::GET, pods, None), StatusCode::OK).await?;
            let list: serde_json::Value = serde_json::from_slice(&body)?;
            let torn_down = std::fs::read_dir(&sandboxes).map_or(true, |mut entries| entries.next().is_none());
            Ok(list["items"].as_array().is_some_and(Vec::is_empty) && torn_down)
        },
    )
    .await?;
    Ok(())
}

pub fn condition_true(body: &[u8], kind: &str) -> bool {
    let Ok(object) = serde_json::from_slice::<serde_json::Value>(body) else { return false };
    object["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| conditions.iter().any(|c| c["type"] == kind && c["status"] == "True"))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn pod_spec() -> serde_json::Value {
    json!({
        "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"]}],
    })
}

fn pod(name: &str) -> Bytes {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"run": "ready"}},
        "spec": pod_spec(),
    });
    Bytes::from(pod.to_string())
}

fn deployment() -> Bytes {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NAMESPACE},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec()},
        },
    });
    Bytes::from(deployment.to_string())
}
