//! Image import, listing and removal through `onebin images`, and hostile or broken
//! archives and layers, which must fail clearly and leave the store as it was.

mod runtime_common;

use std::io::Read;
use std::path::{Path, PathBuf};

use runtime_common::{images, leftover_temp_files, store_contents, Node};

/// The manifest digest the OCI layout archive's index.json names.
fn nginx_manifest_digest(archive: &Path) -> String {
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
    panic!("no index.json in {}", archive.display());
}

fn assert_store_empty(node: &Node) {
    assert_eq!(node.ok(&["images", "ls", "-q"]), "", "no image may be registered");
    assert_eq!(store_contents(node), (vec![], vec![]), "no blob or layer may be left");
    assert!(leftover_temp_files(node).is_empty(), "temp files left: {:?}", leftover_temp_files(node));
}

#[test]
fn imports_both_archive_formats_and_lists_them() {
    let node = Node::new();
    let images = images();
    let out = node.ok(&["images", "import", images.busybox.to_str().unwrap(), images.nginx.to_str().unwrap()]);
    assert!(out.contains("imported docker.io/library/busybox:latest"), "{out}");
    assert!(out.contains("imported docker.io/library/nginx:latest"), "{out}");

    let list = node.ok(&["images", "ls"]);
    let lines: Vec<Vec<&str>> = list.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["IMAGE", "TAG", "DIGEST", "IMAGE", "ID", "SIZE"]);
    assert_eq!(lines.len(), 3, "{list}");
    assert_eq!(&lines[1][..2], ["docker.io/library/busybox", "latest"]);
    assert_eq!(&lines[2][..2], ["docker.io/library/nginx", "latest"]);
    let nginx_digest = nginx_manifest_digest(&images.nginx);
    assert_eq!(lines[2][2], &nginx_digest["sha256:".len().."sha256:".len() + 13]);
    for line in &lines[1..] {
        assert_eq!(line[3].len(), 13);
        assert!(line[4].ends_with("MB"), "size column: {line:?}");
    }
    let full = node.ok(&["images", "ls", "--no-trunc"]);
    assert!(full.contains(&nginx_digest), "{full}");

    // The busybox layer is shared: three layers in all, unpacked once each.
    assert_eq!(store_contents(&node).1.len(), 2);

    // Importing again changes nothing.
    node.ok(&["images", "import", images.nginx.to_str().unwrap()]);
    assert_eq!(node.ok(&["images", "ls"]), list);

    // Removing nginx keeps the layer busybox still uses.
    node.ok(&["images", "rm", "nginx"]);
    let (_, layers) = store_contents(&node);
    assert_eq!(layers.len(), 1);
    assert!(node.ok(&["images", "ls"]).contains("busybox"));
    node.ok(&["images", "rm", "docker.io/library/busybox:latest"]);
    assert_store_empty(&node);
    assert!(node.fails(&["images", "rm", "busybox"]).contains("not found"));
}

#[test]
fn airgap_directory_is_imported() {
    let node = Node::new();
    let images = images();
    let airgap = node.agent_dir().join("images");
    std::fs::create_dir_all(&airgap).unwrap();
    std::fs::copy(&images.busybox, airgap.join("busybox.tar")).unwrap();
    std::fs::write(airgap.join("broken.tar"), b"not a tar at all").unwrap();
    let mut gzipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzipped, &std::fs::read(&images.nginx).unwrap()).unwrap();
    std::fs::write(airgap.join("nginx.tar.gz"), gzipped.finish().unwrap()).unwrap();
    std::fs::write(airgap.join("notes.txt"), b"not an archive name").unwrap();
    let service = onebin::runtime::image::service::ImageService::new(&node.agent_dir(), Default::default()).unwrap();
    let results = tokio::runtime::Runtime::new().unwrap().block_on(service.import_airgap_images()).unwrap();
    assert_eq!(results.len(), 3, "notes.txt is not an archive name");
    let (good, bad): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, r)| r.is_ok());
    let names = |list: &[(PathBuf, _)]| -> Vec<String> {
        list.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(names(&good), ["busybox.tar", "nginx.tar.gz"]);
    assert_eq!(names(&bad), ["broken.tar"]);
    let listed = node.ok(&["images", "ls"]);
    assert!(listed.contains("docker.io/library/busybox") && listed.contains("docker.io/library/nginx"), "{listed}");
}

/// Writes `files` as a tar archive (in the given order) into `dir/name`.
fn archive(dir: &Path, name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let path = dir.join(name);
    let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
    for (file, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, file, &data[..]).unwrap();
    }
    builder.finish().unwrap();
    path
}

/// A one-layer `docker save` archive around `layer`.
fn save_archive(dir: &Path, name: &str, layer: Vec<u8>) -> PathBuf {
    let diff_id = format!("sha256:{}", hex(&layer));
    let config = format!(r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh"]}},"rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#).into_bytes();
    let manifest = br#"[{"Config":"config.json","RepoTags":["hostile:latest"],"Layers":["layer/layer.tar"]}]"#.to_vec();
    archive(dir, name, &[("config.json", config), ("layer/layer.tar", layer), ("manifest.json", manifest)])
}

fn hex(data: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(data))
}

