//! Host-local IP address management for one node's pod CIDR.
//!
//! Each allocated address is a file named after it in the state directory, holding the sandbox
//! id on its first line (and who the pod is on the second, for people reading the directory).
//! Files appear atomically (written aside, then hard-linked into place, which fails if the name
//! is taken), and allocation holds an exclusive lock on `lock`, so concurrent setups in this or
//! another process never share an address. Allocation goes round-robin from `last_reserved_ip`
//! so a freed address is not handed out again straight away. State survives agent restarts;
//! `reconcile` frees what sandboxes that no longer exist left behind.
//!
//! The calls block on the file system; async callers run them with `spawn_blocking`.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ipnet::Ipv4Net;
use nix::fcntl::{Flock, FlockArg};

const LOCK_FILE: &str = "lock";
const LAST_RESERVED_FILE: &str = "last_reserved_ip";

/// An address held by a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub ip: Ipv4Addr,
    pub sandbox_id: String,
}

#[derive(Debug, Clone)]
pub struct Ipam {
    dir: PathBuf,
    subnet: Ipv4Net,
}

impl Ipam {
    /// Manages `subnet` (which needs room for a gateway and at least one pod) with state in `dir`.
    pub fn new(dir: &Path, subnet: Ipv4Net) -> Result<Self> {
        if subnet.prefix_len() > 30 {
            bail!("pod CIDR {subnet} is too small: it needs room for a gateway and pods (at most /30)");
        }
        if subnet.trunc() != subnet {
            bail!("pod CIDR {subnet} has host bits set (did you mean {}?)", subnet.trunc());
        }
        fs::create_dir_all(dir).with_context(|| format!("creating IPAM state directory {}", dir.display()))?;
        Ok(Self { dir: dir.to_path_buf(), subnet })
    }

    /// The first address of the subnet, kept for the bridge.
    pub fn gateway(&self) -> Ipv4Addr {
        first_host(self.subnet)
    }

    pub fn subnet(&self) -> Ipv4Net {
        self.subnet
    }

    /// The address of `sandbox_id`: the one it already holds, else a newly reserved one.
    /// `owner` (e.g. `namespace/name`) is recorded for people reading the state directory.
    /// Returns whether the address is new.
    pub fn allocate(&self, sandbox_id: &str, owner: &str) -> Result<(Ipv4Addr, bool)> {
        validate_sandbox_id(sandbox_id)?;
        let _lock = self.lock()?;
        let allocations = self.allocations()?;
        if let Some(existing) = allocations.iter().find(|allocation| allocation.sandbox_id == sandbox_id) {
            return Ok((existing.ip, false));
        }
        let taken: HashSet<Ipv4Addr> = allocations.iter().map(|allocation| allocation.ip).collect();
        let record = format!("{sandbox_id}\n{}\n", owner.replace('\n', " "));
        for ip in self.candidates() {
            if taken.contains(&ip) {
                continue;
            }
            if self.reserve(ip, &record)? {
                self.write_last_reserved(ip)?;
                return Ok((ip, true));
            }
        }
        bail!("no free address left in pod CIDR {} ({} in use)", self.subnet, taken.len())
    }

    /// The address `sandbox_id` holds, if any.
    pub fn lookup(&self, sandbox_id: &str) -> Result<Option<Ipv4Addr>> {
        Ok(self.allocations()?.into_iter().find(|allocation| allocation.sandbox_id == sandbox_id).map(|a| a.ip))
    }

    /// Frees every address `sandbox_id` holds and returns them.
    pub fn release(&self, sandbox_id: &str) -> Result<Vec<Ipv4Addr>> {
        let _lock = self.lock()?;
        self.free_where(|allocation| allocation.sandbox_id == sandbox_id)
    }

    /// Frees every address held by a sandbox not in `live_sandbox_ids` and returns them.
    pub fn reconcile(&self, live_sandbox_ids: &HashSet<String>) -> Result<Vec<Allocation>> {
        let _lock = self.lock()?;
        let leaked: Vec<Allocation> = self
            .allocations()?
            .into_iter()
            .filter(|allocation| !live_sandbox_ids.contains(&allocation.sandbox_id))
            .collect();
        for allocation in &leaked {
            self.remove(allocation.ip)?;
        }
        Ok(leaked)
    }

