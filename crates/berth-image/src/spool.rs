//! An image archive unpacked into a private temp dir so its files can be read in any order.
//! Only regular files are written; symlinks and hardlinks are kept as a lookup map and
//! resolved lexically inside the archive, so nothing on disk can point elsewhere.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use berth_store::{Digest, TempDir};
use flate2::read::MultiGzDecoder;
use sha2::{Digest as _, Sha256};

use crate::error::{ImageError, Result};

/// JSON documents in an archive larger than this are refused.
const MAX_JSON: u64 = 64 << 20;
const MAX_LINK_HOPS: usize = 32;

/// Wrap `r` in a decompressor if it starts with a gzip or zstd header.
pub fn decompressed<'a>(r: impl Read + 'a) -> Result<Box<dyn Read + 'a>> {
    let mut br = BufReader::with_capacity(1 << 16, r);
    let head = br.fill_buf().map_err(|e| ImageError::io("<stream>", e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(MultiGzDecoder::new(br)));
    }
    if head.starts_with(&[0x28u8, 0xb5, 0x2f, 0xfd]) {
        let z = ruzstd::decoding::StreamingDecoder::new(br)
            .map_err(|e| ImageError::InvalidArchive(format!("zstd: {e}")))?;
        return Ok(Box::new(z));
    }
    let unsupported = [
        (b"BZh".as_slice(), "bzip2"),
        (&[0xfd, b'7', b'z', b'X', b'Z'], "xz"),
    ];
    for (magic, name) in unsupported {
        if head.starts_with(magic) {
            return Err(ImageError::InvalidArchive(format!(
                "{name} compression is not supported"
            )));
        }
    }
    Ok(Box::new(br))
}

/// Components of an archive path; absolute paths and `..` climbing out are refused.
fn clean(path: &Path) -> Result<Vec<OsString>> {
    let unsafe_path =
        || ImageError::InvalidArchive(format!("unsafe path in archive: {}", path.display()));
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(unsafe_path()),
            Component::ParentDir => {
                out.pop().ok_or_else(unsafe_path)?;
            }
            Component::Normal(s) => out.push(s.to_os_string()),
        }
    }
    Ok(out)
}

fn join(comps: &[OsString]) -> PathBuf {
    comps.iter().collect()
}

pub(crate) struct Spool {
    dir: TempDir,
    links: HashMap<PathBuf, PathBuf>,
}

impl Spool {
    pub fn new(data_root: &Path, r: impl Read) -> Result<Spool> {
        let dir = TempDir::new(data_root, "load")?;
        let mut links = HashMap::new();
        let mut archive = tar::Archive::new(berth_store::TarGuard::new(decompressed(r)?));
        let bad = |e: io::Error| ImageError::InvalidArchive(format!("not a tar archive: {e}"));
        let mut count = 0usize;
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            count += 1;
            let raw = entry.path().map_err(bad)?.into_owned();
            let comps = clean(&raw)?;
            if comps.is_empty() {
                continue;
            }
            let rel = join(&comps);
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let dest = dir.path().join(&rel);
                    if let Some(parent) = dest.parent() {
                        fs::create_dir_all(parent).map_err(|e| ImageError::io(parent, e))?;
                    }
                    let mut f = File::create(&dest).map_err(|e| ImageError::io(&dest, e))?;
                    io::copy(&mut entry, &mut f).map_err(|e| ImageError::io(&dest, e))?;
                    links.remove(&rel);
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .map_err(bad)?
                        .unwrap_or_default()
                        .into_owned();
                    // Symlinks are relative to their directory, hardlinks to the archive root.
                    let base = if entry.header().entry_type() == tar::EntryType::Symlink {
                        rel.parent().map(Path::to_path_buf).unwrap_or_default()
                    } else {
                        PathBuf::new()
                    };
                    links.insert(rel, join(&clean(&base.join(target))?));
                }
                _ => {}
            }
        }
        if count == 0 {
            return Err(ImageError::InvalidArchive(
                "empty or not a tar archive".into(),
            ));
        }
        Ok(Spool { dir, links })
    }

    /// Follow archive links (in any component) to a real file path inside the spool.
    fn resolve(&self, name: &str) -> Result<PathBuf> {
        let mut comps = clean(Path::new(name))?;
        'outer: for _ in 0..MAX_LINK_HOPS {
            for i in 1..=comps.len() {
                if let Some(target) = self.links.get(&join(&comps[..i])) {
                    let mut next: Vec<OsString> = target
                        .components()
                        .map(|c| c.as_os_str().to_os_string())
                        .collect();
                    next.extend_from_slice(&comps[i..]);
                    comps = next;
                    continue 'outer;
                }
            }
            return Ok(self.dir.path().join(join(&comps)));
        }
        Err(ImageError::InvalidArchive(format!(
            "too many levels of links: {name}"
        )))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.resolve(name).map(|p| p.is_file()).unwrap_or(false)
    }

    pub fn open(&self, name: &str) -> Result<File> {
        let p = self.resolve(name)?;
        if !p.is_file() {
            return Err(ImageError::InvalidArchive(format!(
                "{name}: no such file in archive"
            )));
        }
        File::open(&p).map_err(|e| ImageError::io(&p, e))
    }

    /// Read a (small) metadata file.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.open(name)?
            .take(MAX_JSON + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ImageError::io(name, e))?;
        if buf.len() as u64 > MAX_JSON {
            return Err(ImageError::InvalidArchive(format!("{name}: too large")));
        }
        Ok(buf)
    }

    /// Check that a file hashes to `digest` (content-addressed OCI blobs).
    pub fn verify(&self, name: &str, digest: &Digest) -> Result<()> {
        let mut f = self.open(name)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf).map_err(|e| ImageError::io(name, e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let actual = hex::encode(h.finalize());
        if actual != digest.hex() {
            return Err(ImageError::InvalidArchive(format!(
                "{name}: content is sha256:{actual}, expected {digest}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_refuses_escapes() {
        assert!(clean(Path::new("../x")).is_err());
        assert!(clean(Path::new("/etc/passwd")).is_err());
        assert!(clean(Path::new("a/../../x")).is_err());
        assert_eq!(
            clean(Path::new("./a/../b")).ok(),
            Some(vec![OsString::from("b")])
        );
    }
}
