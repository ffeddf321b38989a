//! Unpacked layers at `<root>/layers/<chain-hex>/{diff/,meta.json}`, shared by every image
//! that has them. Each layer's uncompressed tar is also kept as a blob keyed by its diff id.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod adopt;
pub use adopt::TarWriter;

use crate::blob::{BlobStore, BlobWriter};
use crate::digest::Digest;
use crate::error::{IoContext, Result, StoreError};
use crate::extract::extract;
use crate::quarantine::{Quarantine, Quarantined};
use crate::record::{write_atomic, Loaded};
use crate::tmp::TempDir;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub diff_id: Digest,
    pub chain_id: Digest,
    /// Bytes of regular-file content in the unpacked layer.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Digest>,
}

/// A layer unpacked in a temporary directory, not yet part of the store
/// (`LayerStore::commit_unpacked`); dropping it removes the directory and
/// the blob it would have become.
pub struct Unpacked {
    tmp: TempDir,
    blob: BlobWriter,
    size: u64,
}

impl Unpacked {
    /// The diff id (digest of the tar) of what was unpacked.
    pub fn diff_id(&self) -> Digest {
        self.blob.digest()
    }
}

#[derive(Debug, Clone)]
pub struct LayerStore {
    root: PathBuf,
    dir: PathBuf,
    blobs: BlobStore,
}

/// Copies everything read into the blob writer, which hashes it: one pass gives the
/// extraction, the diff id and the stored tar.
struct Tee<'a, R> {
    inner: R,
    out: &'a mut BlobWriter,
    /// A failed write of the blob copy (a full disk): the tar reader only
    /// sees it as a read error, which would read as a corrupt archive.
    write_failed: Option<io::Error>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            let copy = e.raw_os_error().map_or_else(|| io::Error::new(e.kind(), e.to_string()), io::Error::from_raw_os_error);
            self.write_failed = Some(copy);
            return Err(e);
        }
        Ok(n)
    }
}

