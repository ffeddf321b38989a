//! Who may do what: everyone (no auth), users of the htpasswd file (Basic),
//! or holders of a token from this server's `/token` (Bearer, the flow
//! Docker Hub uses), whose grants must cover what the request does.

use super::body::{self, Resp};
use super::route::{self, query_param, Route};
use super::State;
use crate::auth::{Htpasswd, REALM};
use crate::error::{ApiError, Code};
use crate::token::{grant, Access, Claims, Issuer, SERVICE};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, HOST, WWW_AUTHENTICATE};
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

pub(crate) enum Auth {
    Open,
    Basic(Htpasswd),
    Token { htpasswd: Htpasswd, issuer: Issuer, anonymous_pull: bool },
}

/// What a token grants, for handlers that check more (a mount's `from`).
#[derive(Clone)]
pub(crate) struct Granted(pub Claims);

/// The grant a request needs; `None`: any good token (`/v2/` itself).
fn needed(path: &str, method: &Method) -> Option<Access> {
    let repo = |name: &str, action: &str| Some(Access { kind: "repository".into(), name: name.into(), actions: vec![action.into()] });
    match route::parse(path)? {
        Route::Base => None,
        Route::Catalog => Some(Access { kind: "registry".into(), name: "catalog".into(), actions: vec!["*".into()] }),
        Route::Tags(n) | Route::Referrers(n, _) => repo(n, "pull"),
        Route::Manifest(n, _) | Route::Blob(n, _) => match *method {
            Method::GET | Method::HEAD => repo(n, "pull"),
            Method::DELETE => repo(n, "delete"),
            _ => repo(n, "push"),
        },
        Route::Uploads(n) | Route::Upload(n, _) => repo(n, "push"),
    }
}

fn challenge(req: &Request<Incoming>, https: bool, scope: Option<&Access>, insufficient: bool) -> Resp {
    let host = req.headers().get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = if https { "https" } else { "http" };
    let mut v = format!("Bearer realm=\"{scheme}://{host}/token\",service=\"{SERVICE}\"");
    if let Some(s) = scope {
        // A push is asked as pull,push, as distribution does.
        let s = match s.actions.first().map(String::as_str) {
            Some("push") => Access { actions: vec!["pull".into(), "push".into()], ..s.clone() },
            _ => s.clone(),
        };
        v.push_str(&format!(",scope=\"{}\"", s.scope()));
    }
    if insufficient {
        v.push_str(",error=\"insufficient_scope\"");
    }
    let mut r = body::error(&ApiError::new(Code::Unauthorized, "authentication required"));
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    r
}

fn basic_challenge() -> Resp {
    let mut r = body::error(&ApiError::new(Code::Unauthorized, "authentication required"));
    if let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{REALM}\"")) {
        r.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    r
}

async fn basic_ok(state: &Arc<State>, header: Option<String>) -> bool {
    let state = state.clone();
    // bcrypt is slow on purpose: keep it off the async workers.
    tokio::task::spawn_blocking(move || match &state.auth {
        Auth::Basic(h) | Auth::Token { htpasswd: h, .. } => h.check(header.as_deref()),
        Auth::Open => true,
    })
    .await
    .unwrap_or(false)
}

/// Lets the request through (with what its token grants), or answers it.
pub(crate) async fn check(state: &Arc<State>, req: &mut Request<Incoming>, https: bool) -> Result<(), Resp> {
    let header = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    match &state.auth {
        Auth::Open => Ok(()),
        Auth::Basic(_) => {
            if basic_ok(state, header).await {
                Ok(())
            } else {
                Err(basic_challenge())
            }
        }
        Auth::Token { issuer, .. } => {
            let want = needed(req.uri().path(), req.method());
            let token = header.as_deref().and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")));
            let Some(claims) = token.and_then(|t| issuer.verify(t.trim())) else {
                return Err(challenge(req, https, want.as_ref(), false));
            };
            if let Some(w) = &want {
                if !w.actions.iter().all(|a| claims.allows(&w.kind, &w.name, a)) {
                    return Err(challenge(req, https, Some(w), true));
                }
            }
            req.extensions_mut().insert(Granted(claims));
            Ok(())
        }
    }
}

/// The scopes asked for in `params` (a query or a form): `scope` may come
/// several times and one value may hold several scopes separated by spaces.
fn scopes_of(params: Option<&str>) -> Result<Vec<Access>, ApiError> {
    let mut requested = Vec::new();
    for kv in params.unwrap_or("").split('&') {
        if let Some(("scope", _)) = kv.split_once('=') {
            let s = query_param(Some(kv), "scope").unwrap_or_default();
            for one in s.split(' ').filter(|x| !x.is_empty()) {
                match Access::parse(one) {
                    Some(a) => requested.push(a),
                    None => return Err(ApiError::new(Code::ScopeInvalid, format!("invalid scope {one:?}"))),
                }
            }
        }
    }
    Ok(requested)
}

fn wrong_service(params: Option<&str>) -> Option<Resp> {
    query_param(params, "service")
        .filter(|s| s != SERVICE)
        .map(|s| body::error(&ApiError::new(Code::Unauthorized, format!("unknown service {s:?}; this registry is {SERVICE:?}"))))
}

