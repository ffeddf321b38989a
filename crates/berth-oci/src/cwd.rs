//! runc creates `process.cwd` inside the container when it is missing
//! (`docker run -w /new/dir` relies on it); libcontainer 0.7 fails the
//! chdir instead. This creates it beforehand, from the host side, in the
//! rootfs: each component is opened relative to the previous one without
//! following symlinks, so a hostile image cannot steer the mkdir out of its
//! rootfs. A path through a symlink is left alone (libcontainer then
//! follows it inside the container, or reports the missing directory).
//! Limitation: a cwd below a mount destination is created in the rootfs
//! under the mount point, not in the mounted directory.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

/// The components of `cwd` inside the container's root (`..` stops at `/`).
fn components(cwd: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in Path::new(cwd).components() {
        match c {
            Component::Normal(n) => out.push(n.to_str().unwrap_or_default()),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

fn open_dir_at(dir: Option<&OwnedFd>, name: &CString) -> io::Result<OwnedFd> {
    let base = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: name is NUL-terminated; base is AT_FDCWD or an fd we own.
    let fd = unsafe {
        libc::openat(
            base,
            name.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat just returned this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates `cwd` under `rootfs` (mode 0755, like runc's MkdirAll) where it is
/// missing. Errors are returned for the caller to ignore or report.
pub fn ensure_cwd(rootfs: &Path, cwd: &str) -> io::Result<()> {
    let parts = components(cwd);
    if parts.is_empty() {
        return Ok(());
    }
    let root = CString::new(rootfs.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut dir = open_dir_at(None, &root)?;
    for part in parts {
        let name = CString::new(part).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        dir = match open_dir_at(Some(&dir), &name) {
            Ok(next) => next,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                // SAFETY: dir is an O_PATH directory fd we own (mkdirat accepts
                // O_PATH fds as its base); name is NUL-terminated.
                let r = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755) };
                if r < 0 {
                    let e = io::Error::last_os_error();
                    if e.raw_os_error() != Some(libc::EEXIST) {
                        return Err(e);
                    }
                }
                open_dir_at(Some(&dir), &name)?
            }
            // A symlink (ELOOP/ENOTDIR under O_NOFOLLOW) or a file: not ours to change.
            Err(e) => return Err(e),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn component_rules() {
        assert!(components("/").is_empty());
        assert!(components("").is_empty());
        assert_eq!(components("/a/./b/"), ["a", "b"]);
        assert_eq!(components("/../../a/../b"), ["b"]);
        assert_eq!(components("rel/x"), ["rel", "x"]);
    }

    #[test]
    fn creates_missing_directories() {
        let d = tempfile::tempdir().expect("tempdir");
        ensure_cwd(d.path(), "/does/not/exist").expect("create");
        assert!(d.path().join("does/not/exist").is_dir());
        // Existing: nothing to do.
        ensure_cwd(d.path(), "/does/not").expect("exists");
        ensure_cwd(d.path(), "/").expect("root");
    }

    #[test]
    fn never_leaves_the_rootfs() {
        let d = tempfile::tempdir().expect("tempdir");
        let rootfs = d.path().join("rootfs");
        let outside = d.path().join("outside");
        std::fs::create_dir_all(&rootfs).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");
        symlink(&outside, rootfs.join("evil")).expect("symlink");
        symlink("../outside", rootfs.join("rel")).expect("symlink");
        assert!(ensure_cwd(&rootfs, "/evil/x").is_err());
        assert!(ensure_cwd(&rootfs, "/rel/x").is_err());
        ensure_cwd(&rootfs, "/../../outside/y").expect("dotdot stays inside");
        assert!(rootfs.join("outside/y").is_dir());
        assert_eq!(
            std::fs::read_dir(&outside).map(|r| r.count()).unwrap_or(9),
            0
        );
        std::fs::write(rootfs.join("file"), "x").expect("write");
        assert!(ensure_cwd(&rootfs, "/file/sub").is_err());
        assert!(ensure_cwd(&rootfs, "/a\0b").is_err());
    }
}