impl LayerStore {
    pub fn open(root: &Path) -> Result<LayerStore> {
        let dir = root.join("layers");
        fs::create_dir_all(&dir).at(&dir)?;
        // Each layer is unpacked in a child of tmp/ and renamed into layers/:
        // both hold unrelated trees (see `topdir`).
        crate::topdir::mark_top_dir(&crate::tmp::tmp_dir(root)?);
        crate::topdir::mark_top_dir(&dir);
        Ok(LayerStore {
            root: root.to_path_buf(),
            dir,
            blobs: BlobStore::open(root)?,
        })
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    fn layer_dir(&self, chain: &Digest) -> PathBuf {
        self.dir.join(chain.hex())
    }

    pub fn diff_dir(&self, chain: &Digest) -> PathBuf {
        self.layer_dir(chain).join("diff")
    }

    pub fn exists(&self, chain: &Digest) -> bool {
        self.layer_dir(chain).join("meta.json").is_file()
    }

    pub fn info(&self, chain: &Digest) -> Result<LayerInfo> {
        let p = self.layer_dir(chain).join("meta.json");
        let data = fs::read(&p).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::NotFound(format!("layer {chain}")),
            _ => StoreError::io(&p, e),
        })?;
        serde_json::from_slice(&data)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", p.display())))
    }

    /// Unpack an uncompressed layer tar on top of `parent` (a chain id).
    pub fn apply(&self, parent: Option<&Digest>, tar: impl Read) -> Result<LayerInfo> {
        if let Some(p) = parent {
            if !self.exists(p) {
                return Err(StoreError::NotFound(format!("parent layer {p}")));
            }
        }
        let unpacked = self.unpack(tar)?;
        self.commit_unpacked(parent, unpacked)
    }

    /// Unpack a layer tar into a temporary directory, keeping its tar as an
    /// uncommitted blob: the half of `apply` that needs no parent, so
    /// several layers of one image can unpack at once.
    pub fn unpack(&self, tar: impl Read) -> Result<Unpacked> {
        let tmp = TempDir::new(&self.root, "layer")?;
        let diff = tmp.path().join("diff");
        fs::create_dir(&diff).at(&diff)?;
        let mut blob = self.blobs.writer()?;
        let size = {
            let mut tee = Tee {
                inner: tar,
                out: &mut blob,
                write_failed: None,
            };
            let size = match extract(&diff, &mut tee) {
                Ok(size) => size,
                Err(e) => {
                    return Err(match tee.write_failed.take() {
                        Some(w) => StoreError::io(tee.out.tmp_path(), w),
                        None => e,
                    })
                }
            };
            // The tar's end-of-archive padding is part of the diff id too.
            io::copy(&mut tee, &mut io::sink()).at(&diff)?;
            size
        };
        // Synced here, in parallel, so that committing in order is cheap.
        blob.sync()?;
        Ok(Unpacked { tmp, blob, size })
    }

    /// The in-order half of `apply`: the layer becomes `parent`'s child.
    pub fn commit_unpacked(&self, parent: Option<&Digest>, unpacked: Unpacked) -> Result<LayerInfo> {
        if let Some(p) = parent {
            if !self.exists(p) {
                return Err(StoreError::NotFound(format!("parent layer {p}")));
            }
        }
        let Unpacked { tmp, blob, size } = unpacked;
        let diff_id = blob.commit()?;
        let chain_id = Digest::chain(parent, &diff_id);
        let info = LayerInfo {
            diff_id,
            chain_id: chain_id.clone(),
            size,
            parent: parent.cloned(),
        };
        if self.exists(&chain_id) {
            return Ok(info); // shared layer: `tmp` is discarded on drop
        }
        let meta =
            serde_json::to_vec_pretty(&info).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        write_atomic(&tmp.path().join("meta.json"), &meta)?;
        let dest = self.layer_dir(&chain_id);
        if dest.exists() {
            // A half-removed or meta-less leftover: replace it.
            remove_tree(&self.root, &dest)?;
        }
        match fs::rename(tmp.path(), &dest) {
            Ok(()) => {
                tmp.keep();
                fs::File::open(&self.dir)
                    .and_then(|f| f.sync_all())
                    .at(&self.dir)?;
                Ok(info)
            }
            // Lost a race with a concurrent apply of the same layer.
            Err(_) if self.exists(&chain_id) => Ok(info),
            Err(e) => Err(StoreError::io(&dest, e)),
        }
    }

    /// Delete a layer (its tar blob is left to the caller, who knows who else uses it).
    pub fn remove(&self, chain: &Digest) -> Result<()> {
        let dir = self.layer_dir(chain);
        if !dir.exists() {
            return Ok(());
        }
        remove_tree(&self.root, &dir)
    }

    pub fn list(&self) -> Result<Vec<LayerInfo>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).at(&self.dir)? {
            let name = entry.at(&self.dir)?.file_name();
            let Ok(chain) = Digest::from_hex(&name.to_string_lossy()) else {
                continue;
            };
            if let Ok(info) = self.info(&chain) {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// All layers, like `list`, but a layer whose `meta.json` cannot be read is
    /// reported and its metadata moved to the quarantine (`layers/<chain-hex>.meta.json.<t>`).
    /// The unpacked files stay where they are: a container's rootfs may still use them,
    /// and the next pull of the layer replaces the metadata-less directory.
    pub fn load(&self, q: &Quarantine) -> Result<Loaded<LayerInfo>> {
        let mut loaded = Loaded {
            records: Vec::new(),
            quarantined: Vec::<Quarantined>::new(),
        };
        for entry in fs::read_dir(&self.dir).at(&self.dir)? {
            let name = entry.at(&self.dir)?.file_name().to_string_lossy().into_owned();
            let Ok(chain) = Digest::from_hex(&name) else {
                continue;
            };
            match self.info(&chain) {
                Ok(info) => loaded.records.push((name, info)),
                // A directory without metadata is a leftover `apply` replaces.
                Err(StoreError::NotFound(_)) => {}
                Err(e) => {
                    let meta = self.layer_dir(&chain).join("meta.json");
                    let as_name = format!("{name}.meta.json");
                    loaded.quarantined.push(q.move_aside_as("layers", &meta, &as_name, &e.to_string()));
                }
            }
        }
        loaded.records.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(loaded)
    }
}

/// Move `dir` into tmp first so a crash mid-delete never leaves a partial layer in place.
fn remove_tree(root: &Path, dir: &Path) -> Result<()> {
    let trash = crate::tmp::tmp_dir(root)?.join(crate::tmp::unique_name("trash"));
    fs::rename(dir, &trash).at(dir)?;
    fs::remove_dir_all(&trash).at(&trash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(name: &str) -> io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &b"hi"[..])?;
        b.into_inner()
    }

    #[test]
    fn load_quarantines_damaged_metadata_and_keeps_the_files() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let ls = LayerStore::open(t.path())?;
        let good = ls.apply(None, &tar_with("a").at("tar")?[..])?;
        let bad = ls.apply(None, &tar_with("b").at("tar")?[..])?;
        let meta = ls.layer_dir(&bad.chain_id).join("meta.json");
        fs::write(&meta, b"{").at(&meta)?;
        let loaded = ls.load(&Quarantine::new(t.path()))?;
        let chains: Vec<_> = loaded.records.iter().map(|(_, l)| l.chain_id.clone()).collect();
        assert_eq!(chains, vec![good.chain_id]);
        assert_eq!(loaded.quarantined.len(), 1);
        let to = loaded.quarantined[0].to.clone().ok_or_else(|| StoreError::NotFound("moved".into()))?;
        assert_eq!(
            to.parent(),
            Some(t.path().join("quarantine/layers").as_path())
        );
        assert!(to.to_string_lossy().contains(&format!("{}.meta.json.", bad.chain_id.hex())));
        assert!(!meta.exists() && !ls.exists(&bad.chain_id));
        assert!(ls.diff_dir(&bad.chain_id).join("b").is_file());
        // A later apply of the same layer replaces the metadata-less directory.
        let again = ls.apply(None, &tar_with("b").at("tar")?[..])?;
        assert_eq!(again.chain_id, bad.chain_id);
        assert!(ls.exists(&bad.chain_id));
        Ok(())
    }

    #[test]
    fn unpacked_out_of_order_commit_in_order() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let ls = LayerStore::open(t.path())?;
        // The child unpacks first (as a parallel pull may); nothing is in the store yet.
        let child = ls.unpack(&tar_with("c").at("tar")?[..])?;
        let base = ls.unpack(&tar_with("b").at("tar")?[..])?;
        let child_diff = child.diff_id();
        assert!(!ls.blobs().exists(&child_diff));
        // A child cannot join before its parent.
        let base_id = base.diff_id();
        let parent_chain = Digest::chain(None, &base_id);
        let early = ls.unpack(&tar_with("c").at("tar")?[..])?;
        assert!(matches!(ls.commit_unpacked(Some(&parent_chain), early), Err(StoreError::NotFound(_))));
        let b = ls.commit_unpacked(None, base)?;
        let c = ls.commit_unpacked(Some(&b.chain_id), child)?;
        assert_eq!(c.parent.as_ref(), Some(&b.chain_id));
        assert!(ls.diff_dir(&c.chain_id).join("c").is_file() && ls.blobs().exists(&child_diff));
        // One dropped before its commit leaves nothing behind.
        let dropped = ls.unpack(&tar_with("d").at("tar")?[..])?;
        let d_id = dropped.diff_id();
        drop(dropped);
        assert!(!ls.blobs().exists(&d_id));
        let left = fs::read_dir(t.path().join("tmp")).map(|r| r.count()).unwrap_or(0);
        assert_eq!(left, 0, "temporary directories left");
        Ok(())
    }
}
