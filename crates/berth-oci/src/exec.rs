//! `exec`: runs the process described by a process.json in a running
//! container (libcontainer's tenant builder). The process is forked by us,
//! so with `--detach` it is reparented to the nearest subreaper when we exit
//! (berth's shim), as with runc; without a console socket it inherits our
//! stdin, stdout and stderr.

use std::path::Path;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;

use crate::cli::validate_id;
use crate::container::{load, status_name};
use crate::error::{Error, Result};
use crate::executor::RuncExecutor;
use crate::seccomp_cache;

pub struct ExecOpts<'a> {
    pub process: &'a Path,
    pub console_socket: Option<&'a Path>,
    pub detach: bool,
    pub pid_file: Option<&'a Path>,
}

/// Starts the process; returns its exit code when not detached (runc waits
/// for it then and exits with its status), else 0.
pub fn exec(root: &Path, id: &str, opts: &ExecOpts) -> Result<i32> {
    validate_id(id)?;
    // runc's words for the states exec refuses, before libcontainer's.
    let c = load(root, id)?;
    if !c.can_exec() {
        return Err(Error::WrongState {
            id: id.to_string(),
            status: status_name(c.status()),
            what: "cannot exec in a container that is not running",
        });
    }
    check_process_file(opts.process)?;
    // The tenant runs under the container's seccomp profile (from its bundle).
    let spec = crate::create::read_spec(c.bundle());
    if let Some(profile) = spec.as_ref().and_then(seccomp_cache::profile_of) {
        seccomp_cache::prepare(root, &profile);
    }
    let pid = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_executor(RuncExecutor)
        .with_root_path(root)
        .and_then(|b| b.with_pid_file(opts.pid_file))
        .map_err(Error::container("exec"))?
        .with_console_socket(opts.console_socket)
        .as_tenant()
        .with_process(Some(opts.process))
        .with_detach(opts.detach)
        .build()
        .map_err(|e| {
            reap_children();
            exec_error(id, e)
        })?;
    if opts.detach {
        return Ok(0);
    }
    wait_exit(pid.as_raw())
}

/// libcontainer reads the file itself, but says only "does not exist" or
/// a serde error without the path; the caller's log should name it.
fn check_process_file(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(Error::io("read process file", path))?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .map(|_| ())
        .map_err(|e| Error::Usage(format!("process file {}: {e}", path.display())))
}

fn exec_error(id: &str, e: LibcontainerError) -> Error {
    match e {
        LibcontainerError::IncorrectStatus(s) => Error::WrongState {
            id: id.to_string(),
            status: status_name(s),
            what: "cannot exec in a container that is not running",
        },
        e => Error::container("exec")(e),
    }
}

/// After a failed exec libcontainer leaves its intermediate and the
/// process that could not exec unreaped; as zombies they would be
/// reparented to the shim, which only waits for pids it knows, and one
/// that joined the container's pid namespace would keep the container's
/// init from ever finishing its exit. Every child we still have is such
/// debris: kill and reap them all.
fn reap_children() {
    for pid in children() {
        // SAFETY: kill and waitpid have no memory-safety preconditions
        // beyond the out-pointer, a local int.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut status = 0;
            while libc::waitpid(pid, &mut status, 0) < 0
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {}
        }
    }
}

/// Our children, from /proc/self/task/*/children (every thread's).
fn children() -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(text.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

/// Waits for our child `pid`; its exit code, or 128+signal as a shell says.
fn wait_exit(pid: i32) -> Result<i32> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local int.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::io("wait for exec process", format!("pid {pid}"))(err));
        }
        if libc::WIFEXITED(status) {
            return Ok(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(128 + libc::WTERMSIG(status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(p: &Path) -> ExecOpts<'_> {
        ExecOpts {
            process: p,
            console_socket: None,
            detach: true,
            pid_file: None,
        }
    }

    #[test]
    fn unknown_container_and_hostile_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("p.json");
        assert!(matches!(
            exec(dir.path(), "nope", &opts(&p)),
            Err(Error::NotFound(_))
        ));
        for id in ["..", "../x", "a/b", ""] {
            assert!(matches!(
                exec(dir.path(), id, &opts(&p)),
                Err(Error::InvalidId { .. })
            ));
        }
    }

    #[test]
    fn process_file_must_be_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("p.json");
        assert!(check_process_file(&p).is_err());
        std::fs::write(&p, b"{nope").expect("write");
        let e = check_process_file(&p).expect_err("garbage");
        assert!(e.to_string().contains("p.json"), "{e}");
        std::fs::write(&p, br#"{"args":["sh"],"cwd":"/"}"#).expect("write");
        check_process_file(&p).expect("json");
    }

    /// The tests that fork must not reap each other's children.
    static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn failed_exec_debris_is_reaped() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the child only pauses until killed.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: blocks the forked child until a signal ends it.
            unsafe {
                libc::pause();
                libc::_exit(0)
            };
        }
        assert!(children().contains(&pid));
        reap_children();
        assert!(!children().contains(&pid));
        assert!(wait_exit(pid).is_err(), "already reaped");
    }

    #[test]
    fn exit_codes_of_children() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the forked child at once.
            unsafe { libc::_exit(7) };
        }
        assert_eq!(wait_exit(pid).expect("wait"), 7);
        assert!(wait_exit(pid).is_err(), "reaped already");
    }
}
