//! berthd: the berth daemon. Serves the Docker Engine API on unix sockets
//! and TCP (plain or TLS), configured by flags and daemon.json.

mod build;
mod config;
mod container;
mod daemon;
mod daemon_json;
mod diskusage;
mod error;
mod events;
mod host;
mod http;
mod image;
mod listen;
mod network;
mod options;
mod reload;
mod plugin;
mod pull;
mod router;
mod volume;
mod routes;
mod tls;
mod trace;

use anyhow::{anyhow, Context};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let opts = options::from_command_line().map_err(|e| anyhow!(e))?;
    daemon::set_debug(opts.debug);
    let find = |name: &str| config::find_binary(name).with_context(|| format!("{name} not found (beside berthd or on PATH)"));
    let runtimes = config::Runtimes::build(&opts.default_runtime, &opts.added_runtimes).map_err(|e| anyhow!(e))?;
    let shim = match &opts.shim {
        Some(s) => s.clone(),
        None => find("berth-shim")?,
    };
    let init = config::find_binary("tini-static");
    // The API's settings are checked before anything else happens.
    let security = listen::TcpSecurity {
        tls: opts.tls.as_ref().map(tls::server_config).transpose()?,
        verify: opts.tls.as_ref().is_some_and(|t| t.verify),
        explicit: opts.tls_explicit,
    };
    for h in &opts.hosts {
        for w in listen::check_tcp(h, &security)? {
            daemon::log(&w);
        }
    }
    let etc_group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let gid = listen::socket_gid(opts.group.as_deref(), &etc_group)?;
    become_subreaper();
    let net = network::NetConfig {
        data_root: opts.data_root.clone(),
        bridge: opts.bridge.clone(),
        bip: opts.bip.clone(),
        pool_lock: PathBuf::from("/run/berth-ipam.lock"),
        pools: opts.pools.clone(),
        owner_dir: PathBuf::from("/run/berth"),
    };
    let cfg = config::DaemonConfig {
        net,
        data_root: opts.data_root.clone(),
        exec_root: opts.exec_root.clone(),
        shim,
        runtimes: std::sync::Arc::new(std::sync::RwLock::new(runtimes)),
        log_config: opts.log_config.clone(),
        init,
        registry: std::sync::Arc::new(std::sync::RwLock::new(opts.registry.clone())),
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
        let listeners = listen::bind_all(&opts.hosts, &security, gid).await.context("failed to load listeners")?;
        let sockets: Vec<PathBuf> = listeners.iter().filter_map(|l| l.socket_path().map(PathBuf::from)).collect();
        if let Some(p) = &opts.pidfile {
            std::fs::write(p, format!("{}\n", std::process::id())).with_context(|| format!("writing {}", p.display()))?;
        }
        for l in &listeners {
            daemon::log(&format!("API listening on {}", l.describe()));
        }
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let mut reloader = reload::Reloader::new(&opts);
        let serving = http::server::serve(listeners, d.clone());
        tokio::pin!(serving);
        loop {
            tokio::select! {
                _ = &mut serving => break,
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => reloader.reload(&d),
            }
        }
        // Containers keep running under their shims (live restore).
        for s in &sockets {
            let _ = std::fs::remove_file(s);
        }
        if let Some(p) = &opts.pidfile {
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

