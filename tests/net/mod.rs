//! Helpers for the net_* tests: network namespaces made with iproute2 that disappear when the
//! guard is dropped (also when the test fails), and running async code inside a "host"
//! namespace so nothing touches the real machine's network.

#![allow(dead_code)]

use std::fs::File;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sched::{setns, CloneFlags};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A named network namespace (`ip netns add`), deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Self {
        let name = format!("obt-{tag}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        run("ip", &["netns", "add", &name]);
        let netns = Self { name };
        netns.ok(&["ip", "link", "set", "lo", "up"]);
        netns
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, command: &[&str]) -> Output {
        let mut args = vec!["netns", "exec", &self.name];
        args.extend_from_slice(command);
        Command::new("ip").args(&args).output().expect("running ip netns exec")
    }

    /// Runs a command inside the namespace, failing the test if it fails; returns its stdout.
    pub fn ok(&self, command: &[&str]) -> String {
        let output = self.exec(command);
        assert!(
            output.status.success(),
            "{command:?} in {} failed: {}{}",
            self.name,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Whether one ping from this namespace to `ip` is answered.
    pub fn pings(&self, ip: &str) -> bool {
        self.exec(&["ping", "-c", "1", "-W", "2", ip]).status.success()
    }

    /// Runs `body` on a multi-threaded tokio runtime whose threads live in this namespace.
    pub fn run<F, Fut, T>(&self, body: F) -> T
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = T>,
        T: Send,
    {
        let path = self.path();
        std::thread::scope(|scope| {
            let thread = scope.spawn(move || {
                let file = File::open(&path).expect("opening the test namespace");
                setns(&file, CloneFlags::CLONE_NEWNET).expect("entering the test namespace");
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("building a runtime");
                runtime.block_on(body())
            });
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The IPv4 address (with prefix) of `interface` in `netns`, if it has one.
pub fn ipv4_of(netns: &Netns, interface: &str) -> Option<String> {
    let output = netns.ok(&["ip", "-4", "-o", "addr", "show", "dev", interface]);
    output.split_whitespace().skip_while(|word| *word != "inet").nth(1).map(str::to_string)
}

/// Whether `interface` exists in `netns`.
pub fn has_link(netns: &Netns, interface: &str) -> bool {
    netns.exec(&["ip", "link", "show", "dev", interface]).status.success()
}
