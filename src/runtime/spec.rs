//! Building a container's OCI runtime spec from what the kubelet asked for and what the
//! image says, with Kubernetes' rules: `command` replaces the image Entrypoint (and its
//! Cmd), `args` replaces Cmd, env adds to the image's, the security context beats the
//! image's User. Containers get their own mount and PID namespaces and join the pod's
//! network, IPC and UTS namespaces, which the shim holds.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxMemoryBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder, Mount, MountBuilder,
    ProcessBuilder, RootBuilder, Spec, UserBuilder,
};

use super::image::manifest::ImageConfigSummary;
use super::types::{ContainerConfig, Resources};
use super::user;

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CPU_PERIOD_US: u64 = 100_000;
/// Docker's and containerd's default capability set.
const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Paths of the pod's shared resources that every container of the pod gets.
#[derive(Debug, Clone)]
pub struct PodResources {
    pub netns: PathBuf,
    pub ipcns: PathBuf,
    pub utsns: PathBuf,
    /// tmpfs shared as /dev/shm (the IPC namespace is shared, so is its shm).
    pub shm: PathBuf,
    pub hostname_file: PathBuf,
    pub hosts_file: PathBuf,
    pub resolv_conf: PathBuf,
}

/// The process a container runs: image config merged with the kubelet's request.
pub fn command_line(config: &ContainerConfig, image: &ImageConfigSummary) -> Result<Vec<String>> {
    let argv: Vec<String> = if !config.command.is_empty() {
        config.command.iter().chain(&config.args).cloned().collect()
    } else {
        let cmd = if config.args.is_empty() { &image.cmd } else { &config.args };
        image.entrypoint.iter().chain(cmd).cloned().collect()
    };
    if argv.is_empty() {
        bail!("no command: neither the container nor image {} specifies one", config.image);
    }
    Ok(argv)
}

/// The image's env with the container's on top (same name: the container wins).
pub fn environment(config: &ContainerConfig, image: &ImageConfigSummary) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    let mut set = |entry: String| {
        let name = entry.split('=').next().unwrap_or_default().to_string();
        env.retain(|e| e.split('=').next() != Some(name.as_str()));
        env.push(entry);
    };
    for entry in &image.env {
        set(entry.clone());
    }
    for (name, value) in &config.env {
        set(format!("{name}={value}"));
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_string());
    }
    env
}

/// Parses `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN`.
fn parse_capability(name: &str) -> Result<Capability> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    bare.parse().with_context(|| format!("unknown capability {name:?}"))
}

fn all_capabilities() -> Capabilities {
    caps::all().into_iter().filter_map(|c| parse_capability(&c.to_string()).ok()).collect()
}

fn capabilities(config: &ContainerConfig) -> Result<Capabilities> {
    let security = &config.security;
    if security.privileged {
        return Ok(all_capabilities());
    }
    let is_all = |names: &[String]| names.iter().any(|n| n.eq_ignore_ascii_case("ALL"));
    let mut set: Capabilities = if is_all(&security.capabilities_add) {
        all_capabilities()
    } else {
        DEFAULT_CAPABILITIES.into_iter().collect()
    };
    if is_all(&security.capabilities_drop) {
        set.clear();
    }
    for name in security.capabilities_drop.iter().filter(|n| !n.eq_ignore_ascii_case("ALL")) {
        set.remove(&parse_capability(name)?);
    }
    for name in security.capabilities_add.iter().filter(|n| !n.eq_ignore_ascii_case("ALL")) {
        set.insert(parse_capability(name)?);
    }
    Ok(set)
}

