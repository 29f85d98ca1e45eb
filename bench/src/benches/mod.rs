//! The benchmarks of issue 7: each with its peer, the onebin capability it needs, and whether
//! it is in the `--quick` core set.

mod api_throughput;
mod binary_size;
mod cluster_create;
mod cold_start;
mod container_start;
mod idle_memory;
mod objects;
mod pod_network;
mod pod_ready;
mod scheduler_throughput;
mod service_rules;
mod watch_fanout;

use std::path::PathBuf;

use anyhow::Result;

use crate::capability::{Capabilities, Capability};
use crate::report::{Row, Section};

/// What every benchmark gets.
pub struct Ctx {
    pub onebin: PathBuf,
    /// Where data dirs go: a real disk, so that fsync costs what it costs.
    pub work_dir: PathBuf,
    pub quick: bool,
    pub capabilities: Capabilities,
    pub machine: String,
    /// bench/ of the checkout the tool was built from: where its helper scripts are.
    pub bench_dir: PathBuf,
}

impl Ctx {
    /// The checkout the tool was built from: bench/'s parent.
    pub fn repo_dir(&self) -> &std::path::Path {
        self.bench_dir.parent().expect("bench/ is a directory of the checkout")
    }

    fn section(&self, bench: &Bench, peer: impl Into<String>) -> Section {
        Section {
            name: bench.name,
            title: bench.title,
            date: crate::machine::now_utc(),
            machine: self.machine.clone(),
            peer: peer.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Rounds of a repeated measurement: fewer with `--quick`.
    fn rounds(&self, quick: usize, full: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

pub struct Bench {
    pub name: &'static str,
    pub title: &'static str,
    /// Part of the core set `--quick` runs.
    pub core: bool,
    pub needs: &'static [Capability],
    /// Debian packages of its peers and helpers, in groups, installed before the run starts.
    pub packages: &'static [&'static [&'static str]],
    /// `None` while the benchmark waits for its capability to be written (see `later`).
    run: Option<Runner>,
    /// For a benchmark still to come: what it will measure, against which peer.
    later: &'static [&'static str],
}

#[derive(Clone, Copy)]
enum Runner {
    ColdStart,
    IdleMemory,
    BinarySize,
    ApiThroughput,
    ContainerStart,
    WatchFanout,
    PodReady,
    ClusterCreate,
    SchedulerThroughput,
    PodNetwork,
    ServiceRules,
}

/// k3s is the peer the issue names for the control-plane benchmarks.
const K3S_UNAVAILABLE: &str = "unavailable: k3s, the peer the issue names, is not packaged in Debian and nothing \
     can be downloaded on these machines (only package registries are reachable), so onebin's absolute numbers are \
     checked against the issue's targets instead";

pub const ALL: &[Bench] = &[
    Bench {
        name: "cold-start",
        title: "server cold start to ready, and node Ready from exec",
        core: true,
        needs: &[],
        packages: &[],
        run: Some(Runner::ColdStart),
        later: &[],
    },
    Bench {
        name: "idle-memory",
        title: "idle resident memory (server without agent, server with agent, agent alone, per-pod shim)",
        core: true,
        needs: &[],
        packages: &[],
        run: Some(Runner::IdleMemory),
        later: &[],
    },
    Bench {
        name: "binary-size",
        title: "stripped binary size",
        core: true,
        needs: &[],
        packages: &[],
        run: Some(Runner::BinarySize),
        later: &[],
    },
    Bench {
        name: "api-throughput",
        title: "API GETs/s and durable creates/s over HTTPS with keep-alive",
        core: true,
        needs: &[],
        packages: &[&[crate::etcd::PACKAGE]],
        run: Some(Runner::ApiThroughput),
        later: &[],
    },
    Bench {
        name: "watch-fanout",
        title: "watch fan-out: 1,000 watches, each receiving a 1,000-object write burst",
        core: true,
        needs: &[],
        packages: &[],
        run: Some(Runner::WatchFanout),
        later: &[],
    },
    Bench {
        name: "container-start",
        title: "container start vs crun, runc and podman (same image)",
        core: true,
        needs: &[Capability::Runtime],
        packages: &[container_start::PACKAGES],
        run: Some(Runner::ContainerStart),
        later: &[],
    },
    Bench {
        name: "pod-ready",
        title: "pod create → Ready (1 pod, 100-replica Deployment)",
        core: false,
        needs: &[Capability::Agent, Capability::Runtime, Capability::Shim],
        packages: &[crate::images::PACKAGES],
        run: Some(Runner::PodReady),
        later: &["1 pod: create → Ready", "100-replica Deployment: create → all Ready"],
    },
    Bench {
        name: "cluster-create",
        title: "4-node cluster create time",
        core: false,
        needs: &[Capability::Agent],
        packages: &[],
        run: Some(Runner::ClusterCreate),
        later: &["4 hosts (network namespaces): first exec → all 4 nodes Ready"],
    },
    Bench {
        name: "scheduler-throughput",
        title: "scheduling 10,000 pods on 100 simulated nodes, and the server's memory at that size",
        core: false,
        needs: &[Capability::SimulatedNodes],
        packages: &[],
        run: Some(Runner::SchedulerThroughput),
        later: &["10,000 pods on 100 simulated nodes: first create → all bound", "server memory at that size"],
    },
    Bench {
        name: "pod-network",
        title: "cross-node pod-to-pod throughput vs the bare veth path, and ClusterIP vs pod IP connection latency",
        core: false,
        needs: &[Capability::Agent, Capability::Runtime],
        packages: &[crate::images::PACKAGES, &[crate::iperf::PACKAGE]],
        run: Some(Runner::PodNetwork),
        later: &[
            "pod → pod TCP throughput across nodes over VXLAN, vs the bare veth/bridge path",
            "connection latency through a ClusterIP, vs the pod IP",
        ],
    },
    Bench {
        name: "service-rules",
        title: "service rules programming time at 1,000 services",
        core: false,
        needs: &[Capability::Agent],
        packages: &[&[crate::nft_monitor::PACKAGE]],
        run: Some(Runner::ServiceRules),
        later: &["adding the 1,000th Service: create → its rules in the kernel"],
    },
];

impl Bench {
    /// Whether this benchmark measures something with `capabilities` (rather than writing a
    /// "not available yet" row).
    pub fn runnable(&self, capabilities: &Capabilities) -> bool {
        self.run.is_some() && capabilities.missing(self.needs).is_none()
    }
}

pub fn find(name: &str) -> Option<&'static Bench> {
    ALL.iter().find(|b| b.name == name)
}

/// Runs `bench`, or explains why it cannot run yet. An error is the benchmark failing.
pub async fn run(bench: &Bench, ctx: &Ctx) -> Result<Section> {
    if let Some(missing) = ctx.capabilities.missing(bench.needs) {
        return Ok(not_yet(bench, ctx, &format!("not available yet: this onebin has no {}", missing.describe())));
    }
    let Some(runner) = bench.run else {
        return Ok(not_yet(bench, ctx, "onebin now has what it needs; the benchmark itself is still to be written"));
    };
    match runner {
        Runner::ColdStart => cold_start::run(bench, ctx).await,
        Runner::IdleMemory => idle_memory::run(bench, ctx).await,
        Runner::BinarySize => binary_size::run(bench, ctx).await,
        Runner::ApiThroughput => api_throughput::run(bench, ctx).await,
        Runner::WatchFanout => watch_fanout::run(bench, ctx).await,
        Runner::ContainerStart => container_start::run(bench, ctx).await,
        Runner::PodReady => pod_ready::run(bench, ctx).await,
        Runner::ClusterCreate => cluster_create::run(bench, ctx).await,
        Runner::SchedulerThroughput => scheduler_throughput::run(bench, ctx).await,
        Runner::PodNetwork => pod_network::run(bench, ctx).await,
        Runner::ServiceRules => service_rules::run(bench, ctx).await,
    }
}

/// A section for a benchmark that did not run: one row per quantity it will measure.
fn not_yet(bench: &Bench, ctx: &Ctx, why: &str) -> Section {
    let mut section = ctx.section(bench, "—");
    section.rows = bench.later.iter().map(|measure| Row::not_measured(*measure, why)).collect();
    section
}

/// The section of a benchmark that failed, so RESULTS.md says so instead of keeping old numbers.
pub fn failed(bench: &Bench, ctx: &Ctx, error: &anyhow::Error) -> Section {
    let mut section = ctx.section(bench, "—");
    section.rows.push(Row::not_measured("run", format!("failed: {error:#}")));
    section
}
