//! `berth-shim`: the per-container parent. It creates the container through
//! an OCI runtime, owns its stdio (json-file log, attach clients), reaps it
//! and records its exit code, serving berthd over `<state-dir>/shim.sock`.
//! The protocol is described in `control.rs`.

mod args;
mod console;
mod container;
mod control;
mod daemon;
mod error;
mod exec;
mod frames;
mod logfile;
mod oom;
mod process;
mod runtime;
mod shim;
mod stdin;

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use args::Config;
use error::{Error, Result};
use logfile::JsonLog;
use runtime::Runtime;
use shim::Shim;

fn main() {
    abort_on_panic();
    daemon::close_inherited_fds();
    let cfg = match Config::parse(std::env::args_os().skip(1)).and_then(absolute) {
        Ok(c) => c,
        Err(e) => fail_early(e),
    };
    let mut ready = match daemon::detach() {
        Ok(r) => r,
        Err(e) => fail_early(e),
    };
    // From here on we are the shim, in our own session.
    match set_up(&cfg) {
        Ok((shim, pid)) => {
            ready.report(&format!("ok {pid}"));
            drop(ready);
            shim.run();
        }
        Err(e) => {
            ready.report(&format!("err {e}"));
            std::process::exit(1);
        }
    }
}

/// Before the fork, stdout is still berthd's pipe: report there directly.
fn fail_early(e: Error) -> ! {
    print!("{}", daemon::one_line(&format!("err {e}")));
    std::process::exit(1);
}

/// Writes the pid file, binds the control socket, opens the log and creates
/// the container. On failure the socket is removed again; shim.pid stays,
/// like everything in the state dir, for berthd to remove.
fn set_up(cfg: &Config) -> Result<(Shim<'_>, i32)> {
    let pid_file = cfg.state_file("shim.pid");
    std::fs::write(&pid_file, std::process::id().to_string())
        .map_err(|e| Error::io(format!("write {}", pid_file.display()), e))?;
    let log = JsonLog::open(&cfg.log, cfg.log_rotation)?;
    let sock = cfg.state_file("shim.sock");
    let _ = std::fs::remove_file(&sock);
    let listener = bind_anywhere(&cfg.state_dir, &sock)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| Error::io(format!("listen on {}", sock.display()), e))?;
    let rt = Runtime::new(cfg);
    match container::create(cfg, &rt) {
        Ok(created) => {
            let pid = created.init_pid;
            Ok((Shim::new(cfg, created, listener, log), pid))
        }
        Err(e) => {
            drop(listener);
            let _ = std::fs::remove_file(&sock);
            Err(e)
        }
    }
}

/// The shim leaves its cwd, so relative paths are resolved first. A bare
/// runtime name stays as is, to be looked up in PATH.
fn absolute(mut cfg: Config) -> Result<Config> {
    let abs = |p: &Path| -> Result<PathBuf> {
        std::path::absolute(p).map_err(|e| Error::io(format!("resolve {}", p.display()), e))
    };
    cfg.bundle = abs(&cfg.bundle)?;
    cfg.state_dir = abs(&cfg.state_dir)?;
    cfg.runtime_root = abs(&cfg.runtime_root)?;
    cfg.log = abs(&cfg.log)?;
    if cfg.runtime.components().count() > 1 {
        cfg.runtime = abs(&cfg.runtime)?;
    }
    Ok(cfg)
}

/// Binds `sock` (inside `dir`) even when its path is longer than a unix
/// socket address allows (108 bytes): then it binds through the short
/// `/proc/self/fd/<dirfd>/shim.sock` alias of the same place.
fn bind_anywhere(dir: &std::path::Path, sock: &std::path::Path) -> std::io::Result<UnixListener> {
    use std::os::unix::ffi::OsStrExt;
    if sock.as_os_str().as_bytes().len() < 100 {
        return UnixListener::bind(sock);
    }
    let d = std::fs::File::open(dir)?;
    let name = sock.file_name().unwrap_or_default();
    use std::os::fd::AsRawFd;
    let short = std::path::Path::new("/proc/self/fd").join(d.as_raw_fd().to_string()).join(name);
    UnixListener::bind(short)
}

/// The workspace builds with `panic = "unwind"` for berthd's sake; the shim
/// keeps abort's semantics: after a panic it stops at once, as a process
/// whose state (container stdio, exit status) can no longer be trusted,
/// and never unwinds through a forked child. The default hook prints the
/// message first.
fn abort_on_panic() {
    let print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        print(info);
        std::process::abort();
    }));
}
