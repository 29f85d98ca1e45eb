//! onebin-bench: runs the benchmarks of issue 7, each side by side with its peer where one
//! can be had, and rewrites bench/RESULTS.md. `bench/run` builds and starts it.

mod agent;
mod benches;
mod capability;
mod cluster;
mod debian;
mod etcd;
mod http;
mod images;
mod iperf;
mod isolation;
mod kubeconfig;
mod load;
mod machine;
mod netns;
mod nft_monitor;
mod process;
mod proxy_harness;
mod report;
mod rtt;
mod server;
mod stats;
mod tls;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};

use benches::{Bench, Ctx};
use capability::Capabilities;

#[derive(Parser)]
#[command(about = "Measures onebin against its peers and rewrites the results file")]
struct Args {
    /// Only the core set (or the named benchmarks), with fewer and shorter rounds: under five minutes.
    #[arg(long)]
    quick: bool,
    /// List the benchmarks and exit.
    #[arg(long)]
    list: bool,
    /// The onebin binary to measure (a release build).
    #[arg(long, default_value = "target/release/onebin")]
    onebin: PathBuf,
    /// The results file; sections of benchmarks not run this time are kept.
    #[arg(long, default_value = "bench/RESULTS.md")]
    results: PathBuf,
    /// Where servers' data dirs go: a disk, not tmpfs, so fsync costs what it costs.
    #[arg(long, default_value = "/var/tmp")]
    work_dir: PathBuf,
    /// Benchmarks to run (default: all of them, or the core set with --quick).
    names: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for bench in benches::ALL {
            let set = if bench.core { "core" } else { "full" };
            println!("{:<16} {set:<5} {}", bench.name, bench.title);
        }
        return ExitCode::SUCCESS;
    }
    let selected = match select(&args) {
        Ok(selected) => selected,
        Err(err) => return fail(&err),
    };
    if !args.onebin.is_file() {
        return fail(&anyhow::anyhow!("{} does not exist: build it with cargo build --release", args.onebin.display()));
    }
    let capabilities = Capabilities::probe(&args.onebin);
    // Peers come from Debian, so they are installed while the host's network is still there.
    let packages: Vec<&str> =
        selected.iter().filter(|b| b.runnable(&capabilities)).flat_map(|b| b.packages.concat()).collect();
    if let Err(err) = debian::ensure(&packages) {
        eprintln!("onebin-bench: warning: {err:#}; the benchmarks that need them will say so");
    }
    if let Err(err) = isolation::enter_private_network() {
        return fail(&err);
    }
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run_until_signal(args, capabilities, selected)),
        Err(err) => fail(&err.into()),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("onebin-bench: {err:#}");
    ExitCode::from(2)
}

async fn run_until_signal(args: Args, capabilities: Capabilities, selected: Vec<&'static Bench>) -> ExitCode {
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        return fail(&anyhow::anyhow!("cannot handle SIGTERM"));
    };
    // On a signal the run is dropped where it stands: servers are stopped and their data dirs
    // removed by their destructors.
    tokio::select! {
        outcome = run(args, capabilities, selected) => match outcome {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(err) => fail(&err),
        },
        _ = tokio::signal::ctrl_c() => interrupted("SIGINT"),
        _ = terminate.recv() => interrupted("SIGTERM"),
    }
}

fn interrupted(signal: &str) -> ExitCode {
    eprintln!("onebin-bench: stopped by {signal}; the results file keeps the benchmarks that finished");
    ExitCode::from(130)
}

/// Runs the selected benchmarks; `Ok(false)` when one of them failed.
async fn run(args: Args, capabilities: Capabilities, selected: Vec<&'static Bench>) -> Result<bool> {
    let machine = machine::Machine::describe();
    eprintln!("machine: {machine}");
    let ctx = Ctx {
        onebin: std::fs::canonicalize(&args.onebin)?,
        work_dir: args.work_dir.clone(),
        quick: args.quick,
        capabilities,
        machine: machine.to_string(),
        // The scripts live beside the tool's sources, wherever the results are written.
        bench_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let order: Vec<&str> = benches::ALL.iter().map(|b| b.name).collect();
    let mut all_ok = true;
    for bench in selected {
        eprintln!("== {}: {}", bench.name, bench.title);
        // One retry: on a shared machine, something outside the benchmark can disturb a run
        // (a server of ours was once stopped by a stray SIGTERM). The retry is recorded.
        let section = match benches::run(bench, &ctx).await {
            Ok(section) => section,
            Err(first) => {
                eprintln!("{}: failed, retrying once: {first:#}", bench.name);
                match benches::run(bench, &ctx).await {
                    Ok(mut section) => {
                        section.notes.push(format!("A first attempt failed and this is the retry: {first:#}"));
                        section
                    }
                    Err(err) => {
                        eprintln!("{}: failed again: {err:#}", bench.name);
                        all_ok = false;
                        benches::failed(bench, &ctx, &err)
                    }
                }
            }
        };
        // Written after each benchmark, so an interrupted run keeps what it measured.
        report::write(&args.results, &order, std::slice::from_ref(&section))?;
    }
    eprintln!("results written to {}", args.results.display());
    Ok(all_ok)
}

fn select(args: &Args) -> Result<Vec<&'static Bench>> {
    if args.names.is_empty() {
        return Ok(benches::ALL.iter().filter(|b| b.core || !args.quick).collect());
    }
    args.names
        .iter()
        .map(|name| {
            benches::find(name).ok_or_else(|| {
                let known: Vec<&str> = benches::ALL.iter().map(|b| b.name).collect();
                anyhow::anyhow!("no benchmark named {name:?}; there are: {}", known.join(", "))
            })
        })
        .collect()
}
