//! Source hashes as dockerd's classic builder computes them (its lazy context: a tarsum
//! v1 header — name, mode, uid, gid, size, type, link target, never the mtime — then
//! the content), so `COPY file:<hash> in /dst ` reads exactly as dockerd writes it.
//! A directory is `dir:` + sha256 of its entries' hashes, sorted and comma-joined.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::ignore::Matcher;
use crate::scope;

fn typeflag(md: &fs::Metadata) -> char {
    let ft = md.file_type();
    if ft.is_dir() {
        '5'
    } else if ft.is_symlink() {
        '2'
    } else if ft.is_char_device() {
        '3'
    } else if ft.is_block_device() {
        '4'
    } else if ft.is_fifo() {
        '6'
    } else {
        '0'
    }
}

/// The tar header fields the hash covers.
struct Hdr<'a> {
    name: &'a str,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    flag: char,
    link: &'a str,
    rdev: u64,
    caps: Option<&'a [u8]>,
}

fn header(h: &mut Sha256, x: &Hdr<'_>) {
    let (major, minor) = if x.flag == '3' || x.flag == '4' {
        (libc::major(x.rdev), libc::minor(x.rdev))
    } else {
        (0, 0)
    };
    let fields = [
        ("name", x.name.to_string()),
        ("mode", (x.mode & 0o7777).to_string()),
        ("uid", x.uid.to_string()),
        ("gid", x.gid.to_string()),
        ("size", x.size.to_string()),
        ("typeflag", x.flag.to_string()),
        ("linkname", x.link.to_string()),
        ("uname", String::new()),
        ("gname", String::new()),
        ("devmajor", major.to_string()),
        ("devminor", minor.to_string()),
    ];
    for (k, v) in fields {
        h.update(k.as_bytes());
        h.update(v.as_bytes());
    }
    if let Some(c) = x.caps {
        h.update(b"security.capability");
        h.update(c);
    }
}

/// The hash of one entry at `rel` under `root`, symlinks followed in scope as dockerd's
/// lazy context does (a dangling one hashes to its path).
pub fn entry(root: &Path, rel: &str) -> io::Result<String> {
    let full = scope::resolve(root, rel)?;
    let Ok(md) = fs::symlink_metadata(&full) else {
        return Ok(rel.to_string());
    };
    let rel = full
        .strip_prefix(root)
        .map_err(io::Error::other)?
        .to_string_lossy()
        .into_owned();
    let flag = typeflag(&md);
    let name = if flag == '5' { format!("{rel}/") } else { rel };
    let link = if flag == '2' {
        fs::read_link(&full)?.to_string_lossy().into_owned()
    } else {
        String::new()
    };
    let size = if flag == '0' { md.len() } else { 0 };
    let mut h = Sha256::new();
    let caps = crate::xattr::get_caps(&full)?.map(crate::xattr::normalize);
    let hdr = Hdr {
        name: &name,
        mode: md.mode(),
        uid: md.uid(),
        gid: md.gid(),
        size,
        flag,
        link: &link,
        rdev: md.rdev(),
        caps: caps.as_deref(),
    };
    header(&mut h, &hdr);
    if flag == '0' && size > 0 {
        let mut f = fs::File::open(&full)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// An inline file (heredoc, download) as the lazy context would hash it.
pub fn bytes(name: &str, mode: u32, content: &[u8]) -> String {
    let mut h = Sha256::new();
    let hdr = Hdr { name, mode, uid: 0, gid: 0, size: content.len() as u64, flag: '0', link: "", rdev: 0, caps: None };
    header(&mut h, &hdr);
    h.update(content);
    hex::encode(h.finalize())
}

/// `dir:<hex>` for the directory at `rel` (resolved) and everything under it.
/// `exclude` (COPY --exclude) matches paths relative to the directory.
/// The root itself is left out, as dockerd's walk skips the path `.` (so `COPY . .`
/// hashes only what is under the context; `COPY sub/ .` counts `sub/` itself).
pub fn dir(root: &Path, rel: &str, exclude: Option<&Matcher>) -> io::Result<String> {
    let base = scope::resolve(root, rel)?;
    let mut sums = Vec::new();
    let is_root = base.strip_prefix(root).is_ok_and(|r| r.as_os_str().is_empty());
    if !is_root {
        sums.push(entry(root, rel)?);
    }
    walk(root, &base, &base, exclude, &mut sums)?;
    sums.sort();
    Ok(format!("dir:{}", hex::encode(Sha256::digest(sums.join(",").as_bytes()))))
}

fn walk(root: &Path, base: &Path, dir: &Path, exclude: Option<&Matcher>, sums: &mut Vec<String>) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let path = e.path();
        if let Some(m) = exclude {
            let under = path.strip_prefix(base).map_err(io::Error::other)?.to_string_lossy();
            if m.excluded(&under) {
                continue;
            }
        }
        let rel = path
            .strip_prefix(root)
            .map_err(io::Error::other)?
            .to_string_lossy()
            .into_owned();
        sums.push(entry(root, &rel)?);
        if e.file_type()?.is_dir() {
            walk(root, base, &path, exclude, sums)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        // name, mode, uid, gid, size, typeflag, linkname, uname, gname, devmajor, devminor.
        let mut h = Sha256::new();
        h.update(b"namea.txtmode420uid0gid0size2typeflag0linknameunamegnamedevmajor0devminor0hi");
        assert_eq!(bytes("a.txt", 0o644, b"hi"), hex::encode(h.finalize()));
    }

    #[test]
    fn the_root_has_no_entry_of_its_own() -> io::Result<()> {
        // dockerd's walk skips `.`: `COPY . .` hashes the entries under the root only.
        let t = tempfile::tempdir()?;
        fs::write(t.path().join("f"), "x")?;
        let f = entry(t.path(), "f")?;
        let want = format!("dir:{}", hex::encode(Sha256::digest(f.as_bytes())));
        assert_eq!(dir(t.path(), ".", None)?, want);
        assert_eq!(dir(t.path(), "", None)?, want);
        Ok(())
    }

    #[test]
    fn mtime_does_not_count() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        fs::create_dir(t.path().join("d"))?;
        fs::write(t.path().join("d/f"), "x")?;
        let a = dir(t.path(), "d", None)?;
        fs::File::options()
            .write(true)
            .open(t.path().join("d/f"))?
            .set_modified(std::time::SystemTime::UNIX_EPOCH)?;
        assert_eq!(dir(t.path(), "d", None)?, a);
        fs::write(t.path().join("d/f"), "y")?;
        assert_ne!(dir(t.path(), "d", None)?, a);
        Ok(())
    }
}
