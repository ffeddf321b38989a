//! ADD's local archive extraction. An archive is recognised by content, as Docker does:
//! a tar, plain or compressed with gzip, bzip2, xz or zstd. Entries can never land
//! outside the rootfs: `..` and absolute names are cleaned, parents are resolved inside
//! the rootfs (so a symlink the archive itself planted cannot lead out), and each entry
//! replaces what is there instead of writing through it.

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use crate::fsx;
use crate::scope;

enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

fn compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else {
        Compression::None
    }
}

/// The decompressed stream, or None when the content is not what its magic says.
fn open_stream(path: &Path) -> io::Result<Option<Box<dyn Read>>> {
    let mut r = BufReader::new(fs::File::open(path)?);
    let head = r.fill_buf()?.to_vec();
    Ok(match compression(&head) {
        Compression::None => Some(Box::new(r)),
        Compression::Gzip => Some(Box::new(flate2::read::GzDecoder::new(r))),
        Compression::Bzip2 => Some(Box::new(bzip2::read::BzDecoder::new(r))),
        Compression::Zstd => match ruzstd::decoding::StreamingDecoder::new(r) {
            Ok(d) => Some(Box::new(d)),
            Err(_) => None,
        },
        Compression::Xz => {
            // lzma-rs decodes into a writer: spool to an anonymous temp file.
            let mut tmp = tempfile::tempfile()?;
            if lzma_rs::xz_decompress(&mut r, &mut tmp).is_err() {
                return Ok(None);
            }
            io::Seek::seek(&mut tmp, io::SeekFrom::Start(0))?;
            Some(Box::new(BufReader::new(tmp)))
        }
    })
}

/// A valid tar header block: its checksum matches.
fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 || block.iter().all(|b| *b == 0) {
        return false;
    }
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0 && **b != b' ')
        .map(|b| *b as char)
        .collect();
    let Ok(want) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { u32::from(b' ') } else { u32::from(*b) })
        .sum();
    sum == want
}

/// What ADD should do with a local file.
pub enum Kind {
    Tar,
    NotArchive,
}

