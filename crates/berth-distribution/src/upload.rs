//! Pushing into a repository: blob existence, cross-repository mounts,
//! uploads (one PUT, or PATCH chunks with `Content-Range` when the registry
//! asks for them with `OCI-Chunk-Min-Length`) and manifests. Layer bodies
//! stream from their files; nothing holds a whole layer in memory.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, LOCATION, RANGE};
use hyper::{Method, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::auth::Challenge;
use crate::client::{challenge_of, resolve, sha256_hex, Payload, Repository};
use crate::error::{DistributionError, Result};
use crate::transport::{full, ReqBody};

/// Bytes per read of a file being uploaded.
const READ_CHUNK: u64 = 256 << 10;
/// Chunks are at least this big even when a registry allows smaller ones.
const MIN_CHUNK: u64 = 64 << 10;
/// A registry asking for bigger chunks than this is refused rather than obeyed.
const MAX_CHUNK: u64 = 1 << 30;
/// PATCHes in a row that the registry did not advance the upload with.
const MAX_STALLS: u32 = 3;
/// Times one chunk is sent again after a retryable failure (5xx, dropped
/// connection), 250/500/1000 ms apart, before the upload gives up.
const MAX_CHUNK_RETRIES: u32 = 3;
/// Tries after the first when the registry is busy or briefly broken (5xx,
/// a dropped connection), with 250, 500, 1000 ms between them.
const RETRIES: u32 = 3;

/// `op` again while it fails in a way worth retrying.
async fn retrying<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match op(attempt).await {
            Err(e) if attempt < RETRIES && e.retryable() => {
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Called with the bytes of a blob sent so far.
pub type OnProgress = Arc<dyn Fn(u64) + Send + Sync>;

/// Where a blob's bytes come from.
#[derive(Debug, Clone)]
pub enum BlobSource {
    Bytes(Bytes),
    /// A file of `size` bytes (a compressed layer).
    File { path: PathBuf, size: u64 },
}

impl BlobSource {
    pub fn len(&self) -> u64 {
        match self {
            BlobSource::Bytes(b) => b.len() as u64,
            BlobSource::File { size, .. } => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `len` bytes from `offset`, as a request body.
    fn body(&self, offset: u64, len: u64, progress: Option<OnProgress>) -> ReqBody {
        match self {
            BlobSource::Bytes(b) => {
                let (start, end) = (offset as usize, (offset + len) as usize);
                full(b.slice(start.min(b.len())..end.min(b.len())))
            }
            BlobSource::File { path, .. } => file_body(path.clone(), offset, len, progress),
        }
    }
}

fn file_body(path: PathBuf, offset: u64, len: u64, progress: Option<OnProgress>) -> ReqBody {
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(4);
    tokio::spawn(async move {
        let res: std::io::Result<()> = async {
            let mut f = tokio::fs::File::open(&path).await?;
            f.seek(SeekFrom::Start(offset)).await?;
            let mut sent = 0u64;
            while sent < len {
                let mut buf = vec![0u8; READ_CHUNK.min(len - sent) as usize];
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{} is shorter than expected", path.display())));
                }
                buf.truncate(n);
                if tx.send_data(Bytes::from(buf)).await.is_err() {
                    // The request is gone (an answer came early): nothing to send to.
                    return Ok(());
                }
                sent += n as u64;
                if let Some(p) = &progress {
                    p(offset + sent);
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = res {
            tx.abort(e);
        }
    });
    body.boxed()
}

/// An upload the registry opened: where to send the data, and the smallest
/// chunk it accepts if it wants chunks.
#[derive(Debug, Clone)]
pub struct UploadSession {
    url: String,
    chunk_min: Option<u64>,
}

/// What a cross-repository mount did.
#[derive(Debug, Clone)]
pub enum Mount {
    Mounted,
    /// The registry could not mount it and opened an upload instead.
    Upload(UploadSession),
}

fn session_of(request_url: &str, resp: &Response<Incoming>) -> Result<UploadSession> {
    let loc = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if loc.is_empty() {
        return Err(DistributionError::Status { method: "POST".into(), url: request_url.to_string(), status: resp.status().as_u16(), text: "no upload location".into() });
    }
    let chunk_min = resp.headers().get("OCI-Chunk-Min-Length").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    Ok(UploadSession { url: resolve(request_url, loc), chunk_min })
}

/// Where the upload continues and how many bytes the registry holds
/// (`Range: 0-N`), from a PATCH or status answer.
fn progress_of(url: &str, headers: &HeaderMap) -> (String, Option<u64>) {
    let next = headers.get(LOCATION).and_then(|v| v.to_str().ok()).filter(|l| !l.is_empty()).map(|l| resolve(url, l)).unwrap_or_else(|| url.to_string());
    let held = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.trim().trim_start_matches("bytes=").split_once('-').map(|(_, end)| end.to_string()))
        .and_then(|end| end.trim().parse::<u64>().ok())
        .map(|end| end + 1);
    (next, held)
}

fn with_digest(url: &str, digest: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}digest={}", digest.replace(':', "%3A"))
}

impl Repository {
    /// One authenticated request; a 401 with a fresh challenge is retried
    /// once with a new token. Any other status is the caller's to judge.
    /// `mount_from`: the token must also allow pulling from that repository.
    async fn request(&self, method: Method, url: &str, payload: &(dyn Fn() -> Option<Payload> + Sync), mount_from: Option<&str>) -> Result<Response<Incoming>> {
        let mut authz = self.write_authorization(false, mount_from).await?;
        let mut resp = self.send_body(method.clone(), url, None, authz.as_deref(), payload()).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            if let Some(c) = challenge_of(&resp) {
                *self.challenge.lock().await = Some(c);
                authz = self.write_authorization(true, mount_from).await?;
                if authz.is_some() {
                    resp = self.send_body(method, url, None, authz.as_deref(), payload()).await?;
                }
            }
        }
        Ok(resp)
    }

    async fn write_authorization(&self, refresh: bool, mount_from: Option<&str>) -> Result<Option<String>> {
        let challenge = self.challenge.lock().await.clone();
        match (mount_from, challenge) {
            (Some(from), Some(Challenge::Bearer { realm, service, .. })) if self.creds.as_ref().and_then(|c| c.registry_token.as_ref()).is_none() => {
                Ok(Some(format!("Bearer {}", self.token_for(&realm, service.as_deref(), Some(from), crate::token::Ask::Access).await?)))
            }
            _ => self.authorization(refresh).await,
        }
    }

    /// A request that must succeed (a HEAD may also answer 404).
    async fn write(&self, method: Method, url: &str, payload: &(dyn Fn() -> Option<Payload> + Sync)) -> Result<Response<Incoming>> {
        let resp = self.request(method.clone(), url, payload, None).await?;
        if resp.status().is_success() || resp.status() == StatusCode::NOT_FOUND && method == Method::HEAD {
            return Ok(resp);
        }
        Err(self.error_of(url, resp).await)
    }

    /// Whether the registry has blob `digest` in this repository.
    pub async fn blob_exists(&self, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.endpoint.base, self.name);
        let none = || None;
        let resp = retrying(|_| self.write(Method::HEAD, &url, &none)).await?;
        Ok(resp.status().is_success())
    }

    /// Ask the registry to link blob `digest` from repository `from` (same
    /// registry) into this one without sending it.
    pub async fn mount_blob(&self, digest: &str, from: &str) -> Result<Mount> {
        let url = format!("{}/v2/{}/blobs/uploads/?mount={}&from={from}", self.endpoint.base, self.name, digest.replace(':', "%3A"));
        let resp = self.request(Method::POST, &url, &|| None, Some(from)).await?;
        match resp.status() {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => Ok(Mount::Upload(session_of(&url, &resp)?)),
            _ => Err(self.error_of(&url, resp).await),
        }
    }

    /// Upload blob `digest`: in the session a failed mount opened, or a new
    /// one. One PUT with the whole blob, unless the registry asked for
    /// chunks (`OCI-Chunk-Min-Length`): then PATCHes with `Content-Range`,
    /// following the `Location` and `Range` each answer gives.
    /// A failure worth retrying starts over in a new upload.
    pub async fn upload_blob(&self, digest: &str, src: &BlobSource, session: Option<UploadSession>, progress: Option<OnProgress>) -> Result<()> {
        let first = std::sync::Mutex::new(session);
        retrying(|_| {
            let session = first.lock().map(|mut s| s.take()).unwrap_or(None);
            self.upload_once(digest, src, session, progress.clone())
        })
        .await
    }

    async fn upload_once(&self, digest: &str, src: &BlobSource, session: Option<UploadSession>, progress: Option<OnProgress>) -> Result<()> {
        let session = match session {
            Some(s) => s,
            None => {
                let start = format!("{}/v2/{}/blobs/uploads/", self.endpoint.base, self.name);
                let resp = self.write(Method::POST, &start, &|| None).await?;
                session_of(&start, &resp)?
            }
        };
        let url = match session.chunk_min {
            Some(min) if min > MAX_CHUNK => {
                return Err(DistributionError::Status {
                    method: "POST".into(),
                    url: session.url,
                    status: 202,
                    text: format!("the registry asks for chunks of at least {min} bytes (berth sends at most {MAX_CHUNK})"),
                })
            }
            Some(min) if src.len() > min.max(MIN_CHUNK) => self.upload_chunks(session.url, src, min.max(MIN_CHUNK), progress).await?,
            _ => {
                let url = with_digest(&session.url, digest);
                let len = src.len();
                let make = || Some(Payload { content_type: "application/octet-stream", len, body: src.body(0, len, progress.clone()), range: None });
                self.write(Method::PUT, &url, &make).await?;
                return Ok(());
            }
        };
        self.write(Method::PUT, &with_digest(&url, digest), &|| None).await?;
        Ok(())
    }

    /// Send `src` in chunks; returns the URL to finish the upload at.
    async fn upload_chunks(&self, mut url: String, src: &BlobSource, chunk: u64, progress: Option<OnProgress>) -> Result<String> {
        let size = src.len();
        let mut offset = 0u64;
        let mut stalls = 0;
        let mut retries = 0;
        while offset < size {
            let len = chunk.min(size - offset);
            let range = format!("{offset}-{}", offset + len - 1);
            let make = || Some(Payload { content_type: "application/octet-stream", len, body: src.body(offset, len, progress.clone()), range: Some(range.clone()) });
            let answer = match self.request(Method::PATCH, &url, &make, None).await {
                Ok(resp) if resp.status().is_server_error() => Err(self.error_of(&url, resp).await),
                Ok(resp) => self.chunk_answer(&url, resp, offset + len).await,
                Err(e) => Err(e),
            };
            let (next, held) = match answer {
                Ok(a) => {
                    retries = 0;
                    a
                }
                // A chunk that failed on the way (a dropped connection, a
                // 5xx) is sent again on its own, from where the registry says
                // the upload is, rather than the whole blob in a new upload.
                Err(e) if e.retryable() && retries < MAX_CHUNK_RETRIES => {
                    tokio::time::sleep(std::time::Duration::from_millis(250 << retries)).await;
                    retries += 1;
                    let status = self.write(Method::GET, &url, &|| None).await.map_err(|_| e)?;
                    let (next, held) = progress_of(&url, status.headers());
                    url = next;
                    offset = held.unwrap_or(0).min(size);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let held = held.unwrap_or(0);
            if held > size {
                return Err(DistributionError::Status { method: "PATCH".into(), url, status: 202, text: format!("the registry holds {held} bytes of a {size}-byte blob") });
            }
            stalls = if held <= offset { stalls + 1 } else { 0 };
            if stalls > MAX_STALLS {
                return Err(DistributionError::Status { method: "PATCH".into(), url, status: 416, text: format!("the upload does not advance past byte {offset}") });
            }
            url = next;
            offset = held;
        }
        Ok(url)
    }

    /// Where the upload is after a PATCH's answer: its next URL and the
    /// bytes the registry holds (`sent_to` when a success does not say).
    async fn chunk_answer(&self, url: &str, resp: Response<Incoming>, sent_to: u64) -> Result<(String, Option<u64>)> {
        if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            // The registry holds something else than we think: ask it where the upload is.
            let status = self.write(Method::GET, url, &|| None).await?;
            return Ok(progress_of(url, status.headers()));
        }
        if resp.status().is_success() {
            let (next, held) = progress_of(url, resp.headers());
            return Ok((next, held.or(Some(sent_to))));
        }
        Err(self.error_of(url, resp).await)
    }

    /// `PUT manifests/TAG`; returns the digest the registry stored it under.
    pub async fn put_manifest(&self, tag: &str, media_type: &'static str, data: Bytes) -> Result<String> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.endpoint.base, self.name);
        let digest = format!("sha256:{}", sha256_hex(&data));
        let len = data.len() as u64;
        let make = || Some(Payload { content_type: media_type, len, body: full(data.clone()), range: None });
        retrying(|_| self.write(Method::PUT, &url, &make)).await?;
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_goes_in_the_query() {
        assert_eq!(with_digest("http://r/v2/a/blobs/uploads/1", "sha256:ab"), "http://r/v2/a/blobs/uploads/1?digest=sha256%3Aab");
        assert_eq!(with_digest("http://r/u?_state=x", "sha256:ab"), "http://r/u?_state=x&digest=sha256%3Aab");
    }

    #[test]
    fn upload_progress_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(progress_of("http://r/v2/a/blobs/uploads/1", &h), ("http://r/v2/a/blobs/uploads/1".to_string(), None));
        h.insert(LOCATION, "/v2/a/blobs/uploads/1?_state=2".parse().expect("header"));
        h.insert(RANGE, "0-65535".parse().expect("header"));
        assert_eq!(progress_of("http://r/v2/a/blobs/uploads/1", &h), ("http://r/v2/a/blobs/uploads/1?_state=2".to_string(), Some(65536)));
        h.insert(RANGE, "bytes=0-9".parse().expect("header"));
        assert_eq!(progress_of("http://r/x", &h).1, Some(10));
        h.insert(RANGE, "junk".parse().expect("header"));
        assert_eq!(progress_of("http://r/x", &h).1, None);
    }

    #[tokio::test]
    async fn byte_sources_slice() {
        let src = BlobSource::Bytes(Bytes::from_static(b"0123456789"));
        let body = src.body(3, 4, None).collect().await.map(|c| c.to_bytes());
        assert_eq!(body.ok().as_deref(), Some(&b"3456"[..]));
        let dir = std::env::temp_dir().join(format!("berth-upload-test-{}", std::process::id()));
        std::fs::write(&dir, b"abcdefghij").ok();
        let f = BlobSource::File { path: dir.clone(), size: 10 };
        let seen = Arc::new(std::sync::Mutex::new(0u64));
        let s2 = seen.clone();
        let body = f.body(2, 5, Some(Arc::new(move |n| *s2.lock().unwrap_or_else(|e| e.into_inner()) = n))).collect().await.map(|c| c.to_bytes());
        assert_eq!(body.ok().as_deref(), Some(&b"cdefg"[..]));
        assert_eq!(*seen.lock().unwrap_or_else(|e| e.into_inner()), 7);
        // A file shorter than claimed ends the body with an error, not quietly.
        let short = BlobSource::File { path: dir.clone(), size: 20 };
        assert!(short.body(0, 20, None).collect().await.is_err());
        let _ = std::fs::remove_file(dir);
    }
}
