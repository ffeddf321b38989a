//! Writing entries into a rootfs without ever following what is already there: the
//! parent directory is resolved in scope first (see `scope`), then the entry itself is
//! replaced, never written through.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::scope;

/// Ownership for what a COPY/ADD writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Set(u32, u32),
    /// Keep the source's uid/gid (COPY --from without --chown; tar entries).
    Preserve,
}

pub fn lchown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}

/// Creates `path` (a slash path inside `root`) and every missing parent as 0755
/// directories owned by `owner` (root for `Preserve`), resolving existing components in
/// scope. Returns the real directory.
pub fn mkdir_all(root: &Path, path: &str, owner: Owner) -> io::Result<PathBuf> {
    let resolved = scope::resolve(root, path)?;
    let (uid, gid) = match owner {
        Owner::Set(u, g) => (u, g),
        Owner::Preserve => (0, 0),
    };
    let rel = resolved.strip_prefix(root).map_err(io::Error::other)?.to_path_buf();
    let mut cur = root.to_path_buf();
    for comp in rel.components() {
        cur.push(comp);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{}: not a directory", cur.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&cur)?;
                fs::set_permissions(&cur, fs::Permissions::from_mode(0o755))?;
                lchown(&cur, uid, gid)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(resolved)
}

/// Removes whatever is at `path` (not following it) unless it is a directory and
/// `keep_dir` is set. Returns whether a directory was kept.
pub fn clear(path: &Path, keep_dir: bool) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => {
            if keep_dir {
                return Ok(true);
            }
            fs::remove_dir_all(path)?;
        }
        Ok(_) => fs::remove_file(path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(false)
}

/// Writes a regular file at `path` (replacing what is there, never following it).
pub fn write_file(
    path: &Path,
    src: &mut dyn io::Read,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: Option<SystemTime>,
) -> io::Result<()> {
    clear(path, false)?;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)?;
    io::copy(src, &mut f)?;
    lchown(path, uid, gid)?;
    // After chown: chown clears setuid bits.
    f.set_permissions(fs::Permissions::from_mode(mode & 0o7777))?;
    if let Some(t) = mtime {
        f.set_modified(t)?;
    }
    Ok(())
}

pub fn write_symlink(path: &Path, target: &Path, uid: u32, gid: u32) -> io::Result<()> {
    clear(path, false)?;
    symlink(target, path)?;
    lchown(path, uid, gid)
}

/// A directory at `path` (an existing one is kept), with `mode` and owner applied.
pub fn write_dir(path: &Path, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    if !clear(path, true)? {
        fs::create_dir(path)?;
    }
    lchown(path, uid, gid)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
}

/// A character or block device node (ADD of a rootfs tarball; the builder runs as root).
pub fn write_device(path: &Path, block: bool, major: u32, minor: u32, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    clear(path, false)?;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let kind = if block { libc::S_IFBLK } else { libc::S_IFCHR };
    let dev = libc::makedev(major, minor);
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    if unsafe { libc::mknod(c.as_ptr(), kind | (mode & 0o7777) as libc::mode_t, dev) } != 0 {
        return Err(io::Error::last_os_error());
    }
    lchown(path, uid, gid)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
}

pub fn write_fifo(path: &Path, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    clear(path, false)?;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    if unsafe { libc::mkfifo(c.as_ptr(), (mode & 0o7777) as libc::mode_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    lchown(path, uid, gid)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
}
