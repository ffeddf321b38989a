//! berthd: the berth daemon. Serves the Docker Engine API on a unix socket.

mod config;
mod container;
mod daemon;
mod diskusage;
mod error;
mod events;
mod host;
mod http;
mod image;
mod network;
mod router;
mod volume;
mod routes;
mod trace;

use anyhow::{bail, Context};
use clap::Parser;
use std::path::PathBuf;

/// Flags follow dockerd's where they overlap.
#[derive(Parser, Debug)]
#[command(name = "berthd", version, about = "The berth container engine daemon")]
struct Args {
    /// Daemon socket to listen on (unix://PATH)
    #[arg(short = 'H', long = "host", default_value = "unix:///run/berth/berth.sock")]
    host: String,
    /// Root directory of persistent state
    #[arg(long = "data-root", default_value = "/var/lib/berth")]
    data_root: PathBuf,
    /// Root directory for execution state (sockets, shims)
    #[arg(long = "exec-root", default_value = "/run/berth")]
    exec_root: PathBuf,
    /// Path of the daemon's PID file
    #[arg(short = 'p', long = "pidfile")]
    pidfile: Option<PathBuf>,
    /// Enable debug logging
    #[arg(short = 'D', long = "debug")]
    debug: bool,
    /// OCI runtime used for containers: a name found beside berthd or on
    /// PATH (berth-oci, berth's own on youki's libcontainer; runc; crun...),
    /// or a path
    #[arg(long = "default-runtime", default_value = "berth-oci")]
    runtime: String,
    /// Register an OCI runtime containers may choose with --runtime (NAME=PATH, repeatable)
    #[arg(long = "add-runtime", value_name = "NAME=PATH")]
    add_runtime: Vec<String>,
    /// The per-container shim binary (default: berth-shim beside berthd)
    #[arg(long = "shim")]
    shim: Option<PathBuf>,
    /// Linux bridge of the default `bridge` network
    #[arg(short = 'b', long = "bridge", default_value = "berth0")]
    bridge: String,
    /// Address and prefix of the default bridge (e.g. 172.30.0.1/16)
    #[arg(long = "bip")]
    bip: Option<String>,
}

fn socket_path(host: &str) -> anyhow::Result<PathBuf> {
    match host.strip_prefix("unix://") {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => bail!("unsupported host {host:?}: berthd listens on unix:// sockets only"),
    }
}

/// The runtimes containers may name: berth-oci and runc when installed
/// (dockerd registers runc the same way), the default, and `--add-runtime`s.
fn runtimes(
    default_name: &str,
    default_path: &std::path::Path,
    added: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, PathBuf>> {
    let mut out = std::collections::BTreeMap::new();
    for name in ["berth-oci", "runc"] {
        if let Some(p) = config::find_binary(name) {
            out.insert(name.to_string(), p);
        }
    }
    out.insert(default_name.to_string(), default_path.to_path_buf());
    for spec in added {
        let (name, path) = spec.split_once('=').with_context(|| format!("--add-runtime {spec:?}: expected NAME=PATH"))?;
        if name.is_empty() || path.is_empty() {
            bail!("--add-runtime {spec:?}: expected NAME=PATH");
        }
        // The default's binary is --default-runtime's to choose.
        if name == default_name {
            bail!("runtime name '{name}' is reserved");
        }
        out.insert(name.to_string(), PathBuf::from(path));
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    daemon::set_debug(args.debug);
    let socket = socket_path(&args.host)?;
    let find = |name: &str| config::find_binary(name).with_context(|| format!("{name} not found (beside berthd or on PATH)"));
    let runtime = if args.runtime.contains('/') { PathBuf::from(&args.runtime) } else { find(&args.runtime)? };
    let default_runtime = runtime.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| args.runtime.clone());
    let runtimes = runtimes(&default_runtime, &runtime, &args.add_runtime)?;
    let shim = match args.shim {
        Some(s) => s,
        None => find("berth-shim")?,
    };
    let init = config::find_binary("tini-static");
    become_subreaper();
    let data_root = std::path::absolute(&args.data_root)?;
    let net = network::NetConfig {
        data_root: data_root.clone(),
        bridge: args.bridge.clone(),
        bip: args.bip.clone(),
        pool_lock: PathBuf::from("/run/berth-ipam.lock"),
        owner_dir: PathBuf::from("/run/berth"),
    };
    let cfg = config::DaemonConfig {
        net,
        data_root,
        exec_root: std::path::absolute(&args.exec_root)?,
        shim,
        runtime,
        default_runtime,
        runtimes,
        init,
        debug: args.debug,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let d = daemon::Daemon::open(cfg).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let d2 = d.clone();
        tokio::spawn(reap_orphans());
        let listener = http::server::bind(&socket).with_context(|| format!("binding {}", socket.display()))?;
        if let Some(p) = &args.pidfile {
            std::fs::write(p, format!("{}\n", std::process::id())).with_context(|| format!("writing {}", p.display()))?;
        }
        daemon::log(&format!("API listening on {}", socket.display()));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        tokio::select! {
            _ = http::server::serve(listener, d) => {}
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        // Containers keep running under their shims (live restore).
        let _ = std::fs::remove_file(&socket);
        if let Some(p) = &args.pidfile {
            let _ = std::fs::remove_file(p);
        }
        d2.shutdown();
        daemon::log("shutting down; containers keep running");
        Ok(())
    })
}


/// Orphaned shims are re-parented to berthd, which reaps them
/// (`reap_orphans`): some hosts' pid 1 never reaps.
fn become_subreaper() {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Reaps every exited child on SIGCHLD. berthd waits for no child by pid
/// (the shim launcher's status is not used), so reaping them all is safe.
async fn reap_orphans() {
    let Ok(mut sig) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()) else {
        daemon::log("cannot watch SIGCHLD; exited shims will not be reaped");
        return;
    };
    loop {
        // Not while berth-net waits for an ip/iptables child of its own.
        let _ = tokio::task::spawn_blocking(|| {
            let _g = berth_net::exec::reaper_lock();
            loop {
                let mut status = 0;
                // SAFETY: waitpid with a valid status pointer and WNOHANG never blocks.
                let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
                if pid <= 0 {
                    break;
                }
            }
        })
        .await;
        if sig.recv().await.is_none() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::runtimes;
    use std::path::Path;

    #[test]
    fn added_runtimes_are_registered_and_the_default_is_reserved() {
        let added = vec!["fast=/opt/fast-runc".to_string()];
        let r = runtimes("berth-oci", Path::new("/usr/lib/berth/berth-oci"), &added).expect("runtimes");
        assert_eq!(r.get("fast").map(|p| p.as_path()), Some(Path::new("/opt/fast-runc")));
        assert_eq!(r.get("berth-oci").map(|p| p.as_path()), Some(Path::new("/usr/lib/berth/berth-oci")));
        for bad in ["fast", "=/x", "fast=", "berth-oci=/x"] {
            assert!(runtimes("berth-oci", Path::new("/b"), &[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
