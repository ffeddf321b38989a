//! Terminals: the console socket a runtime sends the pty master over
//! (runc's `--console-socket` protocol: one message, SCM_RIGHTS with the
//! master fd), and window size changes on that master.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A listening console socket, and the path to give the runtime.
pub struct ConsoleSocket {
    listener: UnixListener,
    /// Where the runtime connects. For long paths this goes through
    /// `/proc/<our pid>/fd/<dir fd>/`, which needs `dir` to stay open.
    pub path: PathBuf,
    file: PathBuf,
    _dir: Option<File>,
}

impl ConsoleSocket {
    /// Binds `<dir>/<name>`, replacing a stale socket of that name.
    pub fn bind(dir: &Path, name: &str) -> Result<ConsoleSocket> {
        let file = dir.join(name);
        let _ = std::fs::remove_file(&file);
        let ctx = |e| Error::io(format!("listen on {}", file.display()), e);
        if file.as_os_str().as_bytes().len() < 100 {
            let listener = UnixListener::bind(&file).map_err(ctx)?;
            return Ok(ConsoleSocket { listener, path: file.clone(), file, _dir: None });
        }
        let d = File::open(dir).map_err(ctx)?;
        let fd = d.as_raw_fd();
        let listener = UnixListener::bind(Path::new("/proc/self/fd").join(fd.to_string()).join(name))
            .map_err(ctx)?;
        let path = PathBuf::from(format!("/proc/{}/fd/{fd}/{name}", std::process::id()));
        Ok(ConsoleSocket { listener, path, file, _dir: Some(d) })
    }

    /// Takes the master the runtime sent. Call after the runtime exited
    /// successfully: its message is then already queued, so this never blocks
    /// for long; a runtime that sent nothing is an error, not a hang.
    pub fn receive(&self) -> Result<OwnedFd> {
        self.listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("console socket", e))?;
        let (conn, _) = self
            .listener
            .accept()
            .map_err(|e| Error::io("the runtime sent no terminal", e))?;
        recv_fd(conn.as_raw_fd())
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// Receives one fd passed with SCM_RIGHTS (blocking, on a connected socket).
fn recv_fd(sock: RawFd) -> Result<OwnedFd> {
    let mut data = [0u8; 4096];
    // u64 alignment is what cmsghdr needs; room for a few fds.
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; zeroed is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    let n = loop {
        // SAFETY: msg points at live buffers for the duration of the call.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break n;
    };
    if n < 0 {
        return Err(Error::last_os("receive terminal"));
    }
    let mut found: Option<OwnedFd> = None;
    // SAFETY: the CMSG_* macros walk the control buffer recvmsg filled in.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let payload = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let count = payload / std::mem::size_of::<RawFd>();
                let fds = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for k in 0..count {
                    let fd = OwnedFd::from_raw_fd(fds.add(k).read_unaligned());
                    // Keep the first; any extra fds are closed on drop.
                    if found.is_none() {
                        found = Some(fd);
                    }
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    found.ok_or_else(|| Error::Runtime("the runtime sent no terminal fd".into()))
}

/// Sets a terminal's window size (the kernel sends SIGWINCH to its
/// foreground process group).
pub fn set_winsize(fd: RawFd, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn send_fd(sock: &UnixStream, fd: RawFd) {
        let mut data = *b"/dev/pts/x";
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        let mut control = [0u64; 4];
        // SAFETY: building an SCM_RIGHTS message in local buffers.
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
            libc::CMSG_DATA(c).cast::<RawFd>().write_unaligned(fd);
            assert!(libc::sendmsg(sock.as_raw_fd(), &msg, 0) > 0);
        }
    }

    fn openpty() -> (OwnedFd, OwnedFd) {
        let (mut m, mut s) = (0, 0);
        // SAFETY: out-pointers to two ints; no name, termios or winsize.
        let r = unsafe {
            libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
        };
        assert_eq!(r, 0);
        // SAFETY: fresh fds from openpty.
        unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
    }

    #[test]
    fn receives_a_master_and_resizes_it() {
        let dir = tempdir("console");
        // A long directory name forces the /proc alias.
        let long = dir.join("d".repeat(100));
        std::fs::create_dir_all(&long).expect("mkdir");
        for d in [&dir, &long] {
            let sock = ConsoleSocket::bind(d, "console.sock").expect("bind");
            let (master, slave) = openpty();
            let client = UnixStream::connect(&sock.path).expect("connect");
            send_fd(&client, master.as_raw_fd());
            drop(client);
            let got = sock.receive().expect("receive");
            set_winsize(got.as_raw_fd(), 33, 120).expect("resize");
            let mut ws: libc::winsize = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
            // SAFETY: TIOCGWINSZ writes one winsize.
            assert_eq!(unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) }, 0);
            assert_eq!((ws.ws_row, ws.ws_col), (33, 120));
            let file = d.join("console.sock");
            drop(sock);
            assert!(!file.exists(), "socket file removed on drop");
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn nothing_sent_is_an_error_not_a_hang() {
        let dir = tempdir("console-empty");
        let sock = ConsoleSocket::bind(&dir, "c.sock").expect("bind");
        assert!(sock.receive().is_err(), "no connection");
        let client = UnixStream::connect(&sock.path).expect("connect");
        drop(client);
        assert!(sock.receive().is_err(), "connection without an fd");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("berth-shim-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }
}
