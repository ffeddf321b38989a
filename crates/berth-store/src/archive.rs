//! A tar of one entry of a hostile tree (`GET /containers/{id}/archive`).
//!
//! Every entry is reached by openat(O_PATH|O_NOFOLLOW) relative to its parent's
//! descriptor, and everything after that (stat, reading a file's bytes, listing a
//! directory) goes through that descriptor, which pins the inode: a symlink is
//! archived as a symlink, and a name the tree swaps meanwhile is never re-resolved.

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use crate::error::{Result, StoreError};

fn check_fd(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by a successful open call and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_child(dir: &OwnedFd, name: &OsStr) -> io::Result<OwnedFd> {
    let c = CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: valid dirfd and NUL-terminated name; O_NOFOLLOW keeps a final symlink as is.
    check_fd(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC) })
}

/// Open the inode an O_PATH descriptor pins, for reading. The /proc magic link refers
/// to the descriptor's file itself, so nothing is resolved by name again.
fn reopen(fd: &OwnedFd, flags: libc::c_int) -> io::Result<OwnedFd> {
    let p = CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `p` is NUL-terminated; O_NONBLOCK keeps a FIFO from blocking the open.
    check_fd(unsafe { libc::open(p.as_ptr(), flags | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC) })
}

fn fstat(fd: &OwnedFd) -> io::Result<libc::stat> {
    // SAFETY: all-zero is a valid `stat` (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: open fd and a valid out-pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

fn read_link(fd: &OwnedFd) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: open fd, empty NUL-terminated path (the fd itself), buffer of the given length.
    let n = unsafe { libc::readlinkat(fd.as_raw_fd(), c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// Yields exactly `left` bytes: the file's, then zeros if it shrank meanwhile, so the
/// tar stays well-formed whatever a running container does to the file.
struct Exactly<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exactly<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = match self.inner.read(&mut buf[..want])? {
            0 => {
                buf[..want].fill(0);
                want
            }
            n => n,
        };
        self.left -= n as u64;
        Ok(n)
    }
}

struct Walk<W: Write> {
    b: tar::Builder<W>,
    /// (dev, inode) of files with several links → the first name archived.
    links: HashMap<(u64, u64), String>,
}

fn header(st: &libc::stat, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid.into());
    h.set_gid(st.st_gid.into());
    h.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
    h.set_size(0);
    h
}

impl<W: Write> Walk<W> {
    fn add(&mut self, fd: OwnedFd, path: &str) -> io::Result<()> {
        let st = fstat(&fd)?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {
                let mut h = header(&st, tar::EntryType::Directory);
                self.b.append_data(&mut h, format!("{path}/"), io::empty())?;
                let dir = crate::dirfd::DirFd::from_fd(reopen(&fd, libc::O_RDONLY | libc::O_DIRECTORY)?);
                for name in dir.entries()? {
                    // An entry that vanished meanwhile is skipped, as tar(1) does.
                    let child = match open_child(&fd, &name) {
                        Ok(c) => c,
                        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                        Err(e) => return Err(e),
                    };
                    self.add(child, &format!("{path}/{}", name.to_string_lossy()))?;
                }
            }
            libc::S_IFREG => {
                let key = (st.st_dev, st.st_ino);
                if st.st_nlink > 1 {
                    if let Some(first) = self.links.get(&key) {
                        let mut h = header(&st, tar::EntryType::Link);
                        return self.b.append_link(&mut h, path, first.as_str());
                    }
                    self.links.insert(key, path.to_string());
                }
                let f = File::from(reopen(&fd, libc::O_RDONLY)?);
                let mut h = header(&st, tar::EntryType::Regular);
                let size = u64::try_from(st.st_size).unwrap_or(0);
                h.set_size(size);
                self.b.append_data(&mut h, path, Exactly { inner: f, left: size })?;
            }
            libc::S_IFLNK => {
                let target = read_link(&fd)?;
                let mut h = header(&st, tar::EntryType::Symlink);
                self.b.append_link(&mut h, path, OsStr::from_bytes(&target))?;
            }
            libc::S_IFIFO => {
                let mut h = header(&st, tar::EntryType::Fifo);
                self.b.append_data(&mut h, path, io::empty())?;
            }
            kind @ (libc::S_IFCHR | libc::S_IFBLK) => {
                let t = if kind == libc::S_IFCHR { tar::EntryType::Char } else { tar::EntryType::Block };
                let mut h = header(&st, t);
                h.set_device_major(libc::major(st.st_rdev))?;
                h.set_device_minor(libc::minor(st.st_rdev))?;
                self.b.append_data(&mut h, path, io::empty())?;
            }
            _ => {} // sockets are not archived (as Go's archive/tar)
        }
        Ok(())
    }
}

/// Writes the entry `top` (a descriptor of a file, directory or symlink, O_PATH is
/// enough; a symlink is archived as itself) and everything below it as a tar whose top
/// entry is called `name`.
pub fn archive_entry(top: &impl std::os::fd::AsFd, name: &str, w: impl Write) -> Result<()> {
    let shown = || name.to_string();
    let fd = top.as_fd().try_clone_to_owned().map_err(|e| StoreError::io(shown(), e))?;
    let mut walk = Walk { b: tar::Builder::new(w), links: HashMap::new() };
    walk.add(fd, name.trim_end_matches('/')).map_err(|e| StoreError::io(shown(), e))?;
    walk.b.into_inner().map_err(|e| StoreError::io(shown(), e))?.flush().map_err(|e| StoreError::io(shown(), e))
}
