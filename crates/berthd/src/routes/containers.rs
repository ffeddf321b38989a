//! `/containers/...` handlers.

use super::{json_body, query};
use crate::container::{AttachOptions, ListOptions, LogOptions};
use crate::daemon::Daemon;
use crate::http::response::{json, ok_json, status_only, with_body, Resp};
use crate::http::Body;
use berth_api::container::CreateRequest;
use berth_api::gates::VersionGates;
use berth_api::{ApiError, ErrorKind};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;

pub async fn create(d: &Daemon, req: &mut Request<Incoming>, gates: VersionGates) -> Result<Resp, ApiError> {
    let q = query(req);
    let mut body: CreateRequest = json_body(req, super::CONFIG_BODY).await?;
    crate::container::netrequest::migrate_mac_address(&mut body, gates)?;
    let (mgr, name) = (d.containers.clone(), q.get("name").map(str::to_string));
    let created = tokio::task::spawn_blocking(move || mgr.create(name.as_deref(), body))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(json(201, &created))
}

pub async fn list(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let q = query(req);
    let opts = ListOptions { all: q.flag("all"), limit: q.int("limit")?, size: q.flag("size"), filters: q.filters()? };
    if !opts.size {
        return Ok(ok_json(&d.containers.list(&opts)?));
    }
    // `size` walks every upper directory: off the async workers.
    let mgr = d.containers.clone();
    let rows = tokio::task::spawn_blocking(move || mgr.list(&opts)).await.map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(ok_json(&rows))
}

pub async fn inspect(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    if !query(req).flag("size") {
        return Ok(ok_json(&d.containers.inspect(id, false)?));
    }
    let (mgr, id) = (d.containers.clone(), id.to_string());
    let r = tokio::task::spawn_blocking(move || mgr.inspect(&id, true)).await.map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(ok_json(&r))
}

/// Docker answers 304 for "already started/stopped"; the CLI treats it as success.
fn done_or_not_modified(r: Result<(), ApiError>) -> Result<Resp, ApiError> {
    match r {
        Ok(()) => Ok(status_only(204)),
        Err(e) if e.kind == ErrorKind::NotModified => Ok(status_only(304)),
        Err(e) => Err(e),
    }
}

pub async fn start(d: &Daemon, id: &str) -> Result<Resp, ApiError> {
    let c = d.containers.get(id)?;
    done_or_not_modified(d.containers.start(&c).await)
}

fn stop_args(req: &Request<Incoming>) -> Result<(Option<i64>, Option<String>), ApiError> {
    let q = query(req);
    let t = match q.int("t")? {
        Some(t) => Some(t),
        None => q.int("timeout")?,
    };
    Ok((t, q.get("signal").map(str::to_string)))
}

pub async fn stop(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let (t, sig) = stop_args(req)?;
    let c = d.containers.get(id)?;
    done_or_not_modified(d.containers.stop(&c, t, sig.as_deref()).await)
}

pub async fn restart(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let (t, sig) = stop_args(req)?;
    let c = d.containers.get(id)?;
    d.containers.restart(&c, t, sig.as_deref()).await?;
    Ok(status_only(204))
}

pub async fn kill(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    let c = d.containers.get(id)?;
    d.containers.kill(&c, q.get("signal")).await?;
    Ok(status_only(204))
}

pub async fn wait(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let cond = crate::container::WaitCondition::parse(query(req).get("condition"))?;
    let c = d.containers.get(id)?;
    // The status line goes out at once (the CLI waits for it before
    // starting the container); the body follows when the condition holds.
    let (tx, body) = Body::channel(1);
    let mgr = d.containers.clone();
    tokio::spawn(async move {
        let res = mgr.wait(&c, cond).await;
        if let Ok(mut v) = serde_json::to_vec(&res) {
            v.push(b'\n');
            let _ = tx.send(v.into()).await;
        }
    });
    Ok(with_body(200, "application/json", body))
}

