//! `onebin ps`, `pods`, `logs`, `run`, `stop`, `rm`, `inspect`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::table::{ago, render};
use super::{exit_with, NodeArgs};
use crate::runtime::image::service::PullPolicy;
use crate::runtime::logs::{self, LogLine, Stream};
use crate::runtime::service::RuntimeService;
use crate::runtime::types::{
    ContainerConfig, ContainerInfo, ContainerStatus, Mount, Resources, SandboxConfig, SecurityContext,
};

/// Pods `onebin run` creates carry this label, so `onebin rm` knows it may remove them.
const CREATED_BY_LABEL: &str = "onebin.io/created-by";
const CREATED_BY_CLI: &str = "cli";

#[derive(Args, Debug)]
pub struct PsArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Show all containers, not only running ones.
    #[arg(short, long)]
    all: bool,
    /// Print only container IDs.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct PodsArgs {
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Container ID (or unique prefix, or name).
    container: String,
    /// Only the last N lines.
    #[arg(long)]
    tail: Option<usize>,
    /// Keep printing new lines as they are written.
    #[arg(short, long)]
    follow: bool,
    /// Prefix each line with its timestamp.
    #[arg(short, long)]
    timestamps: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Container name (also the pod's name and hostname).
    #[arg(long)]
    name: Option<String>,
    /// Add the container to this existing pod instead of a new one.
    #[arg(long)]
    pod: Option<String>,
    /// Environment variables (NAME=value).
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Replace the image's entrypoint.
    #[arg(long)]
    entrypoint: Option<String>,
    #[arg(short = 'w', long)]
    workdir: Option<String>,
    /// Memory limit in bytes (suffixes k, m, g).
    #[arg(short, long)]
    memory: Option<String>,
    /// CPU limit in cores (e.g. 0.5).
    #[arg(long)]
    cpus: Option<f64>,
    #[arg(long)]
    pids_limit: Option<i64>,
    /// Bind mounts: HOST:CONTAINER[:ro].
    #[arg(short, long = "volume")]
    volume: Vec<String>,
    /// uid[:gid] to run as.
    #[arg(short, long)]
    user: Option<String>,
    #[arg(long)]
    privileged: bool,
    #[arg(long)]
    read_only: bool,
    #[arg(long)]
    cap_add: Vec<String>,
    #[arg(long)]
    cap_drop: Vec<String>,
    /// Allocate a TTY.
    #[arg(short, long)]
    tty: bool,
    /// Print the container ID and return instead of following its output.
    #[arg(short, long)]
    detach: bool,
    image: String,
    /// Arguments (replace the image's Cmd).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Seconds to wait after the stop signal before SIGKILL.
    #[arg(short, long, default_value_t = 10)]
    timeout: u64,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Remove running containers too (they are killed).
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    container: String,
}

fn short(id: &str) -> String {
    id.chars().take(13).collect()
}

