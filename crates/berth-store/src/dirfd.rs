//! A directory handle whose operations are all relative to an open fd (`*at` syscalls) and
//! never follow a symlink in the final component. Extraction walks the tree with these so
//! that a symlink planted by an earlier tar entry can never redirect a write.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub(crate) struct DirFd(OwnedFd);

fn cstr(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in file name"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn timespecs(mtime: i64) -> [libc::timespec; 2] {
    let ts = libc::timespec {
        tv_sec: mtime as libc::time_t,
        tv_nsec: 0,
    };
    [ts, ts]
}

const DIR_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

impl DirFd {
    /// Open `path` itself as a directory; its last component must not be a symlink.
    pub fn open(path: &Path) -> io::Result<DirFd> {
        let c = cstr(path.as_os_str().as_bytes())?;
        // SAFETY: `c` is a valid NUL-terminated string; open has no other preconditions.
        let fd = unsafe { libc::open(c.as_ptr(), DIR_FLAGS) };
        Self::from_ret(fd)
    }

    /// Wrap a descriptor of a directory (O_PATH is enough: every use is an `*at` call).
    pub fn from_fd(fd: OwnedFd) -> DirFd {
        DirFd(fd)
    }

    fn from_ret(fd: libc::c_int) -> io::Result<DirFd> {
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by a successful open call and is owned by nobody else.
        Ok(DirFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn raw(&self) -> libc::c_int {
        self.0.as_raw_fd()
    }

    /// Open the child directory `name`, creating it (mode 0755) if `create` and missing.
    /// Fails (ELOOP/ENOTDIR) if `name` is a symlink or not a directory.
    pub fn child(&self, name: &OsStr, create: bool) -> io::Result<DirFd> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        let fd = unsafe { libc::openat(self.raw(), c.as_ptr(), DIR_FLAGS) };
        match Self::from_ret(fd) {
            Err(e) if create && e.raw_os_error() == Some(libc::ENOENT) => {
                self.mkdir(name, 0o755)?;
                // SAFETY: as above.
                Self::from_ret(unsafe { libc::openat(self.raw(), c.as_ptr(), DIR_FLAGS) })
            }
            r => r,
        }
    }

    /// `lstat` of a child; `None` if it does not exist.
    pub fn lstat(&self, name: &OsStr) -> io::Result<Option<libc::stat>> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: all-zero is a valid `stat` (plain integers).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid dirfd, NUL-terminated name, `st` is a valid out-pointer.
        let r =
            unsafe { libc::fstatat(self.raw(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
        match check(r) {
            Ok(()) => Ok(Some(st)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Names in this directory (without `.` and `..`), sorted.
    pub fn entries(&self) -> io::Result<Vec<OsString>> {
        // The magic link names this very directory, so no path is re-resolved.
        let mut names: Vec<OsString> = std::fs::read_dir(format!("/proc/self/fd/{}", self.raw()))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        Ok(names)
    }

    /// Remove the directory `name` and everything below it, never following a symlink:
    /// each level is opened with O_NOFOLLOW relative to its parent's fd.
    pub fn remove_tree(&self, name: &OsStr) -> io::Result<()> {
        let dir = self.child(name, false)?;
        for child in dir.entries()? {
            match dir.lstat(&child)? {
                Some(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => dir.remove_tree(&child)?,
                Some(_) => dir.unlink(&child, false)?,
                None => {}
            }
        }
        self.unlink(name, true)
    }

    pub fn unlink(&self, name: &OsStr, is_dir: bool) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        let flags = if is_dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: valid dirfd and NUL-terminated name.
        check(unsafe { libc::unlinkat(self.raw(), c.as_ptr(), flags) })
    }

    pub fn mkdir(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        check(unsafe { libc::mkdirat(self.raw(), c.as_ptr(), mode as libc::mode_t) })
    }

    /// Create a new regular file (fails if anything exists at `name`).
    pub fn create_file(&self, name: &OsStr) -> io::Result<File> {
        let c = cstr(name.as_bytes())?;
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: valid dirfd and NUL-terminated name.
        let fd = unsafe { libc::openat(self.raw(), c.as_ptr(), flags, 0o600 as libc::c_uint) };
        Ok(File::from(Self::from_ret(fd)?.0))
    }

    pub fn symlink(&self, target: &[u8], name: &OsStr) -> io::Result<()> {
        let (t, c) = (cstr(target)?, cstr(name.as_bytes())?);
        // SAFETY: valid dirfd and NUL-terminated strings.
        check(unsafe { libc::symlinkat(t.as_ptr(), self.raw(), c.as_ptr()) })
    }

    /// Hard-link `from/from_name` as `name` here (does not follow a symlink source).
    pub fn link_from(&self, from: &DirFd, from_name: &OsStr, name: &OsStr) -> io::Result<()> {
        let (f, c) = (cstr(from_name.as_bytes())?, cstr(name.as_bytes())?);
        // SAFETY: valid dirfds and NUL-terminated names; flags 0 never follows symlinks.
        check(unsafe { libc::linkat(from.raw(), f.as_ptr(), self.raw(), c.as_ptr(), 0) })
    }

    pub fn mknod(&self, name: &OsStr, mode: u32, dev: libc::dev_t) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        check(unsafe { libc::mknodat(self.raw(), c.as_ptr(), mode as libc::mode_t, dev) })
    }

    /// chown + times of a child without following a symlink at `name`.
    pub fn set_owner_times(&self, name: &OsStr, uid: u32, gid: u32, mtime: i64) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        check(unsafe {
            libc::fchownat(self.raw(), c.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW)
        })?;
        let ts = timespecs(mtime);
        // SAFETY: valid dirfd, name, and a two-element timespec array.
        check(unsafe {
            libc::utimensat(
                self.raw(),
                c.as_ptr(),
                ts.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })
    }

    /// chmod of a child that is known not to be a symlink (we just created it).
    pub fn chmod(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        check(unsafe { libc::fchmodat(self.raw(), c.as_ptr(), mode as libc::mode_t, 0) })
    }

    pub fn fd(&self) -> libc::c_int {
        self.raw()
    }
}

/// Owner, mode, times and xattrs of an open file or directory.
pub(crate) fn set_fd_meta(
    fd: libc::c_int,
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: Option<i64>,
) -> io::Result<()> {
    // SAFETY: `fd` is an open descriptor owned by the caller for the duration of the call.
    check(unsafe { libc::fchown(fd, uid, gid) })?;
    // chmod after chown: chown clears setuid/setgid bits.
    // SAFETY: as above.
    check(unsafe { libc::fchmod(fd, (mode & 0o7777) as libc::mode_t) })?;
    if let Some(m) = mtime {
        set_fd_times(fd, m)?;
    }
    Ok(())
}

pub(crate) fn set_fd_times(fd: libc::c_int, mtime: i64) -> io::Result<()> {
    let ts = timespecs(mtime);
    // SAFETY: `fd` is open; `ts` is a two-element timespec array.
    check(unsafe { libc::futimens(fd, ts.as_ptr()) })
}

pub(crate) fn set_fd_xattr(fd: libc::c_int, name: &[u8], value: &[u8]) -> io::Result<()> {
    let n = cstr(name)?;
    // SAFETY: `fd` is open, `n` NUL-terminated, and value pointer/len describe a live slice.
    check(unsafe { libc::fsetxattr(fd, n.as_ptr(), value.as_ptr().cast(), value.len(), 0) })
}
