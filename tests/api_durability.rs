//! Crash safety: every acknowledged write survives restarts and kill -9, resource versions
//! keep increasing, and a watch resumed from the last seen version misses nothing.

mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::Server;
use serde_json::Value;

fn create_configmap(
    server_url: &str,
    creds: &(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf),
    dir: &std::path::Path,
    name: &str,
) -> Option<u64> {
    let body = dir.join(format!("{name}.json"));
    std::fs::write(
        &body,
        format!(r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"data":{{"k":"{name}"}}}}"#),
    )
    .ok()?;
    let out = std::process::Command::new("curl")
        .args(["-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--cacert"])
        .arg(&creds.0)
        .arg("--cert")
        .arg(&creds.1)
        .arg("--key")
        .arg(&creds.2)
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(format!("{server_url}/api/v1/namespaces/default/configmaps"))
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&body);
    let text = harness::text(&out.stdout);
    let (json, code) = text.rsplit_once('\n')?;
    if code.trim() != "201" {
        return None;
    }
    let obj: Value = serde_json::from_str(json).ok()?;
    obj["metadata"]["resourceVersion"].as_str()?.parse().ok()
}

fn list_configmaps(server: &Server) -> (Vec<(String, u64)>, u64) {
    let (code, body) = server.curl("GET", "/api/v1/namespaces/default/configmaps", None, None);
    assert_eq!(code, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    let items = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["metadata"]["name"].as_str().unwrap().to_string(),
                i["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    (items, list["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap())
}

#[test]
fn acknowledged_writes_survive_kill_dash_nine() {
    let mut server = Server::start();
    let creds = server.credentials();
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let mut highest_before_crash = 0;
    for round in 0..4 {
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (url, creds, dir, acked, stop) =
                (server.url(), creds.clone(), server.dir.path().to_path_buf(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("r{round}-{i}");
                    if let Some(rv) = create_configmap(&url, &creds, &dir, &name) {
                        acked.lock().unwrap().push((name, rv));
                    }
                    i += 1;
                }
            })
        };
        std::thread::sleep(Duration::from_millis(300 + 150 * round));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        server.launch();
        let (items, revision) = list_configmaps(&server);
        let acked = acked.lock().unwrap();
        assert!(acked.iter().any(|(n, _)| n.starts_with(&format!("r{round}-"))), "round {round} acknowledged nothing");
        for (name, rv) in acked.iter() {
            let stored = items.iter().find(|(n, _)| n == name);
            assert_eq!(
                stored.map(|(_, r)| r),
                Some(rv),
                "acknowledged {name} at {rv} lost after kill -9 in round {round}"
            );
        }
        let newest = acked.iter().map(|(_, rv)| *rv).max().unwrap();
        assert!(newest > highest_before_crash, "resource versions went backwards");
        assert!(revision >= newest, "list revision {revision} behind acknowledged {newest}");
        highest_before_crash = newest;
    }
}

#[test]
fn a_watch_resumed_after_restart_misses_nothing() {
    let mut server = Server::start();
    let creds = server.credentials();
    let dir = server.dir.path().to_path_buf();
    for i in 0..5 {
        create_configmap(&server.url(), &creds, &dir, &format!("before-{i}")).expect("create");
    }
    let (_, seen) = list_configmaps(&server);
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(create_configmap(&server.url(), &creds, &dir, &format!("mid-{i}")).expect("create"));
    }
    server.restart();
    for i in 0..5 {
        expected.push(create_configmap(&server.url(), &creds, &dir, &format!("after-{i}")).expect("create"));
    }
    let (code, body) = server.curl(
        "GET",
        &format!("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={seen}&timeoutSeconds=2"),
        None,
        None,
    );
    assert_eq!(code, 200, "{body}");
    let events: Vec<Value> =
        body.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
    let versions: Vec<u64> = events
        .iter()
        .filter(|e| e["type"] == "ADDED")
        .map(|e| e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(versions, expected, "events after {seen}: {body}");

    let (code, body) = server.curl(
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1&timeoutSeconds=1",
        None,
        None,
    );
    assert_eq!(code, 200);
    assert!(!body.contains("\"type\":\"ERROR\""), "history is kept for recent versions: {body}");
}

#[test]
fn a_watch_from_a_compacted_version_gets_410_gone() {
    let server = Server::start_with(&["--disable-agent", "--watch-history", "10"]);
    let creds = server.credentials();
    let dir = server.dir.path().to_path_buf();
    for i in 0..40 {
        create_configmap(&server.url(), &creds, &dir, &format!("c-{i}")).expect("create");
    }
    let (code, body) = server.curl(
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2&timeoutSeconds=1",
        None,
        None,
    );
    assert_eq!(code, 200, "{body}");
    let event: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(
        (event["type"].as_str(), event["object"]["code"].as_i64(), event["object"]["reason"].as_str()),
        (Some("ERROR"), Some(410), Some("Expired")),
        "{body}"
    );
}
