//! Image store tests: loading archives built here, tags, save/load round trips, and
//! hostile archives that must leave nothing behind.

use std::fs;
use std::io::Write;
use std::path::Path;

use berth_store::Digest;
use flate2::write::GzEncoder;
use serde_json::json;

use crate::{ImageError, ImageStore, Reference};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(crate) fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_mtime(1_600_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        // Raw name bytes so hostile names (`..`) can be written too.
        if let Some(g) = h.as_gnu_mut() {
            g.name[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_cksum();
        let _ = b.append(&h, *data);
    }
    b.into_inner().unwrap_or_default()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

pub(crate) fn config_for(layers: &[&[u8]]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| Digest::of_bytes(l).to_string())
        .collect();
    let v = json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created": "2024-01-02T03:04:05Z", "created_by": "ADD rootfs"},
            {"created": "2024-01-02T03:04:06Z", "created_by": "ENV x", "empty_layer": true},
            {"created": "2024-01-02T03:04:07Z", "created_by": "ADD hosts", "comment": "c"}
        ],
        "unknown_field": {"kept": true}
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

pub(crate) fn layer1() -> Vec<u8> {
    tar_of(&[("bin/sh", b"#!binary")])
}

pub(crate) fn layer2() -> Vec<u8> {
    tar_of(&[("etc/hosts", b"127.0.0.1 localhost\n")])
}

/// A docker-save archive of one image with two layers, the second gzipped.
pub(crate) fn docker_archive(tags: &[&str]) -> (Vec<u8>, Digest) {
    let (l1, l2) = (layer1(), layer2());
    let config = config_for(&[&l1, &l2]);
    let id = Digest::of_bytes(&config);
    let manifest = json!([{"Config": format!("{}.json", id.hex()), "RepoTags": tags,
        "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]);
    let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
    let gz = gzip(&l2);
    let files: Vec<(&str, &[u8])> = vec![
        ("aaa/layer.tar", &l1),
        ("bbb/layer.tar", &gz),
        ("manifest.json", &manifest),
    ];
    let name = format!("{}.json", id.hex());
    let mut all = files;
    all.push((&name, &config));
    (tar_of(&all), id)
}

fn store() -> Result<(tempfile::TempDir, ImageStore), Box<dyn std::error::Error>> {
    let t = tempfile::tempdir()?;
    let s = ImageStore::open(&t.path().join("root"))?;
    Ok((t, s))
}

fn assert_empty(root: &Path, s: &ImageStore) -> TestResult {
    assert!(s.list().is_empty(), "images recorded");
    assert_eq!(fs::read_dir(root.join("layers"))?.count(), 0, "layers left");
    assert_eq!(fs::read_dir(root.join("tmp"))?.count(), 0, "temp left");
    assert_eq!(
        fs::read_dir(root.join("images"))?.count(),
        0,
        "records left"
    );
    Ok(())
}

#[test]
fn loads_docker_save_archive() -> TestResult {
    let (t, s) = store()?;
    let (archive, id) = docker_archive(&["busybox:latest", "localhost:5000/x:1"]);
    let loaded = s.load(&archive[..])?;
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id);
    assert_eq!(loaded[0].tags, vec!["busybox:latest", "localhost:5000/x:1"]);
    let img = s.resolve("busybox")?;
    assert_eq!(img.id, id);
    assert_eq!(img.tags, vec!["busybox:latest", "localhost:5000/x:1"]);
    assert_eq!(img.size, 8 + 20);
    assert_eq!(s.resolve(&id.to_string())?.id, id);
    assert_eq!(s.resolve(&id.hex()[..12])?.id, id);
    assert_eq!(s.config_bytes(&id)?, config_for(&[&layer1(), &layer2()]));
    let dirs = s.layer_dirs(&img);
    assert_eq!(dirs.len(), 2);
    assert!(dirs[0].join("etc/hosts").is_file() && dirs[1].join("bin/sh").is_file());
    let h = s.history(&id)?;
    let summary: Vec<_> = h
        .iter()
        .map(|e| (e.id.as_str(), e.created_by.as_str(), e.size))
        .collect();
    let ids = id.to_string();
    assert_eq!(
        summary,
        vec![
            (ids.as_str(), "ADD hosts", 20),
            ("<missing>", "ENV x", 0),
            ("<missing>", "ADD rootfs", 8)
        ]
    );
    assert_eq!(h[0].tags, img.tags);
    // Loading again is idempotent and the state survives a reopen.
    assert_eq!(s.load(&archive[..])?[0].id, id);
    drop(s);
    let s = ImageStore::open(&t.path().join("root"))?;
    assert_eq!(s.resolve("localhost:5000/x:1")?.id, id);
    assert_eq!(s.list().len(), 1);
    Ok(())
}

#[test]
fn loads_oci_layout_with_gzip_layers_and_nested_index() -> TestResult {
    let (_t, s) = store()?;
    let l1 = layer1();
    let gz = gzip(&l1);
    let config = config_for(&[&l1]);
    let (cd, ld) = (Digest::of_bytes(&config), Digest::of_bytes(&gz));
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld.to_string(), "size": gz.len()}]}))?;
    let md = Digest::of_bytes(&manifest);
    let nested = serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": Digest::of_bytes(b"arm").to_string(), "size": 1,
         "platform": {"architecture": "arm64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md.to_string(), "size": manifest.len(),
         "platform": {"architecture": crate::load::host_arch(), "os": "linux"}}]}))?;
    let nd = Digest::of_bytes(&nested);
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": nd.to_string(), "size": nested.len(),
         "annotations": {"io.containerd.image.name": "docker.io/foo/bar:2", "org.opencontainers.image.ref.name": "2"}}]}))?;
    let p = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    let (pc, pl, pm, pn) = (p(&cd), p(&ld), p(&md), p(&nd));
    let archive = tar_of(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("index.json", &index),
        (&pc, &config),
        (&pl, &gz),
        (&pm, &manifest),
        (&pn, &nested),
    ]);
    let loaded = s.load(&gzip(&archive)[..])?;
    assert_eq!(loaded[0].id, cd);
    assert_eq!(loaded[0].tags, vec!["foo/bar:2"]);
    assert_eq!(s.resolve("foo/bar:2")?.layers, vec![Digest::of_bytes(&l1)]);

    // A tampered config blob is refused and nothing is recorded.
    let (_t2, s2) = store()?;
    let bad = tar_of(&[
        ("oci-layout", b"{}"),
        ("index.json", &index),
        (&pc, b"{}"),
        (&pl, &gz),
        (&pm, &manifest),
        (&pn, &nested),
    ]);
    assert!(matches!(
        s2.load(&bad[..]),
        Err(ImageError::InvalidArchive(_))
    ));
    assert!(s2.list().is_empty());
    Ok(())
}

