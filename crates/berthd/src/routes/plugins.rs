//! Plugin endpoints: create (from a context), list, inspect and remove
//! are served by the local plugin store; what would run a plugin
//! (`enable`, `set`, `upgrade`) or fetch one (`pull`, `push`,
//! `privileges`) is refused, since berth can do neither yet.

use super::query;
use crate::daemon::Daemon;
use crate::http::response::{ok_json, status_only, Resp};
use crate::http::stream_io::body_reader_draining;
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::Request;

/// `GET /plugins`, with dockerd's `enabled` and `capability` filters.
pub fn list(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let f = query(req).filters()?;
    f.validate(&["enabled", "capability"])?;
    let enabled: Vec<bool> = f
        .values("enabled")
        .iter()
        .map(|v| match v.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::invalid(format!("Invalid filter 'enabled={v}'"))),
        })
        .collect::<Result<_, _>>()?;
    let caps = f.values("capability");
    let out: Vec<_> = d
        .plugins
        .list()
        .into_iter()
        .filter(|p| enabled.is_empty() || enabled.contains(&p.enabled))
        .filter(|p| caps.is_empty() || p.config.interface.types.iter().any(|t| caps.contains(&t.capability)))
        .collect();
    Ok(ok_json(&out))
}

pub fn inspect(d: &Daemon, name: &str) -> Result<Resp, ApiError> {
    Ok(ok_json(&d.plugins.get(name)?))
}

/// `POST /plugins/create?name=N`: the body is a tar of the plugin's
/// context (`config.json` and `rootfs/`).
pub async fn create(d: &Daemon, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let name = query(&req).get("name").unwrap_or("").to_string();
    // Read to its end even when refused, so the client gets the answer
    // rather than a broken pipe.
    let (reader, drained) = body_reader_draining(req.into_body());
    let store = d.plugins.clone();
    let made = tokio::task::spawn_blocking(move || store.create(&name, reader))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if made.is_err() {
        let _ = drained.await;
    }
    made?;
    Ok(status_only(204))
}

/// `DELETE /plugins/{name}` (no plugin is ever enabled, so `force` is moot).
pub async fn remove(d: &Daemon, name: &str) -> Result<Resp, ApiError> {
    let store = d.plugins.clone();
    let name = name.to_string();
    let removed = tokio::task::spawn_blocking(move || store.remove(&name))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(ok_json(&removed))
}

/// `POST /plugins/{name}/{verb}`: an unknown plugin is a 404 as in dockerd;
/// `disable` of a known one says it is disabled (none is ever enabled).
pub fn refuse(d: &Daemon, name: &str, verb: &str) -> Result<Resp, ApiError> {
    if !matches!(verb, "enable" | "disable" | "set" | "upgrade" | "push") {
        return Err(ApiError::not_found("page not found"));
    }
    let p = d.plugins.get(name)?;
    match verb {
        "disable" => Err(ApiError::conflict(format!("plugin {} is already disabled", p.name))),
        "enable" | "set" | "upgrade" => {
            Err(ApiError::invalid(format!("berth does not support running plugins yet (plugin {verb})")))
        }
        _ => Err(ApiError::invalid("berth does not support plugin push yet (it needs the registry client)")),
    }
}

/// `POST /plugins/pull` and `GET /plugins/privileges` fetch from a registry.
pub fn refuse_fetch() -> Result<Resp, ApiError> {
    Err(ApiError::invalid("berth does not support plugin install yet (it needs the registry client)"))
}
