//! `berth registry gc`: mark every blob some manifest of some repository
//! references (the manifests themselves included), sweep the rest.
//!
//! Safe because it runs under the root's exclusive lock (no server can be
//! mid-push: see lock.rs), because a manifest it cannot parse is kept with
//! everything it might reference left alone (the whole run stops rather
//! than guess), and because deleting a blob only removes a file no manifest
//! names; repository links to deleted blobs are dropped after, so a HEAD
//! never finds a link without content. Uploads untouched for a day and
//! leftovers in tmp/ (a crash mid-write) go too: nobody can be writing them.
//!
//! With `delete_untagged`, a repository's manifests that no tag reaches
//! (directly, or as a child of a tagged index) are deleted first — except
//! the referrers (OCI `subject`) of a manifest that stays; the referrers of
//! a manifest that goes, go with it.

use crate::digest::Digest;
use crate::error::RegistryError;
use crate::lock::RootLock;
use crate::manifest::{references, References, MAX_MANIFEST};
use crate::storage::Storage;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Default)]
pub struct GcReport {
    /// Blobs kept because a manifest references them.
    pub kept: usize,
    /// Blobs removed (or that would be, on a dry run), with their sizes.
    pub removed: Vec<(Digest, u64)>,
    /// Abandoned uploads and temporary files removed.
    pub leftovers: usize,
    /// Untagged manifests deleted (`repository@digest`), with `delete_untagged`.
    pub untagged: Vec<String>,
}

/// An upload untouched this long is abandoned.
const UPLOAD_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Runs gc on the storage at `root`.
pub fn collect(root: &Path, dry_run: bool) -> Result<GcReport, RegistryError> {
    collect_with(root, dry_run, false)
}

/// Runs gc, first deleting untagged manifests when `delete_untagged`.
pub fn collect_with(root: &Path, dry_run: bool, delete_untagged: bool) -> Result<GcReport, RegistryError> {
    let storage = Storage::open(root).map_err(|e| RegistryError::io(root, e))?;
    let _lock = RootLock::exclusive(root)?;
    let io = |e| RegistryError::io(root, e);
    let mut untagged = Vec::new();
    let mut dropped = BTreeSet::new();
    if delete_untagged {
        for repo in storage.repositories().map_err(io)? {
            for d in untagged_in(&storage, &repo)? {
                if !dry_run {
                    storage.delete_manifest(&repo, &d).map_err(io)?;
                }
                untagged.push(format!("{repo}@{d}"));
                dropped.insert((repo.clone(), d));
            }
        }
    }
    let marked = mark(&storage, &dropped)?;
    let mut report = GcReport { kept: marked.len(), removed: Vec::new(), leftovers: 0, untagged };
    for d in storage.all_blobs().map_err(io)? {
        if marked.contains(&d) {
            continue;
        }
        let size = storage.blob_size(&d).map_err(io)?.unwrap_or(0);
        if !dry_run {
            storage.delete_blob(&d).map_err(io)?;
        }
        report.removed.push((d, size));
    }
    if !dry_run {
        let stale = storage.stale_uploads(UPLOAD_MAX_AGE).map_err(io)?;
        for id in &stale {
            storage.remove_upload(id).map_err(io)?;
        }
        report.leftovers = stale.len() + storage.clear_tmp().map_err(io)?;
        for repo in storage.repositories().map_err(io)? {
            for d in storage.repo_blob_links(&repo).map_err(io)? {
                if storage.blob_size(&d).map_err(io)?.is_none() {
                    storage.unlink_blob(&repo, &d).map_err(io)?;
                }
            }
        }
    }
    Ok(report)
}

