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
    /// `onebin agent --simulate N`: hollow nodes for scale tests.
    SimulatedNodes,
}

impl Capability {
    const ALL: [Capability; 4] = [Capability::Agent, Capability::Shim, Capability::Runtime, Capability::SimulatedNodes];

    /// The subcommands whose presence shows the capability.
    fn subcommands(self) -> &'static [&'static str] {
        match self {
            Capability::Agent | Capability::SimulatedNodes => &["agent"],
            Capability::Shim => &["shim"],
            Capability::Runtime => &["run", "images"],
        }
    }

    /// A flag of the (first) subcommand the capability also needs.
    fn flag(self) -> Option<&'static str> {
        match self {
            Capability::SimulatedNodes => Some("--simulate"),
            _ => None,
        }
    }

    pub fn describe(self) -> String {
        let flag = self.flag().map(|f| format!(" {f}")).unwrap_or_default();
        let commands: Vec<String> = self.subcommands().iter().map(|c| format!("`onebin {c}{flag}`")).collect();
        let what = match self {
            Capability::Agent => "a node agent that joins a server",
            Capability::Shim => "the per-pod shim",
            Capability::Runtime => "the container runtime",
            Capability::SimulatedNodes => "simulated nodes",
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
        let help_of = |sub: &str| {
            Command::new(onebin)
                .args([sub, "--help"])
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        };
        let present = Capability::ALL
            .into_iter()
            .filter(|c| {
                c.subcommands().iter().enumerate().all(|(i, sub)| match (help_of(sub), c.flag()) {
                    (Some(text), Some(flag)) if i == 0 => text.contains(flag),
                    (found, _) => found.is_some(),
                })
            })
            .collect();
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
