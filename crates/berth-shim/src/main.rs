//! `berth-shim`: the per-container parent. It creates the container through
//! an OCI runtime, owns its stdio (json-file log, attach clients), reaps it
//! and records its exit code, serving berthd over `<state-dir>/shim.sock`.
//! The protocol is described in `control.rs`.

mod args;
mod container;
mod control;
mod daemon;
mod error;
mod frames;
mod logfile;
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
    let log = JsonLog::open(&cfg.log)?;
    let sock = cfg.state_file("shim.sock");
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock)
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