/// Is the file a (possibly compressed) tar?
pub fn detect(path: &Path) -> Result<Kind, String> {
    let Some(mut r) = open_stream(path).map_err(|e| e.to_string())? else {
        return Ok(Kind::NotArchive);
    };
    let mut block = vec![0u8; 512];
    let mut n = 0;
    while n < 512 {
        match r.read(&mut block[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return Ok(Kind::NotArchive),
        }
    }
    Ok(if is_tar_header(&block[..n]) { Kind::Tar } else { Kind::NotArchive })
}

/// Unpacks the archive at `src` into `dest` (a slash path inside `rootfs`, created if
/// missing). Owners, modes and mtimes come from the archive.
pub fn extract(src: &Path, rootfs: &Path, dest: &str) -> Result<(), String> {
    let Some(stream) = open_stream(src).map_err(|e| e.to_string())? else {
        return Err("ADD: the archive cannot be decompressed".into());
    };
    fsx::mkdir_all(rootfs, dest, fsx::Owner::Set(0, 0)).map_err(|e| e.to_string())?;
    let mut ar = tar::Archive::new(stream);
    let entries = ar.entries().map_err(|e| format!("failed to read archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("failed to read archive: {e}"))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let name = scope::clean(&format!("/{raw}"));
        if name == "/" {
            continue;
        }
        let target = format!("{}/{}", dest.trim_end_matches('/'), name.trim_start_matches('/'));
        unpack_entry(&mut entry, rootfs, &target, dest).map_err(|e| format!("failed to unpack {raw}: {e}"))?;
    }
    Ok(())
}

fn unpack_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    rootfs: &Path,
    target: &str,
    dest: &str,
) -> io::Result<()> {
    // File capabilities ride in a PAX record; applied after the file is written.
    let mut caps: Option<Vec<u8>> = None;
    if let Ok(Some(exts)) = entry.pax_extensions() {
        for ext in exts.flatten() {
            if ext.key_bytes() == b"SCHILY.xattr.security.capability" {
                caps = Some(ext.value_bytes().to_vec());
            }
        }
    }
    let h = entry.header();
    let mode = h.mode().unwrap_or(0o644);
    let uid = h.uid().unwrap_or(0) as u32;
    let gid = h.gid().unwrap_or(0) as u32;
    let mtime = h.mtime().ok().map(|s| UNIX_EPOCH + Duration::from_secs(s));
    let kind = h.entry_type();
    // The parent inside the rootfs (symlinks followed in scope), then the entry itself.
    let parent = match target.rsplit_once('/') {
        Some((p, _)) if !p.is_empty() => p.to_string(),
        _ => "/".to_string(),
    };
    let base = target.rsplit('/').next().unwrap_or_default().to_string();
    let dir = fsx::mkdir_all(rootfs, &parent, fsx::Owner::Set(0, 0))?;
    let path = dir.join(&base);
    match kind {
        tar::EntryType::Directory => fsx::write_dir(&path, mode, uid, gid),
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            fsx::write_file(&path, entry, mode, uid, gid, mtime)?;
            match caps {
                Some(c) => crate::xattr::set_caps(&path, &c),
                None => Ok(()),
            }
        }
        tar::EntryType::Symlink => {
            let link = entry.link_name()?.unwrap_or_default().into_owned();
            fsx::write_symlink(&path, &link, uid, gid)
        }
        tar::EntryType::Link => {
            let link = entry.link_name()?.unwrap_or_default().into_owned();
            let rel = scope::clean(&format!("/{}", link.to_string_lossy()));
            let full = format!("{}/{}", dest.trim_end_matches('/'), rel.trim_start_matches('/'));
            let src = scope::resolve_parent(rootfs, &full)?;
            fsx::clear(&path, false)?;
            fs::hard_link(src, &path)
        }
        tar::EntryType::Fifo => fsx::write_fifo(&path, mode, uid, gid),
        tar::EntryType::Char | tar::EntryType::Block => {
            let major = h.device_major().ok().flatten().unwrap_or(0);
            let minor = h.device_minor().ok().flatten().unwrap_or(0);
            fsx::write_device(&path, kind == tar::EntryType::Block, major, minor, mode, uid, gid)
        }
        tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => Ok(()),
        other => Err(io::Error::other(format!("unsupported tar entry type {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o640);
            h.set_uid(5);
            h.set_gid(6);
            h.set_size(data.len() as u64);
            // Names are written raw so hostile ones (../, /abs) survive.
            let gnu = h.as_gnu_mut();
            if let Some(g) = gnu {
                g.name[..name.len()].copy_from_slice(name.as_bytes());
                g.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            h.set_cksum();
            b.append(&h, *data).ok();
        }
        b.into_inner().unwrap_or_default()
    }

    #[test]
    fn detects_by_content() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let tarb = tar_with(&[("a.txt", tar::EntryType::Regular, b"hi", "")]);
        fs::write(t.path().join("x.bin"), &tarb)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tarb)?;
        fs::write(t.path().join("y"), gz.finish()?)?;
        fs::write(t.path().join("plain.tar.gz"), b"not really")?;
        fs::write(t.path().join("z.xz"), [0xfd, b'7', b'z', b'X', b'Z', 0, 1])?;
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        io::Write::write_all(&mut bz, &tarb)?;
        fs::write(t.path().join("b.bz2"), bz.finish()?)?;
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut io::Cursor::new(&tarb), &mut xz)?;
        fs::write(t.path().join("x.xz"), xz)?;
        assert!(matches!(detect(&t.path().join("b.bz2")), Ok(Kind::Tar)));
        assert!(matches!(detect(&t.path().join("x.xz")), Ok(Kind::Tar)));
        let root = t.path().join("root");
        fs::create_dir(&root)?;
        extract(&t.path().join("x.xz"), &root, "/x").map_err(io::Error::other)?;
        extract(&t.path().join("b.bz2"), &root, "/b").map_err(io::Error::other)?;
        assert_eq!(fs::read(root.join("x/a.txt"))?, b"hi");
        assert_eq!(fs::read(root.join("b/a.txt"))?, b"hi");
        assert!(matches!(detect(&t.path().join("x.bin")), Ok(Kind::Tar)));
        assert!(matches!(detect(&t.path().join("y")), Ok(Kind::Tar)));
        assert!(matches!(detect(&t.path().join("plain.tar.gz")), Ok(Kind::NotArchive)));
        assert!(matches!(detect(&t.path().join("z.xz")), Ok(Kind::NotArchive)));
        Ok(())
    }

    #[test]
    fn file_capabilities_from_pax_records() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let caps: Vec<u8> = vec![0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut b = tar::Builder::new(Vec::new());
        b.append_pax_extensions([("SCHILY.xattr.security.capability", caps.as_slice())])?;
        let mut h = tar::Header::new_ustar();
        h.set_path("ping")?;
        h.set_size(1);
        h.set_mode(0o755);
        h.set_cksum();
        b.append(&h, &b"x"[..])?;
        fs::write(t.path().join("a.tar"), b.into_inner()?)?;
        let root = t.path().join("root");
        fs::create_dir(&root)?;
        extract(&t.path().join("a.tar"), &root, "/bin").map_err(io::Error::other)?;
        assert_eq!(crate::xattr::get_caps(&root.join("bin/ping"))?, Some(caps));
        Ok(())
    }

    #[test]
    fn device_nodes_from_rootfs_tarballs() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_path("dev/null")?;
        h.set_entry_type(tar::EntryType::Char);
        h.set_device_major(1)?;
        h.set_device_minor(3)?;
        h.set_mode(0o666);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, io::empty())?;
        fs::write(t.path().join("r.tar"), b.into_inner()?)?;
        let root = t.path().join("root");
        fs::create_dir(&root)?;
        extract(&t.path().join("r.tar"), &root, "/").map_err(io::Error::other)?;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let md = fs::symlink_metadata(root.join("dev/null"))?;
        assert!(md.file_type().is_char_device());
        assert_eq!((libc::major(md.rdev()), libc::minor(md.rdev())), (1, 3));
        Ok(())
    }

    #[test]
    fn hostile_archives_stay_inside() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let outside = tempfile::tempdir()?;
        let root = t.path().join("rootfs");
        fs::create_dir(&root)?;
        let out = outside.path().to_string_lossy().into_owned();
        let tarb = tar_with(&[
            ("../../escape.txt", tar::EntryType::Regular, b"x", ""),
            ("/abs.txt", tar::EntryType::Regular, b"y", ""),
            ("link", tar::EntryType::Symlink, b"", &out),
            ("link/pwned", tar::EntryType::Regular, b"z", ""),
            ("ok/file", tar::EntryType::Regular, b"data", ""),
        ]);
        let src = t.path().join("a.tar");
        fs::write(&src, tarb)?;
        extract(&src, &root, "/dst").map_err(io::Error::other)?;
        assert_eq!(fs::read(root.join("dst/escape.txt"))?, b"x");
        assert_eq!(fs::read(root.join("dst/abs.txt"))?, b"y");
        assert_eq!(fs::read(root.join("dst/ok/file"))?, b"data");
        assert!(fs::read_dir(outside.path())?.next().is_none(), "nothing written outside");
        // The link's target is resolved inside the rootfs.
        let inside = root.join(out.trim_start_matches('/')).join("pwned");
        assert_eq!(fs::read(inside)?, b"z");
        let md = fs::symlink_metadata(root.join("dst/ok/file"))?;
        use std::os::unix::fs::MetadataExt;
        assert_eq!((md.uid(), md.gid(), md.mode() & 0o777), (5, 6, 0o640));
        Ok(())
    }
}
