//! Pulls: from Debian's docker-registry on loopback (images pushed with skopeo) by tag, by
//! digest and through a registries.yaml mirror for Docker Hub names; and from a scripted
//! registry that lies about digests, fails with 500 or cuts blobs short, which must each
//! fail clearly and leave the store as it was. Concurrent pulls share one download.

mod ports;
mod runtime_common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runtime_common::{images, leftover_temp_files, store_contents, Node};

/// Debian's docker-registry on a free loopback port, stopped on drop.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = ports::free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package docker-registry) must be installed");
        let registry = Registry { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    fn push(&self, source: &str, repository: &str) {
        let output = Command::new("skopeo")
            .args([
                "copy",
                "--dest-tls-verify=false",
                source,
                &format!("docker://127.0.0.1:{}/{repository}", self.port),
            ])
            .output()
            .expect("skopeo (Debian package skopeo) must be installed");
        assert!(output.status.success(), "skopeo copy {source}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn manifest_digest(archive: &Path) -> String {
    let mut tar = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().ends_with("index.json") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            let index: serde_json::Value = serde_json::from_str(&text).unwrap();
            return index["manifests"][0]["digest"].as_str().unwrap().to_string();
        }
    }
    panic!("no index.json");
}

#[test]
fn pulls_by_tag_by_digest_and_through_a_mirror() {
    let images = images();
    let registry = Registry::start();
    registry.push(&format!("docker-archive:{}", images.busybox.display()), "library/busybox:latest");
    registry.push(&format!("oci-archive:{}", images.nginx.display()), "library/nginx:latest");
    let node = Node::new();
    let port = registry.port;

    let out = node.ok(&["images", "pull", &format!("127.0.0.1:{port}/library/busybox:latest")]);
    assert!(out.contains(&format!("127.0.0.1:{port}/library/busybox:latest")), "{out}");

    let digest = manifest_digest(&images.nginx);
    node.ok(&["images", "pull", &format!("127.0.0.1:{port}/library/nginx@{digest}")]);
    let listed = node.ok(&["images", "ls", "--no-trunc"]);
    assert!(listed.contains(&digest), "{listed}");

    // A digest that is not this repository's is refused by the registry.
    let err = node.fails(&["images", "pull", &format!("127.0.0.1:{port}/library/busybox@{digest}")]);
    assert!(err.contains("manifest unknown"), "{err}");

    // Docker Hub names go to the mirror registries.yaml names.
    std::fs::write(
        node.registries_file(),
        format!("mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:{port}\"]\n"),
    )
    .unwrap();
    node.ok(&["images", "pull", "busybox"]);
    node.ok(&["images", "pull", "nginx:latest"]);
    let listed = node.ok(&["images", "ls"]);
    assert!(listed.contains("docker.io/library/busybox") && listed.contains("docker.io/library/nginx"), "{listed}");

    // The pulled image runs.
    let out = node.ok(&["run", "--name", "pulled", "busybox", "--", "echo", "pulled ok"]);
    assert!(out.contains("pulled ok"), "{out}");
}

/// How the scripted registry misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    WrongManifestDigest,
    BlobError500,
    TruncatedBlob,
    SlowBlobs,
    /// Docker Hub's scheme: 401 with a bearer challenge; the token service wants basic auth.
    TokenAuth,
}

const TOKEN_USER_PASS: &str = "dXNlcjpwYXNz"; // base64("user:pass")
const TOKEN: &str = "s3cret-token";

/// A registry serving one image from memory, with a fault, counting requests per path.
struct FakeRegistry {
    port: u16,
    requests: Arc<Mutex<HashMap<String, usize>>>,
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(data))
}

