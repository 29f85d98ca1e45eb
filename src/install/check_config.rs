//! `onebin check-config`: what this kernel offers onebin, in the spirit of `k3s check-config`:
//! namespaces, the cgroup version and controllers, overlayfs, the link kinds of the pod network
//! (bridge, veth, VXLAN, dummy) and nftables NAT.
//!
//! As root it makes each thing for real, in a throwaway network namespace (and an overlay mount
//! in a throwaway mount namespace), which is the only sure test and also loads the modules the
//! kernel loads on demand. Otherwise it goes by what is loaded and by the kernel config. It exits
//! non-zero when something onebin cannot run without is missing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

#[derive(Args, Debug, Clone)]
pub struct CheckConfigArgs {
    /// Print only what is missing (the exit status is the same).
    #[arg(long)]
    pub quiet: bool,
    /// The overlay the node would run; VXLAN is needed only for `vxlan`.
    #[arg(long, env = "ONEBIN_FLANNEL_BACKEND", default_value = "vxlan", value_parser = ["vxlan", "none"])]
    pub flannel_backend: String,
}

/// Whether a feature is there, and how we know.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    Yes(String),
    No(String),
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    Required,
    /// Not needed to run; the text says what it is for.
    Optional(&'static str),
}

#[derive(Debug)]
struct Item {
    name: String,
    need: Need,
    found: Found,
}

#[derive(Debug)]
struct Section {
    title: String,
    items: Vec<Item>,
}

/// Runs the checks, prints the report and fails when a required feature is missing.
pub fn run(args: CheckConfigArgs) -> Result<()> {
    let root = nix::unistd::Uid::effective().is_root();
    let config = KernelConfig::load();
    let sections = vec![
        namespaces(),
        cgroups(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default()),
        filesystems(root, config.as_ref()),
        networking(root, config.as_ref(), args.flannel_backend == "vxlan"),
    ];
    let source = match (&config, root) {
        (Some(c), true) => format!("kernel config {}; probed as root", c.source.display()),
        (Some(c), false) => format!("kernel config {}; not root, so nothing was probed", c.source.display()),
        (None, true) => "no kernel config found; probed as root".to_string(),
        (None, false) => "no kernel config found and not root: some answers are guesses".to_string(),
    };
    let header = format!("Linux {} ({source})", crate::host::kernel_version());
    print!("{}", render(&header, &sections, args.quiet));
    let missing = missing_required(&sections);
    if !missing.is_empty() {
        bail!("this kernel lacks what onebin needs: {}", missing.join(", "));
    }
    Ok(())
}

fn render(header: &str, sections: &[Section], quiet: bool) -> String {
    let mut out = String::new();
    if !quiet {
        let _ = writeln!(out, "{header}");
    }
    for section in sections {
        let shown: Vec<&Item> = section
            .items
            .iter()
            .filter(|i| !quiet || (i.need == Need::Required && !matches!(i.found, Found::Yes(_))))
            .collect();
        if shown.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", section.title);
        for item in shown {
            let (status, detail) = match (&item.found, &item.need) {
                (Found::Yes(d), _) => ("ok", d.clone()),
                (Found::No(d), Need::Required) => ("MISSING", d.clone()),
                (Found::No(d), Need::Optional(what)) => ("missing", join(d, &format!("optional: {what}"))),
                (Found::Unknown(d), Need::Required) => ("unknown", d.clone()),
                (Found::Unknown(d), Need::Optional(what)) => ("unknown", join(d, &format!("optional: {what}"))),
            };
            let line = format!("  {:<16} {status:<8} {detail}", item.name);
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    let missing = missing_required(sections);
    if missing.is_empty() && !quiet {
        let _ = writeln!(out, "\nEverything onebin needs is there.");
    }
    out
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}; {b}")
    }
}

/// Required features that are known to be missing. Unknown ones do not fail the check: without
/// root and a kernel config there is no telling.
fn missing_required(sections: &[Section]) -> Vec<String> {
    sections
        .iter()
        .flat_map(|s| &s.items)
        .filter(|i| i.need == Need::Required && matches!(i.found, Found::No(_)))
        .map(|i| i.name.clone())
        .collect()
}

fn namespaces() -> Section {
    let kinds = [
        ("mount", "mnt", Need::Required),
        ("UTS", "uts", Need::Required),
        ("IPC", "ipc", Need::Required),
        ("PID", "pid", Need::Required),
        ("network", "net", Need::Required),
        ("user", "user", Need::Optional("user-namespaced pods")),
        ("cgroup", "cgroup", Need::Optional("containers see their own cgroup as the root")),
    ];
    let items = kinds
        .into_iter()
        .map(|(name, file, need)| {
            let found = if Path::new("/proc/self/ns").join(file).exists() {
                Found::Yes(String::new())
            } else {
                Found::No(format!("no /proc/self/ns/{file}"))
            };
            Item { name: name.to_string(), need, found }
        })
        .collect();
    Section { title: "Namespaces".to_string(), items }
}