    /// Every recorded allocation (also of addresses outside the current subnet, so that a
    /// changed pod CIDR does not hide them from `reconcile`).
    pub fn allocations(&self) -> Result<Vec<Allocation>> {
        let entries = fs::read_dir(&self.dir).with_context(|| format!("reading {}", self.dir.display()))?;
        let mut allocations = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", self.dir.display()))?;
            let Some(ip) = entry.file_name().to_str().and_then(|name| name.parse::<Ipv4Addr>().ok()) else { continue };
            let record = match fs::read_to_string(entry.path()) {
                Ok(record) => record,
                // Released between listing and reading.
                Err(error) if error.kind() == ErrorKind::NotFound => continue,
                Err(error) => return Err(error).with_context(|| format!("reading {}", entry.path().display())),
            };
            let sandbox_id = record.lines().next().unwrap_or_default().trim().to_string();
            allocations.push(Allocation { ip, sandbox_id });
        }
        allocations.sort_by_key(|allocation| allocation.ip);
        Ok(allocations)
    }

    fn free_where(&self, matches: impl Fn(&Allocation) -> bool) -> Result<Vec<Ipv4Addr>> {
        let mut freed = Vec::new();
        for allocation in self.allocations()?.into_iter().filter(|allocation| matches(allocation)) {
            self.remove(allocation.ip)?;
            freed.push(allocation.ip);
        }
        Ok(freed)
    }

    fn remove(&self, ip: Ipv4Addr) -> Result<()> {
        let path = self.dir.join(ip.to_string());
        match fs::remove_file(&path) {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                Err(error).with_context(|| format!("releasing {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// Pod addresses in allocation order: after the last reserved one, wrapping around.
    fn candidates(&self) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.gateway()) + 1;
        let last = u32::from(self.subnet.broadcast()) - 1;
        let start = self
            .read_last_reserved()
            .map(u32::from)
            .filter(|previous| (first..=last).contains(previous))
            .map_or(first, |previous| if previous == last { first } else { previous + 1 });
        (start..=last).chain(first..start).map(Ipv4Addr::from)
    }

    /// Claims `ip` for `record`; false when another holder claimed it first.
    fn reserve(&self, ip: Ipv4Addr, record: &str) -> Result<bool> {
        let path = self.dir.join(ip.to_string());
        let staged = self.dir.join(format!(".{ip}.{}.tmp", std::process::id()));
        write_durably(&staged, record.as_bytes())?;
        let linked = fs::hard_link(&staged, &path);
        let _ = fs::remove_file(&staged);
        match linked {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(error).with_context(|| format!("reserving {}", path.display())),
        }
    }

    fn read_last_reserved(&self) -> Option<Ipv4Addr> {
        fs::read_to_string(self.dir.join(LAST_RESERVED_FILE)).ok()?.trim().parse().ok()
    }

    fn write_last_reserved(&self, ip: Ipv4Addr) -> Result<()> {
        let path = self.dir.join(LAST_RESERVED_FILE);
        let staged = self.dir.join(format!(".{LAST_RESERVED_FILE}.{}.tmp", std::process::id()));
        write_durably(&staged, ip.to_string().as_bytes())?;
        fs::rename(&staged, &path).with_context(|| format!("writing {}", path.display()))
    }

    fn lock(&self) -> Result<Flock<File>> {
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .with_context(|| format!("locking {}", path.display()))
    }
}

/// Sandbox ids become file contents and log fields: one printable line.
pub fn validate_sandbox_id(sandbox_id: &str) -> Result<()> {
    if sandbox_id.is_empty() || sandbox_id.len() > 256 {
        bail!("invalid sandbox id {sandbox_id:?}: expected 1 to 256 characters");
    }
    if sandbox_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("invalid sandbox id {sandbox_id:?}: whitespace and control characters are not allowed");
    }
    Ok(())
}

fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

