//! Creating the container through the runtime, with pipes for its stdio.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Stdio;

use crate::args::Config;
use crate::error::{Error, Result};
use crate::process;
use crate::runtime::{CreateStdio, Runtime};

/// A created (not yet started) container, from the shim's side.
pub struct Created {
    pub init_pid: i32,
    pub pidfd: OwnedFd,
    /// Our (non-blocking) read ends of the container's stdout and stderr.
    pub stdout: File,
    pub stderr: File,
    /// Our (non-blocking) write end of the container's stdin, with `--stdin`.
    pub stdin: Option<File>,
}

/// Runs `runtime create`. On failure the runtime's state is removed again.
pub fn create(cfg: &Config, rt: &Runtime) -> Result<Created> {
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_theirs, stdin_ours) = if cfg.stdin {
        let (r, w) = pipe()?;
        (Stdio::from(r), Some(w))
    } else {
        (Stdio::null(), None)
    };
    // The runtime passes its own stdio on to the container process; `run`
    // drops the Command and with it our copies of the container's ends, so
    // EOF on the read ends means the container side is closed.
    rt.create(CreateStdio {
        stdin: stdin_theirs,
        stdout: Stdio::from(out_w),
        stderr: Stdio::from(err_w),
    })?;
    let opened = process::read_pid_file(&cfg.state_file("init.pid"))
        .and_then(|pid| Ok((pid, process::pidfd_open(pid)?)));
    let (init_pid, pidfd) = match opened {
        Ok(v) => v,
        Err(e) => {
            rt.delete();
            return Err(e);
        }
    };
    for fd in [Some(&out_r), Some(&err_r), stdin_ours.as_ref()]
        .into_iter()
        .flatten()
    {
        if let Err(e) = set_nonblocking(fd) {
            rt.delete();
            return Err(e);
        }
    }
    Ok(Created {
        init_pid,
        pidfd,
        stdout: File::from(out_r),
        stderr: File::from(err_r),
        stdin: stdin_ours.map(File::from),
    })
}

/// Makes an fd non-blocking (only its open file description, i.e. our end).
pub fn set_nonblocking(fd: &impl AsRawFd) -> Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl on an fd we own, with integer arguments only.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) >= 0
    };
    if !ok {
        return Err(Error::last_os("set O_NONBLOCK"));
    }
    Ok(())
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(Error::last_os("pipe2"));
    }
    // SAFETY: both fds were just created by pipe2 and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn pipe_is_cloexec_and_nonblocking_on_request() {
        let (r, w) = pipe().expect("pipe");
        for fd in [&r, &w] {
            // SAFETY: F_GETFD on an fd we own.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        }
        set_nonblocking(&r).expect("nonblocking");
        let mut r = File::from(r);
        let mut w = File::from(w);
        let mut buf = [0u8; 4];
        let e = r.read(&mut buf).expect_err("empty pipe must not block");
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        w.write_all(b"hi").expect("write");
        assert_eq!(r.read(&mut buf).expect("read"), 2);
    }
}
