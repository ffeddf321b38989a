//! `GET /distribution/{name}/json`: the registry's descriptor of an image
//! and the platforms it offers, without pulling it.

use berth_api::ApiError;
use berth_distribution::{Manifest, Registry};
use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};

use crate::daemon::Daemon;
use crate::http::response::{ok_json, Resp};

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