/// The cgroup hierarchies: which version is mounted and which controllers it offers.
#[derive(Debug, PartialEq, Eq)]
struct CgroupSetup {
    unified: bool,
    hybrid: bool,
    /// Controllers that are mounted (v1) or offered at the root (v2).
    controllers: Vec<String>,
}

impl CgroupSetup {
    fn read(mountinfo: &str) -> Option<Self> {
        let mut v1 = Vec::new();
        let mut v2_root = false;
        let mut v2_elsewhere = false;
        for line in mountinfo.lines() {
            let mount_point = line.split_whitespace().nth(4).unwrap_or_default();
            // Past the " - " separator: filesystem type, source, super options.
            let Some((_, tail)) = line.split_once(" - ") else { continue };
            let mut fields = tail.split_whitespace();
            let (fstype, options) = (fields.next().unwrap_or_default(), fields.nth(1).unwrap_or_default());
            match fstype {
                "cgroup" => v1.extend(options.split(',').filter(|o| V1_CONTROLLERS.contains(o)).map(str::to_string)),
                "cgroup2" if mount_point == "/sys/fs/cgroup" => v2_root = true,
                "cgroup2" => v2_elsewhere = true,
                _ => {}
            }
        }
        if v2_root {
            let controllers = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").unwrap_or_default();
            return Some(Self {
                unified: true,
                hybrid: false,
                controllers: controllers.split_whitespace().map(str::to_string).collect(),
            });
        }
        (!v1.is_empty()).then(|| {
            v1.sort();
            v1.dedup();
            Self { unified: false, hybrid: v2_elsewhere, controllers: v1 }
        })
    }
}

const V1_CONTROLLERS: &[&str] =
    &["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb", "net_cls", "perf_event"];

fn cgroups(mountinfo: &str) -> Section {
    let Some(setup) = CgroupSetup::read(mountinfo) else {
        return Section {
            title: "Control groups: none mounted".to_string(),
            items: vec![Item {
                name: "cgroup fs".to_string(),
                need: Need::Required,
                found: Found::No("mount cgroup2 (or the v1 hierarchies) on /sys/fs/cgroup".to_string()),
            }],
        };
    };
    let title = match (setup.unified, setup.hybrid) {
        (true, _) => "Control groups: v2 (unified)",
        (false, true) => "Control groups: v1, with a v2 hierarchy (hybrid)",
        (false, false) => "Control groups: v1",
    };
    let mut wanted = vec![
        ("cpu", Need::Required),
        ("memory", Need::Required),
        ("pids", Need::Required),
        ("cpuset", Need::Optional("cpuset placement")),
        (if setup.unified { "io" } else { "blkio" }, Need::Optional("block I/O statistics and limits")),
        ("hugetlb", Need::Optional("hugepage limits")),
    ];
    if !setup.unified {
        wanted.push(("devices", Need::Optional("device access rules for containers")));
        wanted.push(("freezer", Need::Optional("freezing containers while they are stopped")));
    }
    let disabled = disabled_v1_controllers();
    let items = wanted
        .into_iter()
        .map(|(name, need)| {
            let found = if setup.controllers.iter().any(|c| c == name) {
                Found::Yes(String::new())
            } else if disabled.iter().any(|c| c == name) {
                Found::No("disabled (kernel command line?)".to_string())
            } else if setup.unified {
                Found::No("not offered by the root cgroup".to_string())
            } else {
                Found::No("not mounted".to_string())
            };
            Item { name: name.to_string(), need, found }
        })
        .collect();
    Section { title: title.to_string(), items }
}

/// Controllers /proc/cgroups lists as disabled.
fn disabled_v1_controllers() -> Vec<String> {
    std::fs::read_to_string("/proc/cgroups")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.len() == 4 && fields[3] == "0").then(|| fields[0].to_string())
        })
        .collect()
}

fn filesystems(root: bool, config: Option<&KernelConfig>) -> Section {
    let loaded = std::fs::read_to_string("/proc/filesystems")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"));
    let found = if loaded {
        Found::Yes("loaded".to_string())
    } else if root {
        match probe_overlay() {
            Ok(()) => Found::Yes("mounted one (the module loads on demand)".to_string()),
            Err(err) => Found::No(format!("mounting an overlay failed: {err:#}")),
        }
    } else {
        by_config(config, "overlay", &["CONFIG_OVERLAY_FS"])
    };
    Section {
        title: "Filesystems".to_string(),
        items: vec![Item { name: "overlay".into(), need: Need::Required, found }],
    }
}

