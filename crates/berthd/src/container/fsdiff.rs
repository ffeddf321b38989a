//! A container's filesystem changes: `diff` (what its upper directory adds,
//! changes and deletes over the image), the OCI layer tar `commit` makes
//! of them, and the whole-rootfs tar of `export`.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Docker's change kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

/// Files the runtime creates as mount points in the upper directory; they
/// belong to Docker's "init layer", not to the container's changes.
const MOUNT_POINTS: &[&str] = &[
    "etc/hostname", "etc/hosts", "etc/resolv.conf", "dev", "proc", "sys", "sbin/docker-init", ".dockerenv",
];

fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

fn is_opaque(p: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else { return false };
    let mut buf = [0u8; 2];
    // SAFETY: valid NUL-terminated path and name; buf is writable for its length.
    let n = unsafe { libc::lgetxattr(c.as_ptr(), c"trusted.overlay.opaque".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    n == 1 && buf[0] == b'y'
}

/// The changes of `upper` over `lowers` (top-most first), Docker's order
/// (sorted by path), mount points left out.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    walk(upper, Path::new(""), lowers, false, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Returns whether anything under `rel` was reported.
fn walk(upper: &Path, rel: &Path, lowers: &[PathBuf], parent_new: bool, out: &mut Vec<(String, Kind)>) -> bool {
    let Ok(rd) = std::fs::read_dir(upper.join(rel)) else { return false };
    let mut any = false;
    for e in rd.flatten() {
        let child = rel.join(e.file_name());
        let rel_str = child.to_string_lossy().into_owned();
        if MOUNT_POINTS.contains(&rel_str.as_str()) {
            continue;
        }
        let Ok(m) = e.metadata() else { continue };
        let path = format!("/{rel_str}");
        if is_whiteout(&m) {
            out.push((path, Kind::Deleted));
            any = true;
            continue;
        }
        let in_lower = !parent_new && lowers.iter().any(|l| l.join(&child).symlink_metadata().is_ok());
        if m.is_dir() {
            let new = !in_lower || is_opaque(&upper.join(&child));
            let below = walk(upper, &child, lowers, parent_new || !in_lower, out);
            if !in_lower {
                out.push((path, Kind::Added));
                any = true;
            } else if below || new {
                out.push((path, Kind::Modified));
                any = true;
            }
        } else {
            out.push((path, if in_lower { Kind::Modified } else { Kind::Added }));
            any = true;
        }
    }
    any
}

/// Writes `upper` as an OCI layer tar: overlay whiteouts become `.wh.`
/// entries, opaque directories get `.wh..wh..opq`. A container that never
/// started has no upper directory yet: its layer is empty.
pub fn layer_tar(upper: &Path, w: impl Write) -> io::Result<()> {
    let mut b = tar::Builder::new(w);
    b.follow_symlinks(false);
    if upper.exists() {
        add_tree(&mut b, upper, Path::new(""), true, &mut HashMap::new())?;
    }
    b.finish()
}

/// Makes an unmounted upper directory hold exactly what `layer_tar` writes of
/// it, so the store can take the directory over as the layer: the runtime's
/// mount points and sockets go, and so do overlay's own bookkeeping
/// attributes (`trusted.overlay.origin`, `.impure`...; `opaque` stays, it is
/// part of the layer's form).
pub fn settle_upper(upper: &Path) -> io::Result<()> {
    for m in MOUNT_POINTS {
        let p = upper.join(m);
        match p.symlink_metadata() {
            Ok(md) if md.is_dir() => std::fs::remove_dir_all(&p)?,
            Ok(_) => std::fs::remove_file(&p)?,
            Err(_) => {}
        }
    }
    settle_tree(upper)
}

fn settle_tree(dir: &Path) -> io::Result<()> {
    strip_overlay_xattrs(dir)?;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_socket() {
            std::fs::remove_file(e.path())?;
        } else if ft.is_dir() {
            settle_tree(&e.path())?;
        } else {
            strip_overlay_xattrs(&e.path())?;
        }
    }
    Ok(())
}

fn strip_overlay_xattrs(p: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
    let mut names = vec![0u8; 1024];
    // SAFETY: valid NUL-terminated path; names is writable for its length.
    let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    let Ok(n) = usize::try_from(n) else {
        return Ok(()); // no xattr support here, or a list longer than any overlay makes
    };
    for name in names[..n].split(|b| *b == 0).filter(|x| !x.is_empty()) {
        if name.starts_with(b"trusted.overlay.") && name != b"trusted.overlay.opaque" {
            let cname = std::ffi::CString::new(name).map_err(io::Error::other)?;
            // SAFETY: valid NUL-terminated path and attribute name.
            if unsafe { libc::lremovexattr(c.as_ptr(), cname.as_ptr()) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The layer tar of a settled upper directory the store is taking over, then
/// the directory made what unpacking that tar gives: device nodes a RUN made
/// stay in the tar (as in Docker's layers) but not on disk (the store never
/// creates devices from a layer; a 0/0 character device is a whiteout).
pub fn adopted_layer_tar(dir: &Path, w: &mut dyn Write) -> io::Result<()> {
    layer_tar(dir, &mut *w)?;
    remove_devices(dir)
}

fn remove_devices(dir: &Path) -> io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_dir() {
            remove_devices(&e.path())?;
        } else if (ft.is_char_device() || ft.is_block_device()) && !is_whiteout(&e.metadata()?) {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Writes the whole tree at `root` (the mounted rootfs) as a tar.
pub fn export_tar(root: &Path, w: impl Write) -> io::Result<()> {
    let mut b = tar::Builder::new(w);
    b.follow_symlinks(false);
    add_tree(&mut b, root, Path::new(""), false, &mut HashMap::new())?;
    b.finish()
}

/// `security.capability` of `p`, the one extended attribute Docker's tars carry
/// (revision 3, namespaced to a user namespace's root, written as revision 2).
fn file_caps(p: &Path) -> Option<Vec<u8>> {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: valid NUL-terminated path and name; buf is writable for its length.
    let n = unsafe { libc::lgetxattr(c.as_ptr(), c"security.capability".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    let mut v = buf.get(..usize::try_from(n).ok()?)?.to_vec();
    if v.len() > 20 && v.get(3) == Some(&3) {
        v[3] = 2;
        v.truncate(20);
    }
    Some(v)
}

/// A PAX extended header carrying `SCHILY.xattr.<name>` for the entry that follows.
fn append_xattr<W: Write>(b: &mut tar::Builder<W>, name: &str, value: &[u8]) -> io::Result<()> {
    let key = format!("SCHILY.xattr.{name}");
    // A record is "<len> <key>=<value>\n", its length counting its own digits.
    let body = key.len() + value.len() + 3;
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    let mut rec = format!("{len} {key}=").into_bytes();
    rec.extend_from_slice(value);
    rec.push(b'\n');
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_mode(0o644);
    h.set_size(rec.len() as u64);
    b.append_data(&mut h, "PaxHeaders/xattr", &rec[..])
}

/// Walks `root/rel` in name order. `seen` maps an inode with several links to the
/// first name written, so later names become hard-link entries, as Docker writes them.
fn add_tree<W: Write>(
    b: &mut tar::Builder<W>,
    root: &Path,
    rel: &Path,
    layer: bool,
    seen: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let child = rel.join(e.file_name());
        if layer && MOUNT_POINTS.contains(&child.to_string_lossy().as_ref()) {
            continue;
        }
        let full = root.join(&child);
        let m = full.symlink_metadata()?;
        if layer && is_whiteout(&m) {
            let name = rel.join(format!(".wh.{}", e.file_name().to_string_lossy()));
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            h.set_mode(0o600);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mtime(m.mtime().max(0) as u64);
            b.append_data(&mut h, name, io::empty())?;
            continue;
        }
        if m.file_type().is_socket() {
            continue;
        }
        if !m.is_dir() && m.nlink() > 1 {
            if let Some(first) = seen.get(&(m.dev(), m.ino())) {
                let mut h = tar::Header::new_gnu();
                h.set_metadata(&m);
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, &child, first)?;
                continue;
            }
            seen.insert((m.dev(), m.ino()), child.clone());
        }
        if let Some(caps) = file_caps(&full) {
            append_xattr(b, "security.capability", &caps)?;
        }
        let ft = m.file_type();
        if ft.is_fifo() || ft.is_char_device() || ft.is_block_device() {
            // Written here: the tar crate names special files by their source path.
            let mut h = tar::Header::new_gnu();
            h.set_metadata(&m);
            h.set_entry_type(if ft.is_fifo() {
                tar::EntryType::Fifo
            } else if ft.is_char_device() {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            });
            h.set_size(0);
            if !ft.is_fifo() {
                h.set_device_major(libc::major(m.rdev()))?;
                h.set_device_minor(libc::minor(m.rdev()))?;
            }
            b.append_data(&mut h, &child, io::empty())?;
            continue;
        }
        b.append_path_with_name(&full, &child)?;
        if m.is_dir() {
            if layer && is_opaque(&full) {
                let mut h = tar::Header::new_gnu();
                h.set_size(0);
                h.set_mode(0o600);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, child.join(".wh..wh..opq"), io::empty())?;
            }
            add_tree(b, root, &child, layer, seen)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mknod_whiteout(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: valid path; creating a 0/0 char device (root-only; tests run as root).
        let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, 0) };
        assert_eq!(rc, 0, "mknod needs root");
    }

    #[test]
    fn hard_links_and_file_caps_survive_the_layer_tar() {
        let t = tempfile::tempdir().unwrap();
        let upper = t.path().join("upper");
        std::fs::create_dir_all(upper.join("bin")).unwrap();
        std::fs::write(upper.join("bin/a"), "data").unwrap();
        std::fs::hard_link(upper.join("bin/a"), upper.join("bin/b")).unwrap();
        // cap_net_bind_service+ep, revision 2.
        let caps: [u8; 20] = [0, 0, 0, 2, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c = std::ffi::CString::new(upper.join("bin/a").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: valid path and name; caps is readable for its length.
        let rc = unsafe { libc::setxattr(c.as_ptr(), c"security.capability".as_ptr(), caps.as_ptr().cast(), caps.len(), 0) };
        assert_eq!(rc, 0, "setxattr needs root");
        let mut buf = Vec::new();
        layer_tar(&upper, &mut buf).unwrap();
        let mut ar = tar::Archive::new(&buf[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let xattr = e
                .pax_extensions()
                .unwrap()
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .find(|x| x.key() == Ok("SCHILY.xattr.security.capability"))
                .map(|x| x.value_bytes().to_vec());
            let link = e.link_name().unwrap().map(|l| l.to_string_lossy().into_owned());
            seen.push((name, e.header().entry_type(), link, xattr));
        }
        assert!(seen.contains(&("bin/a".into(), tar::EntryType::Regular, None, Some(caps.to_vec()))), "{seen:?}");
        assert!(seen.contains(&("bin/b".into(), tar::EntryType::Link, Some("bin/a".into()), None)), "{seen:?}");
    }

    #[test]
    fn fifos_and_devices_are_named_by_their_place_in_the_layer() {
        let t = tempfile::tempdir().unwrap();
        let upper = t.path().join("upper");
        std::fs::create_dir_all(upper.join("tmp")).unwrap();
        for (name, mode, dev) in [("tmp/fifo", libc::S_IFIFO | 0o644, 0), ("tmp/null", libc::S_IFCHR | 0o666, libc::makedev(1, 3))] {
            let c = std::ffi::CString::new(upper.join(name).as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: valid path; a FIFO and a character device (root-only; tests run as root).
            assert_eq!(unsafe { libc::mknod(c.as_ptr(), mode, dev) }, 0, "mknod needs root");
        }
        let mut buf = Vec::new();
        layer_tar(&upper, &mut buf).unwrap();
        let mut ar = tar::Archive::new(&buf[..]);
        let got: Vec<(String, tar::EntryType, Option<u32>)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), e.header().entry_type(), e.header().device_major().ok().flatten())
            })
            .collect();
        assert!(got.contains(&("tmp/fifo".into(), tar::EntryType::Fifo, Some(0))), "{got:?}");
        assert!(got.contains(&("tmp/null".into(), tar::EntryType::Char, Some(1))), "{got:?}");
    }

    #[test]
    fn diff_reports_like_docker() {
        let t = tempfile::tempdir().unwrap();
        let (lower, upper) = (t.path().join("lower"), t.path().join("upper"));
        for d in ["etc", "tmp", "bin"] {
            std::fs::create_dir_all(lower.join(d)).unwrap();
        }
        std::fs::write(lower.join("etc/motd"), "hi").unwrap();
        std::fs::write(lower.join("bin/old"), "x").unwrap();
        for d in ["etc", "tmp", "bin", "new/deep", "proc"] {
            std::fs::create_dir_all(upper.join(d)).unwrap();
        }
        std::fs::write(upper.join("etc/motd"), "changed").unwrap();
        std::fs::write(upper.join("etc/hostname"), "").unwrap();
        std::fs::write(upper.join("tmp/x"), "").unwrap();
        std::fs::write(upper.join("new/deep/f"), "").unwrap();
        mknod_whiteout(&upper.join("bin/old"));
        let got: Vec<(String, Kind)> = changes(&upper, std::slice::from_ref(&lower));
        let want = vec![
            ("/bin".to_string(), Kind::Modified),
            ("/bin/old".to_string(), Kind::Deleted),
            ("/etc".to_string(), Kind::Modified),
            ("/etc/motd".to_string(), Kind::Modified),
            ("/new".to_string(), Kind::Added),
            ("/new/deep".to_string(), Kind::Added),
            ("/new/deep/f".to_string(), Kind::Added),
            ("/tmp".to_string(), Kind::Modified),
            ("/tmp/x".to_string(), Kind::Added),
        ];
        assert_eq!(got, want);

        let mut buf = Vec::new();
        layer_tar(&upper, &mut buf).unwrap();
        let mut ar = tar::Archive::new(&buf[..]);
        let names: Vec<String> = ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert!(names.contains(&"bin/.wh.old".to_string()), "{names:?}");
        assert!(names.contains(&"tmp/x".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n == "etc/hostname" || n == "proc"), "{names:?}");
    }
}