fn write_durably(path: &Path, contents: &[u8]) -> Result<()> {
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents).and_then(|()| file.sync_all()).with_context(|| format!("writing {}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|dir| dir.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipam(dir: &Path, subnet: &str) -> Ipam {
        Ipam::new(dir, subnet.parse().unwrap()).unwrap()
    }

    #[test]
    fn allocates_round_robin_skipping_network_gateway_and_broadcast() {
        let dir = tempfile::tempdir().unwrap();
        let ipam = ipam(dir.path(), "10.42.0.0/29");
        assert_eq!(ipam.gateway(), Ipv4Addr::new(10, 42, 0, 1));
        let mut got = Vec::new();
        for n in 0..5 {
            got.push(ipam.allocate(&format!("s{n}"), "ns/pod").unwrap());
        }
        let expected: Vec<_> = (2..=6).map(|host| (Ipv4Addr::new(10, 42, 0, host), true)).collect();
        assert_eq!(got, expected);
        let error = ipam.allocate("s5", "ns/pod").unwrap_err().to_string();
        assert!(error.contains("no free address"), "{error}");

        // Freed addresses come back in turn, counting on from the last one reserved.
        assert_eq!(ipam.release("s1").unwrap(), vec![Ipv4Addr::new(10, 42, 0, 3)]);
        assert_eq!(ipam.allocate("s6", "ns/pod").unwrap(), (Ipv4Addr::new(10, 42, 0, 3), true));
        ipam.release("s6").unwrap();
        ipam.release("s3").unwrap();
        assert_eq!(ipam.allocate("s7", "ns/pod").unwrap(), (Ipv4Addr::new(10, 42, 0, 5), true));
    }

    #[test]
    fn allocation_is_idempotent_and_survives_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = ipam(dir.path(), "10.42.3.0/24").allocate("abc", "default/web").unwrap();
        let again = ipam(dir.path(), "10.42.3.0/24").allocate("abc", "default/web").unwrap();
        assert_eq!(again, (first.0, false));
        let record = fs::read_to_string(dir.path().join(first.0.to_string())).unwrap();
        assert_eq!(record, "abc\ndefault/web\n");
        assert_eq!(ipam(dir.path(), "10.42.3.0/24").lookup("abc").unwrap(), Some(first.0));
    }

    #[test]
    fn reconcile_frees_only_dead_sandboxes() {
        let dir = tempfile::tempdir().unwrap();
        let ipam = ipam(dir.path(), "10.42.0.0/24");
        let (alive, _) = ipam.allocate("alive", "a/a").unwrap();
        let (dead, _) = ipam.allocate("dead", "a/b").unwrap();
        let live = HashSet::from(["alive".to_string()]);
        assert_eq!(ipam.reconcile(&live).unwrap(), vec![Allocation { ip: dead, sandbox_id: "dead".into() }]);
        assert_eq!(ipam.lookup("alive").unwrap(), Some(alive));
        assert_eq!(ipam.lookup("dead").unwrap(), None);
    }

    #[test]
    fn rejects_bad_input_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Ipam::new(dir.path(), "10.42.0.0/31".parse().unwrap()).is_err());
        assert!(Ipam::new(dir.path(), "10.42.0.5/24".parse().unwrap()).is_err());
        let ipam = ipam(dir.path(), "10.42.0.0/24");
        for bad in ["", "a b", "a\nb", &"x".repeat(300)] {
            assert!(ipam.allocate(bad, "ns/pod").is_err(), "{bad:?} accepted");
        }
        assert!(ipam.allocations().unwrap().is_empty());
    }

    #[test]
    fn concurrent_allocations_get_distinct_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let ipam = ipam(dir.path(), "10.42.0.0/24");
        let threads: Vec<_> = (0..40)
            .map(|n| {
                let ipam = ipam.clone();
                std::thread::spawn(move || ipam.allocate(&format!("sandbox-{n}"), "ns/pod").unwrap().0)
            })
            .collect();
        let ips: HashSet<Ipv4Addr> = threads.into_iter().map(|thread| thread.join().unwrap()).collect();
        assert_eq!(ips.len(), 40);
    }
}
