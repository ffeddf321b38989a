//! Copy-up: a new, empty volume takes the image's content at its mount
//! path, with ownership, modes and times, as dockerd does. The source
//! path was resolved inside the rootfs, so it has no symlinks left; the
//! walk below never follows one (symlinks are copied as symlinks).

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Whether `dir` has no entries (a missing dir counts as empty).
pub fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).map(|mut r| r.next().is_none()).unwrap_or(true)
}

/// Copies the content of `src` into the empty directory `dst` and gives
/// `dst` the ownership and mode of `src`. Nothing happens if `src` is not
/// a directory or `dst` is not empty.
pub fn copy_up(src: &Path, dst: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(src)?;
    if !meta.is_dir() || !is_empty_dir(dst) {
        return Ok(());
    }
    copy_dir_contents(src, dst)?;
    apply_owner_mode_times(dst, &meta)
}

fn copy_dir_contents(src: &Path, dst: &Path) -> io::Result<()> {
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = fs::symlink_metadata(&from)?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(&from)?;
            std::os::unix::fs::symlink(&target, &to)?;
            lchown(&to, meta.uid(), meta.gid())?;
            continue;
        } else if ft.is_dir() {
            fs::create_dir(&to)?;
            copy_dir_contents(&from, &to)?;
        } else if ft.is_file() {
            let mut r = fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&from)?;
            let mut w = fs::OpenOptions::new().write(true).create_new(true).custom_flags(libc::O_NOFOLLOW).mode(0o600).open(&to)?;
            io::copy(&mut r, &mut w)?;
        } else {
            // FIFOs and device nodes are recreated; sockets are skipped.
            use std::os::unix::fs::FileTypeExt;
            if ft.is_socket() {
                continue;
            }
            mknod(&to, meta.mode(), meta.rdev())?;
        }
        apply_owner_mode_times(&to, &meta)?;
    }
    Ok(())
}

fn c_path(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

fn lchown(p: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let c = c_path(p)?;
    // SAFETY: valid NUL-terminated path; lchown does not follow a final symlink.
    if unsafe { libc::lchown(c.as_ptr(), uid, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn mknod(p: &Path, mode: u32, dev: u64) -> io::Result<()> {
    let c = c_path(p)?;
    // SAFETY: valid NUL-terminated path; mknod creates a new node and follows nothing.
    if unsafe { libc::mknod(c.as_ptr(), mode as libc::mode_t, dev as libc::dev_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Owner first, then mode (chown clears set-id bits), then times.
fn apply_owner_mode_times(p: &Path, meta: &fs::Metadata) -> io::Result<()> {
    lchown(p, meta.uid(), meta.gid())?;
    fs::set_permissions(p, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let c = c_path(p)?;
    let times = [
        libc::timespec { tv_sec: meta.atime() as libc::time_t, tv_nsec: meta.atime_nsec() as _ },
        libc::timespec { tv_sec: meta.mtime() as libc::time_t, tv_nsec: meta.mtime_nsec() as _ },
    ];
    // SAFETY: valid NUL-terminated path and a two-element timespec array.
    if unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_tree_with_modes_and_links() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        let dst = t.path().join("dst");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::create_dir(&dst).unwrap();
        fs::write(src.join("sub/f"), b"hello").unwrap();
        fs::set_permissions(src.join("sub/f"), fs::Permissions::from_mode(0o4750)).unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o711)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
        copy_up(&src, &dst).unwrap();
        assert_eq!(fs::read(dst.join("sub/f")).unwrap(), b"hello");
        assert_eq!(fs::metadata(dst.join("sub/f")).unwrap().mode() & 0o7777, 0o4750);
        assert_eq!(fs::metadata(&dst).unwrap().mode() & 0o7777, 0o711);
        // The symlink is copied as a link, never followed.
        assert_eq!(fs::read_link(dst.join("link")).unwrap(), Path::new("/etc/passwd"));
        assert_eq!(fs::metadata(dst.join("sub/f")).unwrap().mtime(), fs::metadata(src.join("sub/f")).unwrap().mtime());
    }

    #[test]
    fn non_empty_destination_or_file_source_untouched() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        let dst = t.path().join("dst");
        fs::create_dir_all(&src).unwrap();
        fs::create_dir_all(&dst).unwrap();
        fs::write(src.join("a"), b"1").unwrap();
        fs::write(dst.join("keep"), b"2").unwrap();
        copy_up(&src, &dst).unwrap();
        assert!(!dst.join("a").exists());
        let empty = t.path().join("empty");
        fs::create_dir(&empty).unwrap();
        copy_up(&src.join("a"), &empty).unwrap();
        assert!(is_empty_dir(&empty));
    }
}
