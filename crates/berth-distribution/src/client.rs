//! One repository on one registry endpoint: manifests and blobs, with the
//! challenge's authentication, redirects, and bounded retries with back-off
//! for 5xx, 429 and dropped connections.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, Uri};
use rustls::ClientConfig;
use sha2::{Digest as _, Sha256};

use crate::auth::{parse_challenge, Challenge, Credentials};
use crate::blob::Blob;
use crate::error::{DistributionError, RegistryErrorEntry, Result};
use crate::token::Ask;
use crate::registry::Endpoint;
use crate::transport::{self, ReqBody};

const MAX_RETRIES: u32 = 3;
const MAX_REDIRECTS: usize = 5;
const MAX_MANIFEST: usize = 4 << 20;
const MAX_ERROR_BODY: usize = 64 << 10;
const USER_AGENT: &str = concat!("berth/", env!("CARGO_PKG_VERSION"));

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub data: Vec<u8>,
    pub content_type: String,
    /// `sha256:` of `data`.
    pub digest: String,
}

/// A request body with what its headers say about it.
pub(crate) struct Payload {
    pub content_type: &'static str,
    pub len: u64,
    pub body: ReqBody,
    /// `Content-Range` of a chunk.
    pub range: Option<String>,
}

pub struct Repository {
    pub(crate) endpoint: Endpoint,
    pub(crate) name: String,
    pub(crate) creds: Option<Credentials>,
    pub(crate) challenge: tokio::sync::Mutex<Option<Challenge>>,
    authorization: tokio::sync::Mutex<Option<String>>,
    certs_dirs: Vec<PathBuf>,
    /// Token scope actions: `pull`, or `pull,push` for a push.
    pub(crate) actions: &'static str,
    /// The OAuth refresh token (`identitytoken`), as the token server last gave it.
    refresh: std::sync::Mutex<Option<String>>,
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) async fn read_limited(body: Incoming, limit: usize) -> std::result::Result<Vec<u8>, String> {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(format!("response larger than {limit} bytes"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

impl Repository {
    pub(crate) async fn connect(
        endpoint: Endpoint,
        name: &str,
        creds: Option<Credentials>,
        certs_dirs: Vec<PathBuf>,
        actions: &'static str,
    ) -> Result<Repository> {
        let refresh = creds.as_ref().and_then(|c| c.identity_token.clone()).filter(|t| !t.is_empty());
        let repo = Repository {
            actions,
            refresh: std::sync::Mutex::new(refresh),
            endpoint,
            name: name.to_string(),
            creds,
            challenge: tokio::sync::Mutex::new(None),
            authorization: tokio::sync::Mutex::new(None),
            certs_dirs,
        };
        let url = format!("{}/v2/", repo.endpoint.base);
        let resp = repo.send_raw(Method::GET, &url, None, None).await?;
        if resp.status() == hyper::StatusCode::UNAUTHORIZED {
            *repo.challenge.lock().await = challenge_of(&resp);
        }
        Ok(repo)
    }

    /// Check credentials as `docker login` does: `GET /v2/` with them (Basic)
    /// or a token fetched with them (Bearer) must succeed. Answers the
    /// refresh token (`IdentityToken`) the token server gave, if any.
    pub async fn check_login(&self) -> Result<Option<String>> {
        let challenge = self.challenge.lock().await.clone();
        let url = format!("{}/v2/", self.endpoint.base);
        let failed = |status: u16| DistributionError::Status {
            method: "login attempt to".into(),
            url: url.clone(),
            status,
            text: format!("failed with status: {status} Unauthorized"),
        };
        match challenge {
            None => Ok(None),
            Some(Challenge::Bearer { realm, service, .. }) => {
                self.token_for(&realm, service.as_deref(), None, Ask::Login).await?;
                Ok(self.refresh_token())
            }
            Some(Challenge::Basic) => {
                let authz = self.creds.as_ref().map(Credentials::basic);
                let resp = self.send_raw(Method::GET, &url, None, authz.as_deref()).await?;
                if resp.status().is_success() {
                    Ok(None)
                } else {
                    Err(failed(resp.status().as_u16()))
                }
            }
        }
    }

    pub(crate) fn refresh_token(&self) -> Option<String> {
        self.refresh.lock().map(|r| r.clone()).unwrap_or(None)
    }

    pub(crate) fn set_refresh_token(&self, token: String) {
        if let Ok(mut r) = self.refresh.lock() {
            *r = Some(token);
        }
    }

    /// The endpoint's base URL (`https://host[:port]`).
    pub fn base(&self) -> &str {
        &self.endpoint.base
    }

    fn tls_for(&self, uri: &Uri) -> Result<Option<Arc<ClientConfig>>> {
        if uri.scheme_str() != Some("https") {
            return Ok(None);
        }
        let same = uri.authority().is_some_and(|a| self.endpoint.base.ends_with(a.as_str()));
        if same {
            return Ok(self.endpoint.tls.clone());
        }
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        crate::tls::verifying(&host, &self.certs_dirs).map(Some)
    }

    async fn send_raw(&self, method: Method, url: &str, accept: Option<&str>, authz: Option<&str>) -> Result<Response<Incoming>> {
        self.send_body(method, url, accept, authz, None).await
    }

    pub(crate) async fn send_body(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authz: Option<&str>,
        payload: Option<Payload>,
    ) -> Result<Response<Incoming>> {
        self.send_with(method, url, accept, authz, payload, None).await
    }

    /// `range`: a `Range` header (a blob download resumed part-way).
    async fn send_with(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authz: Option<&str>,
        payload: Option<Payload>,
        range: Option<&str>,
    ) -> Result<Response<Incoming>> {
        let transport_err = |message: String| DistributionError::Transport { method: method.to_string(), url: url.to_string(), message };
        let uri: Uri = url.parse().map_err(|e| transport_err(format!("invalid URL: {e}")))?;
        let tls = self.tls_for(&uri)?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let mut b = Request::builder().method(method.clone()).uri(uri).header("Host", host).header("User-Agent", USER_AGENT);
        if let Some(a) = accept {
            b = b.header(ACCEPT, a);
        }
        if let Some(a) = authz {
            b = b.header(AUTHORIZATION, a);
        }
        if let Some(r) = range {
            b = b.header(RANGE, r);
        }
        let body = match payload {
            Some(p) => {
                b = b.header(CONTENT_TYPE, p.content_type).header(CONTENT_LENGTH, p.len);
                if let Some(r) = p.range {
                    b = b.header(CONTENT_RANGE, r);
                }
                p.body
            }
            None => {
                if method == Method::PUT || method == Method::POST || method == Method::PATCH {
                    b = b.header(CONTENT_LENGTH, 0);
                }
                transport::full(Bytes::new())
            }
        };
        let req = b.body(body).map_err(|e| transport_err(e.to_string()))?;
        transport::send(tls.as_ref(), req).await.map_err(transport_err)
    }

    /// The Authorization header for this repository, fetching a token the
    /// first time a Bearer challenge asks for one.
    pub(crate) async fn authorization(&self, refresh: bool) -> Result<Option<String>> {
        let mut cached = self.authorization.lock().await;
        if cached.is_some() && !refresh {
            return Ok(cached.clone());
        }
        let challenge = self.challenge.lock().await.clone();
        let value = match challenge {
            None => None,
            Some(Challenge::Basic) => self.creds.as_ref().map(Credentials::basic),
            Some(Challenge::Bearer { realm, service, .. }) => match self.creds.as_ref().and_then(|c| c.registry_token.clone()) {
                Some(t) => Some(format!("Bearer {t}")),
                None => Some(format!("Bearer {}", self.token(&realm, service.as_deref()).await?)),
            },
        };
        *cached = value.clone();
        Ok(value)
    }

    async fn token(&self, realm: &str, service: Option<&str>) -> Result<String> {
        self.token_for(realm, service, None, Ask::Access).await
    }

    /// GET `path` under `/v2/NAME/`, authenticated, following redirects,
    /// retried when the registry is busy or briefly broken.
    async fn get(&self, path: &str, accept: Option<&str>) -> Result<Response<Incoming>> {
        self.get_range(path, accept, None).await
    }

    async fn get_range(&self, path: &str, accept: Option<&str>, range: Option<&str>) -> Result<Response<Incoming>> {
        let url = format!("{}/v2/{}/{path}", self.endpoint.base, self.name);
        let mut attempt = 0;
        loop {
            match self.get_once(&url, accept, range).await {
                Err(e) if attempt < MAX_RETRIES && (e.retryable() || matches!(e, DistributionError::TooManyRequests { .. })) => {
                    let backoff = match &e {
                        DistributionError::TooManyRequests { retry_after: Some(s), .. } => Duration::from_secs((*s).min(30)),
                        _ => Duration::from_millis(250 << attempt),
                    };
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                }
                other => return other,
            }
        }
    }

    async fn get_once(&self, url: &str, accept: Option<&str>, range: Option<&str>) -> Result<Response<Incoming>> {
        let mut authz = self.authorization(false).await?;
        let mut url = url.to_string();
        let mut refreshed = false;
        let mut redirects = 0;
        loop {
            let resp = self.send_with(Method::GET, &url, accept, authz.as_deref(), None, range).await?;
            let status = resp.status();
            if status == hyper::StatusCode::UNAUTHORIZED && !refreshed {
                if let Some(c) = challenge_of(&resp) {
                    *self.challenge.lock().await = Some(c);
                    refreshed = true;
                    authz = self.authorization(true).await?;
                    if authz.is_some() {
                        continue;
                    }
                }
            }
            if status.is_redirection() {
                let loc = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                if loc.is_empty() || redirects >= MAX_REDIRECTS {
                    return Err(DistributionError::Status { method: "GET".into(), url, status: status.as_u16(), text: "bad redirect".into() });
                }
                redirects += 1;
                let next = resolve(&url, &loc);
                // Credentials go only to the registry itself, not to a blob store it redirects to.
                if authority_of(&next) != authority_of(&url) {
                    authz = None;
                }
                url = next;
                continue;
            }
            if status.is_success() {
                return Ok(resp);
            }
            return Err(self.error_of(&url, resp).await);
        }
    }

    pub(crate) async fn error_of(&self, url: &str, resp: Response<Incoming>) -> DistributionError {
        let status = resp.status();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let basic = matches!(challenge_of(&resp), Some(Challenge::Basic));
        let body = read_limited(resp.into_body(), MAX_ERROR_BODY).await.unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Errors {
            #[serde(default)]
            errors: Vec<RegistryErrorEntry>,
        }
        let errors = serde_json::from_slice::<Errors>(&body).map(|e| e.errors).unwrap_or_default();
        if status == hyper::StatusCode::UNAUTHORIZED && basic && self.creds.is_none() {
            return DistributionError::NoBasicCredentials { method: "GET".into(), url: url.to_string() };
        }
        if status == hyper::StatusCode::TOO_MANY_REQUESTS {
            let message = errors.first().map(|e| e.message.clone()).filter(|m| !m.is_empty()).unwrap_or_else(|| "too many requests".into());
            return DistributionError::TooManyRequests { message, retry_after };
        }
        if !errors.is_empty() {
            return DistributionError::Registry { status: status.as_u16(), errors };
        }
        let text = String::from_utf8_lossy(&body).trim().chars().take(200).collect::<String>();
        DistributionError::Status { method: "GET".into(), url: url.to_string(), status: status.as_u16(), text: if text.is_empty() { status.to_string() } else { text } }
    }

    /// The manifest for a tag or digest. A digest reference is checked against the bytes.
    pub async fn manifest(&self, reference: &str) -> Result<Fetched> {
        let resp = self.get(&format!("manifests/{reference}"), Some(crate::manifest::media::ACCEPT)).await?;
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let data = read_limited(resp.into_body(), MAX_MANIFEST)
            .await
            .map_err(|message| DistributionError::Transport { method: "GET".into(), url: format!("manifests/{reference}"), message })?;
        let digest = format!("sha256:{}", sha256_hex(&data));
        if reference.contains(':') && reference != digest {
            return Err(DistributionError::DigestMismatch { expected: reference.to_string(), actual: digest });
        }
        Ok(Fetched { data, content_type, digest })
    }

    /// Every tag of the repository (`tags/list`, following `Link` pages).
    pub async fn tags(&self) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut out = Vec::new();
        let mut path = "tags/list".to_string();
        for _ in 0..100 {
            let resp = self.get(&path, None).await?;
            let next = resp
                .headers()
                .get("Link")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split_once('<'))
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(url, _)| url.to_string());
            let data = read_limited(resp.into_body(), MAX_MANIFEST)
                .await
                .map_err(|message| DistributionError::Transport { method: "GET".into(), url: path.clone(), message })?;
            let list: TagList = serde_json::from_slice(&data).map_err(|e| DistributionError::InvalidManifest(format!("invalid tag list: {e}")))?;
            out.extend(list.tags.unwrap_or_default());
            // The next page is `/v2/NAME/tags/list?...`: keep what follows the repository.
            match next.as_deref().and_then(|n| n.split_once("/tags/list")) {
                Some((_, query)) => path = format!("tags/list{query}"),
                None => break,
            }
        }
        Ok(out)
    }

    /// Stream blob `digest` (`sha256:...`) of `size` bytes; the stream
    /// checks both and fails instead of ending if either is off.
    pub async fn blob(&self, digest: &str, size: u64) -> Result<Blob> {
        self.blob_from(digest, size, 0, Sha256::new()).await
    }

    /// The same, continuing after the first `offset` bytes, which hash to
    /// `prefix` (an interrupted download's verified-so-far state): asked
    /// with `Range: bytes=OFFSET-`. A registry that answers the whole blob
    /// instead (200, not 206) gets a stream from byte 0: `Blob::offset`
    /// says where the stream starts.
    pub async fn blob_from(&self, digest: &str, size: u64, offset: u64, prefix: Sha256) -> Result<Blob> {
        let range = (offset > 0 && offset < size).then(|| format!("bytes={offset}-"));
        let resp = self.get_range(&format!("blobs/{digest}"), None, range.as_deref()).await?;
        let declared = resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let partial = resp.status() == hyper::StatusCode::PARTIAL_CONTENT;
        if partial {
            // Only the range asked for is usable: `bytes START-END/TOTAL`.
            let content_range = resp.headers().get(CONTENT_RANGE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let start = content_range.strip_prefix("bytes ").and_then(|r| r.split_once('-')).and_then(|(a, _)| a.trim().parse::<u64>().ok());
            if range.is_none() || start != Some(offset) {
                return Err(DistributionError::Status {
                    method: "GET".into(),
                    url: format!("blobs/{digest}"),
                    status: 206,
                    text: format!("a range starting elsewhere than byte {offset} ({content_range:?})"),
                });
            }
            if let Some(len) = declared.filter(|l| offset + *l > size) {
                return Err(DistributionError::DigestMismatch { expected: digest.to_string(), actual: format!("a blob of {} bytes, {size} expected", offset + len) });
            }
            return Ok(Blob::resumed(resp.into_body(), digest, size, offset, prefix));
        }
        if let Some(len) = declared.filter(|l| *l > size) {
            return Err(DistributionError::DigestMismatch { expected: digest.to_string(), actual: format!("a blob of {len} bytes, {size} expected") });
        }
        Ok(Blob::new(resp.into_body(), digest, size))
    }
}

pub(crate) fn challenge_of(resp: &Response<Incoming>) -> Option<Challenge> {
    resp.headers().get_all(WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()).find_map(parse_challenge)
}

fn authority_of(url: &str) -> String {
    url.parse::<Uri>().ok().and_then(|u| u.authority().map(|a| a.to_string())).unwrap_or_default()
}

/// A Location header against the URL it came from.
pub(crate) fn resolve(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let Ok(uri) = base.parse::<Uri>() else { return loc.to_string() };
    let scheme = uri.scheme_str().unwrap_or("https");
    let auth = uri.authority().map(|a| a.as_str()).unwrap_or("");
    if loc.starts_with('/') {
        format!("{scheme}://{auth}{loc}")
    } else {
        let path = uri.path();
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{scheme}://{auth}{dir}/{loc}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_locations() {
        assert_eq!(resolve("http://a:5000/v2/x/blobs/sha256:1", "/b/c"), "http://a:5000/b/c");
        assert_eq!(resolve("http://a:5000/v2/x/blobs/y", "z"), "http://a:5000/v2/x/blobs/z");
        assert_eq!(resolve("http://a/v2/", "https://s3/x?y"), "https://s3/x?y");
    }
}
