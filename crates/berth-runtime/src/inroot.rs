//! Paths inside a hostile tree, for `cp`.
//!
//! A container's rootfs is the container's to change, even while we read
//! it: `/x -> /`, `/x -> ../../..`, a directory swapped for a symlink
//! between two steps. `InRoot` walks a path one component at a time, each
//! opened with openat2(RESOLVE_IN_ROOT, O_NOFOLLOW) relative to the
//! directory fd reached so far, and resolves symlinks itself against its
//! own stack of directory fds. `..` pops that stack, so no step can leave
//! the root, whatever the tree does meanwhile, and the in-container path
//! reached is known exactly (Docker's `linkTarget`). Paths under a mount
//! destination continue in the mount's host source, as in the container.

use crate::target::open_in_root;
use crate::RuntimeError;
use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Symlinks followed in one resolution, as the kernel's MAXSYMLINKS.
const MAX_LINKS: usize = 40;

/// A tree to resolve paths in: a rootfs plus the mounts laid over it.
pub struct InRoot {
    root: OwnedFd,
    mounts: Vec<(Vec<String>, PathBuf)>,
}

/// One resolved path.
pub struct Resolved {
    /// The absolute in-container path reached, without symlinks ("/" for the root).
    pub path: String,
    /// An O_PATH descriptor of the entry (a final symlink itself unless followed).
    pub fd: OwnedFd,
    pub stat: libc::stat,
    /// Index (in `with_mount` order) of the innermost mount the path lies in.
    pub mount: Option<usize>,
}

struct Level {
    name: String,
    fd: OwnedFd,
    stat: libc::stat,
    mount: Option<usize>,
}

fn components(p: &str) -> Vec<String> {
    p.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect()
}