/// The manifests of `repo` no tag keeps: not tagged, not a child of a kept
/// index, not a referrer of a kept manifest.
fn untagged_in(storage: &Storage, repo: &str) -> Result<Vec<Digest>, RegistryError> {
    let root = storage.root();
    let io = |e| RegistryError::io(root, e);
    let mut refs = std::collections::BTreeMap::new();
    for d in storage.manifest_revisions(repo).map_err(io)? {
        refs.insert(d.clone(), read_refs(storage, repo, &d)?);
    }
    let mut keep: BTreeSet<Digest> = BTreeSet::new();
    for t in storage.tags(repo).map_err(io)? {
        keep.extend(storage.resolve_tag(repo, &t).map_err(io)?);
    }
    // To a fixed point: children of kept indexes, referrers of kept manifests.
    loop {
        let before = keep.len();
        for (d, r) in &refs {
            let child = r.is_none() || keep.iter().any(|k| refs.get(k).and_then(Option::as_ref).is_some_and(|kr| kr.manifests.iter().any(|(c, _)| c == d)));
            let referrer = r.as_ref().and_then(|r| r.subject.as_ref()).is_some_and(|s| keep.contains(s));
            if child || referrer {
                keep.insert(d.clone());
            }
        }
        if keep.len() == before {
            break;
        }
    }
    Ok(refs.into_keys().filter(|d| !keep.contains(d)).collect())
}

/// What manifest `d` of `repo` references; `None` for a revision whose
/// content is gone (nothing to decide about it).
fn read_refs(storage: &Storage, repo: &str, d: &Digest) -> Result<Option<References>, RegistryError> {
    let root = storage.root();
    let io = |e| RegistryError::io(root, e);
    let Some(media_type) = storage.manifest_media_type(repo, d).map_err(io)? else {
        return Ok(None);
    };
    let body = storage.read_blob(d, MAX_MANIFEST as u64 + 1).map_err(io)?;
    references(&media_type, &body)
        .map(Some)
        .map_err(|e| RegistryError::Gc(format!("gc stopped, nothing removed: manifest {d} of {repo} cannot be read: {e}")))
}

