//! Creating the container through the runtime, with pipes for its stdio.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Stdio;

use crate::args::Config;
use crate::console::ConsoleSocket;
use crate::error::{Error, Result};
use crate::process;
use crate::runtime::{CreateStdio, Runtime};

/// A created (not yet started) container, from the shim's side.
pub struct Created {
    pub init_pid: i32,
    pub pidfd: OwnedFd,
    /// Our (non-blocking) read ends of the container's stdout and stderr;
    /// with a terminal, its master (output is all "stdout" then).
    pub stdout: File,
    pub stderr: Option<File>,
    /// Our (non-blocking) write end of the container's stdin, with `--stdin`.
    pub stdin: Option<File>,
    /// The pty master, for window size changes.
    pub terminal: Option<OwnedFd>,
}

/// Runs `runtime create`. On failure the runtime's state is removed again.
pub fn create(cfg: &Config, rt: &Runtime) -> Result<Created> {
    if cfg.tty {
        return create_with_terminal(cfg, rt);
    }
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
    }, None)?;
    let (init_pid, pidfd) = init_process(cfg, rt)?;
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
        stderr: Some(File::from(err_r)),
        stdin: stdin_ours.map(File::from),
        terminal: None,
    })
}

/// `runtime create` for a container with a terminal: the runtime makes the
/// pty and sends its master over our console socket. The master carries
/// both output and (with `--stdin`) input.
fn create_with_terminal(cfg: &Config, rt: &Runtime) -> Result<Created> {
    let console = ConsoleSocket::bind(&cfg.state_dir, "console.sock")?;
    let null = || CreateStdio { stdin: Stdio::null(), stdout: Stdio::null(), stderr: Stdio::null() };
    rt.create(null(), Some(&console.path))?;
    let done = console.receive().and_then(|master| {
        let (pid, pidfd) = init_process(cfg, rt)?;
        set_nonblocking(&master)?;
        let out = master.try_clone().map_err(|e| Error::io("dup terminal", e))?;
        let stdin = match cfg.stdin {
            true => Some(File::from(master.try_clone().map_err(|e| Error::io("dup terminal", e))?)),
            false => None,
        };
        Ok(Created { init_pid: pid, pidfd, stdout: File::from(out), stderr: None, stdin, terminal: Some(master) })
    });
    if done.is_err() {
        rt.delete();
    }
    done
}

/// The created container's init pid and a pidfd for it; on failure the
/// runtime's state is removed.
fn init_process(cfg: &Config, rt: &Runtime) -> Result<(i32, OwnedFd)> {
    let opened = process::read_pid_file(&cfg.state_file("init.pid"))
        .and_then(|pid| Ok((pid, process::pidfd_open(pid)?)));
    if opened.is_err() {
        rt.delete();
    }
    opened
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
