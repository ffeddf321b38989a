//! Named network namespaces: `/run/netns/<name>` bind mounts, as `ip netns`
//! makes them, so the `ip` command reaches them by name (`ip -n NAME`,
//! `netns NAME`). A namespace lives until its file is unmounted.

use crate::NetError;
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

pub const NETNS_DIR: &str = "/run/netns";

pub fn path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(name)
}

pub fn exists(name: &str) -> bool {
    std::fs::symlink_metadata(path(name)).is_ok()
}

fn cpath(p: &std::path::Path) -> Result<CString, NetError> {
    CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| NetError::Invalid(format!("bad path {}", p.display())))
}

/// Creates a new network namespace with `lo` up, pinned at `/run/netns/<name>`.
pub fn create(name: &str) -> Result<(), NetError> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(NetError::Invalid(format!("bad netns name {name:?}")));
    }
    std::fs::create_dir_all(NETNS_DIR).map_err(NetError::io(format!("creating {NETNS_DIR}")))?;
    let target = path(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(NetError::io(format!("creating {}", target.display())))?;
    let t2 = target.clone();
    // A short-lived thread moves itself into the new namespace; the other
    // threads of berthd keep theirs.
    let res = std::thread::spawn(move || -> Result<(), NetError> {
        // SAFETY: unshare takes no pointers; it changes only this thread.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(NetError::io("unshare(CLONE_NEWNET)")(std::io::Error::last_os_error()));
        }
        let src = cpath(std::path::Path::new("/proc/thread-self/ns/net"))?;
        let dst = cpath(&t2)?;
        // SAFETY: valid NUL-terminated paths; a bind mount with no data.
        let rc = unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) };
        if rc != 0 {
            return Err(NetError::io(format!("bind-mounting netns on {}", t2.display()))(std::io::Error::last_os_error()));
        }
        loopback_up()
    })
    .join()
    .unwrap_or_else(|_| Err(NetError::Invalid("netns thread panicked".into())));
    if res.is_err() {
        let _ = remove(name);
    }
    res
}

/// Brings `lo` up in the calling thread's namespace (one ioctl, no exec).
fn loopback_up() -> Result<(), NetError> {
    // SAFETY: socket() takes no pointers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(NetError::io("socket")(std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a socket we just opened and own from here on.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS with a valid ifreq that outlives the calls.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(NetError::io("SIOCGIFFLAGS lo")(std::io::Error::last_os_error()));
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(NetError::io("SIOCSIFFLAGS lo")(std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Unpins and deletes a namespace (its veth ends go with it). Missing is fine.
pub fn remove(name: &str) -> Result<(), NetError> {
    let p = path(name);
    if std::fs::symlink_metadata(&p).is_err() {
        return Ok(());
    }
    let c = cpath(&p)?;
    // SAFETY: umount2 with a valid NUL-terminated path; failure (not a mount) is fine.
    unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetError::io(format!("removing {}", p.display()))(e)),
    }
}

/// Runs `f` on a thread that has joined the namespace `name` (sockets made
/// there stay in that namespace: how the embedded DNS listens inside).
pub fn run_in<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T, NetError> {
    let file = std::fs::File::open(path(name)).map_err(NetError::io(format!("opening netns {name}")))?;
    std::thread::spawn(move || -> Result<T, NetError> {
        // SAFETY: setns with an open namespace fd; changes only this thread.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(NetError::io("setns")(std::io::Error::last_os_error()));
        }
        Ok(f())
    })
    .join()
    .unwrap_or_else(|_| Err(NetError::Invalid("netns thread panicked".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for n in ["", "../x", "a/b", ".hidden"] {
            assert!(create(n).is_err(), "{n}");
        }
    }
}
