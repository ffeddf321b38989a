//! Manifests, tags and the repository list.

use super::{read_dir_names, remove_if_exists, Storage};
use crate::digest::Digest;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

impl Storage {
    fn revision_path(&self, name: &str, d: &Digest) -> PathBuf {
        self.repo_dir(name).join("_manifests/revisions/sha256").join(d.hex())
    }

    fn tag_path(&self, name: &str, tag: &str) -> PathBuf {
        self.repo_dir(name).join("_manifests/tags").join(tag)
    }

    /// Whether `name` has ever had a manifest or blob pushed to it.
    pub fn repo_exists(&self, name: &str) -> bool {
        let dir = self.repo_dir(name);
        dir.join("_manifests").is_dir() || dir.join("_layers").is_dir()
    }

    /// Stores a manifest (already validated) in `name`, tagged if `tag`.
    pub fn put_manifest(&self, name: &str, bytes: &[u8], media_type: &str, tag: Option<&str>) -> io::Result<Digest> {
        let d = self.put_blob_bytes(bytes)?;
        self.write_atomic(&self.revision_path(name, &d), media_type.as_bytes())?;
        if let Some(t) = tag {
            self.write_atomic(&self.tag_path(name, t), d.to_string().as_bytes())?;
        }
        Ok(d)
    }

    /// The media type of manifest `d` in `name`, if it is there.
    pub fn manifest_media_type(&self, name: &str, d: &Digest) -> io::Result<Option<String>> {
        match fs::read_to_string(self.revision_path(name, d)) {
            Ok(t) if self.blob_size(d)?.is_some() => Ok(Some(t)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn resolve_tag(&self, name: &str, tag: &str) -> io::Result<Option<Digest>> {
        match fs::read_to_string(self.tag_path(name, tag)) {
            Ok(s) => Ok(s.trim().parse().ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes manifest `d` from `name` and every tag that points at it.
    pub fn delete_manifest(&self, name: &str, d: &Digest) -> io::Result<bool> {
        if !remove_if_exists(&self.revision_path(name, d))? {
            return Ok(false);
        }
        for t in self.tags(name)? {
            if self.resolve_tag(name, &t)?.as_ref() == Some(d) {
                remove_if_exists(&self.tag_path(name, &t))?;
            }
        }
        Ok(true)
    }

    pub fn delete_tag(&self, name: &str, tag: &str) -> io::Result<bool> {
        remove_if_exists(&self.tag_path(name, tag))
    }

    /// The tags of `name`, sorted.
    pub fn tags(&self, name: &str) -> io::Result<Vec<String>> {
        read_dir_names(&self.repo_dir(name).join("_manifests/tags"))
    }

    /// The manifests of `name` (tagged or not).
    pub fn manifest_revisions(&self, name: &str) -> io::Result<Vec<Digest>> {
        Ok(read_dir_names(&self.repo_dir(name).join("_manifests/revisions/sha256"))?
            .iter()
            .filter_map(|n| Digest::from_hex(n))
            .collect())
    }

    /// Every repository, sorted as the catalog lists them.
    pub fn repositories(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        walk_repos(&self.root.join("repositories"), "", &mut out)?;
        out.sort();
        Ok(out)
    }
}

fn walk_repos(dir: &Path, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
    let names = read_dir_names(dir)?;
    if names.iter().any(|n| n == "_manifests" || n == "_layers") {
        out.push(prefix.to_string());
    }
    for n in names.iter().filter(|n| !n.starts_with('_')) {
        let child = dir.join(n);
        if child.is_dir() {
            let p = if prefix.is_empty() { n.clone() } else { format!("{prefix}/{n}") };
            walk_repos(&child, &p, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_revisions_and_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let d = s.put_manifest("lib/a", b"{}", "application/vnd.oci.image.manifest.v1+json", Some("v1")).unwrap();
        s.put_manifest("lib/a", b"{}", "application/vnd.oci.image.manifest.v1+json", Some("v2")).unwrap();
        s.put_manifest("b", b"{ }", "x", None).unwrap();
        s.put_manifest("lib/a/nested", b"{}", "x", Some("t")).unwrap();
        assert_eq!(s.repositories().unwrap(), vec!["b", "lib/a", "lib/a/nested"]);
        assert_eq!(s.tags("lib/a").unwrap(), vec!["v1", "v2"]);
        assert_eq!(s.resolve_tag("lib/a", "v1").unwrap(), Some(d.clone()));
        assert_eq!(s.manifest_media_type("lib/a", &d).unwrap().as_deref(), Some("application/vnd.oci.image.manifest.v1+json"));
        assert!(s.delete_tag("lib/a", "v2").unwrap());
        assert!(s.delete_manifest("lib/a", &d).unwrap());
        assert!(s.tags("lib/a").unwrap().is_empty());
        assert_eq!(s.manifest_media_type("lib/a", &d).unwrap(), None);
        // Still in the other repository.
        assert!(s.manifest_media_type("lib/a/nested", &d).unwrap().is_some());
    }
}
