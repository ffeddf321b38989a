//! `/volumes/...` handlers.

use super::{json_body, query};
use crate::daemon::Daemon;
use crate::http::response::{json, ok_json, status_only, Resp};
use berth_api::volume::VolumeCreateRequest;
use berth_api::gates::VersionGates;
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::Request;

/// Publishes a volume event (`create`, `destroy`).
fn emit(d: &Daemon, action: &str, name: &str) {
    let attrs = [("driver".to_string(), "local".to_string())].into_iter().collect();
    d.events.emit("volume", action, name, attrs);
}

pub fn list(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    Ok(ok_json(&d.volumes.list(&query(req).filters()?)?))
}

pub async fn create(d: &Daemon, req: &mut Request<Incoming>) -> Result<Resp, ApiError> {
    let body: VolumeCreateRequest = json_body(req, super::OBJECT_BODY).await?;
    let vols = d.volumes.clone();
    let v = tokio::task::spawn_blocking(move || vols.create(body))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    emit(d, "create", &v.name);
    Ok(json(201, &v))
}

pub fn inspect(d: &Daemon, name: &str) -> Result<Resp, ApiError> {
    Ok(ok_json(&d.volumes.inspect(name)?))
}

pub async fn remove(d: &Daemon, req: &Request<Incoming>, name: &str) -> Result<Resp, ApiError> {
    let force = query(req).flag("force");
    let existed = d.volumes.inspect(name).is_ok();
    let (vols, owned) = (d.volumes.clone(), name.to_string());
    tokio::task::spawn_blocking(move || vols.remove(&owned, force))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    if existed {
        emit(d, "destroy", name);
    }
    Ok(status_only(204))
}

pub async fn prune(d: &Daemon, req: &Request<Incoming>, gates: VersionGates) -> Result<Resp, ApiError> {
    let filters = query(req).filters()?;
    let vols = d.volumes.clone();
    let all_by_default = gates.volume_prune_all_by_default();
    let r = tokio::task::spawn_blocking(move || vols.prune(&filters, all_by_default))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    for name in r.volumes_deleted.iter().flatten() {
        emit(d, "destroy", name);
    }
    Ok(ok_json(&r))
}
