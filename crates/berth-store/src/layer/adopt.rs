//! A layer taken over from a directory that already holds it in the store's
//! on-disk form (a build step's overlay upper directory, once unmounted):
//! the directory is moved into the store and only its tar is written (the
//! blob, whose digest is the diff id), instead of writing the tar and then
//! unpacking it again.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{LayerInfo, LayerStore, Unpacked};
use crate::digest::Digest;
use crate::error::{IoContext, Result, StoreError};
use crate::tmp::TempDir;

/// Writes the layer tar of the directory it is given.
pub type TarWriter<'a> = &'a (dyn Fn(&Path, &mut dyn Write) -> io::Result<()> + Sync);

impl LayerStore {
    /// Moves `dir` into the store as `parent`'s child layer; `write_tar` must write
    /// exactly what the directory holds (the store keeps that tar as the layer's blob).
    /// When `dir` is on another filesystem than the store, its tar is unpacked instead.
    pub fn adopt(&self, parent: Option<&Digest>, dir: &Path, write_tar: TarWriter<'_>) -> Result<LayerInfo> {
        if let Some(p) = parent {
            if !self.exists(p) {
                return Err(StoreError::NotFound(format!("parent layer {p}")));
            }
        }
        let tmp = TempDir::new(&self.root, "layer")?;
        let diff = tmp.path().join("diff");
        match fs::rename(dir, &diff) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => return self.apply_from_dir(parent, dir, write_tar),
            Err(e) => return Err(StoreError::io(dir, e)),
        }
        let mut blob = self.blobs.writer()?;
        write_tar(&diff, &mut blob).at(&diff)?;
        blob.sync()?;
        let size = file_bytes(&diff).at(&diff)?;
        self.commit_unpacked(parent, Unpacked { tmp, blob, size })
    }

    /// The fallback: the tar through a pipe into `apply`.
    fn apply_from_dir(&self, parent: Option<&Digest>, dir: &Path, write_tar: TarWriter<'_>) -> Result<LayerInfo> {
        let (mut r, mut w) = io::pipe().at(dir)?;
        std::thread::scope(|s| {
            let writer = s.spawn(move || write_tar(dir, &mut w));
            let applied = self.apply(parent, &mut r);
            drop(r);
            let wrote = writer.join().unwrap_or_else(|_| Err(io::Error::other("the layer writer panicked")));
            // The store's error first: when it stopped reading, the writer saw a broken pipe.
            let info = applied?;
            wrote.at(dir)?;
            Ok(info)
        })
    }
}

/// Bytes of regular-file content below `dir` (`LayerInfo::size`).
fn file_bytes(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for e in fs::read_dir(dir)? {
        let e = e?;
        let md = e.metadata()?;
        if md.is_dir() {
            total += file_bytes(&e.path())?;
        } else if md.is_file() {
            total += md.size();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(dir: &Path, w: &mut dyn Write) -> io::Result<()> {
        let mut b = tar::Builder::new(w);
        b.append_dir_all(".", dir)?;
        b.finish()
    }

    #[test]
    fn an_adopted_layer_is_the_one_its_tar_would_make() -> Result<()> {
        let root = tempfile::tempdir().at("tmp")?;
        let store = LayerStore::open(root.path())?;
        let src = root.path().join("upper");
        fs::create_dir_all(src.join("etc")).at(&src)?;
        fs::write(src.join("etc/motd"), "hello").at(&src)?;
        let mut tar = Vec::new();
        tar_of(&src, &mut tar).at(&src)?;
        let info = store.adopt(None, &src, &tar_of)?;
        assert!(!src.exists(), "moved, not copied");
        assert_eq!(info.size, 5);
        assert_eq!(fs::read_to_string(store.diff_dir(&info.chain_id).join("etc/motd")).at("motd")?, "hello");
        // The same tar applied the usual way gives the same layer.
        let again = store.apply(None, &tar[..])?;
        assert_eq!(again.diff_id, info.diff_id);
        assert_eq!(again.chain_id, info.chain_id);
        assert!(store.blobs().exists(&info.diff_id));
        Ok(())
    }
}
