//! Content-addressed blobs at `<root>/blobs/sha256/<hex>`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::error::{IoContext, Result, StoreError};
use crate::tmp::{tmp_dir, unique_name};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
    dir: PathBuf,
}

impl BlobStore {
    pub fn open(root: &Path) -> Result<BlobStore> {
        let dir = root.join("blobs").join("sha256");
        fs::create_dir_all(&dir).at(&dir)?;
        tmp_dir(root)?;
        Ok(BlobStore {
            root: root.to_path_buf(),
            dir,
        })
    }

    pub fn path(&self, d: &Digest) -> PathBuf {
        self.dir.join(d.hex())
    }

    pub fn exists(&self, d: &Digest) -> bool {
        self.path(d).is_file()
    }

    pub fn put(&self, data: &[u8]) -> Result<Digest> {
        let d = Digest::of_bytes(data);
        if self.exists(&d) {
            return Ok(d);
        }
        let mut w = self.writer()?;
        w.write_all(data).at(&w.tmp)?;
        w.commit()
    }

    /// A writer that hashes while it spools into `<root>/tmp/`.
    pub fn writer(&self) -> Result<BlobWriter> {
        let tmp = tmp_dir(&self.root)?.join(unique_name("blob"));
        let file = File::create(&tmp).at(&tmp)?;
        Ok(BlobWriter {
            file: Some(file),
            tmp,
            hasher: Sha256::new(),
            dir: self.dir.clone(),
            size: 0,
        })
    }

    /// Open a blob for reading (`open` is the constructor, hence the name).
    pub fn open_blob(&self, d: &Digest) -> Result<File> {
        let p = self.path(d);
        File::open(&p).map_err(|e| not_found_or_io(d, &p, e))
    }

    pub fn read(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.path(d);
        fs::read(&p).map_err(|e| not_found_or_io(d, &p, e))
    }

    pub fn size(&self, d: &Digest) -> Result<u64> {
        let p = self.path(d);
        Ok(fs::metadata(&p)
            .map_err(|e| not_found_or_io(d, &p, e))?
            .len())
    }

    pub fn delete(&self, d: &Digest) -> Result<()> {
        let p = self.path(d);
        match fs::remove_file(&p) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::io(&p, e)),
            _ => Ok(()),
        }
    }
}

fn not_found_or_io(d: &Digest, p: &Path, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::NotFound {
        StoreError::NotFound(d.to_string())
    } else {
        StoreError::io(p, e)
    }
}

/// Spools a blob into a temp file while hashing it; `commit` moves it into place.
/// Dropping without commit removes the temp file.
pub struct BlobWriter {
    file: Option<File>,
    tmp: PathBuf,
    hasher: Sha256,
    dir: PathBuf,
    size: u64,
}

impl BlobWriter {
    /// Where the blob is spooled until `commit`.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest of what was written so far.
    pub fn digest(&self) -> Digest {
        Digest::from_sha256(self.hasher.clone().finalize().into())
    }

    /// fsync what was written (before `commit`, which then has less to do).
    pub fn sync(&mut self) -> Result<()> {
        match self.file.as_mut() {
            Some(f) => f.sync_all().at(&self.tmp),
            None => Ok(()),
        }
    }

    pub fn commit(mut self) -> Result<Digest> {
        let d = self.digest();
        self.finish(&d)?;
        Ok(d)
    }

    /// Commit only if the content hashes to `expected`.
    pub fn commit_expect(mut self, expected: &Digest) -> Result<Digest> {
        let d = self.digest();
        if &d != expected {
            return Err(StoreError::DigestMismatch {
                expected: expected.to_string(),
                actual: d.to_string(),
            });
        }
        self.finish(&d)?;
        Ok(d)
    }

    fn finish(&mut self, d: &Digest) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Err(StoreError::Corrupt("blob writer already finished".into()));
        };
        file.sync_all().at(&self.tmp)?;
        drop(file);
        let dest = self.dir.join(d.hex());
        if dest.is_file() {
            // Same content already stored; ours is redundant.
            let _ = fs::remove_file(&self.tmp);
            return Ok(());
        }
        fs::rename(&self.tmp, &dest).at(&dest)?;
        File::open(&self.dir)
            .and_then(|f| f.sync_all())
            .at(&self.dir)?;
        Ok(())
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("blob writer finished"))?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_read_delete() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let bs = BlobStore::open(t.path())?;
        let d = bs.put(b"hello")?;
        assert_eq!(d, Digest::of_bytes(b"hello"));
        assert!(bs.exists(&d));
        assert_eq!(bs.read(&d)?, b"hello");
        assert_eq!(bs.put(b"hello")?, d);
        bs.delete(&d)?;
        assert!(!bs.exists(&d));
        assert!(matches!(bs.read(&d), Err(StoreError::NotFound(_))));
        Ok(())
    }

    #[test]
    fn writer_verifies_and_cleans_up() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let bs = BlobStore::open(t.path())?;
        let mut w = bs.writer()?;
        w.write_all(b"abc").at("w")?;
        let wrong = Digest::of_bytes(b"abd");
        assert!(matches!(
            w.commit_expect(&wrong),
            Err(StoreError::DigestMismatch { .. })
        ));
        assert!(!bs.exists(&wrong));
        let mut w = bs.writer()?;
        w.write_all(b"abc").at("w")?;
        drop(w);
        assert_eq!(
            fs::read_dir(t.path().join("tmp")).at("tmp")?.count(),
            0,
            "temp files left"
        );
        let mut w = bs.writer()?;
        w.write_all(b"abc").at("w")?;
        let d = w.commit_expect(&Digest::of_bytes(b"abc"))?;
        assert_eq!(bs.read(&d)?, b"abc");
        Ok(())
    }
}
