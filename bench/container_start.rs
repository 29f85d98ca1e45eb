//! Container start through the runtime service, as the kubelet calls it (no CLI process):
//! create + start of a busybox container in an existing pod, timed from the create call
//! until start returns (the process runs). Driven by bench/container_start.sh, which
//! prepares the node and prints medians and ratios.
//!
//! Usage: container_start DATA_DIR RUN_DIR CGROUP_PARENT POD_ID ROUNDS SHIM_BINARY
//! Prints one duration in nanoseconds per line.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use onebin::runtime::service::{RuntimeConfig, RuntimeService};
use onebin::runtime::types::ContainerConfig;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data_dir, run_dir, cgroup_parent, pod, rounds, shim] = args.as_slice() else {
        bail!("usage: container_start DATA_DIR RUN_DIR CGROUP_PARENT POD_ID ROUNDS SHIM_BINARY");
    };
    let rounds: usize = rounds.parse().context("ROUNDS")?;
    let mut config = RuntimeConfig::new(&PathBuf::from(data_dir), &PathBuf::from(run_dir))?;
    config.cgroup_parent = cgroup_parent.clone();
    config.shim_binary = PathBuf::from(shim);
    let runtime = RuntimeService::new(config)?;
    let tokio = tokio::runtime::Runtime::new()?;
    tokio.block_on(async {
        for round in 0..rounds {
            let container = ContainerConfig {
                name: format!("api-{round}"),
                image: "busybox".into(),
                args: vec!["sleep".into(), "3600".into()],
                ..Default::default()
            };
            let started = Instant::now();
            let id = runtime.create_container(pod, container).await?;
            runtime.start_container(&id).await?;
            let elapsed: Duration = started.elapsed();
            println!("{}", elapsed.as_nanos());
            runtime.remove_container(&id).await?;
        }
        Ok(())
    })
}
