//! What the onebin binary under test can do, found by asking it: a benchmark whose capability
//! is missing reports "not available yet" instead of failing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    /// `onebin agent`: a node agent that joins a server from another host.
    Agent,
    /// `onebin shim`: the per-pod shim process.
    Shim,
    /// `onebin run` and `onebin images`: the container runtime, driven from the command line.
    Runtime,
}

impl Capability {
    const ALL: [Capability; 3] = [Capability::Agent, Capability::Shim, Capability::Runtime];

    /// The subcommands whose presence shows the capability.
    fn subcommands(self) -> &'static [&'static str] {
        match self {
            Capability::Agent => &["agent"],
            Capability::Shim => &["shim"],
            Capability::Runtime => &["run", "images"],
        }
    }

    pub fn describe(self) -> String {
        let commands: Vec<String> = self.subcommands().iter().map(|c| format!("`onebin {c}`")).collect();
        let what = match self {
            Capability::Agent => "a node agent that joins a server",
            Capability::Shim => "the per-pod shim",
            Capability::Runtime => "the container runtime",
        };
        format!("{} ({what})", commands.join(" and "))
    }
}

pub struct Capabilities {
    present: BTreeSet<Capability>,
    /// The flags `onebin server --help` lists.
    server_flags: BTreeSet<String>,
}

impl Capabilities {
    /// Probes `onebin`: a subcommand exists when `onebin SUBCOMMAND --help` succeeds (clap
    /// refuses unknown subcommands, and hidden ones still answer).
    pub fn probe(onebin: &Path) -> Self {
        let has = |sub: &str| {
            Command::new(onebin)
                .args([sub, "--help"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let present = Capability::ALL.into_iter().filter(|c| c.subcommands().iter().all(|sub| has(sub))).collect();
        let help = Command::new(onebin).args(["server", "--help"]).output().map(|o| o.stdout).unwrap_or_default();
        let server_flags = String::from_utf8_lossy(&help)
            .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
            .filter(|word| word.starts_with("--"))
            .map(String::from)
            .collect();
        Self { present, server_flags }
    }

    /// Whether `onebin server` takes `flag` (e.g. `--cgroup-parent`).
    pub fn server_flag(&self, flag: &str) -> bool {
        self.server_flags.contains(flag)
    }

    /// The first of `needed` this binary lacks.
    pub fn missing(&self, needed: &[Capability]) -> Option<Capability> {
        needed.iter().copied().find(|c| !self.present.contains(c))
    }
}