/// A layer tar with entries named exactly as given (`tar::Builder` refuses hostile names).
fn raw_layer(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, link) in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        let data: &[u8] = if *kind == tar::EntryType::Regular { b"pwned" } else { b"" };
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn hostile_layers_are_refused_and_write_nothing_outside() {
    let node = Node::new();
    let work = tempfile::tempdir().unwrap();
    let victim = work.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let victim_path = victim.to_str().unwrap().to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("dotdot", raw_layer(&[("../../../../../../tmp/pwned", tar::EntryType::Regular, "")]), "parent directory"),
        ("absolute", raw_layer(&[(&format!("{victim_path}/pwned"), tar::EntryType::Regular, "")]), "absolute path"),
        (
            "symlink",
            raw_layer(&[
                ("escape", tar::EntryType::Symlink, &victim_path),
                ("escape/pwned", tar::EntryType::Regular, ""),
            ]),
            "not a directory inside the layer",
        ),
        ("hardlink", raw_layer(&[("stolen", tar::EntryType::Link, "../../../../etc/passwd")]), "parent directory"),
    ];
    for (name, layer, expected) in cases {
        let path = save_archive(work.path(), &format!("{name}.tar"), layer);
        let err = node.fails(&["images", "import", path.to_str().unwrap()]);
        assert!(err.contains(expected), "{name}: {err}");
        assert_store_empty(&node);
    }
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0, "nothing may be written outside a layer");
    assert!(!Path::new("/tmp/pwned").exists());
}

#[test]
fn corrupt_truncated_and_incomplete_archives_register_nothing() {
    let node = Node::new();
    let images = images();
    let work = tempfile::tempdir().unwrap();
    let good = std::fs::read(&images.nginx).unwrap();

    let truncated = work.path().join("truncated.tar");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let err = node.fails(&["images", "import", truncated.to_str().unwrap()]);
    assert!(err.contains("truncated.tar"), "{err}");
    assert_store_empty(&node);

    // Flip one byte inside the largest blob: its name no longer matches its content.
    let mut corrupt = good.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let corrupt_path = work.path().join("corrupt.tar");
    std::fs::write(&corrupt_path, &corrupt).unwrap();
    let err = node.fails(&["images", "import", corrupt_path.to_str().unwrap()]);
    assert!(err.contains("digest mismatch"), "{err}");
    assert_store_empty(&node);

    // A manifest naming a layer that is not in the archive.
    let layer = raw_layer(&[("file", tar::EntryType::Regular, "")]);
    let diff_id = format!("sha256:{}", hex(&layer));
    let config =
        format!(r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#)
            .into_bytes();
    let missing = archive(
        work.path(),
        "missing.tar",
        &[
            ("config.json", config),
            ("manifest.json", br#"[{"Config":"config.json","RepoTags":["x:1"],"Layers":["gone/layer.tar"]}]"#.to_vec()),
        ],
    );
    let err = node.fails(&["images", "import", missing.to_str().unwrap()]);
    assert!(err.contains("lacks gone/layer.tar"), "{err}");
    assert_store_empty(&node);

    // A layer whose content does not match the diff ID its config promises.
    let wrong_diff = {
        let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}"#.to_vec();
        archive(
            work.path(),
            "wrong-diff.tar",
            &[
                ("config.json", config),
                ("l/layer.tar", layer.clone()),
                (
                    "manifest.json",
                    br#"[{"Config":"config.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]"#.to_vec(),
                ),
            ],
        )
    };
    let err = node.fails(&["images", "import", wrong_diff.to_str().unwrap()]);
    assert!(err.contains("does not match its diff ID"), "{err}");
    assert_store_empty(&node);

    let not_an_image = archive(work.path(), "other.tar", &[("hello.txt", b"hi".to_vec())]);
    let err = node.fails(&["images", "import", not_an_image.to_str().unwrap()]);
    assert!(err.contains("not an image archive"), "{err}");
    assert_store_empty(&node);

    // After all that, a good import still works.
    node.import_test_images();
    assert_eq!(node.ok(&["images", "ls", "-q"]).lines().count(), 2);
}

#[test]
fn invalid_references_are_explained() {
    let node = Node::new();
    for bad in ["Nginx", "nginx:", "a//b", "nginx@sha256:123"] {
        let err = node.fails(&["images", "pull", bad]);
        assert!(err.contains("invalid image reference"), "{bad}: {err}");
    }
}

#[test]
fn an_image_in_use_keeps_its_layers_until_its_containers_go() {
    let node = Node::new();
    node.import_test_images();
    let id = node.ok(&["run", "-d", "--name", "user", "busybox", "--", "sleep", "600"]).trim().to_string();
    node.ok(&["images", "rm", "busybox"]);
    assert!(!node.ok(&["images", "ls"]).contains("busybox"));
    // nginx shares the busybox layer; remove it too so only the container holds the layer.
    node.ok(&["images", "rm", "nginx"]);
    let (blobs, layers) = store_contents(&node);
    assert!(blobs.is_empty(), "blobs go with their images: {blobs:?}");
    assert_eq!(layers.len(), 1, "the running container's layer stays");
    assert_eq!(node.ok(&["exec", &id, "--", "echo", "still here"]), "still here\n");
    node.ok(&["rm", "-f", &id]);
    assert_eq!(store_contents(&node), (vec![], vec![]));
}
