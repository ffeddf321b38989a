//! `/images/...` handlers.

use super::query;
use crate::daemon::Daemon;
use crate::http::response::{ok_json, with_body, Resp};
use crate::http::stream_io::{body_reader, ChannelWriter};
use crate::http::Body;
use berth_api::image::{DeleteItem, HistoryItem, ImageInspect, JsonMessage, RootFs};
use berth_api::gates::VersionGates;
use berth_api::ApiError;
use berth_image::Reference;
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;

/// Publishes an image event (`name` is the reference it concerns).
fn emit(d: &Daemon, action: &str, id: &str, name: &str) {
    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert("name".to_string(), name.to_string());
    d.events.emit("image", action, id, attrs);
}

/// Unix nanoseconds of an image's creation (0 when it has none).
fn created_nanos(img: &berth_image::Image) -> i128 {
    crate::image::created_nanos(img).unwrap_or(0)
}

/// An `until` cutoff (nanoseconds since the epoch) as a time.
fn nanos_to_time(n: i128) -> std::time::SystemTime {
    let d = std::time::Duration::from_nanos(u64::try_from(n.max(0)).unwrap_or(u64::MAX));
    std::time::UNIX_EPOCH + d
}

fn short(id: &str) -> &str {
    let hex = id.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

pub fn list(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let q = query(req);
    let f = q.filters()?;
    f.validate(&["reference", "dangling", "label", "before", "since", "until"])?;
    let dangling = match f.values("dangling").first().map(String::as_str) {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(v) => return Err(ApiError::invalid(format!("Invalid filter 'dangling=[{v}]'"))),
    };
    let refs = f.values("reference");
    // `before`/`since` name images (404 when there is none, as dockerd);
    // what is listed was created strictly before / after each of them.
    let created_of = |key: &str| -> Result<Vec<i128>, ApiError> {
        f.values(key).iter().map(|r| d.images.resolve(r).map(|i| created_nanos(&i)).map_err(crate::error::image_error)).collect()
    };
    let (before, since) = (created_of("before")?, created_of("since")?);
    let until = f.until(std::time::SystemTime::now())?;
    let all = q.flag("all");
    let parents = crate::image::parents(&d.images);
    let mut rows = Vec::new();
    for img in d.images.list() {
        // The builder's intermediate images (untagged, with a child) show with `-a` only, as dockerd's.
        let intermediate = img.tags.is_empty() && parents.contains(&img.id);
        if intermediate && (!all || dangling == Some(true)) {
            continue;
        }
        if dangling.is_some_and(|want| want != img.tags.is_empty()) {
            continue;
        }
        let created = created_nanos(&img);
        if before.iter().any(|b| created >= *b) || since.iter().any(|s| created <= *s) || until.is_some_and(|u| created >= u) {
            continue;
        }
        let labels = img.config.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default();
        if !f.labels_match(|k| labels.get(k).map(String::as_str)) {
            continue;
        }
        let mut tags = img.tags.clone();
        if !refs.is_empty() {
            tags.retain(|t| refs.iter().any(|r| berth_image::reference_matches(r, t)));
            if tags.is_empty() {
                continue;
            }
        }
        let containers = if q.flag("shared-size") { d.containers.image_users(&img.id.to_string()).len() as i64 } else { -1 };
        rows.push(crate::image::summary(&img, tags, containers, -1));
    }
    rows.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(ok_json(&rows))
}

pub fn inspect(d: &Daemon, name: &str, gates: VersionGates) -> Result<Resp, ApiError> {
    // The legacy fields: what commit recorded (as dockerd's commit does),
    // else the empty values dockerd gives an image without them.
    let legacy = gates.image_container_config();
    let img = d.images.resolve(name).map_err(crate::error::image_error)?;
    let cfg = &img.config;
    Ok(ok_json(&ImageInspect {
        id: img.id.to_string(),
        repo_tags: img.tags.clone(),
        repo_digests: img.digests.clone(),
        parent: cfg.extra.get("parent").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
        comment: cfg.history.last().and_then(|h| h.comment.clone()).unwrap_or_default(),
        created: img.created.clone().unwrap_or_default(),
        docker_version: String::new(),
        author: cfg.author.clone().unwrap_or_default(),
        config: crate::image::inspect_config(cfg.config.as_ref(), legacy),
        architecture: cfg.architecture.clone(),
        os: cfg.os.clone(),
        size: img.size as i64,
        graph_driver: json!({"Name": "overlay2", "Data": null}),
        root_fs: RootFs { kind: "layers".into(), layers: cfg.rootfs.diff_ids.iter().map(|d| d.to_string()).collect() },
        metadata: json!({"LastTagTime": img.loaded_at}),
        container: legacy.then(|| cfg.extra.get("container").and_then(|v| v.as_str()).unwrap_or_default().to_string()),
        container_config: legacy.then(|| {
            cfg.extra
                .get("container_config")
                .filter(|v| v.is_object())
                .cloned()
                .unwrap_or_else(|| serde_json::to_value(berth_api::container::ContainerConfig::default()).unwrap_or(json!({})))
        }),
    }))
}

pub fn history(d: &Daemon, name: &str) -> Result<Resp, ApiError> {
    let img = d.images.resolve(name).map_err(crate::error::image_error)?;
    let rows: Vec<HistoryItem> = d
        .images
        .history(&img.id)
        .map_err(crate::error::image_error)?
        .into_iter()
        .map(|h| HistoryItem {
            id: h.id,
            created: h.created,
            created_by: h.created_by,
            tags: h.tags,
            size: h.size as i64,
            comment: h.comment,
        })
        .collect();
    Ok(ok_json(&rows))
}

pub fn tag(d: &Daemon, req: &Request<Incoming>, name: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    let repo = q.get("repo").unwrap_or("");
    let tag = q.get("tag").filter(|t| !t.is_empty()).unwrap_or("latest");
    let target = Reference::parse_normalized(&format!("{repo}:{tag}")).map_err(crate::error::image_error)?;
    d.images.tag(name, &target).map_err(crate::error::image_error)?;
    if let Ok(img) = d.images.resolve(name) {
        emit(d, "tag", &img.id.to_string(), &target.familiar_string());
    }
    Ok(with_body(201, "text/plain; charset=utf-8", Body::empty()))
}

pub fn remove(d: &Daemon, req: &Request<Incoming>, name: &str) -> Result<Resp, ApiError> {
    let force = query(req).flag("force");
    let img = d.images.resolve(name).map_err(crate::error::image_error)?;
    let id = img.id.to_string();
    let users = d.containers.image_users(&id);
    let by_ref = Reference::parse(name)
        .ok()
        .filter(|r| img.tags.contains(&r.familiar_string()));
    let mut out = Vec::new();
    if let Some(r) = by_ref.clone() {
        if img.tags.len() == 1 && !users.is_empty() && !force {
            return Err(ApiError::conflict(format!(
                "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                short(&users[0].id),
                short(&id)
            )));
        }
        // The last name of an image with a child only goes; the image stays as that child's parent.
        if img.tags.len() > 1 || !users.is_empty() || crate::image::parents(&d.images).contains(&img.id) {
            d.images.untag(&r).map_err(crate::error::image_error)?;
            out.push(DeleteItem { untagged: Some(r.familiar_string()), deleted: None });
            return Ok(removal_events(d, &id, out));
        }
    } else {
        if let Some(running) = users.iter().find(|u| u.state.status.is_running()) {
            return Err(ApiError::conflict(format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short(&id),
                short(&running.id)
            )));
        }
        if !force && img.tags.len() > 1 {
            return Err(ApiError::conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short(&id)
            )));
        }
        if let Some(stopped) = users.first() {
            if !force {
                return Err(ApiError::conflict(format!(
                    "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                    short(&id),
                    short(&stopped.id)
                )));
            }
            // Forced while a stopped container uses it: untag, keep the layers it runs on.
            for t in &img.tags {
                if let Ok(r) = Reference::parse_normalized(t) {
                    d.images.untag(&r).map_err(crate::error::image_error)?;
                    out.push(DeleteItem { untagged: Some(t.clone()), deleted: None });
                }
            }
            return Ok(removal_events(d, &id, out));
        }
    }
    if by_ref.is_none() && crate::image::parents(&d.images).contains(&img.id) {
        return Err(ApiError::conflict(format!("conflict: unable to delete {} (cannot be forced) - image has dependent child images", short(&id))));
    }
    let parent = d.images.parent_of(&img);
    let removed = d.images.remove(&img.id).map_err(crate::error::image_error)?;
    out.extend(removed.untagged.into_iter().map(|t| DeleteItem { untagged: Some(t), deleted: None }));
    out.push(DeleteItem { untagged: None, deleted: Some(removed.id.to_string()) });
    if !query(req).flag("noprune") {
        for gone in crate::image::remove_dangling_chain(d, parent) {
            out.push(DeleteItem { untagged: None, deleted: Some(gone) });
        }
    }
    Ok(removal_events(d, &id, out))
}