#[test]
fn tag_untag_and_prefixes() -> TestResult {
    let (_t, s) = store()?;
    let (archive, id) = docker_archive(&[]);
    let loaded = s.load(&archive[..])?;
    assert!(loaded[0].tags.is_empty());
    assert!(matches!(s.resolve("busybox"), Err(ImageError::NotFound(m)) if m == "busybox:latest"));
    assert_eq!(
        s.resolve("busybox").err().map(|e| e.to_string()),
        Some("No such image: busybox:latest".into())
    );
    s.tag(&id.hex()[..6], &Reference::parse("me/app:v1")?)?;
    assert_eq!(s.resolve("me/app:v1")?.tags, vec!["me/app:v1"]);
    assert_eq!(s.untag(&Reference::parse("me/app:v1")?)?, id);
    assert!(s.untag(&Reference::parse("me/app:v1")?).is_err());
    assert!(matches!(
        s.resolve("Bad"),
        Err(ImageError::InvalidReference(_))
    ));
    // 17 images: two must share a first hex digit.
    let mut ids = vec![id];
    for i in 0..16 {
        ids.push(s.import(&tar_of(&[])[..], &[format!("LABEL n={i}")], None, None)?);
    }
    let mut first: Vec<char> = ids.iter().filter_map(|d| d.hex().chars().next()).collect();
    first.sort();
    let dup = first
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0].to_string())
        .unwrap_or_default();
    assert!(matches!(s.resolve(&dup), Err(ImageError::Ambiguous(_))));
    Ok(())
}

