//! `POST /build` and `POST /build/prune`.

use super::query;
use crate::build::{error_line, BuildRequest, Item};
use crate::daemon::Daemon;
use crate::http::response::{ok_json, with_body, Resp};
use crate::http::stream_io::body_reader_draining;
use crate::http::Body;
use berth_api::ApiError;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::Request;
use tokio::sync::mpsc;

pub async fn build(d: &Daemon, mut req: Request<Incoming>) -> Result<Resp, ApiError> {
    let br = match BuildRequest::from_query(&query(&req)) {
        Ok(br) => br,
        Err(e) => {
            // The client is still sending its context: read it so it gets the answer.
            super::drain(req.body_mut()).await;
            return Err(e);
        }
    };
    let auth = req.headers().get("X-Registry-Config").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (reader, _drain) = body_reader_draining(req.into_body());
    let mut rx = d.builds.start(br, auth, reader);
    match rx.recv().await {
        None => Err(ApiError::internal("the build ended without a result")),
        Some(Item::Fail { error, .. }) => Err(error),
        Some(Item::Data(first)) => {
            let (tx, body) = Body::channel(16);
            tokio::spawn(forward(first, rx, tx));
            Ok(with_body(200, "application/json", body))
        }
    }
}

/// Copies the build's messages to the response; stops (and so tells the
/// build to stop) when the client goes away.
async fn forward(first: Bytes, mut rx: mpsc::Receiver<Item>, tx: mpsc::Sender<Bytes>) {
    if tx.send(first).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            item = rx.recv() => match item {
                Some(Item::Data(b)) => {
                    if tx.send(b).await.is_err() {
                        return;
                    }
                }
                Some(Item::Fail { error, code, at }) => {
                    let _ = tx.send(error_line(&error.message, code, at.as_ref())).await;
                    return;
                }
                None => return,
            },
            _ = tx.closed() => return,
        }
    }
}

/// `POST /build/prune[?all=1&filters={"until":["24h"]}]`.
pub async fn prune(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let q = query(req);
    let f = q.filters()?;
    f.validate(&["until"]).map_err(|_| ApiError::invalid("berth builder prune supports only the until filter"))?;
    for key in ["keep-storage", "reserved-space", "max-used-space", "min-free-space"] {
        if q.get(key).is_some_and(|v| !v.is_empty() && v != "0") {
            return Err(ApiError::invalid(format!("berth builder prune does not support {key} yet")));
        }
    }
    let until = f.until(std::time::SystemTime::now())?;
    let all = q.flag("all");
    let builds = d.builds.clone();
    let report = tokio::task::spawn_blocking(move || builds.prune(all, until)).await.map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(ok_json(&report))
}