/// `untag`/`delete` events for what a removal did, then its response.
fn removal_events(d: &Daemon, id: &str, out: Vec<DeleteItem>) -> Resp {
    for item in &out {
        if let Some(t) = &item.untagged {
            emit(d, "untag", id, t);
        }
        if let Some(del) = &item.deleted {
            emit(d, "delete", del, del);
        }
    }
    ok_json(&out)
}

pub fn prune(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let f = query(req).filters()?;
    f.validate(&["dangling", "label", "label!", "until"])?;
    let all = match f.values("dangling").first().map(String::as_str) {
        None | Some("true" | "1") => false,
        Some("false" | "0") => true,
        Some(v) => return Err(ApiError::invalid(format!("Invalid filter 'dangling=[{v}]'"))),
    };
    let until = f.until(std::time::SystemTime::now())?;
    let mut deleted = Vec::new();
    let mut reclaimed = 0u64;
    for img in d.images.list() {
        if (!all && !img.tags.is_empty()) || !d.containers.image_users(&img.id.to_string()).is_empty() {
            continue;
        }
        // An untagged image with a child goes with that child (its chain
        // is removed below); a tagged one is untagged only, as dockerd's.
        let has_child = crate::image::parents(&d.images).contains(&img.id);
        if has_child && img.tags.is_empty() {
            continue;
        }
        let labels = img.config.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default();
        if !f.labels_match(|k| labels.get(k).map(String::as_str)) {
            continue;
        }
        if until.is_some_and(|u| created_nanos(&img) >= u) {
            continue;
        }
        if has_child {
            for t in &img.tags {
                if let Ok(r) = Reference::parse_normalized(t) {
                    if d.images.untag(&r).is_ok() {
                        deleted.push(json!({"Untagged": t}));
                    }
                }
            }
            continue;
        }
        let parent = d.images.parent_of(&img);
        if let Ok(r) = d.images.remove(&img.id) {
            reclaimed += img.size;
            deleted.extend(r.untagged.into_iter().map(|t| json!({"Untagged": t})));
            deleted.push(json!({"Deleted": r.id.to_string()}));
            deleted.extend(crate::image::remove_dangling_chain(d, parent).into_iter().map(|g| json!({"Deleted": g})));
        }
    }
    // Layers kept from pulls that did not finish go too (they carry no labels,
    // so a label filter leaves them).
    if f.values("label").is_empty() && f.values("label!").is_empty() {
        reclaimed += crate::pull::cache::prune(&d.cfg.data_root, until.map(nanos_to_time));
    }
    Ok(ok_json(&json!({"ImagesDeleted": deleted, "SpaceReclaimed": reclaimed})))
}

