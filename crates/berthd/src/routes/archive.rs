//! `/containers/{id}/archive` (`cp`): HEAD stats a path, GET reads it as a
//! tar, PUT extracts a tar into a directory.

use super::query;
use crate::container::ExtractRequest;
use crate::daemon::Daemon;
use crate::http::response::{status_only, with_body, Resp};
use crate::http::Body;
use berth_api::archive::{PathStat, STAT_HEADER};
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::Request;

fn path_param(req: &Request<Incoming>) -> Result<String, ApiError> {
    match query(req).get("path") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(ApiError::invalid("path parameter is required")),
    }
}

fn with_stat(mut r: Resp, stat: &PathStat) -> Resp {
    if let Ok(v) = stat.to_header().parse() {
        r.headers_mut().insert(STAT_HEADER, v);
    }
    r
}

pub async fn head(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let path = path_param(req)?;
    let c = d.containers.get(id)?;
    let stat = d.containers.stat_path(&c, id, &path).await?;
    Ok(with_stat(status_only(200), &stat))
}

pub async fn get(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let path = path_param(req)?;
    let c = d.containers.get(id)?;
    let (stat_tx, stat_rx) = tokio::sync::oneshot::channel();
    let (tx, body) = Body::channel(4);
    let mgr = d.containers.clone();
    let name = id.to_string();
    tokio::spawn(async move { mgr.get_archive(c, name, path, stat_tx, tx).await });
    let stat = stat_rx.await.map_err(|_| ApiError::internal("archive task ended early"))??;
    Ok(with_stat(with_body(200, "application/x-tar", body), &stat))
}

pub async fn put(d: &Daemon, req: Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let path = path_param(&req)?;
    let q = query(&req);
    let opts = ExtractRequest { no_overwrite_dir_non_dir: q.flag("noOverwriteDirNonDir"), copy_uid_gid: q.flag("copyUIDGID") };
    let (body, drained) = crate::http::stream_io::body_reader_draining(req.into_body());
    let res = match d.containers.get(id) {
        Ok(c) => d.containers.put_archive(&c, id, &path, opts, body).await,
        Err(e) => Err(e),
    };
    if res.is_err() {
        let _ = drained.await;
    }
    res.map(|()| status_only(200))
}
