//! A server with its embedded agent running real pods, for the node API tests: its own node
//! name, node API port, bridge, pod network, run dir and cgroup parent, so tests run side by
//! side; the test images imported at agent start. Dropping it deletes the pods, stops the
//! server and removes whatever is left (sandboxes, mounts, cgroups, the bridge).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{self, Server};
use crate::runtime_common;

pub struct AgentServer {
    // Dropped first: the runtime's leftovers go before the server's data dir does.
    node: runtime_common::Node,
    pub server: Server,
    pub bridge: String,
}

impl AgentServer {
    /// `index` (1–99) keeps this server's bridge and pod network apart from other tests'.
    pub fn start(index: u8) -> AgentServer {
        let images = runtime_common::images();
        let mut node = runtime_common::Node::new();
        let bridge = format!("obna{}{index}", std::process::id() % 10000);
        let node_name = format!("nodeapi-{index}");
        let kubelet_port = harness::free_port().to_string();
        let cluster_cidr = format!("10.{}.0.0/16", 100 + index);
        let run_dir = node.run_dir.to_string_lossy().into_owned();
        let server = Server::unstarted(&[
            "--node-name",
            &node_name,
            "--kubelet-port",
            &kubelet_port,
            "--bridge",
            &bridge,
            "--cluster-cidr",
            &cluster_cidr,
            "--run-dir",
            &run_dir,
            "--cgroup-parent",
            &node.cgroup_parent,
        ]);
        // The runtime's cleanup must look where the agent keeps its records.
        node.data_dir = server.data_dir();
        let image_dir = server.data_dir().join("agent").join("images");
        std::fs::create_dir_all(&image_dir).unwrap();
        for image in [&images.busybox, &images.nginx] {
            std::fs::copy(image, image_dir.join(image.file_name().unwrap())).unwrap();
        }
        let mut agent = AgentServer { node, server, bridge };
        agent.server.launch();
        agent.wait_for_node_ready();
        agent
    }

    fn wait_for_node_ready(&self) {
        harness::eventually(Duration::from_secs(60), "the node to be Ready", || {
            let out = self.server.kubectl(&[
                "get",
                "nodes",
                "-o",
                "jsonpath={.items[0].status.conditions[?(@.type==\"Ready\")].status} {.items[0].spec.podCIDR}",
            ]);
            let text = harness::text(&out.stdout);
            (text.starts_with("True ") && text.len() > 5).then_some(())
        });
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        self.server.kubectl_ok(args)
    }

    /// Applies a manifest and waits until the pod runs; returns its IP.
    pub fn run_pod(&self, name: &str, manifest: &str) -> String {
        let out = self.server.kubectl_stdin(&["apply", "-f", "-"], manifest);
        assert!(out.status.success(), "apply failed: {}", harness::text(&out.stderr));
        self.kubectl_ok(&["wait", "--for=condition=Ready", &format!("pod/{name}"), "--timeout=90s"]);
        self.kubectl_ok(&["get", "pod", name, "-o", "jsonpath={.status.podIP}"])
    }

    pub fn server_log(&self) -> String {
        self.server.log()
    }
}

impl Drop for AgentServer {
    fn drop(&mut self) {
        // The kubelet tears pods down properly (network included) while it still runs.
        let _ = self.server.kubectl(&["delete", "pods", "--all", "--grace-period=1", "--timeout=60s"]);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let sandboxes = self.node.run_dir.join("sandboxes");
        while std::fs::read_dir(&sandboxes).is_ok_and(|mut entries| entries.next().is_some())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.server.stop();
        let _ = onebin::net::forward_accept::remove(&self.bridge);
        if Path::new("/sys/class/net").join(&self.bridge).exists() {
            let _ = Command::new("ip").args(["link", "delete", &self.bridge]).status();
        }
    }
}