fn message_stream(msgs: &[JsonMessage]) -> Resp {
    let mut out = Vec::new();
    for m in msgs {
        if let Ok(mut v) = serde_json::to_vec(m) {
            v.push(b'\n');
            out.extend(v);
        }
    }
    with_body(200, "application/json", Body::from_bytes(out))
}

pub async fn load(d: &Daemon, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let reader = body_reader(req.into_body());
    let images = d.images.clone();
    let loaded = tokio::task::spawn_blocking(move || images.load(reader))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(crate::error::image_error);
    // dockerd has answered 200 before it reads the archive: a bad one is
    // an error message in the stream (docker-py raises ImageLoadError from
    // it, the CLI prints it and exits 1).
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            let m = e.message;
            return Ok(message_stream(&[JsonMessage {
                error: Some(m.clone()),
                error_detail: Some(berth_api::image::ErrorDetail { message: m }),
                ..Default::default()
            }]));
        }
    };
    let mut msgs = Vec::new();
    for img in &loaded {
        let name = img.tags.first().cloned().unwrap_or_else(|| img.id.to_string());
        emit(d, "load", &img.id.to_string(), &name);
    }
    for img in loaded {
        if img.tags.is_empty() {
            msgs.push(JsonMessage { stream: Some(format!("Loaded image ID: {}\n", img.id)), ..Default::default() });
        }
        for t in img.tags {
            msgs.push(JsonMessage { stream: Some(format!("Loaded image: {t}\n")), ..Default::default() });
        }
    }
    Ok(message_stream(&msgs))
}

