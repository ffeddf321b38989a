//! The container's init process as seen by its subreaper: pid file, pidfd,
//! signals, reaping, and the recorded exit code.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Exit code recorded when the init process could not be reaped (it was
/// not our child); Docker reports unknown exits the same way.
pub const UNKNOWN_EXIT: i32 = 255;

/// Reads the pid the runtime wrote with `--pid-file`.
pub fn read_pid_file(path: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
    parse_pid(&text).ok_or_else(|| Error::Runtime(format!("invalid pid file content {text:?}")))
}

pub fn parse_pid(text: &str) -> Option<i32> {
    let t = text.trim();
    let pid: i32 = t.parse().ok()?;
    (pid > 0 && pid.to_string() == t).then_some(pid)
}

/// A pidfd: readable once the process has exited. Always close-on-exec.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Error::last_os(format!("pidfd_open {pid}")));
    }
    let fd = i32::try_from(fd).map_err(|_| Error::Runtime("pidfd out of range".into()))?;
    // SAFETY: fd was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reaps `pid` (which has exited, per its pidfd) and returns its exit code.
/// Only this pid is waited for, never -1, so std's own children are left alone.
pub fn reap(pid: i32) -> i32 {
    reap_status(pid).map_or(UNKNOWN_EXIT, exit_code)
}

/// Reaps `pid` and returns its raw wait status (`None`: not our child).
pub fn reap_status(pid: i32) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out-pointer for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Some(status);
        }
        if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// Docker's exit code: the exit status, or 128 + the signal that killed it.
pub fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        UNKNOWN_EXIT
    }
}

/// Records the exit code in `<dir>/exit` atomically: temp file, rename, so a
/// reader sees no file or the whole code. The file is for a berthd that was
/// down or restarting when the container exited; the page cache keeps it
/// across that. It is not fsynced: after a machine crash the container and
/// this shim are gone anyway (and the exec root is usually a tmpfs), and an
/// fsync here delayed every exit report by 1-3 ms.
pub fn write_exit_file(dir: &Path, code: i32) -> Result<()> {
    use std::io::Write;
    let tmp = dir.join(".exit.tmp");
    let fin = dir.join("exit");
    let content = code.to_string();
    let ctx = |e| Error::io(format!("write {}", fin.display()), e);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(ctx)?;
    f.write_all(content.as_bytes()).map_err(ctx)?;
    drop(f);
    std::fs::rename(&tmp, &fin).map_err(ctx)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::process::Command;

    #[test]
    fn parses_pids() {
        assert_eq!(parse_pid("123"), Some(123));
        assert_eq!(parse_pid(" 42\n"), Some(42));
        for bad in ["", "0", "-1", "abc", "12x", "99999999999", "+5", "1 2"] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(libc::SIGKILL), 137);
        assert_eq!(exit_code(libc::SIGTERM), 143);
    }

    #[test]
    // The child is reaped by `reap`, which is what is under test.
    #[allow(clippy::zombie_processes)]
    fn pidfd_reap_and_kill_a_child() {
        let child = Command::new("/bin/sleep")
            .arg("100")
            .spawn()
            .expect("spawn sleep");
        let pid = i32::try_from(child.id()).expect("pid fits");
        let fd = pidfd_open(pid).expect("pidfd");
        kill(pid, libc::SIGKILL).expect("kill");
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, 10_000) };
        assert_eq!(n, 1);
        assert_eq!(reap(pid), 137);
        // Already reaped: not our child any more.
        assert_eq!(reap(pid), UNKNOWN_EXIT);
    }

    #[test]
    fn writes_atomically() {
        let dir = std::env::temp_dir().join(format!("berth-shim-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        write_exit_file(&dir, 3).expect("write");
        write_exit_file(&dir, 42).expect("overwrite");
        assert_eq!(
            std::fs::read_to_string(dir.join("exit")).expect("read"),
            "42"
        );
        assert!(!dir.join(".exit.tmp").exists());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