#[test]
fn import_with_changes_and_remove() -> TestResult {
    let (t, s) = store()?;
    let rootfs = gzip(&layer1());
    let tag = Reference::parse("imported:1")?;
    let changes = vec!["CMD [\"sh\"]".to_string(), "ENV A=b".to_string()];
    let id = s.import(&rootfs[..], &changes, Some(&tag), Some("hello"))?;
    let img = s.resolve("imported:1")?;
    assert_eq!(img.id, id);
    let cfg = img.config.config.clone().unwrap_or_default();
    assert_eq!(cfg.cmd, Some(vec!["sh".to_string()]));
    assert_eq!(
        img.config.rootfs.diff_ids,
        vec![Digest::of_bytes(&layer1())]
    );
    assert_eq!(s.history(&id)?[0].comment, "hello");
    assert!(matches!(
        s.import(&rootfs[..], &["RUN x".to_string()], None, None),
        Err(ImageError::InvalidChange(_))
    ));

    let (archive, other) = docker_archive(&["busybox:latest"]);
    s.load(&archive[..])?;
    let removed = s.remove(&id)?;
    assert_eq!(removed.untagged, vec!["imported:1"]);
    // The shared base layer stays for busybox; the blob of the config is gone.
    assert!(s.resolve(&id.to_string()).is_err());
    assert!(s
        .layer_dirs(&s.resolve("busybox")?)
        .iter()
        .all(|d| d.is_dir()));
    assert!(!s.blobs().exists(&id));
    s.remove(&other)?;
    assert_empty(&t.path().join("root"), &s)?;
    assert_eq!(
        fs::read_dir(t.path().join("root/blobs/sha256"))?.count(),
        0,
        "blobs left"
    );
    Ok(())
}

#[test]
fn save_then_load_gives_the_same_image() -> TestResult {
    let (_t, s) = store()?;
    let (archive, id) = docker_archive(&["busybox:latest", "busybox:1"]);
    s.load(&archive[..])?;
    let mut out = Vec::new();
    s.save(&["busybox".to_string()], &mut out)?;
    let (_t2, s2) = store()?;
    let loaded = s2.load(&out[..])?;
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id);
    assert_eq!(loaded[0].tags, vec!["busybox:1", "busybox:latest"]);
    assert_eq!(s2.config_bytes(&id)?, s.config_bytes(&id)?);
    // The OCI half alone loads too (docker-save manifest removed).
    let mut oci = tar::Builder::new(Vec::new());
    let mut a = tar::Archive::new(&out[..]);
    for e in a.entries()? {
        let mut e = e?;
        if e.path()?.to_str() != Some("manifest.json") {
            let mut h = e.header().clone();
            let p = e.path()?.into_owned();
            oci.append_data(&mut h, p, &mut e)?;
        }
    }
    let (_t3, s3) = store()?;
    assert_eq!(s3.load(&oci.into_inner()?[..])?[0].id, id);
    // By id: no tags.
    let mut out = Vec::new();
    s.save(&[id.hex()[..10].to_string()], &mut out)?;
    let (_t4, s4) = store()?;
    assert!(s4.load(&out[..])?[0].tags.is_empty());
    Ok(())
}

