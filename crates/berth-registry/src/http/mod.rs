//! The HTTP side: accepting connections (plain or TLS), auth, routing,
//! and the headers every answer carries.

mod access;
mod blobs;
mod body;
mod lists;
mod manifests;
mod referrers;
mod route;
mod tls;
mod uploads;

use crate::auth::Htpasswd;
use crate::error::{ApiError, Code, RegistryError};
use crate::lock::RootLock;
use crate::storage::Storage;
use body::Resp;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};
use route::Route;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How `berth registry serve` was asked to run.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub root: PathBuf,
    pub htpasswd: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub delete_enabled: bool,
    /// Ask clients for chunked uploads of at least this many bytes
    /// (`OCI-Chunk-Min-Length` on every upload the server opens).
    pub chunk_min_length: Option<u64>,
    /// One line per request on stderr: method, path, status, Content-Range.
    pub access_log: bool,
    /// Bearer tokens from `/token` instead of Basic auth (needs `htpasswd`).
    pub token_auth: bool,
    /// With `token_auth`: anonymous clients get tokens that may pull.
    pub anonymous_pull: bool,
}

pub(crate) struct State {
    storage: Storage,
    auth: access::Auth,
    delete_enabled: bool,
    chunk_min_length: Option<u64>,
    access_log: bool,
    uploads: uploads::Progresses,
}

/// A TLS client gets this long for its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves until SIGINT or SIGTERM. `ready` is called with the bound address
/// (useful with port 0) once connections are being accepted.
pub async fn serve(cfg: ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), RegistryError> {
    let storage = Storage::open(&cfg.root).map_err(|e| RegistryError::io(&cfg.root, e))?;
    let _lock = RootLock::shared(&cfg.root)?;
    let htpasswd = cfg.htpasswd.as_deref().map(Htpasswd::load).transpose()?;
    if cfg.anonymous_pull && !cfg.token_auth {
        return Err(RegistryError::Config("--anonymous-pull needs --token-auth".into()));
    }
    let auth = match (htpasswd, cfg.token_auth) {
        (None, false) => access::Auth::Open,
        (Some(h), false) => access::Auth::Basic(h),
        (None, true) => return Err(RegistryError::Config("--token-auth needs --htpasswd (the token endpoint checks users against it)".into())),
        (Some(htpasswd), true) => {
            let issuer = crate::token::Issuer::new().map_err(|e| RegistryError::io("/dev/urandom", e))?;
            access::Auth::Token { htpasswd, issuer, anonymous_pull: cfg.anonymous_pull }
        }
    };
    let tls = match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(c), Some(k)) => Some(tls::acceptor(c, k)?),
        (None, None) => None,
        _ => return Err(RegistryError::Tls("--tls-cert and --tls-key go together".into())),
    };
    let state = Arc::new(State {
        storage,
        auth,
        delete_enabled: cfg.delete_enabled,
        chunk_min_length: cfg.chunk_min_length,
        access_log: cfg.access_log,
        uploads: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .map_err(|source| RegistryError::Bind { addr: cfg.addr.to_string(), source })?;
    let local = listener.local_addr().map_err(|source| RegistryError::Bind { addr: cfg.addr.to_string(), source })?;
    ready(local);
    use tokio::signal::unix::{signal, SignalKind};
    let sig = |k| signal(k).map_err(|e| RegistryError::io("signal handler", e));
    let (mut term, mut int) = (sig(SignalKind::terminate())?, sig(SignalKind::interrupt())?);
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                // Out of fds and the like: pause rather than spin.
                Err(_) => { tokio::time::sleep(Duration::from_millis(100)).await; continue; }
            },
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let https = tls.is_some();
            let svc = hyper::service::service_fn(move |req| handle(state.clone(), req, https));
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                None => {
                    let _ = http.serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await;
                }
                Some(acceptor) => {
                    if let Ok(Ok(s)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        let _ = http.serve_connection(hyper_util::rt::TokioIo::new(s), svc).await;
                    }
                }
            }
        });
    }
}

async fn handle(state: Arc<State>, mut req: Request<Incoming>, https: bool) -> Result<Resp, Infallible> {
    let logged = state.access_log.then(|| {
        let range = req.headers().get(hyper::header::CONTENT_RANGE).and_then(|v| v.to_str().ok()).unwrap_or("-");
        format!("{} {} {range}", req.method(), req.uri().path())
    });
    let mut resp = if req.uri().path() == "/token" && req.method() == Method::GET {
        access::token(&state, &req).await
    } else if req.uri().path() == "/token" && req.method() == Method::POST {
        access::token_post(&state, req).await
    } else {
        match access::check(&state, &mut req, https).await {
            Err(denied) => denied,
            Ok(()) => route(&state, req).await.unwrap_or_else(|e| body::error(&e)),
        }
    };
    resp.headers_mut().insert("Docker-Distribution-API-Version", HeaderValue::from_static("registry/2.0"));
    if let Some(line) = logged {
        eprintln!("{line} {}", resp.status().as_u16());
    }
    Ok(resp)
}

async fn route(state: &Arc<State>, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let path = req.uri().path().to_string();
    let Some(route) = route::parse(&path) else {
        return Err(ApiError::new(Code::NotFound, format!("no such endpoint: {path}")));
    };
    if let Route::Tags(n) | Route::Manifest(n, _) | Route::Blob(n, _) | Route::Uploads(n) | Route::Upload(n, _) | Route::Referrers(n, _) = &route {
        crate::name::check_name(n)?;
    }
    let m = req.method().clone();
    match (route, &m) {
        (Route::Base, &Method::GET | &Method::HEAD) => Ok(body::json(StatusCode::OK, &serde_json::json!({}))),
        (Route::Catalog, &Method::GET) => lists::catalog(state, &req),
        (Route::Tags(n), &Method::GET) => lists::tags(state, n, &req),
        (Route::Manifest(n, r), &Method::GET | &Method::HEAD) => manifests::get(state, n, r, m == Method::HEAD),
        (Route::Manifest(n, r), &Method::PUT) => {
            let (n, r) = (n.to_string(), r.to_string());
            manifests::put(state, &n, &r, req).await
        }
        (Route::Manifest(n, r), &Method::DELETE) => manifests::delete(state, n, r),
        (Route::Blob(n, d), &Method::GET | &Method::HEAD) => blobs::get(state, n, d, &req).await,
        (Route::Blob(n, d), &Method::DELETE) => blobs::delete(state, n, d),
        (Route::Uploads(n), &Method::POST) => {
            let n = n.to_string();
            uploads::start(state, &n, req).await
        }
        (Route::Upload(n, id), &Method::GET) => uploads::status(state, n, id),
        (Route::Upload(n, id), &Method::PATCH) => {
            let (n, id) = (n.to_string(), id.to_string());
            uploads::patch(state, &n, &id, req).await
        }
        (Route::Upload(n, id), &Method::PUT) => {
            let (n, id) = (n.to_string(), id.to_string());
            uploads::finish(state, &n, &id, req).await
        }
        (Route::Upload(n, id), &Method::DELETE) => uploads::cancel(state, n, id),
        (Route::Referrers(n, d), &Method::GET) => referrers::list(state, n, d, req.uri().query()),
        _ => Err(ApiError::new(Code::Unsupported, format!("{m} is not supported on {path}"))),
    }
}