fn open_path(p: &Path) -> io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is NUL-terminated and outlives the call.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by open and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// fstat of any descriptor, O_PATH ones included.
pub fn fstat_fd<F: AsRawFd>(fd: &F) -> io::Result<libc::stat> {
    // SAFETY: all-zero is a valid `stat` (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open for the call and `st` is a valid out-pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

/// The text of the symlink an O_PATH|O_NOFOLLOW descriptor refers to.
pub fn read_link_fd<F: AsRawFd>(fd: &F) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: valid fd, an empty NUL-terminated path (the fd itself), and a buffer of the
    // length we pass.
    let n = unsafe { libc::readlinkat(fd.as_raw_fd(), c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

fn is(st: &libc::stat, kind: libc::mode_t) -> bool {
    st.st_mode & libc::S_IFMT == kind
}

impl InRoot {
    pub fn open(rootfs: &Path) -> Result<InRoot, RuntimeError> {
        let root = open_path(rootfs).map_err(|source| RuntimeError::InRoot { path: rootfs.display().to_string(), source })?;
        Ok(InRoot { root, mounts: Vec::new() })
    }

    /// Paths at and under `destination` resolve in the host path `source`.
    pub fn with_mount(mut self, destination: &str, source: &Path) -> InRoot {
        self.mounts.push((components(destination), source.to_path_buf()));
        self
    }

    /// Resolves the in-container path `path`; `None` if it (or a parent) does not exist
    /// or a parent is not a directory. `follow_last` also follows a final symlink.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<Option<Resolved>, RuntimeError> {
        let err = |source: io::Error| RuntimeError::InRoot { path: path.to_string(), source };
        let root_fd = self.root.try_clone().map_err(err)?;
        let stat = fstat_fd(&root_fd).map_err(err)?;
        let mut stack = vec![Level { name: String::new(), fd: root_fd, stat, mount: None }];
        let mut pending: VecDeque<String> = components(path).into();
        let mut links = 0;
        while let Some(name) = pending.pop_front() {
            if name == ".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let Some(top) = stack.last() else { break };
            if !is(&top.stat, libc::S_IFDIR) {
                return Ok(None);
            }
            let mut logical: Vec<String> = stack[1..].iter().map(|l| l.name.clone()).collect();
            logical.push(name.clone());
            let (fd, stat, mount) = match self.mounts.iter().rposition(|(dest, _)| *dest == logical) {
                Some(i) => {
                    let fd = open_path(&self.mounts[i].1).map_err(err)?;
                    let st = fstat_fd(&fd).map_err(err)?;
                    (fd, st, Some(i))
                }
                None => {
                    let Some(fd) = open_in_root(&top.fd, &name, libc::O_PATH | libc::O_NOFOLLOW).map_err(err)? else {
                        return Ok(None);
                    };
                    let st = fstat_fd(&fd).map_err(err)?;
                    (fd, st, top.mount)
                }
            };
            if is(&stat, libc::S_IFLNK) && (!pending.is_empty() || follow_last) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(err(io::Error::from_raw_os_error(libc::ELOOP)));
                }
                let text = String::from_utf8_lossy(&read_link_fd(&fd).map_err(err)?).into_owned();
                if text.starts_with('/') {
                    stack.truncate(1);
                }
                let mut rest: VecDeque<String> = components(&text).into();
                rest.extend(pending.drain(..));
                pending = rest;
                continue;
            }
            stack.push(Level { name, fd, stat, mount });
        }
        let names: Vec<String> = stack[1..].iter().map(|l| l.name.clone()).collect();
        let Some(last) = stack.pop() else { return Ok(None) };
        Ok(Some(Resolved { path: format!("/{}", names.join("/")), fd: last.fd, stat: last.stat, mount: last.mount }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc/sub")).unwrap();
        std::fs::write(t.path().join("etc/shadow"), b"container shadow").unwrap();
        t
    }

    fn read(r: &Resolved) -> String {
        std::fs::read_to_string(format!("/proc/self/fd/{}", r.fd.as_raw_fd())).unwrap()
    }

    #[test]
    fn escapes_resolve_inside() {
        let t = tree();
        symlink("/", t.path().join("abs")).unwrap();
        symlink("../../../../..", t.path().join("rel")).unwrap();
        symlink("/etc/shadow", t.path().join("etc/sub/sh")).unwrap();
        symlink("../../../../../../etc/shadow", t.path().join("up")).unwrap();
        let r = InRoot::open(t.path()).unwrap();
        for p in ["/abs/etc/shadow", "/rel/etc/shadow", "rel/rel/../../etc/shadow", "/../../etc/shadow", "/up"] {
            let got = r.resolve(p, true).unwrap().unwrap();
            assert_eq!(got.path, "/etc/shadow", "{p}");
            assert_eq!(read(&got), "container shadow", "{p}");
        }
        let sh = r.resolve("/etc/sub/sh", false).unwrap().unwrap();
        assert!(is(&sh.stat, libc::S_IFLNK));
        assert_eq!(sh.path, "/etc/sub/sh");
        assert_eq!(r.resolve("/abs", true).unwrap().unwrap().path, "/");
        assert_eq!(r.resolve("/etc/sub/..", true).unwrap().unwrap().path, "/etc");
    }

    #[test]
    fn missing_loops_and_files_as_dirs() {
        let t = tree();
        symlink("/l2", t.path().join("l1")).unwrap();
        symlink("/l1", t.path().join("l2")).unwrap();
        symlink("/nowhere", t.path().join("dangling")).unwrap();
        let r = InRoot::open(t.path()).unwrap();
        assert!(r.resolve("/l1", true).is_err());
        assert!(r.resolve("/nope", true).unwrap().is_none());
        assert!(r.resolve("/etc/shadow/x", true).unwrap().is_none());
        assert!(r.resolve("/dangling", true).unwrap().is_none());
        assert!(r.resolve("/dangling", false).unwrap().is_some());
    }

    #[test]
    fn mounts_take_over_their_destination() {
        let t = tree();
        let vol = tempfile::tempdir().unwrap();
        std::fs::write(vol.path().join("f"), b"in volume").unwrap();
        std::fs::create_dir(t.path().join("data")).unwrap();
        symlink("/data/f", t.path().join("tof")).unwrap();
        let r = InRoot::open(t.path()).unwrap().with_mount("/data", vol.path());
        let got = r.resolve("/tof", true).unwrap().unwrap();
        assert_eq!((got.path.as_str(), got.mount), ("/data/f", Some(0)));
        assert_eq!(read(&got), "in volume");
        // `..` out of a mount returns to the rootfs.
        let back = r.resolve("/data/../etc/shadow", true).unwrap().unwrap();
        assert_eq!((read(&back).as_str(), back.mount), ("container shadow", None));
    }
}
