//! The API server: accepts connections on the unix socket, strips and
//! checks the `/v1.xx` prefix, sets Docker's standard headers, and hands
//! each request to the router.

use super::response::{error, Resp};
use crate::daemon::Daemon;
use crate::router;
use berth_api::version::{check_requested, split_version_prefix, API_VERSION};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use tokio::net::UnixListener;

/// Binds the socket (replacing a stale one) with mode 0660.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let l = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(l)
}

pub async fn serve(listener: UnixListener, daemon: Arc<Daemon>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                crate::daemon::log(&format!("accept: {e}"));
                continue;
            }
        };
        let d = daemon.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let d = d.clone();
                async move { Ok::<_, Infallible>(handle(d, req).await) }
            });
            let conn = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    crate::daemon::debug(&format!("connection: {e}"));
                }
            }
        });
    }
}

async fn handle(d: Arc<Daemon>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let (version, rest) = split_version_prefix(&path);
    crate::daemon::debug(&format!("{} {}", req.method(), req.uri()));
    let mut resp = match check_requested(version) {
        Err(e) => error(&e),
        Ok(v) => router::route(d, req, rest, v).await,
    };
    let h = resp.headers_mut();
    for (k, v) in [
        ("api-version", API_VERSION),
        ("docker-experimental", "false"),
        ("ostype", "linux"),
        ("server", concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    resp
}