pub async fn ps(args: PsArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    let sandboxes: BTreeMap<String, String> =
        runtime.list_sandboxes().await?.into_iter().map(|s| (s.id, s.config.name)).collect();
    let containers: Vec<ContainerInfo> = runtime
        .list_containers()
        .await?
        .into_iter()
        .filter(|c| args.all || c.state.status == ContainerStatus::Running)
        .collect();
    if args.quiet {
        for c in &containers {
            println!("{}", c.id);
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = containers
        .iter()
        .map(|c| {
            vec![
                short(&c.id),
                c.image.clone(),
                ago(c.state.created_at),
                c.state.status.as_str().to_string(),
                c.name.clone(),
                c.attempt.to_string(),
                short(&c.sandbox_id),
                sandboxes.get(&c.sandbox_id).cloned().unwrap_or_default(),
            ]
        })
        .collect();
    print!("{}", render(&["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"], &rows));
    Ok(())
}

pub async fn pods(args: PodsArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    let rows: Vec<Vec<String>> = runtime
        .list_sandboxes()
        .await?
        .into_iter()
        .map(|s| {
            vec![
                short(&s.id),
                ago(s.created_at),
                format!("{:?}", s.state),
                s.config.name,
                s.config.namespace,
                s.config.attempt.to_string(),
            ]
        })
        .collect();
    print!("{}", render(&["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT"], &rows));
    Ok(())
}

pub async fn inspect(args: InspectArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    let info = runtime.container_status(&args.container).await?;
    println!("{}", serde_json::to_string_pretty(&info)?);
    Ok(())
}

fn print_line(line: &LogLine, timestamps: bool, at_line_start: &mut [bool; 2]) -> std::io::Result<()> {
    let index = if line.stream == Stream::Stdout { 0 } else { 1 };
    let mut out: Box<dyn Write> =
        if index == 0 { Box::new(std::io::stdout().lock()) } else { Box::new(std::io::stderr().lock()) };
    if timestamps && at_line_start[index] {
        write!(out, "{} ", line.timestamp)?;
    }
    out.write_all(&line.content)?;
    if line.complete {
        out.write_all(b"\n")?;
    }
    at_line_start[index] = line.complete;
    out.flush()
}

pub async fn logs(args: LogsArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    let info = runtime.container_status(&args.container).await?;
    let lines = logs::read_log(&info.log_path).with_context(|| format!("reading {}", info.log_path.display()))?;
    let skip = match args.tail {
        Some(n) => {
            // Count whole lines (a line may span several P records) from the end.
            let mut complete = 0;
            let mut start = lines.len();
            for (i, line) in lines.iter().enumerate().rev() {
                if line.complete {
                    if complete == n {
                        break;
                    }
                    complete += 1;
                }
                start = i;
            }
            start
        }
        None => 0,
    };
    let mut at_line_start = [true, true];
    for line in &lines[skip..] {
        print_line(line, args.timestamps, &mut at_line_start)?;
    }
    if args.follow {
        follow(&runtime, &info.id, &info.log_path, lines.len(), args.timestamps, &mut at_line_start).await?;
    }
    Ok(())
}

/// Prints records appended after the first `seen` ones until the container stops.
async fn follow(
    runtime: &RuntimeService,
    id: &str,
    path: &Path,
    mut seen: usize,
    timestamps: bool,
    at_line_start: &mut [bool; 2],
) -> Result<()> {
    let mut identity = file_identity(path);
    loop {
        let running = runtime
            .container_status(id)
            .await
            .is_ok_and(|c| matches!(c.state.status, ContainerStatus::Running | ContainerStatus::Created));
        if file_identity(path) != identity {
            // Rotated: what is at the path now is a new file.
            identity = file_identity(path);
            seen = 0;
        }
        let lines = logs::read_log(path).unwrap_or_default();
        for line in lines.iter().skip(seen) {
            print_line(line, timestamps, at_line_start)?;
        }
        seen = seen.max(lines.len());
        if !running {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn file_identity(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// `512m` → bytes.
fn parse_bytes(text: &str) -> Result<i64> {
    let lower = text.trim().to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('b');
    let (number, multiplier) = match trimmed.chars().last() {
        Some('k') => (&trimmed[..trimmed.len() - 1], 1 << 10),
        Some('m') => (&trimmed[..trimmed.len() - 1], 1 << 20),
        Some('g') => (&trimmed[..trimmed.len() - 1], 1 << 30),
        _ => (trimmed, 1),
    };
    let value: i64 = number.parse().with_context(|| format!("invalid size {text:?}"))?;
    Ok(value * multiplier)
}

fn container_config(args: &RunArgs, name: &str) -> Result<ContainerConfig> {
    let env = args
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => bail!("environment variable {e:?} is not NAME=value"),
        })
        .collect::<Result<Vec<_>>>()?;
    let mounts = args
        .volume
        .iter()
        .map(|v| {
            let parts: Vec<&str> = v.split(':').collect();
            match parts.as_slice() {
                [host, container] => Ok((host, container, false)),
                [host, container, "ro"] => Ok((host, container, true)),
                [host, container, "rw"] => Ok((host, container, false)),
                _ => bail!("volume {v:?} is not HOST:CONTAINER[:ro]"),
            }
            .map(|(host, container, readonly)| Mount {
                host_path: PathBuf::from(host),
                container_path: container.to_string(),
                readonly,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (run_as_user, run_as_group) = match &args.user {
        Some(user) => {
            let (u, g) = user.split_once(':').map_or((user.as_str(), None), |(u, g)| (u, Some(g)));
            (
                Some(u.parse().context("--user takes numeric uid[:gid]")?),
                g.map(|g| g.parse()).transpose().context("--user takes numeric uid[:gid]")?,
            )
        }
        None => (None, None),
    };
    Ok(ContainerConfig {
        name: name.to_string(),
        image: args.image.clone(),
        command: args.entrypoint.iter().cloned().collect(),
        args: args.args.clone(),
        env,
        working_dir: args.workdir.clone(),
        mounts,
        resources: Resources {
            memory_limit_bytes: args.memory.as_deref().map(parse_bytes).transpose()?,
            cpu_limit_millis: args.cpus.map(|c| (c * 1000.0) as u64),
            pids_limit: args.pids_limit,
            ..Default::default()
        },
        security: SecurityContext {
            privileged: args.privileged,
            capabilities_add: args.cap_add.clone(),
            capabilities_drop: args.cap_drop.clone(),
            readonly_rootfs: args.read_only,
            run_as_user,
            run_as_group,
            ..Default::default()
        },
        tty: args.tty,
        ..Default::default()
    })
}

pub async fn run(args: RunArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    let images = args.node.images()?;
    let image =
        images.ensure(&args.image, PullPolicy::IfNotPresent, Arc::new(crate::runtime::image::pull::NoProgress)).await?;
    let name = args.name.clone().unwrap_or_else(|| {
        let suffix: String = uuid::Uuid::new_v4().simple().to_string().chars().take(6).collect();
        format!("run-{suffix}")
    });
    let config = container_config(&args, &name)?;
    let sandbox_id = match &args.pod {
        Some(pod) => runtime.sandbox_status(pod).await?.id,
        None => {
            let uid = uuid::Uuid::new_v4().to_string();
            let sandbox = runtime
                .run_sandbox(SandboxConfig {
                    name: name.clone(),
                    namespace: "default".to_string(),
                    log_directory: args.node.paths().agent_dir.join("logs").join(format!("default_{name}_{uid}")),
                    uid,
                    hostname: name.clone(),
                    labels: [(CREATED_BY_LABEL.to_string(), CREATED_BY_CLI.to_string())].into(),
                    ..Default::default()
                })
                .await?;
            sandbox.id
        }
    };
    let created = async {
        let id = runtime.create_container(&sandbox_id, config).await?;
        runtime.start_container(&id).await?;
        anyhow::Ok(id)
    }
    .await;
    let id = match created {
        Ok(id) => id,
        Err(err) => {
            if args.pod.is_none() {
                let _ = runtime.remove_sandbox(&sandbox_id).await;
            }
            return Err(err.context(format!("running {}", image.names.first().cloned().unwrap_or(args.image.clone()))));
        }
    };
    println!("{id}");
    if args.detach {
        return Ok(());
    }
    let info = runtime.container_status(&id).await?;
    let mut at_line_start = [true, true];
    follow(&runtime, &id, &info.log_path, 0, false, &mut at_line_start).await?;
    let info = runtime.container_status(&id).await?;
    exit_with(info.state.exit_code.unwrap_or(0))
}

pub async fn stop(args: StopArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    for container in &args.containers {
        runtime.stop_container(container, Duration::from_secs(args.timeout)).await?;
        println!("{container}");
    }
    Ok(())
}

pub async fn rm(args: RmArgs) -> Result<()> {
    let runtime = args.node.runtime()?;
    for container in &args.containers {
        let info = runtime.container_status(container).await?;
        if info.state.status == ContainerStatus::Running && !args.force {
            bail!("container {} is running; stop it first or use --force", short(&info.id));
        }
        runtime.remove_container(&info.id).await?;
        let sandbox = runtime.sandbox_status(&info.sandbox_id).await?;
        let others = runtime.list_containers().await?.into_iter().any(|c| c.sandbox_id == sandbox.id);
        if !others && sandbox.config.labels.get(CREATED_BY_LABEL).map(String::as_str) == Some(CREATED_BY_CLI) {
            runtime.remove_sandbox(&sandbox.id).await?;
        }
        println!("{container}");
    }
    Ok(())
}