fn resources(resources: &Resources) -> Result<oci_spec::runtime::LinuxResources> {
    let mut builder = LinuxResourcesBuilder::default().devices(Vec::new());
    if let Some(limit) = resources.memory_limit_bytes {
        builder = builder.memory(LinuxMemoryBuilder::default().limit(limit).build()?);
    }
    let mut cpu = LinuxCpuBuilder::default();
    let mut has_cpu = false;
    if let Some(millis) = resources.cpu_request_millis {
        // The kubelet's conversion: 1000m is 1024 shares, at least 2.
        cpu = cpu.shares((millis * 1024 / 1000).max(2));
        has_cpu = true;
    }
    if let Some(millis) = resources.cpu_limit_millis {
        // At least 1 ms per period, the kernel's minimum quota.
        cpu = cpu.quota(((millis * CPU_PERIOD_US) / 1000).max(1000) as i64).period(CPU_PERIOD_US);
        has_cpu = true;
    }
    if has_cpu {
        builder = builder.cpu(cpu.build()?);
    }
    if let Some(limit) = resources.pids_limit {
        builder = builder.pids(LinuxPidsBuilder::default().limit(limit).build()?);
    }
    Ok(builder.build()?)
}

fn bind(destination: &str, source: &Path, readonly: bool) -> Result<Mount> {
    let mut options = vec!["rbind".to_string(), "rprivate".to_string()];
    if readonly {
        options.push("ro".to_string());
    }
    Ok(MountBuilder::default().destination(destination).typ("bind").source(source).options(options).build()?)
}

fn mounts(config: &ContainerConfig, pod: &PodResources, privileged: bool) -> Result<Vec<Mount>> {
    let wanted: HashSet<&str> = config.mounts.iter().map(|m| m.container_path.trim_end_matches('/')).collect();
    let mut mounts: Vec<Mount> = oci_spec::runtime::get_default_mounts()
        .into_iter()
        .filter(|m| !wanted.contains(m.destination().to_string_lossy().as_ref()))
        .filter(|m| m.destination() != Path::new("/dev/shm"))
        .map(|mut m| {
            // Privileged containers may write to /sys, as with Docker's --privileged.
            if privileged && m.destination() == Path::new("/sys") {
                m.set_options(Some(vec!["nosuid".into(), "noexec".into(), "nodev".into(), "rw".into()]));
            }
            m
        })
        .collect();
    let pod_files = [
        ("/dev/shm", &pod.shm, false),
        ("/etc/hostname", &pod.hostname_file, false),
        ("/etc/hosts", &pod.hosts_file, false),
        ("/etc/resolv.conf", &pod.resolv_conf, false),
    ];
    for (destination, source, readonly) in pod_files {
        if !wanted.contains(destination) {
            mounts.push(bind(destination, source, readonly)?);
        }
    }
    for mount in &config.mounts {
        if !mount.container_path.starts_with('/') {
            bail!("mount destination {:?} is not an absolute path", mount.container_path);
        }
        if !mount.host_path.exists() {
            bail!("mount source {} does not exist", mount.host_path.display());
        }
        mounts.push(bind(&mount.container_path, &mount.host_path, mount.readonly)?);
    }
    Ok(mounts)
}

/// Everything that goes into a container's `config.json`.
pub struct SpecInput<'a> {
    pub config: &'a ContainerConfig,
    pub image: &'a ImageConfigSummary,
    /// The mounted rootfs (for resolving user names).
    pub rootfs: &'a Path,
    pub cgroup_path: &'a str,
    pub pod: &'a PodResources,
}