impl FakeRegistry {
    fn start(fault: Fault) -> FakeRegistry {
        let layer = {
            let mut builder = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_gnu();
            let data = vec![b'x'; 200_000];
            header.set_size(data.len() as u64);
            header.set_mode(0o755);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            header.set_cksum();
            builder.append_data(&mut header, "bin/payload", &data[..]).unwrap();
            builder.into_inner().unwrap()
        };
        let config = format!(r#"{{"architecture":"{}","os":"linux","config":{{"Cmd":["/bin/payload"]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#, host_arch(), sha256(&layer)).into_bytes();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
            sha256(&config),
            config.len(),
            sha256(&layer),
            layer.len()
        )
        .into_bytes();
        let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
        blobs.insert(sha256(&config), config);
        blobs.insert(sha256(&layer), layer);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counted = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (blobs, manifest, counted) = (blobs.clone(), manifest.clone(), counted.clone());
                std::thread::spawn(move || serve(conn, port, fault, &manifest, &blobs, &counted));
            }
        });
        FakeRegistry { port, requests }
    }

    fn count(&self, fragment: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|(path, _)| path.contains(fragment)).map(|(_, n)| n).sum()
    }
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn respond(conn: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn serve(
    mut conn: TcpStream,
    port: u16,
    fault: Fault,
    manifest: &[u8],
    blobs: &HashMap<String, Vec<u8>>,
    counted: &Mutex<HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = String::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = value.trim().to_string();
            }
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_string();
    *counted.lock().unwrap().entry(path.clone()).or_default() += 1;
    if fault == Fault::TokenAuth {
        if path == "/token" {
            if authorization != format!("Basic {TOKEN_USER_PASS}") {
                return respond(&mut conn, "401 Unauthorized", &[("Content-Length", "0".into())], b"");
            }
            let body = format!(r#"{{"token":"{TOKEN}"}}"#);
            return respond(&mut conn, "200 OK", &[("Content-Length", body.len().to_string())], body.as_bytes());
        }
        if authorization != format!("Bearer {TOKEN}") {
            let challenge = format!(
                r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake",scope="repository:test/app:pull""#
            );
            return respond(
                &mut conn,
                "401 Unauthorized",
                &[("Content-Length", "0".into()), ("WWW-Authenticate", challenge)],
                b"",
            );
        }
    }
    if path == "/v2/" {
        return respond(&mut conn, "200 OK", &[("Content-Length", "2".into())], b"{}");
    }
    if path.contains("/manifests/") {
        let mut body = manifest.to_vec();
        let digest = sha256(&body);
        if fault == Fault::WrongManifestDigest {
            // Same length, different bytes: the content no longer hashes to the digest asked for.
            let at = body.iter().rposition(|&b| b == b'2').unwrap();
            body[at] = b'3';
        }
        let headers = [
            ("Content-Type", "application/vnd.oci.image.manifest.v1+json".to_string()),
            ("Content-Length", body.len().to_string()),
            ("Docker-Content-Digest", digest),
        ];
        return respond(&mut conn, "200 OK", &headers, &body);
    }
    if let Some(digest) = path.rsplit('/').next().filter(|_| path.contains("/blobs/")) {
        let Some(blob) = blobs.get(digest) else {
            return respond(&mut conn, "404 Not Found", &[("Content-Length", "0".into())], b"");
        };
        let is_layer = blob.len() > 10_000;
        match fault {
            Fault::BlobError500 if is_layer => {
                return respond(&mut conn, "500 Internal Server Error", &[("Content-Length", "5".into())], b"oops!");
            }
            Fault::TruncatedBlob if is_layer => {
                // Promise the whole blob, send half, hang up.
                return respond(
                    &mut conn,
                    "200 OK",
                    &[("Content-Length", blob.len().to_string())],
                    &blob[..blob.len() / 2],
                );
            }
            Fault::SlowBlobs => std::thread::sleep(Duration::from_millis(300)),
            _ => {}
        }
        return respond(&mut conn, "200 OK", &[("Content-Length", blob.len().to_string())], blob);
    }
    respond(&mut conn, "404 Not Found", &[("Content-Length", "0".into())], b"")
}

fn assert_store_empty(node: &Node) {
    assert_eq!(node.ok(&["images", "ls", "-q"]), "");
    assert_eq!(store_contents(node), (vec![], vec![]));
    assert!(leftover_temp_files(node).is_empty());
}

#[test]
fn a_lying_or_failing_registry_is_refused_and_leaves_nothing() {
    let node = Node::new();
    let manifest_digest = {
        // The honest registry's manifest digest, to pull by digest from the lying one.
        let honest = FakeRegistry::start(Fault::None);
        node.ok(&["images", "pull", &format!("127.0.0.1:{}/test/app:1", honest.port)]);
        let digests = node.ok(&["images", "ls", "--no-trunc"]);
        let digest = digests.lines().nth(1).unwrap().split_whitespace().nth(2).unwrap().to_string();
        node.ok(&["images", "rm", &format!("127.0.0.1:{}/test/app:1", honest.port)]);
        assert_store_empty(&node);
        digest
    };

    let lying = FakeRegistry::start(Fault::WrongManifestDigest);
    let err = node.fails(&["images", "pull", &format!("127.0.0.1:{}/test/app@{manifest_digest}", lying.port)]);
    assert!(err.contains("digest"), "{err}");
    assert_store_empty(&node);

    let failing = FakeRegistry::start(Fault::BlobError500);
    let err = node.fails(&["images", "pull", &format!("127.0.0.1:{}/test/app:1", failing.port)]);
    assert!(err.contains("500"), "{err}");
    assert_store_empty(&node);

    let truncating = FakeRegistry::start(Fault::TruncatedBlob);
    let err = node.fails(&["images", "pull", &format!("127.0.0.1:{}/test/app:1", truncating.port)]);
    assert!(err.contains("fetching blob") || err.contains("downloading blob") || err.contains("truncated"), "{err}");
    assert_store_empty(&node);
}

#[test]
fn concurrent_pulls_of_one_image_share_the_download() {
    let node = Node::new();
    let registry = FakeRegistry::start(Fault::SlowBlobs);
    let service = onebin::runtime::image::service::ImageService::new(&node.agent_dir(), Default::default()).unwrap();
    let reference = format!("127.0.0.1:{}/test/app:1", registry.port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (a, b, c) = runtime.block_on(async {
        let progress = || Arc::new(onebin::runtime::image::pull::NoProgress);
        tokio::join!(
            service.pull(&reference, progress()),
            service.pull(&reference, progress()),
            service.pull(&reference, progress())
        )
    });
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert!(a.id == b.id && b.id == c.id);
    assert_eq!(registry.count("/manifests/"), 1, "one manifest fetch");
    assert_eq!(registry.count("/blobs/"), 2, "config and layer fetched once each");
}

#[test]
fn bearer_token_auth_with_credentials_from_registries_yaml() {
    let node = Node::new();
    let registry = FakeRegistry::start(Fault::TokenAuth);
    let image = format!("127.0.0.1:{}/test/app:1", registry.port);
    // Without credentials the token service refuses.
    let err = node.fails(&["images", "pull", &image]);
    assert!(err.contains("authenticating to 127.0.0.1"), "{err}");
    assert_store_empty(&node);
    std::fs::write(
        node.registries_file(),
        format!(
            "configs:\n  \"127.0.0.1:{}\":\n    auth:\n      username: user\n      password: pass\n",
            registry.port
        ),
    )
    .unwrap();
    node.ok(&["images", "pull", &image]);
    assert!(registry.count("/token") >= 1);
    assert!(node.ok(&["images", "ls"]).contains("127.0.0.1"));
}