pub async fn update(d: &Daemon, req: &mut Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let body: berth_api::container::UpdateRequest = json_body(req, super::SMALL_BODY).await?;
    let c = d.containers.get(id)?;
    let warnings = d.containers.update(&c, body).await?;
    Ok(ok_json(&serde_json::json!({"Warnings": warnings})))
}

pub async fn pause(d: &Daemon, id: &str, on: bool) -> Result<Resp, ApiError> {
    let c = d.containers.get(id)?;
    if on {
        d.containers.pause(&c).await?;
    } else {
        d.containers.unpause(&c).await?;
    }
    Ok(status_only(204))
}

pub async fn top(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    let args = q.get("ps_args").filter(|a| !a.is_empty()).unwrap_or("-ef").to_string();
    let c = d.containers.get(id)?;
    Ok(ok_json(&d.containers.top(&c, &args).await?))
}

pub fn stats(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    // `stream` defaults to true; `one-shot` skips the priming sample.
    let stream = q.get("stream").is_none() || q.flag("stream");
    let c = d.containers.get(id)?;
    let (tx, body) = Body::channel(2);
    let mgr = d.containers.clone();
    let one_shot = q.flag("one-shot");
    tokio::spawn(async move { mgr.stats(c, stream, one_shot, tx).await });
    Ok(with_body(200, "application/json", body))
}

pub fn changes(d: &Daemon, id: &str) -> Result<Resp, ApiError> {
    let c = d.containers.get(id)?;
    Ok(ok_json(&d.containers.changes(&c)?))
}

