//! `GET /events`: past events since `since`, then live ones until `until`
//! (or until the client goes away).

use super::query;
use crate::daemon::Daemon;
use crate::events::{matches, Event, FILTERS};
use crate::http::response::{with_body, Resp};
use crate::http::Body;
use berth_api::ApiError;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::Request;
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast::error::RecvError;

pub fn stream(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let q = query(req);
    let filters = q.filters()?;
    filters.validate(FILTERS)?;
    let now = SystemTime::now();
    let time_arg = |k: &str| -> Result<Option<i128>, ApiError> {
        match q.get(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => berth_api::time::parse_time_filter(v, now)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("invalid value for \"{k}\": {v}"))),
        }
    };
    let since = time_arg("since")?;
    let until = time_arg("until")?;
    let (past, mut rx) = d.events.subscribe(since);
    let (tx, body) = Body::channel(64);
    tokio::spawn(async move {
        let encode = |e: &Event| -> Option<Bytes> {
            let mut v = serde_json::to_vec(e).ok()?;
            v.push(b'\n');
            Some(Bytes::from(v))
        };
        let in_window = |e: &Event| until.is_none_or(|u| i128::from(e.time_nano) <= u);
        for e in past.iter().filter(|e| matches(e, &filters) && in_window(e)) {
            let Some(b) = encode(e) else { continue };
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let deadline = until.map(|u| {
            let now = berth_api::time::unix_nanos(SystemTime::now());
            tokio::time::Instant::now() + Duration::from_nanos(u.saturating_sub(now).max(0) as u64)
        });
        loop {
            let next = async {
                match deadline {
                    Some(dl) => tokio::time::timeout_at(dl, rx.recv()).await.ok(),
                    None => Some(rx.recv().await),
                }
            };
            let e = match next.await {
                None => return, // until reached
                Some(Ok(e)) => e,
                Some(Err(RecvError::Lagged(_))) => continue,
                Some(Err(RecvError::Closed)) => return,
            };
            if !matches(&e, &filters) || !in_window(&e) {
                continue;
            }
            let Some(b) = encode(&e) else { continue };
            if tx.send(b).await.is_err() {
                return;
            }
        }
    });
    Ok(with_body(200, "application/json", body))
}
