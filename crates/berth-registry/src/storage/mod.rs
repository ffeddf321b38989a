//! The registry's filesystem storage.
//!
//! ```text
//! ROOT/blobs/sha256/ab/<hex>                      content, immutable once there
//! ROOT/repositories/NAME/_layers/sha256/<hex>     the blob is in NAME (empty file)
//! ROOT/repositories/NAME/_manifests/revisions/sha256/<hex>   a manifest of NAME (holds its media type)
//! ROOT/repositories/NAME/_manifests/tags/<tag>    the tag's digest
//! ROOT/uploads/<uuid>/{data,repo}                 an upload in progress
//! ROOT/tmp/                                       files being written, renamed into place
//! ```
//!
//! Every file that readers see appears by `rename(2)` from `tmp/` or
//! `uploads/` on the same filesystem, after its content was written and
//! synced: a reader (or a crash) never sees half a blob or half a tag.

mod manifests;
mod uploads;

pub use uploads::UploadId;

use crate::digest::Digest;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    /// Opens (creating if needed) the storage at `root`.
    pub fn open(root: &Path) -> io::Result<Storage> {
        for d in ["blobs/sha256", "repositories", "uploads", "tmp"] {
            fs::create_dir_all(root.join(d))?;
        }
        Ok(Storage { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(&d.hex()[..2]).join(d.hex())
    }

    /// The blob's size, if the registry has it (in any repository).
    pub fn blob_size(&self, d: &Digest) -> io::Result<Option<u64>> {
        match fs::metadata(self.blob_path(d)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn repo_dir(&self, name: &str) -> PathBuf {
        self.root.join("repositories").join(name)
    }

    fn layer_link(&self, name: &str, d: &Digest) -> PathBuf {
        self.repo_dir(name).join("_layers/sha256").join(d.hex())
    }

    /// The blob's size if it is in repository `name`.
    pub fn blob_in_repo(&self, name: &str, d: &Digest) -> io::Result<Option<u64>> {
        if !self.layer_link(name, d).exists() {
            return Ok(None);
        }
        self.blob_size(d)
    }

    /// Makes an existing blob part of repository `name`.
    pub fn link_blob(&self, name: &str, d: &Digest) -> io::Result<()> {
        let link = self.layer_link(name, d);
        if link.exists() {
            return Ok(());
        }
        self.write_atomic(&link, b"")
    }

    /// Removes the blob from repository `name` (the content stays until gc).
    pub fn unlink_blob(&self, name: &str, d: &Digest) -> io::Result<bool> {
        remove_if_exists(&self.layer_link(name, d))
    }

    /// Stores `bytes` as a blob (manifests go through here).
    pub fn put_blob_bytes(&self, bytes: &[u8]) -> io::Result<Digest> {
        let d = Digest::of(bytes);
        if self.blob_size(&d)?.is_none() {
            self.write_atomic(&self.blob_path(&d), bytes)?;
        }
        Ok(d)
    }

    /// Moves a fully written and verified file into place as blob `d`.
    pub fn commit_blob(&self, file: &Path, d: &Digest) -> io::Result<()> {
        let dest = self.blob_path(d);
        if dest.exists() {
            // Same digest, same content: keep the one already visible.
            return remove_if_exists(file).map(|_| ());
        }
        fs::File::open(file)?.sync_all()?;
        fs::create_dir_all(parent(&dest)?)?;
        fs::rename(file, &dest)?;
        sync_dir(parent(&dest)?)
    }

    pub fn read_blob(&self, d: &Digest, limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        fs::File::open(self.blob_path(d))?.take(limit).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Writes `bytes` to a file in tmp/, syncs it and renames it to `dest`.
    pub(crate) fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> io::Result<()> {
        let dir = parent(dest)?;
        fs::create_dir_all(dir)?;
        let tmp = self.root.join("tmp").join(random_id()?);
        let mut f = fs::File::create(&tmp)?;
        let r = f.write_all(bytes).and_then(|_| f.sync_all()).and_then(|_| fs::rename(&tmp, dest));
        if r.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        r?;
        sync_dir(dir)
    }

    /// Every blob digest in storage, for gc.
    pub fn all_blobs(&self) -> io::Result<Vec<Digest>> {
        let mut out = Vec::new();
        for prefix in read_dir_names(&self.root.join("blobs/sha256"))? {
            for name in read_dir_names(&self.root.join("blobs/sha256").join(&prefix))? {
                if let Some(d) = Digest::from_hex(&name) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    /// Deletes blob content (gc only).
    pub fn delete_blob(&self, d: &Digest) -> io::Result<bool> {
        remove_if_exists(&self.blob_path(d))
    }

    /// The blobs linked into repository `name` (gc drops dangling links).
    pub fn repo_blob_links(&self, name: &str) -> io::Result<Vec<Digest>> {
        Ok(read_dir_names(&self.repo_dir(name).join("_layers/sha256"))?
            .iter()
            .filter_map(|n| Digest::from_hex(n))
            .collect())
    }
}

pub(crate) fn parent(p: &Path) -> io::Result<&Path> {
    p.parent().ok_or_else(|| io::Error::other(format!("{} has no parent", p.display())))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

pub(crate) fn remove_if_exists(p: &Path) -> io::Result<bool> {
    match fs::remove_file(p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Names in a directory; a missing directory has none.
pub(crate) fn read_dir_names(dir: &Path) -> io::Result<Vec<String>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in rd {
        if let Ok(n) = e?.file_name().into_string() {
            out.push(n);
        }
    }
    out.sort();
    Ok(out)
}

/// 128 random bits as hex: upload ids and temporary file names.
pub(crate) fn random_id() -> io::Result<String> {
    let mut b = [0u8; 16];
    fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(hex::encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_content_addressed_and_linked_per_repo() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let d = s.put_blob_bytes(b"hello").unwrap();
        assert_eq!(d, Digest::of(b"hello"));
        assert_eq!(s.blob_size(&d).unwrap(), Some(5));
        assert_eq!(s.blob_in_repo("a", &d).unwrap(), None);
        s.link_blob("a", &d).unwrap();
        assert_eq!(s.blob_in_repo("a", &d).unwrap(), Some(5));
        assert_eq!(s.blob_in_repo("b", &d).unwrap(), None);
        assert!(s.unlink_blob("a", &d).unwrap());
        assert!(!s.unlink_blob("a", &d).unwrap());
        assert_eq!(s.all_blobs().unwrap(), vec![d]);
        // Nothing is left in tmp/.
        assert!(read_dir_names(&dir.path().join("tmp")).unwrap().is_empty());
    }
}