/// Mounts an overlay on a tmpfs inside a private mount namespace of a short-lived thread, so
/// nothing shows on the host and the filesystem under /tmp does not matter.
fn probe_overlay() -> Result<()> {
    std::thread::spawn(|| -> Result<()> {
        unshare(CloneFlags::CLONE_NEWNS).context("creating a mount namespace")?;
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)?;
        let dir = tempfile::Builder::new().prefix("onebin-check-").tempdir()?;
        mount(Some("tmpfs"), dir.path(), Some("tmpfs"), MsFlags::empty(), Some("size=1m"))?;
        for sub in ["lower", "upper", "work", "merged"] {
            std::fs::create_dir(dir.path().join(sub))?;
        }
        let p = |sub: &str| dir.path().join(sub).display().to_string();
        let options = format!("lowerdir={},upperdir={},workdir={}", p("lower"), p("upper"), p("work"));
        let mounted = mount(
            Some("overlay"),
            dir.path().join("merged").as_path(),
            Some("overlay"),
            MsFlags::empty(),
            Some(options.as_str()),
        );
        let _ = umount2(dir.path().join("merged").as_path(), MntFlags::MNT_DETACH);
        let _ = umount2(dir.path(), MntFlags::MNT_DETACH);
        Ok(mounted?)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the overlay probe panicked"))?
}

/// The kernel pieces of the pod network: (name, module, config options, needed).
fn network_features(vxlan_needed: bool) -> Vec<(&'static str, &'static str, &'static [&'static str], Need)> {
    vec![
        ("bridge", "bridge", &["CONFIG_BRIDGE"], Need::Required),
        ("veth", "veth", &["CONFIG_VETH"], Need::Required),
        (
            "vxlan",
            "vxlan",
            &["CONFIG_VXLAN"],
            if vxlan_needed { Need::Required } else { Need::Optional("the VXLAN overlay (--flannel-backend vxlan)") },
        ),
        ("dummy", "dummy", &["CONFIG_DUMMY"], Need::Optional("the interface holding the cluster DNS address")),
        ("nftables NAT", "nft_masq", &["CONFIG_NFT_MASQ", "CONFIG_NFT_NAT", "CONFIG_NF_TABLES"], Need::Required),
    ]
}

fn networking(root: bool, config: Option<&KernelConfig>, vxlan_needed: bool) -> Section {
    let probed = if root { Some(probe_network()) } else { None };
    let items = network_features(vxlan_needed)
        .into_iter()
        .map(|(name, module, options, need)| {
            let found = match &probed {
                Some(Ok(results)) => match results.get(name) {
                    Some(Ok(())) => Found::Yes("made one".to_string()),
                    Some(Err(err)) => Found::No(err.clone()),
                    None => Found::Unknown("not probed".to_string()),
                },
                Some(Err(err)) => Found::Unknown(format!("probing failed: {err:#}")),
                None if Path::new("/sys/module").join(module).exists() => Found::Yes("loaded".to_string()),
                None => by_config(config, module, options),
            };
            Item { name: name.to_string(), need, found }
        })
        .collect();
    Section { title: "Networking".to_string(), items }
}

