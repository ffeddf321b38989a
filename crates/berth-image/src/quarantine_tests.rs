//! A damaged image record, tag file or layer metadata is moved aside at open; the rest loads.

use std::fs;
use std::path::Path;

use berth_store::Digest;
use serde_json::json;

use crate::store_tests::{config_for, docker_archive, layer2, tar_of, TestResult};
use crate::ImageStore;

/// A second image, one layer, tagged `other:1`.
fn other_archive() -> (Vec<u8>, Digest) {
    let l2 = layer2();
    let config = config_for(&[&l2]);
    let id = Digest::of_bytes(&config);
    let manifest = json!([{"Config": "c.json", "RepoTags": ["other:1"], "Layers": ["l/layer.tar"]}]);
    let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
    (tar_of(&[("l/layer.tar", &l2), ("manifest.json", &manifest), ("c.json", &config)]), id)
}

/// Two images loaded into a store at `root`, which is then closed.
fn two_images(root: &Path) -> Result<(Digest, Digest), Box<dyn std::error::Error>> {
    let s = ImageStore::open(root)?;
    let (a, a_id) = docker_archive(&["busybox:latest"]);
    let (b, b_id) = other_archive();
    s.load(&a[..])?;
    s.load(&b[..])?;
    Ok((a_id, b_id))
}

fn quarantine_files(root: &Path, kind: &str) -> Vec<String> {
    fs::read_dir(root.join("quarantine").join(kind))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn damaged_image_record_is_quarantined_and_its_layers_kept() -> TestResult {
    let t = tempfile::tempdir()?;
    let root = t.path().join("root");
    let (a, b) = two_images(&root)?;
    let layers_before = fs::read_dir(root.join("layers"))?.count();
    fs::write(root.join("images").join(format!("{}.json", b.hex())), b"{")?;
    let s = ImageStore::open(&root)?;
    assert_eq!(s.list().iter().map(|i| i.id.clone()).collect::<Vec<_>>(), vec![a]);
    assert_eq!(s.resolve("busybox")?.tags, vec!["busybox:latest"]);
    assert!(s.resolve("other:1").is_err());
    assert_eq!(s.quarantined().len(), 1, "{:?}", s.quarantined());
    assert_eq!(s.quarantined()[0].kind, "images");
    assert_eq!(quarantine_files(&root, "images").len(), 1);
    // Containers may still run on the lost image's layers.
    assert_eq!(fs::read_dir(root.join("layers"))?.count(), layers_before);
    Ok(())
}

#[test]
fn image_with_a_missing_config_is_quarantined() -> TestResult {
    let t = tempfile::tempdir()?;
    let root = t.path().join("root");
    let (a, b) = two_images(&root)?;
    ImageStore::open(&root)?.blobs().delete(&b)?;
    let s = ImageStore::open(&root)?;
    assert_eq!(s.list().iter().map(|i| i.id.clone()).collect::<Vec<_>>(), vec![a]);
    assert_eq!(s.quarantined().len(), 1);
    assert!(s.quarantined()[0].reason.contains("config"), "{}", s.quarantined()[0]);
    Ok(())
}

#[test]
fn damaged_tag_file_keeps_the_images_untagged() -> TestResult {
    let t = tempfile::tempdir()?;
    let root = t.path().join("root");
    let (a, b) = two_images(&root)?;
    fs::write(root.join("repositories.json"), b"{\"busybox:latest\": \"sha2")?;
    let s = ImageStore::open(&root)?;
    let mut ids: Vec<_> = s.list().into_iter().map(|i| (i.id, i.tags)).collect();
    ids.sort();
    let mut want = vec![(a.clone(), vec![]), (b, vec![])];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(s.quarantined().len(), 1);
    assert_eq!(s.quarantined()[0].kind, "repositories");
    assert_eq!(quarantine_files(&root, "repositories").len(), 1);
    // Tagging works again and is saved in a fresh file.
    s.tag(&a.to_string(), &crate::Reference::parse_normalized("busybox:again")?)?;
    drop(s);
    let s = ImageStore::open(&root)?;
    assert_eq!(s.resolve("busybox:again")?.id, a);
    assert!(s.quarantined().is_empty());
    Ok(())
}

#[test]
fn damaged_layer_metadata_is_quarantined() -> TestResult {
    let t = tempfile::tempdir()?;
    let root = t.path().join("root");
    let (a, b) = two_images(&root)?;
    let s = ImageStore::open(&root)?;
    let chain = s.resolve(&b.to_string())?.layers[0].clone();
    drop(s);
    fs::write(root.join("layers").join(chain.hex()).join("meta.json"), b"")?;
    let s = ImageStore::open(&root)?;
    assert_eq!(s.list().len(), 2);
    assert_eq!(s.resolve("busybox")?.id, a);
    assert_eq!(s.quarantined().len(), 1);
    assert_eq!(s.quarantined()[0].kind, "layers");
    assert_eq!(quarantine_files(&root, "layers").len(), 1);
    assert!(quarantine_files(&root, "layers")[0].starts_with(chain.hex()));
    Ok(())
}