/// The token answer: `refresh` is added for offline access.
fn token_answer(issuer: &Issuer, user: Option<&str>, granted: Vec<Access>, refresh: Option<String>) -> Resp {
    let (token, claims) = issuer.issue(user.unwrap_or(""), granted);
    let issued = httpdate(claims.iat);
    let scope = claims.access.iter().map(Access::scope).collect::<Vec<_>>().join(" ");
    let mut v = serde_json::json!({ "token": token, "access_token": token, "expires_in": crate::token::LIFETIME, "issued_at": issued, "scope": scope });
    if let Some(r) = refresh {
        v["refresh_token"] = serde_json::json!(r);
    }
    body::json(StatusCode::OK, &v)
}

/// `GET /token?service=&scope=…`: a token for what the caller may do.
/// Basic credentials are checked against the htpasswd file; without any
/// the token is anonymous (pull only, and only with `--anonymous-pull`).
/// A user asking `offline_token=true` (`docker login`) also gets a refresh token.
pub(crate) async fn token(state: &Arc<State>, req: &Request<Incoming>) -> Resp {
    let Auth::Token { issuer, anonymous_pull, .. } = &state.auth else {
        return body::error(&ApiError::new(Code::NotFound, "this registry does not issue tokens (serve --token-auth)"));
    };
    let query = req.uri().query();
    if let Some(r) = wrong_service(query) {
        return r;
    }
    let requested = match scopes_of(query) {
        Ok(r) => r,
        Err(e) => return body::error(&e),
    };
    let header = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let user = match &header {
        None => None,
        Some(h) => {
            let name = crate::auth::basic_user(h);
            if name.is_none() || !basic_ok(state, header.clone()).await {
                return basic_challenge();
            }
            name
        }
    };
    let offline = query_param(query, "offline_token").as_deref() == Some("true");
    let refresh = user.as_deref().filter(|_| offline).map(|u| issuer.issue_refresh(u));
    token_answer(issuer, user.as_deref(), grant(&requested, user.as_deref(), *anonymous_pull), refresh)
}

/// An OAuth 2 error answer (RFC 6749 section 5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Resp {
    body::json(status, &serde_json::json!({ "error": error, "error_description": description }))
}

/// `POST /token` (OAuth 2, form-encoded), as Docker's token handler posts
/// it: `grant_type=refresh_token` with a refresh token this server issued
/// (Docker's `identitytoken`), or `grant_type=password` with `username` and
/// `password` (a refresh token too with `access_type=offline`).
pub(crate) async fn token_post(state: &Arc<State>, req: Request<Incoming>) -> Resp {
    let Auth::Token { issuer, anonymous_pull, .. } = &state.auth else {
        return body::error(&ApiError::new(Code::NotFound, "this registry does not issue tokens (serve --token-auth)"));
    };
    let form = match body::read_bounded(req.into_body(), 64 << 10).await {
        Ok(b) => String::from_utf8_lossy(&b).replace('+', "%20"),
        Err(e) => return body::error(&e),
    };
    let form = Some(form.as_str());
    if let Some(r) = wrong_service(form) {
        return r;
    }
    let requested = match scopes_of(form) {
        Ok(r) => r,
        Err(e) => return body::error(&e),
    };
    let (user, refresh) = match query_param(form, "grant_type").as_deref() {
        Some("refresh_token") => match query_param(form, "refresh_token").and_then(|t| issuer.verify_refresh(&t)) {
            Some(u) => (u, None),
            None => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant", "invalid or expired refresh token"),
        },
        Some("password") => {
            let (u, p) = (query_param(form, "username").unwrap_or_default(), query_param(form, "password").unwrap_or_default());
            let header = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{u}:{p}")));
            if u.is_empty() || !basic_ok(state, Some(header)).await {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant", "incorrect username or password");
            }
            let offline = query_param(form, "access_type").as_deref() == Some("offline");
            let refresh = offline.then(|| issuer.issue_refresh(&u));
            (u, refresh)
        }
        other => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("grant_type {:?} is not supported", other.unwrap_or(""))),
    };
    token_answer(issuer, Some(&user), grant(&requested, Some(&user), *anonymous_pull), refresh)
}

/// RFC 3339 in UTC from seconds since the epoch.
fn httpdate(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_need_grants() {
        let n = |p: &str, m: Method| needed(p, &m).map(|a| a.scope());
        assert_eq!(n("/v2/", Method::GET), None);
        assert_eq!(n("/v2/_catalog", Method::GET).as_deref(), Some("registry:catalog:*"));
        assert_eq!(n("/v2/a/b/manifests/v1", Method::GET).as_deref(), Some("repository:a/b:pull"));
        assert_eq!(n("/v2/a/manifests/v1", Method::PUT).as_deref(), Some("repository:a:push"));
        assert_eq!(n("/v2/a/manifests/v1", Method::DELETE).as_deref(), Some("repository:a:delete"));
        assert_eq!(n("/v2/a/blobs/uploads/", Method::POST).as_deref(), Some("repository:a:push"));
        assert_eq!(n("/v2/a/tags/list", Method::GET).as_deref(), Some("repository:a:pull"));
    }

    #[test]
    fn dates() {
        assert_eq!(httpdate(0), "1970-01-01T00:00:00Z");
        assert_eq!(httpdate(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