pub fn build(input: SpecInput<'_>) -> Result<Spec> {
    let SpecInput { config, image, rootfs, cgroup_path, pod } = input;
    let security = &config.security;

    let image_user = image.user.clone().unwrap_or_default();
    let mut resolved = user::resolve(rootfs, &image_user)?;
    if let Some(uid) = security.run_as_user {
        // The security context's user replaces the image's; its primary group comes from
        // the container's /etc/passwd unless runAsGroup says otherwise.
        resolved = user::resolve(rootfs, &uid.to_string())?;
    }
    if let Some(gid) = security.run_as_group {
        resolved.gid = gid;
    }
    let mut additional_gids = resolved.additional_gids.clone();
    additional_gids.extend(&security.supplemental_groups);
    additional_gids.sort_unstable();
    additional_gids.dedup();

    let caps = capabilities(config)?;
    let mut process = ProcessBuilder::default()
        .terminal(config.tty)
        .args(command_line(config, image)?)
        .env(environment(config, image))
        .cwd(config.working_dir.clone().or_else(|| image.working_dir.clone()).unwrap_or_else(|| "/".to_string()))
        .user(UserBuilder::default().uid(resolved.uid).gid(resolved.gid).additional_gids(additional_gids).build()?)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps)
                .inheritable(Capabilities::new())
                .ambient(Capabilities::new())
                .build()?,
        )
        .no_new_privileges(security.no_new_privileges)
        .build()?;
    process.set_oom_score_adj(config.resources.oom_score_adj);
    if config.working_dir.as_deref().is_some_and(|w| !w.starts_with('/')) {
        bail!("working dir {:?} is not an absolute path", config.working_dir.as_deref().unwrap_or_default());
    }

    let join = |typ, path: &Path| LinuxNamespaceBuilder::default().typ(typ).path(path).build();
    let mut namespaces = vec![
        LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Pid).build()?,
        LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Mount).build()?,
        join(LinuxNamespaceType::Network, &pod.netns)?,
        join(LinuxNamespaceType::Ipc, &pod.ipcns)?,
        join(LinuxNamespaceType::Uts, &pod.utsns)?,
    ];
    if super::cgroups::is_unified() {
        namespaces.push(LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Cgroup).build()?);
    }
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(PathBuf::from(cgroup_path))
        .resources(resources(&config.resources)?);
    if security.privileged {
        linux = linux.masked_paths(Vec::new()).readonly_paths(Vec::new());
    } else {
        linux = linux
            .masked_paths(oci_spec::runtime::get_default_maskedpaths())
            .readonly_paths(oci_spec::runtime::get_default_readonly_paths());
    }

    let mut spec = Spec::default();
    spec.set_hostname(None)
        .set_process(Some(process))
        .set_root(Some(RootBuilder::default().path("rootfs").readonly(security.readonly_rootfs).build()?))
        .set_mounts(Some(mounts(config, pod, security.privileged)?))
        .set_linux(Some(linux.build()?))
        .set_annotations(Some(config.annotations.clone().into_iter().collect()));
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageConfigSummary {
        ImageConfigSummary {
            entrypoint: vec!["/entry".into()],
            cmd: vec!["default".into()],
            env: vec!["PATH=/bin".into(), "A=image".into()],
            ..Default::default()
        }
    }

    #[test]
    fn kubernetes_command_rules() {
        let mut c = ContainerConfig::default();
        assert_eq!(command_line(&c, &image()).unwrap(), ["/entry", "default"]);
        c.args = vec!["x".into()];
        assert_eq!(command_line(&c, &image()).unwrap(), ["/entry", "x"]);
        c.command = vec!["/bin/sh".into()];
        assert_eq!(command_line(&c, &image()).unwrap(), ["/bin/sh", "x"]);
        assert!(command_line(&ContainerConfig::default(), &ImageConfigSummary::default()).is_err());
    }

    #[test]
    fn container_env_overrides_image_env() {
        let c =
            ContainerConfig { env: vec![("A".into(), "pod".into()), ("B".into(), "1".into())], ..Default::default() };
        assert_eq!(environment(&c, &image()), ["PATH=/bin", "A=pod", "B=1"]);
        assert!(environment(&ContainerConfig::default(), &ImageConfigSummary::default())[0].starts_with("PATH="));
    }

    #[test]
    fn capability_add_and_drop() {
        let mut c = ContainerConfig::default();
        c.security.capabilities_add = vec!["net_admin".into()];
        c.security.capabilities_drop = vec!["CAP_CHOWN".into()];
        let caps = capabilities(&c).unwrap();
        assert!(caps.contains(&Capability::NetAdmin) && !caps.contains(&Capability::Chown));
        c.security.capabilities_drop = vec!["ALL".into()];
        assert_eq!(capabilities(&c).unwrap(), [Capability::NetAdmin].into_iter().collect());
        c.security.capabilities_add = vec!["NOT_A_CAP".into()];
        assert!(capabilities(&c).is_err());
        c.security.privileged = true;
        assert!(capabilities(&ContainerConfig { security: c.security.clone(), ..Default::default() })
            .unwrap()
            .contains(&Capability::SysAdmin));
    }
}
