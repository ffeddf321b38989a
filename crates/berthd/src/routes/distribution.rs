//! The routes that talk to registries: pull (`POST /images/create?fromImage=`),
//! push, and `GET /distribution/{name}/json` (the registry's descriptor of an
//! image and the platforms it offers, without pulling it).

use berth_api::ApiError;
use berth_distribution::{Manifest, Registry};
use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};

use crate::daemon::Daemon;
use crate::http::response::{ok_json, with_body, Resp};
use crate::http::Body;
use berth_image::Reference;

use super::query;

pub async fn inspect(d: &Daemon, req: &Request<Incoming>, name: &str) -> Result<Resp, ApiError> {
    let auth = req.headers().get("X-Registry-Auth").and_then(|v| v.to_str().ok());
    let pr = crate::pull::PullRequest::from_query(name, None, None, auth)?;
    let r = pr.reference.clone();
    let wording = |e: berth_distribution::DistributionError| crate::pull::pull_error(&e, &r);
    let registry = Registry::new(d.cfg.registry());
    let creds = crate::pull::credentials(pr.auth_header.as_deref());
    let repo = registry.repository(r.domain(), r.path(), creds).await.map_err(wording)?;
    let wanted = match (r.digest(), r.tag()) {
        (Some(dg), _) => dg.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => "latest".to_string(),
    };
    let top = repo.manifest(&wanted).await.map_err(wording)?;
    let manifest = Manifest::parse(&top.content_type, &top.data).map_err(wording)?;
    let media_type = top.content_type.split(';').next().unwrap_or("").trim().to_string();
    let platforms: Vec<Value> = match &manifest {
        Manifest::Index(idx) => idx
            .manifests()
            .iter()
            .filter_map(|m| m.platform().as_ref())
            .map(|p| {
                let mut v = json!({ "architecture": p.architecture().to_string(), "os": p.os().to_string() });
                if let Some(var) = p.variant() {
                    v["variant"] = json!(var);
                }
                v
            })
            .collect(),
        Manifest::Image(m) => {
            let cfg = m.config();
            let mut blob = repo.blob(cfg.digest().as_ref(), cfg.size()).await.map_err(wording)?;
            let mut data = Vec::new();
            while let Some(c) = blob.chunk().await.map_err(wording)? {
                data.extend_from_slice(&c);
                if data.len() > 16 << 20 {
                    return Err(ApiError::internal("image config too large"));
                }
            }
            let c: Value = serde_json::from_slice(&data).map_err(|e| ApiError::internal(format!("invalid image config: {e}")))?;
            let mut v = json!({ "architecture": c["architecture"], "os": c["os"] });
            if let Some(var) = c.get("variant").filter(|v| v.is_string()) {
                v["variant"] = var.clone();
            }
            vec![v]
        }
    };
    Ok(ok_json(&json!({
        "Descriptor": { "mediaType": media_type, "digest": top.digest, "size": top.data.len() },
        "Platforms": platforms,
    })))
}

/// Resolve before answering (a missing image is an HTTP 404), then stream the layers.
pub async fn pull(d: &Daemon, pr: crate::pull::PullRequest) -> Result<Resp, ApiError> {
    let registry = berth_distribution::Registry::new(d.cfg.registry());
    if pr.all_tags {
        return pull_all_tags(d, registry, pr).await;
    }
    let plan = crate::pull::Plan::resolve(&registry, &pr, &d.images)
        .await
        .map_err(|e| crate::pull::pull_error(&e, &pr.reference))?;
    let (tx, body) = Body::channel(16);
    let progress = crate::pull::Progress::new(tx);
    let images = d.images.clone();
    let root = d.cfg.data_root.clone();
    let events = d.events.clone();
    tokio::spawn(async move {
        let name = plan.reference().familiar_string();
        match plan.execute(images, &root, &progress, true).await {
            Ok(_) => {
                let mut attrs = std::collections::BTreeMap::new();
                attrs.insert("name".to_string(), name.clone());
                events.emit("image", "pull", &name, attrs);
            }
            Err(e) => progress.error(&e).await,
        }
    });
    Ok(with_body(200, "application/json", body))
}

/// `pull -a`: every tag in turn on one stream, one `Status:` line at the end.
async fn pull_all_tags(d: &Daemon, registry: berth_distribution::Registry, pr: crate::pull::PullRequest) -> Result<Resp, ApiError> {
    let tags = crate::pull::list_tags(&registry, &pr).await.map_err(|e| crate::pull::pull_error(&e, &pr.reference))?;
    if tags.is_empty() {
        return Err(ApiError::not_found(format!("no tags found for {}", pr.reference.familiar_name())));
    }
    let (tx, body) = Body::channel(16);
    let progress = crate::pull::Progress::new(tx);
    let images = d.images.clone();
    let root = d.cfg.data_root.clone();
    let events = d.events.clone();
    tokio::spawn(async move {
        let mut newer = false;
        for tag in tags {
            let one = match pr.for_tag(&tag) {
                Ok(one) => one,
                Err(e) => return progress.error(&e.message).await,
            };
            let plan = match crate::pull::Plan::resolve(&registry, &one, &images).await {
                Ok(p) => p,
                Err(e) => return progress.error(&crate::pull::pull_error(&e, &one.reference).message).await,
            };
            let name = plan.reference().familiar_string();
            match plan.execute(images.clone(), &root, &progress, false).await {
                Ok(o) => {
                    newer |= !o.up_to_date;
                    let mut attrs = std::collections::BTreeMap::new();
                    attrs.insert("name".to_string(), name.clone());
                    events.emit("image", "pull", &name, attrs);
                }
                Err(e) => return progress.error(&e).await,
            }
        }
        let status = if newer { "Downloaded newer image for" } else { "Image is up to date for" };
        progress.status(&format!("Status: {status} {}", pr.reference.familiar_name())).await;
    });
    Ok(with_body(200, "application/json", body))
}

/// `POST /images/{name}/push?tag=`. No tag (in the name or the query) means
/// every tag of the repository, as dockerd does (`docker push --all-tags`).
pub async fn push(d: &Daemon, req: &Request<Incoming>, name: &str) -> Result<Resp, ApiError> {
    let q = query(req);
    let mut r = Reference::parse_normalized(name).map_err(crate::error::image_error)?;
    if r.digest().is_some() {
        return Err(ApiError::invalid(format!("cannot push a digest reference: {}", r.familiar_string())));
    }
    if let Some(t) = q.get("tag").filter(|t| !t.is_empty()) {
        r = r.with_tag(t).map_err(crate::error::image_error)?;
    }
    let all_tags = r.tag().is_none();
    let auth_header = req.headers().get("X-Registry-Auth").and_then(|v| v.to_str().ok()).map(str::to_string);
    let push = crate::pull::push::PushRequest { reference: r, all_tags, auth_header };
    crate::pull::push::check(&d.images, &push)?;
    let registry = berth_distribution::Registry::new(d.cfg.registry());
    let (tx, body) = Body::channel(16);
    let progress = crate::pull::Progress::new(tx);
    let images = d.images.clone();
    let events = d.events.clone();
    let root = d.cfg.data_root.clone();
    tokio::spawn(async move {
        let name = push.reference.familiar_string();
        match crate::pull::push::run(images, registry, root, push, progress.clone()).await {
            Ok(()) => {
                let mut attrs = std::collections::BTreeMap::new();
                attrs.insert("name".to_string(), name.clone());
                events.emit("image", "push", &name, attrs);
            }
            Err(e) => progress.error(&e).await,
        }
    });
    Ok(with_body(200, "application/json", body))
}
