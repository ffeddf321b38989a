//! One table from (method, path) to a route handler. Handlers decode the
//! request, make one call on a manager, and encode its result.

use crate::daemon::Daemon;
use crate::http::response::{error, Resp};
use crate::routes::{archive, auth, build, containers, distribution, events, exec, images, networks, plugins, swarm, system, volumes};
use berth_api::gates::VersionGates;
use berth_api::version::ApiVersion;
use berth_api::ApiError;
use hyper::body::Incoming;
use hyper::{Method, Request};
use std::sync::Arc;

pub async fn route(d: Arc<Daemon>, mut req: Request<Incoming>, path: &str, v: ApiVersion) -> Resp {
    // What differs by the negotiated version is asked of the gates only.
    let ua = req.headers().get(hyper::header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or("");
    let gates = VersionGates::new(v).for_user_agent(ua);
    // Path parameters (names, IDs) are percent-decoded here, once for all
    // routes; a decoded "/" stays inside its segment.
    let owned: Vec<String> = path.trim_matches('/').split('/').map(|s| crate::http::query::percent_decode(s, false)).collect();
    let segs: Vec<&str> = owned.iter().map(String::as_str).collect();
    let m = req.method().clone();
    let result = match (&m, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => Ok(system::ping(m == Method::HEAD)),
        (&Method::GET, ["version"]) => Ok(system::version(&d)),
        (&Method::GET, ["info"]) => Ok(system::info(&d)),
        (&Method::GET, ["events"]) => events::stream(&d, &req),
        (&Method::GET, ["system", "df"]) => system::df(&d, &req, gates).await,
        (&Method::POST, ["build"]) => build::build(&d, req).await,
        (&Method::POST, ["build", "prune"]) => build::prune(&d, &req).await,

        (&Method::POST, ["containers", "create"]) => containers::create(&d, &mut req, gates).await,
        (&Method::GET, ["containers", "json"]) => containers::list(&d, &req).await,
        (&Method::POST, ["containers", "prune"]) => containers::prune(&d, &req).await,
        (&Method::GET, ["containers", id, "json"]) => containers::inspect(&d, &req, id).await,
        (&Method::POST, ["containers", id, "start"]) => containers::start(&d, id).await,
        (&Method::POST, ["containers", id, "stop"]) => containers::stop(&d, &req, id).await,
        (&Method::POST, ["containers", id, "restart"]) => containers::restart(&d, &req, id).await,
        (&Method::POST, ["containers", id, "kill"]) => containers::kill(&d, &req, id).await,
        (&Method::POST, ["containers", id, "wait"]) => containers::wait(&d, &req, id).await,
        (&Method::POST, ["containers", id, "pause"]) => containers::pause(&d, id, true).await,
        (&Method::POST, ["containers", id, "unpause"]) => containers::pause(&d, id, false).await,
        (&Method::GET, ["containers", id, "top"]) => containers::top(&d, &req, id).await,
        (&Method::GET, ["containers", id, "stats"]) => containers::stats(&d, &req, id),
        (&Method::GET, ["containers", id, "changes"]) => containers::changes(&d, id),
        (&Method::GET, ["containers", id, "export"]) => containers::export(&d, id),
        (&Method::HEAD, ["containers", id, "archive"]) => archive::head(&d, &req, id).await,
        (&Method::GET, ["containers", id, "archive"]) => archive::get(&d, &req, id).await,
        (&Method::PUT, ["containers", id, "archive"]) => archive::put(&d, req, id).await,
        (&Method::POST, ["commit"]) => containers::commit(&d, &mut req).await,
        (&Method::POST, ["containers", id, "update"]) => containers::update(&d, &mut req, id).await,
        (&Method::POST, ["containers", id, "rename"]) => containers::rename(&d, &req, id),
        (&Method::POST, ["containers", id, "attach"]) => containers::attach(&d, &mut req, id, gates),
        (&Method::GET, ["containers", id, "logs"]) => containers::logs(&d, &req, id).await,
        (&Method::POST, ["containers", id, "resize"]) => containers::resize(&d, &req, id).await,
        (&Method::POST, ["containers", id, "exec"]) => exec::create(&d, &mut req, id).await,
        (&Method::POST, ["exec", id, "start"]) => exec::start(&d, &mut req, id, gates).await,
        (&Method::POST, ["exec", id, "resize"]) => exec::resize(&d, &req, id).await,
        (&Method::GET, ["exec", id, "json"]) => exec::inspect(&d, id),
        (&Method::DELETE, ["containers", id]) => containers::remove(&d, &req, id).await,
        // `rm --link /parent/alias` names a link by its path.
        (&Method::DELETE, ["containers", rest @ ..]) if rest.len() > 1 => containers::remove(&d, &req, &rest.join("/")).await,

        (&Method::GET, ["images", "json"]) => images::list(&d, &req),
        (&Method::POST, ["images", "load"]) => images::load(&d, req).await,
        (&Method::GET, ["images", "get"]) => images::save(&d, &req, None),
        (&Method::POST, ["images", "create"]) => images::create(&d, req).await,
        (&Method::POST, ["auth"]) => auth::auth(&d, &mut req).await,
        (&Method::POST, ["images", rest @ .., "push"]) if !rest.is_empty() => distribution::push(&d, &req, &rest.join("/")).await,
        (&Method::GET, ["distribution", rest @ .., "json"]) if !rest.is_empty() => distribution::inspect(&d, &req, &rest.join("/")).await,
        (&Method::POST, ["images", "prune"]) => images::prune(&d, &req),
        (&Method::GET, ["images", rest @ .., "get"]) if !rest.is_empty() => images::save(&d, &req, Some(rest.join("/"))),
        (&Method::GET, ["images", rest @ .., "json"]) if !rest.is_empty() => images::inspect(&d, &rest.join("/"), gates),
        (&Method::GET, ["images", rest @ .., "history"]) if !rest.is_empty() => images::history(&d, &rest.join("/")),
        (&Method::POST, ["images", rest @ .., "tag"]) if !rest.is_empty() => images::tag(&d, &req, &rest.join("/")),
        (&Method::DELETE, ["images", rest @ ..]) if !rest.is_empty() => images::remove(&d, &req, &rest.join("/")),

        (&Method::GET, ["networks"]) => networks::list(&d, &req),
        (&Method::GET, ["networks", id]) => networks::inspect(&d, id),
        (&Method::POST, ["networks", "create"]) => networks::create(&d, &mut req).await,
        (&Method::POST, ["networks", "prune"]) => networks::prune(&d, &req).await,
        (&Method::POST, ["networks", id, "connect"]) => networks::connect(&d, id, &mut req).await,
        (&Method::POST, ["networks", id, "disconnect"]) => networks::disconnect(&d, id, &mut req).await,
        (&Method::DELETE, ["networks", id]) => networks::remove(&d, id).await,

        (&Method::GET, ["volumes"]) => volumes::list(&d, &req),
        (&Method::POST, ["volumes", "create"]) => volumes::create(&d, &mut req).await,
        (&Method::POST, ["volumes", "prune"]) => volumes::prune(&d, &req, gates).await,
        (&Method::GET, ["volumes", name]) => volumes::inspect(&d, name),
        (&Method::DELETE, ["volumes", name]) => volumes::remove(&d, &req, name).await,

        (&Method::GET, ["plugins"]) => plugins::list(&d, &req),
        (&Method::POST, ["plugins", "create"]) => plugins::create(&d, req).await,
        (&Method::GET, ["plugins", rest @ .., "json"]) if !rest.is_empty() => plugins::inspect(&d, &rest.join("/")),
        (&Method::DELETE, ["plugins", rest @ ..]) if !rest.is_empty() => plugins::remove(&d, &rest.join("/")).await,
        (&Method::POST, ["plugins", rest @ .., verb]) if !rest.is_empty() => plugins::refuse(&d, &rest.join("/"), verb),
        (&Method::POST, ["plugins", "pull"]) | (&Method::GET, ["plugins", "privileges"]) => plugins::refuse_fetch(),
        (_, [first, ..]) if swarm::is_swarm_path(first) => swarm::route(&m, &segs),

        _ => Err(ApiError::not_found("page not found")),
    };
    match result {
        Ok(r) => r,
        Err(e) => error(&e),
    }
}
