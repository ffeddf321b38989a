//! `/networks/...` handlers.

use super::{json_body, query};
use crate::daemon::Daemon;
use crate::http::query::Filters;
use crate::http::response::{json, ok_json, status_only, Resp};
use crate::network::{CreateSpec, PoolSpec};
use berth_api::network::{NetworkCreateRequest, NetworkCreateResponse, NetworkPruneResponse};
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::Request;
use std::sync::Arc;

const LS_FILTERS: &[&str] = &["driver", "id", "label", "name", "scope", "type", "dangling"];

pub fn list(d: &Daemon, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let f = query(req).filters()?;
    f.validate(LS_FILTERS)?;
    let mut out = vec![];
    for n in d.networks.all() {
        let builtin = ["bridge", "host", "none"].contains(&n.name.as_str());
        let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
            let v = f.values(key);
            v.is_empty() || v.iter().any(|x| pred(x))
        };
        let keep = any("driver", &|x| n.driver == x)
            && any("id", &|x| n.id.starts_with(x))
            && any("name", &|x| n.name.contains(x))
            && any("scope", &|x| x == "local")
            && any("type", &|x| (x == "builtin") == builtin)
            && f.labels_match(|k| n.labels.get(k).map(String::as_str));
        if keep {
            out.push(d.networks.to_api(&n, &[]));
        }
    }
    Ok(ok_json(&out))
}

/// Publishes a network event: `create`, `destroy`, `connect`, `disconnect`
/// (the last two name the container).
fn emit(d: &Daemon, action: &str, id: &str, name: &str, container: Option<&str>) {
    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert("name".to_string(), name.to_string());
    attrs.insert("type".to_string(), "bridge".to_string());
    if let Some(c) = container {
        attrs.insert("container".to_string(), c.to_string());
    }
    d.events.emit("network", action, id, attrs);
}

pub fn inspect(d: &Daemon, id: &str) -> Result<Resp, ApiError> {
    let n = d.networks.find(id)?;
    let (running, _) = d.containers.network_users(&n.id, &n.name);
    Ok(ok_json(&d.networks.to_api(&n, &running)))
}

pub async fn create(d: &Daemon, req: &mut Request<Incoming>) -> Result<Resp, ApiError> {
    let body: NetworkCreateRequest = json_body(req, super::OBJECT_BODY).await?;
    berthd::checks::network::refuse_unsupported(&body)?;
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let pools = body
        .ipam
        .iter()
        .flat_map(|i| i.config.iter())
        .map(|c| PoolSpec {
            subnet: nonempty(&c.subnet),
            gateway: nonempty(&c.gateway),
            ip_range: c.ip_range.as_deref().and_then(nonempty),
            aux: c.auxiliary_addresses.clone().unwrap_or_default(),
        })
        .collect();
    let spec = CreateSpec {
        name: body.name,
        driver: body.driver,
        pools,
        enable_ipv6: body.enable_ipv6.unwrap_or(false),
        internal: body.internal,
        labels: body.labels.unwrap_or_default(),
        options: body.options.unwrap_or_default(),
    };
    // Netlink, iptables and a host-wide flock: off the async workers.
    let nets = d.networks.clone();
    let n = tokio::task::spawn_blocking(move || nets.create(spec)).await.map_err(|e| ApiError::internal(e.to_string()))??;
    emit(d, "create", &n.id, &n.name, None);
    Ok(json(201, &NetworkCreateResponse { id: n.id, warning: String::new() }))
}

pub async fn remove(d: &Arc<Daemon>, id: &str) -> Result<Resp, ApiError> {
    let n = d.networks.find(id)?;
    let (dd, key) = (d.clone(), id.to_string());
    // Bridge and rule teardown: off the async workers.
    tokio::task::spawn_blocking(move || dd.networks.remove(&key, &|n| dd.containers.network_users(&n.id, &n.name).1))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    emit(d, "destroy", &n.id, &n.name, None);
    Ok(status_only(204))
}

pub async fn prune(d: &Arc<Daemon>, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let f = query(req).filters()?;
    f.validate(&["label", "label!", "until"])?;
    let until = f.until(std::time::SystemTime::now())?;
    let dd = d.clone();
    tokio::task::spawn_blocking(move || prune_matching(&dd, &f, until)).await.map_err(|e| ApiError::internal(e.to_string()))?
}

/// Removes the unused networks `f` and `until` select (bridge teardown: blocking).
fn prune_matching(d: &Daemon, f: &Filters, until: Option<i128>) -> Result<Resp, ApiError> {
    let mut deleted = vec![];
    for n in d.networks.all() {
        if ["bridge", "host", "none"].contains(&n.name.as_str()) {
            continue;
        }
        if !f.labels_match(|k| n.labels.get(k).map(String::as_str)) {
            continue;
        }
        if until.is_some_and(|u| i128::from(n.created) >= u) {
            continue;
        }
        if d.networks.remove(&n.id, &|n| d.containers.network_users(&n.id, &n.name).1).is_ok() {
            emit(d, "destroy", &n.id, &n.name, None);
            deleted.push(n.name.clone());
        }
    }
    Ok(ok_json(&NetworkPruneResponse { networks_deleted: deleted }))
}

#[derive(serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ConnectBody {
    container: String,
    endpoint_config: Option<serde_json::Value>,
    force: bool,
}

pub async fn connect(d: &Daemon, id: &str, req: &mut Request<Incoming>) -> Result<Resp, ApiError> {
    let body: ConnectBody = json_body(req, super::SMALL_BODY).await?;
    d.containers.connect_network(id, &body.container, body.endpoint_config.as_ref()).await?;
    if let (Ok(n), Ok(c)) = (d.networks.find(id), d.containers.get(&body.container)) {
        emit(d, "connect", &n.id, &n.name, Some(&c.id));
    }
    Ok(status_only(200))
}

pub async fn disconnect(d: &Daemon, id: &str, req: &mut Request<Incoming>) -> Result<Resp, ApiError> {
    let body: ConnectBody = json_body(req, super::SMALL_BODY).await?;
    d.containers.disconnect_network(id, &body.container, body.force).await?;
    if let (Ok(n), Ok(c)) = (d.networks.find(id), d.containers.get(&body.container)) {
        emit(d, "disconnect", &n.id, &n.name, Some(&c.id));
    }
    Ok(status_only(200))
}