#[test]
fn hostile_archives_leave_nothing() -> TestResult {
    let (t, s) = store()?;
    let root = t.path().join("root");
    let (good, _) = docker_archive(&["x:1"]);
    let mut escape = tar_of(&[("../../escaped-manifest", b"[]")]);
    assert!(matches!(
        s.load(&escape[..]),
        Err(ImageError::InvalidArchive(_))
    ));
    assert!(!t.path().join("escaped-manifest").exists());
    escape = tar_of(&[("/abs", b"x")]);
    assert!(matches!(
        s.load(&escape[..]),
        Err(ImageError::InvalidArchive(_))
    ));

    // A layer that climbs out with `..`, after a good first layer.
    let l1 = layer1();
    let evil = tar_of(&[("../../../../../../escaped-layer", b"x")]);
    let config = config_for(&[&l1, &evil]);
    let manifest = serde_json::to_vec(
        &json!([{"Config": "c.json", "RepoTags": ["evil:1"], "Layers": ["1.tar", "2.tar"]}]),
    )?;
    let arch = tar_of(&[
        ("manifest.json", &manifest),
        ("c.json", &config),
        ("1.tar", &l1),
        ("2.tar", &evil),
    ]);
    assert!(matches!(
        s.load(&arch[..]),
        Err(ImageError::InvalidArchive(_))
    ));
    assert!(!t.path().join("escaped-layer").exists() && !Path::new("/escaped-layer").exists());
    assert_empty(&root, &s)?;

    // Layer contents that do not match the config's diff ids.
    let config = config_for(&[&l1, &layer2()]);
    let arch = tar_of(&[
        ("manifest.json", &manifest),
        ("c.json", &config),
        ("1.tar", &l1),
        ("2.tar", &l1),
    ]);
    assert!(matches!(
        s.load(&arch[..]),
        Err(ImageError::InvalidArchive(_))
    ));
    assert_empty(&root, &s)?;

    // Manifest paths that climb out, link loops, not an image, not a tar.
    for m in [
        json!([{"Config": "../../../etc/passwd", "Layers": []}]),
        json!([{"Config": "loop", "Layers": []}]),
    ] {
        let m = serde_json::to_vec(&m)?;
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "loop", "loop")?;
        let mut h = tar::Header::new_gnu();
        h.set_size(m.len() as u64);
        b.append_data(&mut h, "manifest.json", &m[..])?;
        let r = s.load(&b.into_inner()?[..]);
        assert!(matches!(r, Err(ImageError::InvalidArchive(_))), "{r:?}");
    }
    let r = s.load(&tar_of(&[("hello.txt", b"hi")])[..]);
    assert!(
        matches!(&r, Err(ImageError::InvalidArchive(m)) if m.contains("manifest.json")),
        "{r:?}"
    );
    assert!(matches!(
        s.load(&b"not a tar at all"[..]),
        Err(ImageError::InvalidArchive(_))
    ));
    assert_empty(&root, &s)?;
    // The good archive still loads afterwards.
    s.load(&good[..])?;
    Ok(())
}

#[test]
fn reopening_sweeps_layers_no_image_uses() -> TestResult {
    let (t, s) = store()?;
    let root = t.path().join("root");
    let (archive, id) = docker_archive(&["kept:1"]);
    s.load(&archive[..])?;
    let kept = s.resolve("kept:1")?.layers;
    // A layer unpacked by a load that died before recording its image.
    let orphan = s.layer_store().apply(None, &tar_of(&[("orphan", b"x")])[..])?;
    assert!(s.layer_store().exists(&orphan.chain_id));
    drop(s);
    let s = ImageStore::open(&root)?;
    assert!(!s.layer_store().exists(&orphan.chain_id), "orphan layer swept");
    assert!(!s.blobs().exists(&orphan.diff_id), "orphan layer's tar swept");
    for chain in &kept {
        assert!(s.layer_store().exists(chain), "a used layer was removed");
    }
    assert_eq!(s.resolve("kept:1")?.id, id);
    Ok(())
}

/// A tag change that cannot be written (here: repositories.json cannot be
/// replaced) is not kept in memory either: the store stays as on disk.
#[test]
fn failed_tag_writes_change_nothing() -> TestResult {
    let (t, s) = store()?;
    let (archive, id) = docker_archive(&["busybox:latest"]);
    s.load(&archive[..])?;
    let repos = t.path().join("root").join("repositories.json");
    let saved = fs::read(&repos)?;
    fs::remove_file(&repos)?;
    fs::create_dir(&repos)?;
    fs::write(repos.join("pin"), b"x")?;
    assert!(s.tag(id.hex(), &Reference::parse("other:1")?).is_err());
    assert!(s.resolve("other:1").is_err());
    assert!(s.untag(&Reference::parse("busybox:latest")?).is_err());
    assert_eq!(s.resolve("busybox:latest")?.id, id);
    assert!(s.remove(&id).is_err());
    assert_eq!(s.resolve("busybox:latest")?.tags, vec!["busybox:latest"]);
    assert!(s.import(&tar_of(&[])[..], &[], Some(&Reference::parse("imp:1")?), None).is_err());
    assert!(s.resolve("imp:1").is_err());
    assert_eq!(s.list().len(), 1);
    fs::remove_dir_all(&repos)?;
    fs::write(&repos, saved)?;
    Ok(())
}