/// Makes a bridge, a veth pair, a VXLAN and a dummy device and onebin's masquerade table in a
/// new network namespace that disappears with its thread.
fn probe_network() -> Result<BTreeMap<&'static str, std::result::Result<(), String>>> {
    std::thread::spawn(|| -> Result<_> {
        unshare(CloneFlags::CLONE_NEWNET).context("creating a network namespace")?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let mut results = runtime.block_on(async {
            let (connection, handle, _) = rtnetlink::new_connection().context("opening a netlink socket")?;
            tokio::spawn(connection);
            let links = [
                ("bridge", rtnetlink::LinkBridge::new("probe-bridge").build()),
                ("veth", rtnetlink::LinkVeth::new("probe-veth0", "probe-veth1").build()),
                (
                    "vxlan",
                    rtnetlink::LinkVxlan::new("probe-vxlan", crate::net::vxlan::VNI)
                        .port(crate::net::vxlan::PORT)
                        .build(),
                ),
                ("dummy", rtnetlink::LinkDummy::new("probe-dummy").build()),
            ];
            let mut results = BTreeMap::new();
            for (name, message) in links {
                let made = handle.link().add(message).execute().await.map_err(|e| format!("the kernel refused: {e}"));
                results.insert(name, made);
            }
            anyhow::Ok(results)
        })?;
        let cidr = |s: &str| s.parse::<ipnet::Ipv4Net>().expect("a literal CIDR");
        let nat = crate::net::masquerade::ensure(
            &crate::net::masquerade::table_name("probe"),
            cidr("10.42.0.0/24"),
            cidr("10.42.0.0/16"),
        );
        results.insert("nftables NAT", nat.map_err(|e| format!("{e:#}")));
        Ok(results)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the network probe panicked"))?
}

fn by_config(config: Option<&KernelConfig>, module: &str, options: &[&str]) -> Found {
    let Some(config) = config else {
        return Found::Unknown(format!("{module} is not loaded; run as root to find out"));
    };
    for option in options {
        match config.values.get(*option).map(String::as_str) {
            Some("y") => continue,
            Some("m") => {}
            _ => return Found::No(format!("{option} is not set")),
        }
    }
    Found::Yes(format!("{} in the kernel config", options.join(", ")))
}

/// The kernel's build configuration (`CONFIG_…=y|m`), where the distribution ships it.
struct KernelConfig {
    source: PathBuf,
    values: BTreeMap<String, String>,
}

impl KernelConfig {
    fn load() -> Option<Self> {
        let release = crate::host::kernel_version();
        let gz = Path::new("/proc/config.gz");
        if let Ok(file) = std::fs::File::open(gz) {
            let mut text = String::new();
            if flate2::read::GzDecoder::new(file).read_to_string(&mut text).is_ok() {
                return Some(Self { source: gz.to_path_buf(), values: parse_config(&text) });
            }
        }
        let boot = PathBuf::from(format!("/boot/config-{release}"));
        let text = std::fs::read_to_string(&boot).ok()?;
        Some(Self { source: boot, values: parse_config(&text) })
    }
}

fn parse_config(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("CONFIG_"))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_config_options_decide_when_nothing_is_probed() {
        let config = KernelConfig {
            source: PathBuf::from("/boot/config"),
            values: parse_config("CONFIG_VXLAN=m\nCONFIG_BRIDGE=y\n# CONFIG_DUMMY is not set\nCONFIG_X=\"a\"\n"),
        };
        assert!(matches!(by_config(Some(&config), "vxlan", &["CONFIG_VXLAN"]), Found::Yes(_)));
        assert!(matches!(by_config(Some(&config), "bridge", &["CONFIG_BRIDGE"]), Found::Yes(_)));
        assert_eq!(by_config(Some(&config), "dummy", &["CONFIG_DUMMY"]), Found::No("CONFIG_DUMMY is not set".into()));
        assert!(matches!(by_config(None, "dummy", &["CONFIG_DUMMY"]), Found::Unknown(_)));
        assert_eq!(config.values["CONFIG_X"], "a");
    }

    #[test]
    fn cgroup_v1_hierarchies_are_read_from_mountinfo() {
        let mountinfo = "\
31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
        let setup = CgroupSetup::read(mountinfo).unwrap();
        assert_eq!(
            setup,
            CgroupSetup {
                unified: false,
                hybrid: true,
                controllers: vec!["cpu".into(), "cpuacct".into(), "memory".into()]
            }
        );
        let section = cgroups(mountinfo);
        let pids = section.items.iter().find(|i| i.name == "pids").unwrap();
        assert!(matches!(pids.found, Found::No(_)) && pids.need == Need::Required);
        assert_eq!(missing_required(&[section]), ["pids"]);
    }

    #[test]
    fn no_cgroup_mount_is_reported_missing() {
        let section = cgroups("22 1 0:5 / /proc rw - proc proc rw\n");
        assert_eq!(missing_required(&[section]), ["cgroup fs"]);
    }

    #[test]
    fn the_overlay_probe_leaves_no_mount_behind() {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("skipped: mounting needs root");
            return;
        }
        probe_overlay().unwrap();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mounts.contains("onebin-check-"), "{mounts}");
    }

    #[test]
    fn quiet_output_lists_only_what_is_missing() {
        let sections = vec![Section {
            title: "Networking".into(),
            items: vec![
                Item { name: "bridge".into(), need: Need::Required, found: Found::Yes("made one".into()) },
                Item { name: "vxlan".into(), need: Need::Required, found: Found::No("the kernel refused".into()) },
                Item { name: "dummy".into(), need: Need::Optional("x"), found: Found::No(String::new()) },
            ],
        }];
        let quiet = render("header", &sections, true);
        assert_eq!(quiet, "\nNetworking\n  vxlan            MISSING  the kernel refused\n");
        let full = render("header", &sections, false);
        assert!(full.contains("bridge           ok       made one"), "{full}");
        assert!(full.contains("dummy            missing  optional: x"), "{full}");
        assert!(!full.contains("Everything onebin needs"), "{full}");
    }
}