/// `POST /images/create`: pull (`fromImage`) or import from the body (`fromSrc=-`).
pub async fn create(d: &Daemon, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let q = query(&req);
    if let Some(image) = q.get("fromImage") {
        let auth = req.headers().get("X-Registry-Auth").and_then(|v| v.to_str().ok());
        let pr = crate::pull::PullRequest::from_query(image, q.get("tag"), q.get("platform"), auth)?;
        return super::distribution::pull(d, pr).await;
    }
    if q.get("fromSrc") != Some("-") {
        return Err(ApiError::invalid("importing from a URL is not supported; send the tarball as the request body (fromSrc=-)"));
    }
    let tag = match q.get("repo").filter(|r| !r.is_empty()) {
        None => None,
        Some(repo) => {
            let t = q.get("tag").filter(|t| !t.is_empty());
            let s = match t {
                Some(t) => format!("{repo}:{t}"),
                None => repo.to_string(),
            };
            Some(Reference::parse_normalized(&s).map_err(crate::error::image_error)?)
        }
    };
    let changes: Vec<String> = q.get_all("changes").into_iter().map(str::to_string).collect();
    let message = q.get("message").map(str::to_string);
    let reader = body_reader(req.into_body());
    let images = d.images.clone();
    let id = tokio::task::spawn_blocking(move || images.import(reader, &changes, tag.as_ref(), message.as_deref()))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(crate::error::image_error)?;
    emit(d, "import", &id.to_string(), &id.to_string());
    Ok(message_stream(&[JsonMessage { status: Some(id.to_string()), ..Default::default() }]))
}

pub fn save(d: &Daemon, req: &Request<Incoming>, one: Option<String>) -> Result<Resp, ApiError> {
    let names: Vec<String> = match one {
        Some(n) => vec![n],
        None => query(req).get_all("names").into_iter().map(str::to_string).collect(),
    };
    if names.is_empty() {
        return Err(ApiError::invalid("no images specified"));
    }
    for n in &names {
        let img = d.images.resolve(n).map_err(crate::error::image_error)?;
        emit(d, "save", &img.id.to_string(), n);
    }
    let (tx, body) = Body::channel(4);
    let images = d.images.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter::new(tx);
        if let Err(e) = images.save(&names, &mut w) {
            crate::daemon::log(&format!("save: {e}"));
        }
    });
    Ok(with_body(200, "application/x-tar", body))
}
