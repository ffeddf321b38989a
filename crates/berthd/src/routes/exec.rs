//! `/containers/{id}/exec` and `/exec/...` handlers.

use super::json_body;
use crate::daemon::Daemon;
use crate::http::response::{json, ok_json, status_only, Resp};
use berth_api::exec::{ExecConfig, ExecStartConfig, IdResponse};
use berth_api::gates::VersionGates;
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;

pub async fn create(d: &Daemon, req: &mut Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let body: ExecConfig = json_body(req, super::CONFIG_BODY).await?;
    let c = d.containers.get(id)?;
    let id = d.containers.exec_create(&c, body)?;
    Ok(json(201, &IdResponse { id }))
}

pub fn inspect(d: &Daemon, id: &str) -> Result<Resp, ApiError> {
    Ok(ok_json(&d.containers.exec_inspect(id)?))
}

pub async fn resize(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let (h, w) = super::containers::resize_args(req)?;
    if h == 0 || w == 0 {
        d.containers.exec_get(id)?;
        return Ok(status_only(200));
    }
    d.containers.exec_resize(id, h, w).await?;
    Ok(status_only(200))
}

/// Detached: 200 once the process runs. Attached: 101, then the session
/// runs on the upgraded connection.
pub async fn start(d: &Daemon, req: &mut Request<Incoming>, id: &str, gates: VersionGates) -> Result<Resp, ApiError> {
    let body: ExecStartConfig = json_body(req, super::SMALL_BODY).await?;
    let e = d.containers.exec_get(id)?;
    let conn = d.containers.exec_start(&e, &body).await?;
    if body.detach {
        d.containers.exec_detached(conn).await?;
        return Ok(status_only(200));
    }
    // The start request's Tty alone decides raw or multiplexed output.
    let tty = body.tty;
    let on_upgrade = hyper::upgrade::on(req);
    let mgr = d.containers.clone();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => mgr.exec_attached(conn, TokioIo::new(upgraded)).await,
            // No upgrade: follow the process anyway, so its exit is recorded.
            Err(_) => mgr.exec_attached(conn, tokio::io::join(tokio::io::empty(), tokio::io::sink())).await,
        }
    });
    Ok(crate::http::response::hijacked(!tty && gates.multiplexed_stream_type()))
}
