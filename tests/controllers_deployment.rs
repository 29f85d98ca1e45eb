//! Deployments through real kubectl: naming by pod-template hash, scaling, rolling updates
//! with history and undo, restart, pause/resume, a bad image that must not take the old
//! pods down, the progress deadline, and the Recreate strategy.

mod controllers_support;
mod harness;

use std::time::Duration;

use controllers_support::*;
use harness::{eventually, text, Server};
use serde_json::Value;

fn deployment(name: &str, replicas: u32, image: &str, extra_spec: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
{extra_spec}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: c
        image: {image}
"#
    )
}

fn replica_sets(server: &Server, ns: &str, app: &str) -> Vec<Value> {
    items(&get_json(server, &["rs", "-n", ns, "-l", &format!("app={app}")]))
}

fn rs_replicas(server: &Server, ns: &str, app: &str) -> Vec<(String, i64)> {
    let mut sizes: Vec<(String, i64)> = replica_sets(server, ns, app)
        .iter()
        .map(|rs| {
            (
                rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string(),
                rs["spec"]["replicas"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    sizes.sort();
    sizes
}

fn image_of(server: &Server, ns: &str, name: &str) -> String {
    let d = get_json(server, &["deployment", name, "-n", ns]);
    d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string()
}

fn rollout_status(server: &Server, ns: &str, name: &str) -> String {
    server.kubectl_ok(&["rollout", "status", &format!("deployment/{name}"), "-n", ns, "--timeout=60s"])
}

#[test]
fn rolling_updates_history_undo_restart_and_pause() {
    let server = Server::start();
    let ns = "rollout";
    create_namespace(&server, ns);
    let kubelet = FakeKubelet::new(&server, ns);
    std::thread::scope(|scope| {
        scope.spawn(|| kubelet.run());
        let _stop = StopOnDrop(&kubelet);

        apply(&server, ns, &deployment("web", 6, "nginx:1", ""));
        assert!(rollout_status(&server, ns, "web").contains("deployment \"web\" successfully rolled out"));
        let rs = replica_sets(&server, ns, "web");
        assert_eq!(rs.len(), 1);
        let hash = rs[0]["metadata"]["labels"]["pod-template-hash"].as_str().expect("hash label").to_string();
        assert_eq!(name(&rs[0]), format!("web-{hash}"));
        assert_eq!(rs[0]["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash.as_str());
        assert_eq!(rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
        assert_eq!(rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"], "6");
        assert_eq!(rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"], "8");
        let pods = wait_for_pods(&server, ns, "app=web", 6);
        for pod in &pods {
            let pod_name = name(pod);
            assert!(pod_name.starts_with(&format!("web-{hash}-")) && pod_name.len() == "web-".len() + hash.len() + 6);
            assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], hash.as_str());
        }
        let d = get_json(&server, &["deployment", "web", "-n", ns]);
        assert_eq!(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
        assert_eq!((d["status"]["replicas"].as_i64(), d["status"]["availableReplicas"].as_i64()), (Some(6), Some(6)));
        let conditions = d["status"]["conditions"].to_string();
        assert!(conditions.contains("NewReplicaSetAvailable") && conditions.contains("MinimumReplicasAvailable"));

        // Scaling 6 -> 3 keeps the ReplicaSet and removes three pods.
        server.kubectl_ok(&["scale", "deployment", "web", "-n", ns, "--replicas=3"]);
        wait_for_pods(&server, ns, "app=web", 3);
        assert_eq!(rs_replicas(&server, ns, "web"), [("nginx:1".to_string(), 3)]);
        rollout_status(&server, ns, "web");

        // A new image makes a second ReplicaSet and a second revision.
        server.kubectl_ok(&["set", "image", "deployment/web", "c=nginx:2", "-n", ns]);
        server.kubectl_ok(&["annotate", "deployment", "web", "-n", ns, "kubernetes.io/change-cause=image 2"]);
        rollout_status(&server, ns, "web");
        eventually(Duration::from_secs(10), "old ReplicaSet scaled to zero", || {
            (rs_replicas(&server, ns, "web") == [("nginx:1".to_string(), 0), ("nginx:2".to_string(), 3)]).then_some(())
        });
        let history = eventually(Duration::from_secs(10), "change cause in history", || {
            let h = server.kubectl_ok(&["rollout", "history", "deployment/web", "-n", ns]);
            h.contains("image 2").then_some(h)
        });
        let rows: Vec<&str> = history
            .lines()
            .skip_while(|l| !l.starts_with("REVISION"))
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(rows.len(), 2, "{history}");
        assert!(rows[0].starts_with("1 ") && rows[0].contains("<none>") && rows[1].starts_with("2 "), "{history}");
        let events =
            server.kubectl_ok(&["get", "events", "-n", ns, "--field-selector", "involvedObject.kind=Deployment"]);
        assert!(events.contains("ScalingReplicaSet") && events.contains("Scaled up replica set web-"), "{events}");

        // Undo goes back to the previous template (kubectl copies it from the old ReplicaSet).
        server.kubectl_ok(&["rollout", "undo", "deployment/web", "-n", ns]);
        assert_eq!(image_of(&server, ns, "web"), "nginx:1");
        rollout_status(&server, ns, "web");
        assert_eq!(replica_sets(&server, ns, "web").len(), 2, "undo reuses the old ReplicaSet");
        let history = server.kubectl_ok(&["rollout", "history", "deployment/web", "-n", ns]);
        assert!(history.contains("\n2 ") && history.contains("\n3 ") && !history.contains("\n1 "), "{history}");
        let pods = wait_for_pods(&server, ns, "app=web", 3);
        assert!(pods.iter().all(|p| p["spec"]["containers"][0]["image"] == "nginx:1"));

        server.kubectl_ok(&["rollout", "undo", "deployment/web", "-n", ns, "--to-revision=2"]);
        assert_eq!(image_of(&server, ns, "web"), "nginx:2");
        rollout_status(&server, ns, "web");

        // Restart rolls the same image out again as a new revision.
        server.kubectl_ok(&["rollout", "restart", "deployment/web", "-n", ns]);
        rollout_status(&server, ns, "web");
        assert_eq!(replica_sets(&server, ns, "web").len(), 3);
        let d = get_json(&server, &["deployment", "web", "-n", ns]);
        assert_eq!(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "5");

        // Paused: template changes wait; resumed: they roll out.
        server.kubectl_ok(&["rollout", "pause", "deployment/web", "-n", ns]);
        server.kubectl_ok(&["set", "image", "deployment/web", "c=nginx:3", "-n", ns]);
        eventually(Duration::from_secs(10), "paused condition", || {
            let d = get_json(&server, &["deployment", "web", "-n", ns]);
            d["status"]["conditions"].to_string().contains("DeploymentPaused").then_some(())
        });
        std::thread::sleep(Duration::from_millis(500));
        assert!(rs_replicas(&server, ns, "web").iter().all(|(image, _)| image != "nginx:3"));
        server.kubectl_ok(&["rollout", "resume", "deployment/web", "-n", ns]);
        rollout_status(&server, ns, "web");
        let pods = wait_for_pods(&server, ns, "app=web", 3);
        assert!(pods.iter().all(|p| p["spec"]["containers"][0]["image"] == "nginx:3"));
    });
}

/// Stops the kubelet when the test body ends, even by a failed assertion.
struct StopOnDrop<'a, 'b>(&'a FakeKubelet<'b>);

impl Drop for StopOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[test]
fn a_bad_image_never_takes_more_than_max_unavailable_and_times_out() {
    let server = Server::start();
    let ns = "bad";
    create_namespace(&server, ns);
    let kubelet = FakeKubelet::new(&server, ns);
    std::thread::scope(|scope| {
        scope.spawn(|| kubelet.run());
        let _stop = StopOnDrop(&kubelet);
        apply(&server, ns, &deployment("app", 4, "nginx:1", "  progressDeadlineSeconds: 3"));
        rollout_status(&server, ns, "app");

        server.kubectl_ok(&["set", "image", "deployment/app", "c=nginx:bad", "-n", ns]);
        // 25% of 4: one surge pod, one unavailable: the old set stops at 3, the new at 2.
        let expected = [("nginx:1".to_string(), 3), ("nginx:bad".to_string(), 2)];
        eventually(Duration::from_secs(15), "rollout stuck at maxUnavailable", || {
            (rs_replicas(&server, ns, "app") == expected).then_some(())
        });
        let out = server.kubectl(&["rollout", "status", "deployment/app", "-n", ns, "--timeout=30s"]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("exceeded its progress deadline"), "{}", text(&out.stderr));
        assert_eq!(rs_replicas(&server, ns, "app"), expected);
        assert_eq!(live_pods(&server, ns, "app=app").iter().filter(|p| p["status"]["phase"] == "Running").count(), 3);
        let d = get_json(&server, &["deployment", "app", "-n", ns]);
        let conditions = d["status"]["conditions"].to_string();
        assert!(conditions.contains("ProgressDeadlineExceeded") && conditions.contains("MinimumReplicasAvailable"));

        // Undo brings it back.
        server.kubectl_ok(&["rollout", "undo", "deployment/app", "-n", ns]);
        rollout_status(&server, ns, "app");
        eventually(Duration::from_secs(10), "bad ReplicaSet scaled to zero", || {
            (rs_replicas(&server, ns, "app") == [("nginx:1".to_string(), 4), ("nginx:bad".to_string(), 0)])
                .then_some(())
        });
    });
}

#[test]
fn recreate_replaces_all_pods_at_once() {
    let mut server = Server::start();
    let ns = "recreate";
    create_namespace(&server, ns);
    let kubelet = FakeKubelet::new(&server, ns);
    std::thread::scope(|scope| {
        scope.spawn(|| kubelet.run());
        let _stop = StopOnDrop(&kubelet);
        apply(&server, ns, &deployment("db", 2, "postgres:1", "  strategy: {type: Recreate}"));
        rollout_status(&server, ns, "db");
        server.kubectl_ok(&["set", "image", "deployment/db", "c=postgres:2", "-n", ns]);
        rollout_status(&server, ns, "db");
        assert_eq!(rs_replicas(&server, ns, "db"), [("postgres:1".to_string(), 0), ("postgres:2".to_string(), 2)]);
        let pods = wait_for_pods(&server, ns, "app=db", 2);
        assert!(pods.iter().all(|p| p["spec"]["containers"][0]["image"] == "postgres:2"));
        let events =
            server.kubectl_ok(&["get", "events", "-n", ns, "--field-selector", "involvedObject.kind=Deployment"]);
        assert!(events.contains("from 2 to 0") && events.contains("from 0 to 2"), "{events}");
    });

    // After a restart the same templates hash to the same names: nothing is rolled again.
    let names = |server: &Server| {
        let mut names: Vec<String> = replica_sets(server, ns, "db").iter().map(name).collect();
        names.extend(live_pods(server, ns, "app=db").iter().map(name));
        names.sort();
        names
    };
    let before = names(&server);
    server.restart();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(names(&server), before);
    let d = get_json(&server, &["deployment", "db", "-n", ns]);
    assert_eq!(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
}
