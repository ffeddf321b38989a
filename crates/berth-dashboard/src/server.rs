//! The dashboard's HTTP server: checks every request (Host, Origin,
//! session, CSRF) before routing it to the embedded assets, the API proxy
//! or the shell.

use crate::auth::{Auth, CSRF_HEADER};
use crate::body::{self, Out};
use crate::error::DashboardError;
use crate::guard::Guard;
use crate::registry_auth::RegistryAuth;
use crate::shell::Shells;
use crate::tls::{self, TlsFiles};
use crate::{assets, proxy, token};
use tokio_rustls::TlsAcceptor;
use berth_client::Client;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY, CONTENT_TYPE, COOKIE as COOKIE_HEADER, HOST, LOCATION, ORIGIN, SET_COOKIE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub struct Options {
    pub addr: SocketAddr,
    /// HTTPS; required beyond loopback.
    pub tls: Option<TlsFiles>,
    /// Names browsers use to reach a dashboard beyond loopback.
    pub public_hosts: Vec<String>,
    /// Stored registry credentials for pulls started from the page.
    pub registry_auth: Option<RegistryAuth>,
}

/// A bound dashboard, ready to serve.
pub struct Dashboard {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<State>,
    login_token: String,
}

struct State {
    client: Client,
    auth: Auth,
    guard: Guard,
    shells: Arc<Shells>,
    registry_auth: Option<RegistryAuth>,
}

const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Content-Security-Policy: only our own script and styles (xterm.js
/// sets inline styles), no framing.
const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

impl Dashboard {
    /// Binds the address: loopback, or anything with TLS.
    pub async fn bind(opts: Options, client: Client) -> Result<Dashboard, DashboardError> {
        let tls = opts.tls.as_ref().map(tls::server_config).transpose()?;
        if !opts.addr.ip().is_loopback() && tls.is_none() {
            return Err(DashboardError::NotLoopback(opts.addr));
        }
        if opts.addr.ip().is_unspecified() && opts.public_hosts.is_empty() {
            return Err(DashboardError::NeedPublicHost(opts.addr));
        }
        let listener = TcpListener::bind(opts.addr).await.map_err(|source| DashboardError::Bind { addr: opts.addr, source })?;
        let local = listener.local_addr()?;
        let login_token = token::random()?;
        let secure = tls.is_some();
        let state = State {
            client,
            auth: Auth::new(login_token.clone(), secure),
            guard: Guard::new(local, secure, &opts.public_hosts),
            shells: Arc::default(),
            registry_auth: opts.registry_auth,
        };
        Ok(Dashboard { listener, tls: tls.map(TlsAcceptor::from), state: Arc::new(state), login_token })
    }

    /// The URL to open, carrying the one-time login token.
    pub fn login_url(&self) -> String {
        format!("{}/login?token={}", self.state.guard.base_url(), self.login_token)
    }

    pub async fn serve(self) -> Result<(), DashboardError> {
        loop {
            let (stream, _) = self.listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let state = self.state.clone();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(secure(handle(&state, req).await)) }
                });
                // A browser that goes away mid-stream, or a failed
                // handshake, is not an error worth reporting.
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                    }
                    Some(acceptor) => {
                        if let Ok(Ok(s)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                            let _ = http.serve_connection(TokioIo::new(s), svc).await;
                        }
                    }
                }
            });
        }
    }
}

