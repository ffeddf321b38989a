//! Leaving berthd behind: fork, `setsid`, subreaper, and the one-line
//! readiness report relayed by the short-lived parent.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use crate::container::pipe;
use crate::error::{Error, Result};

/// The shim's end of the readiness pipe.
pub struct Readiness {
    pipe: Option<File>,
}

impl Readiness {
    /// Sends the readiness line (`ok <pid>` or `err <message>`) once.
    pub fn report(&mut self, line: &str) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(one_line(line).as_bytes());
        }
    }
}

/// The report as exactly one line, whatever the message contained.
pub fn one_line(line: &str) -> String {
    let mut s: String = line
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    s.push('\n');
    s
}

/// Closes every fd above stderr. Whatever launched us may have leaked fds
/// without close-on-exec; they would otherwise live on in the shim and be
/// passed to the runtime and the container.
pub fn close_inherited_fds() {
    // SAFETY: close_range takes integers; nothing in this process uses fds > 2 yet.
    let r = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    if r < 0 {
        // Kernels before 5.9: close them one by one.
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let fds: Vec<i32> = dir
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect();
            for fd in fds {
                // SAFETY: see above; the directory's own fd is already closed.
                unsafe { libc::close(fd) };
            }
        }
    }
}

/// Forks. The parent never returns: it relays the child's readiness line
/// to its stdout and exits (0 for `ok`, 1 otherwise) so berthd can reap it
/// at once. The child returns, in a new session, as a child subreaper, with
/// fds 0-2 on /dev/null and its cwd at `/`; if that set-up fails the child
/// reports it as its readiness line and exits.
pub fn detach() -> Result<Readiness> {
    let (r, w) = pipe()?;
    // SAFETY: the process is single-threaded here, so the child may do anything.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::last_os("fork"));
    }
    if pid > 0 {
        drop(w);
        relay(File::from(r));
    }
    drop(r);
    let mut ready = Readiness {
        pipe: Some(File::from(w)),
    };
    if let Err(e) = become_shim() {
        ready.report(&format!("err {e}"));
        std::process::exit(1);
    }
    Ok(ready)
}

fn become_shim() -> Result<()> {
    // SAFETY: setsid has no memory-safety preconditions.
    if unsafe { libc::setsid() } < 0 {
        return Err(Error::last_os("setsid"));
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
        return Err(Error::last_os("PR_SET_CHILD_SUBREAPER"));
    }
    // berthd's stdout pipe must be held only by the parent, and the shim must
    // not pin whatever directory berthd ran in.
    null_stdio()?;
    std::env::set_current_dir("/").map_err(|e| Error::io("chdir /", e))
}

fn relay(mut from: File) -> ! {
    let mut line = Vec::new();
    let mut buf = [0u8; 1024];
    while !line.contains(&b'\n') && line.len() < 64 * 1024 {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => line.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let end = line
        .iter()
        .position(|&b| b == b'\n')
        .map_or(line.len(), |p| p + 1);
    line.truncate(end);
    if !line.ends_with(b"\n") {
        line = b"err shim exited before it was ready\n".to_vec();
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&line).and_then(|()| out.flush());
    std::process::exit(if line.starts_with(b"ok ") { 0 } else { 1 });
}

fn null_stdio() -> Result<()> {
    let null: OwnedFd = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Error::io("open /dev/null", e))?
        .into();
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard fds; std's handles to them stay valid fds.
        if unsafe { libc::dup2(null.as_raw_fd(), target) } < 0 {
            return Err(Error::last_os("dup2 /dev/null"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_one_line() {
        assert_eq!(one_line("ok 12"), "ok 12\n");
        assert_eq!(one_line("err a\nb\r"), "err a b \n");
    }
}
