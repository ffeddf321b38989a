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

use crate::digest::Digest;
use crate::error::RegistryError;
use crate::lock::RootLock;
use crate::manifest::{references, MAX_MANIFEST};
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
}

/// An upload untouched this long is abandoned.
const UPLOAD_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Runs gc on the storage at `root`.
pub fn collect(root: &Path, dry_run: bool) -> Result<GcReport, RegistryError> {
    let storage = Storage::open(root).map_err(|e| RegistryError::io(root, e))?;
    let _lock = RootLock::exclusive(root)?;
    let io = |e| RegistryError::io(root, e);
    let marked = mark(&storage)?;
    let mut report = GcReport { kept: marked.len(), removed: Vec::new(), leftovers: 0 };
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

fn mark(storage: &Storage) -> Result<BTreeSet<Digest>, RegistryError> {
    let root = storage.root();
    let io = |e| RegistryError::io(root, e);
    let mut marked = BTreeSet::new();
    for repo in storage.repositories().map_err(io)? {
        for d in storage.manifest_revisions(&repo).map_err(io)? {
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
    fn refuses_while_served() {
        let dir = tempfile::tempdir().unwrap();
        let _server = RootLock::shared(dir.path()).unwrap();
        assert!(collect(dir.path(), false).is_err());
    }
}