/// `dropped`: manifests a dry run would have deleted (they mark nothing).
fn mark(storage: &Storage, dropped: &BTreeSet<(String, Digest)>) -> Result<BTreeSet<Digest>, RegistryError> {
    let root = storage.root();
    let io = |e| RegistryError::io(root, e);
    let mut marked = BTreeSet::new();
    for repo in storage.repositories().map_err(io)? {
        for d in storage.manifest_revisions(&repo).map_err(io)? {
            if dropped.contains(&(repo.clone(), d.clone())) {
                continue;
            }
            let Some(media_type) = storage.manifest_media_type(&repo, &d).map_err(io)? else {
                continue;
            };
            let body = storage.read_blob(&d, MAX_MANIFEST as u64 + 1).map_err(io)?;
            let refs = references(&media_type, &body).map_err(|e| {
                RegistryError::Gc(format!("gc stopped, nothing removed: manifest {d} of {repo} cannot be read: {e}"))
            })?;
            marked.insert(d);
            marked.extend(refs.blobs.into_iter().map(|(d, _)| d));
            marked.extend(refs.manifests.into_iter().map(|(d, _)| d));
        }
    }
    Ok(marked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DOCKER_MANIFEST;

    #[test]
    fn sweeps_only_unreferenced_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let c = s.put_blob_bytes(b"config").unwrap();
        let l = s.put_blob_bytes(b"layer").unwrap();
        let orphan = s.put_blob_bytes(b"orphan").unwrap();
        for d in [&c, &l, &orphan] {
            s.link_blob("r", d).unwrap();
        }
        let m = serde_json::json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": c.to_string(), "size": 6},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": l.to_string(), "size": 5}]});
        let md = s.put_manifest("r", m.to_string().as_bytes(), DOCKER_MANIFEST, Some("t")).unwrap();

        let dry = collect(dir.path(), true).unwrap();
        assert_eq!(dry.removed, vec![(orphan.clone(), 6)]);
        assert!(s.blob_size(&orphan).unwrap().is_some());

        let r = collect(dir.path(), false).unwrap();
        assert_eq!(r.kept, 3);
        assert_eq!(r.removed.len(), 1);
        assert!(s.blob_size(&orphan).unwrap().is_none());
        assert!(s.blob_in_repo("r", &orphan).unwrap().is_none());
        assert!(s.repo_blob_links("r").unwrap().len() == 2);
        for d in [&c, &l, &md] {
            assert!(s.blob_size(d).unwrap().is_some());
        }

        // With the manifest deleted, everything goes.
        s.delete_manifest("r", &md).unwrap();
        assert_eq!(collect(dir.path(), false).unwrap().removed.len(), 3);
        assert!(s.all_blobs().unwrap().is_empty());
    }

    #[test]
    fn delete_untagged_follows_indexes_and_subjects() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let image = |s: &Storage, tag: Option<&str>, content: &[u8], subject: Option<&Digest>| {
            let c = s.put_blob_bytes(content).unwrap();
            s.link_blob("r", &c).unwrap();
            let mut m = serde_json::json!({"schemaVersion": 2, "mediaType": crate::manifest::OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c.to_string(), "size": content.len()},
                "layers": []});
            if let Some(sub) = subject {
                m["subject"] = serde_json::json!({"mediaType": crate::manifest::OCI_MANIFEST, "digest": sub.to_string(), "size": 1});
            }
            (s.put_manifest("r", m.to_string().as_bytes(), crate::manifest::OCI_MANIFEST, tag).unwrap(), c)
        };
        let (tagged, tagged_cfg) = image(&s, Some("v1"), b"tagged", None);
        let (sig, _) = image(&s, None, b"signature of tagged", Some(&tagged));
        let (sig_of_sig, _) = image(&s, None, b"signature of the signature", Some(&sig));
        let (child, _) = image(&s, None, b"child of a tagged index", None);
        let idx = serde_json::json!({"schemaVersion": 2, "mediaType": crate::manifest::OCI_INDEX,
            "manifests": [{"mediaType": crate::manifest::OCI_MANIFEST, "digest": child.to_string(), "size": 1}]});
        let idx_d = s.put_manifest("r", idx.to_string().as_bytes(), crate::manifest::OCI_INDEX, Some("multi")).unwrap();
        let (old, old_cfg) = image(&s, None, b"untagged", None);
        let (old_sig, old_sig_cfg) = image(&s, None, b"signature of untagged", Some(&old));

        // Plain gc keeps every manifest.
        assert!(collect(dir.path(), false).unwrap().untagged.is_empty());
        let dry = collect_with(dir.path(), true, true).unwrap();
        let mut want = vec![format!("r@{old}"), format!("r@{old_sig}")];
        want.sort();
        let mut got = dry.untagged.clone();
        got.sort();
        assert_eq!(got, want);
        assert!(dry.removed.iter().any(|(d, _)| d == &old_cfg), "a dry run counts what would go: {:?}", dry.removed);
        assert!(s.manifest_media_type("r", &old).unwrap().is_some(), "a dry run deletes nothing");

        let r = collect_with(dir.path(), false, true).unwrap();
        assert_eq!(r.untagged.len(), 2);
        for gone in [&old, &old_sig] {
            assert!(s.manifest_media_type("r", gone).unwrap().is_none());
            assert!(s.blob_size(gone).unwrap().is_none());
        }
        for d in [&old_cfg, &old_sig_cfg] {
            assert!(s.blob_size(d).unwrap().is_none());
        }
        for kept in [&tagged, &sig, &sig_of_sig, &child, &idx_d, &tagged_cfg] {
            assert!(s.blob_size(kept).unwrap().is_some(), "{kept} was removed");
        }
        // Untagging the image takes its referrers with it.
        s.delete_tag("r", "v1").unwrap();
        let r = collect_with(dir.path(), false, true).unwrap();
        assert_eq!(r.untagged.len(), 3, "{:?}", r.untagged);
        assert!(s.manifest_media_type("r", &child).unwrap().is_some());
    }

    #[test]
    fn refuses_while_served() {
        let dir = tempfile::tempdir().unwrap();
        let _server = RootLock::shared(dir.path()).unwrap();
        assert!(collect(dir.path(), false).is_err());
    }
}