pub fn export(d: &Daemon, id: &str) -> Result<Resp, ApiError> {
    let c = d.containers.get(id)?;
    let (tx, body) = Body::channel(4);
    let mgr = d.containers.clone();
    tokio::spawn(async move {
        if let Err(e) = mgr.export(c, tx).await {
            crate::daemon::log(&e.message);
        }
    });
    Ok(with_body(200, "application/x-tar", body))
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`.
pub async fn commit(d: &Daemon, req: &mut Request<Incoming>) -> Result<Resp, ApiError> {
    let q = query(req);
    let c = d.containers.get(q.get("container").unwrap_or(""))?;
    let tag = match q.get("repo").filter(|r| !r.is_empty()) {
        None => None,
        Some(repo) => {
            let t = q.get("tag").filter(|t| !t.is_empty()).unwrap_or("latest");
            Some(berth_image::Reference::parse_normalized(&format!("{repo}:{t}")).map_err(crate::error::image_error)?)
        }
    };
    let config: Option<berth_api::container::ContainerConfig> = {
        let v: serde_json::Value = json_body(req, super::CONFIG_BODY).await?;
        if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) {
            None
        } else {
            Some(serde_json::from_value(v).map_err(|e| ApiError::invalid(format!("invalid JSON: {e}")))?)
        }
    };
    let creq = crate::container::CommitRequest {
        tag,
        comment: q.get("comment").unwrap_or("").to_string(),
        author: q.get("author").unwrap_or("").to_string(),
        changes: q.get_all("changes").into_iter().filter(|c| !c.is_empty()).map(str::to_string).collect(),
        pause: q.get("pause").is_none() || q.flag("pause"),
        config,
    };
    let id = d.containers.commit(&c, creq).await?;
    Ok(json(201, &serde_json::json!({"Id": id})))
}

pub fn rename(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    let name = q.get("name").unwrap_or("");
    let c = d.containers.get(id)?;
    d.containers.rename(&c, name)?;
    Ok(status_only(204))
}

pub async fn remove(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    if q.flag("link") {
        d.containers.remove_link(id).await?;
        return Ok(status_only(204));
    }
    let c = d.containers.get(id)?;
    d.containers.remove_with_volumes(&c, q.flag("force"), q.flag("v")).await?;
    Ok(status_only(204))
}

pub async fn prune(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let filters = query(req).filters()?;
    Ok(ok_json(&d.containers.prune(&filters).await?))
}

pub async fn logs(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    let now = std::time::SystemTime::now();
    let time_arg = |k: &str| -> Result<Option<i128>, ApiError> {
        match q.get(k).filter(|v| !v.is_empty() && *v != "0") {
            None => Ok(None),
            Some(v) => berth_api::time::parse_time_filter(v, now)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("invalid value for \"{k}\": {v}"))),
        }
    };
    let tail = match q.get("tail").unwrap_or("all") {
        "all" | "" => None,
        n => Some(n.parse::<i64>().map_err(|_| ApiError::invalid(format!("invalid value for \"tail\": {n}")))?.max(0) as usize),
    };
    let opts = LogOptions {
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        follow: q.flag("follow"),
        timestamps: q.flag("timestamps"),
        tail,
        since: time_arg("since")?,
        until: time_arg("until")?,
    };
    if !opts.stdout && !opts.stderr {
        return Err(ApiError::invalid("Bad parameters: you must choose at least one stream"));
    }
    let c = d.containers.get(id)?;
    let rec = c.snapshot();
    crate::container::readable_driver(&rec.host_config.log_config)?;
    let tty = rec.config.tty;
    let (tx, body) = Body::channel(16);
    let mgr = d.containers.clone();
    // File reads and waits for output: a blocking thread, not an async worker.
    tokio::task::spawn_blocking(move || {
        let _ = mgr.logs(c, opts, tx);
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(with_body(200, ct, body))
}

/// `h` and `w` of a resize request: integers, as Docker's `strconv.Atoi` takes them.
pub fn resize_args(req: &Request<Incoming>) -> Result<(u16, u16), ApiError> {
    let q = query(req);
    let dim = |k: &str| -> Result<u16, ApiError> {
        let v = q.get(k).unwrap_or("");
        let n: i64 = v
            .parse()
            .map_err(|_| ApiError::invalid(format!("strconv.Atoi: parsing \"{v}\": invalid syntax")))?;
        // Docker passes sizes on as uint16; out-of-range ones are refused.
        u16::try_from(n).map_err(|_| ApiError::invalid(format!("invalid size {k}={v}")))
    };
    Ok((dim("h")?, dim("w")?))
}

pub async fn resize(d: &Daemon, req: &Request<Incoming>, id: &str) -> Result<Resp, ApiError> {
    let (h, w) = resize_args(req)?;
    let c = d.containers.get(id)?;
    d.containers.resize(&c, h, w).await?;
    Ok(status_only(200))
}

/// Hijacks the connection: answers 101 and runs the attach session on the
/// upgraded stream.
pub fn attach(d: &Daemon, req: &mut Request<Incoming>, id: &str, gates: VersionGates) -> Result<Resp, ApiError> {
    let q = query(req);
    let c = d.containers.get(id)?;
    let detach_keys = crate::container::parse_detach_keys(q.get("detachKeys"))?;
    let opts = AttachOptions {
        stdin: q.flag("stdin"),
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        detach_keys,
        logs: q.flag("logs"),
        stream: q.flag("stream"),
    };
    let rx = crate::container::attach_subscribe(&c)?;
    d.containers.emit(&c, "attach", &[]);
    let tty = c.snapshot().config.tty;
    // `logs=1` replays what the log holds (framed as `logs` frames it); a
    // driver that cannot be read (`none`) replays nothing, as in dockerd.
    let replay = (opts.logs && (opts.stdout || opts.stderr)).then(|| {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let mgr = d.containers.clone();
        let log_opts = LogOptions {
            stdout: opts.stdout,
            stderr: opts.stderr,
            follow: false,
            timestamps: false,
            tail: None,
            since: None,
            until: None,
        };
        let c = c.clone();
        // File reads: a blocking thread, as for `logs`.
        tokio::task::spawn_blocking(move || {
            let _ = mgr.logs(c, log_opts, tx);
        });
        rx
    });
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            crate::container::attach_run(c, opts, rx, replay, TokioIo::new(upgraded)).await;
        }
    });
    Ok(crate::http::response::hijacked(!tty && gates.multiplexed_stream_type()))
}