async fn handle(state: &Arc<State>, req: Request<Incoming>) -> Response<Out> {
    let owned = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (host, origin, cookie, sent_csrf) = (owned(HOST.as_str()), owned(ORIGIN.as_str()), owned(COOKIE_HEADER.as_str()), owned(CSRF_HEADER));
    let gzip_ok = owned(ACCEPT_ENCODING.as_str()).is_some_and(|e| e.contains("gzip"));
    let if_none_match = owned(IF_NONE_MATCH.as_str());
    if !state.guard.host_ok(host.as_deref()) {
        return proxy::error(StatusCode::FORBIDDEN, "berth dashboard: request refused: unexpected Host header");
    }
    let origin = origin.as_deref();
    if !state.guard.origin_ok(origin) {
        return proxy::error(StatusCode::FORBIDDEN, "berth dashboard: request refused: foreign Origin");
    }
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if method == Method::GET && path == "/login" {
        return login(state, req.uri().query().unwrap_or(""));
    }
    if method == Method::GET {
        if let Some(a) = assets::get(&path) {
            return asset(a, gzip_ok, if_none_match.as_deref());
        }
    }
    // Everything else needs the session; changes also need the CSRF token
    // and our own Origin.
    let Some(csrf) = state.auth.session_csrf(cookie.as_deref()) else {
        return proxy::error(StatusCode::UNAUTHORIZED, "berth dashboard: not logged in: open the URL `berth dashboard` printed");
    };
    let changes = !matches!(method, Method::GET | Method::HEAD);
    if changes {
        let sent = sent_csrf.as_deref().unwrap_or("");
        if !token::same(sent, &csrf) {
            return proxy::error(StatusCode::FORBIDDEN, "berth dashboard: request refused: missing or wrong CSRF token");
        }
        if !state.guard.origin_present_and_ok(origin) {
            return proxy::error(StatusCode::FORBIDDEN, "berth dashboard: request refused: no Origin on a state-changing request");
        }
    }
    if method == Method::GET && path == "/session" {
        // The page learns its CSRF token here (same origin only: no CORS).
        let b = serde_json::json!({ "csrf": csrf, "daemon": state.client.host().to_string() }).to_string();
        let mut r = Response::new(body::full(b));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return r;
    }
    if method == Method::POST && path == "/logout" {
        let mut r = Response::new(body::full(""));
        if let Ok(v) = HeaderValue::from_str(&state.auth.logout(cookie.as_deref())) {
            r.headers_mut().insert(SET_COOKIE, v);
        }
        return r;
    }
    if let Some(rest) = path.strip_prefix("/shell/") {
        return match (method, rest.split_once('/')) {
            (Method::POST, None) => state.shells.start(&state.client, rest).await,
            (Method::POST, Some((exec, "input"))) => state.shells.input(exec, req).await,
            _ => proxy::error(StatusCode::NOT_FOUND, "berth dashboard: no such page"),
        };
    }
    if let Some(rest) = path.strip_prefix("/api") {
        let pq = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        };
        return proxy::forward(&state.client, req, &pq, state.registry_auth.as_ref()).await;
    }
    proxy::error(StatusCode::NOT_FOUND, "berth dashboard: no such page")
}

/// An embedded file, gzipped when the browser accepts it.
/// Revalidated on every load (`no-cache`), answered 304 when unchanged.
fn asset(a: assets::Asset, gzip_ok: bool, if_none_match: Option<&str>) -> Response<Out> {
    let b = Response::builder()
        .header(CONTENT_TYPE, a.content_type)
        .header(CACHE_CONTROL, "no-cache")
        .header(VARY, "Accept-Encoding")
        .header(ETAG, a.etag.as_str());
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag)) {
        return b
            .status(StatusCode::NOT_MODIFIED)
            .body(body::full(""))
            .unwrap_or_else(|_| proxy::error(StatusCode::INTERNAL_SERVER_ERROR, "berth dashboard: cannot serve an asset"));
    }
    let r = match a.gzipped.filter(|_| gzip_ok) {
        Some(gz) => b.header(CONTENT_ENCODING, "gzip").body(body::full(gz)),
        None => b.body(body::full(a.body)),
    };
    r.unwrap_or_else(|_| proxy::error(StatusCode::INTERNAL_SERVER_ERROR, "berth dashboard: cannot serve an asset"))
}

/// `GET /login?token=T`: spends the token, sets the session cookie and
/// sends the browser to the app without the token in its address bar.
fn login(state: &State, query: &str) -> Response<Out> {
    let offered = query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "token").map_or("", |(_, v)| v);
    match state.auth.login(offered) {
        Ok(Some(cookie)) => {
            let mut r = Response::new(body::full(""));
            *r.status_mut() = StatusCode::SEE_OTHER;
            r.headers_mut().insert(LOCATION, HeaderValue::from_static("/"));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(SET_COOKIE, v);
            }
            r
        }
        Ok(None) => proxy::error(StatusCode::FORBIDDEN, "berth dashboard: this login link is wrong or was already used; start `berth dashboard` again for a new one"),
        Err(e) => proxy::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Headers every answer carries: no framing, no sniffing, no referrer
/// (the login URL holds the token), and the CSP.
fn secure(mut r: Response<Out>) -> Response<Out> {
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    r
}
