//! Blob uploads: `POST` (start, monolithic with `?digest=`, or mount with
//! `?mount=&from=`), `PATCH` (a chunk), `PUT ?digest=` (finish), `GET`
//! (status) and `DELETE` (cancel). Data is hashed as it streams in; the
//! hash state of each upload is kept between chunks (and rebuilt from the
//! file after a restart), so finishing costs no second read.

use super::body::{self, Resp};
use super::route::query_param;
use super::State;
use crate::digest::Digest;
use crate::error::{ApiError, Code};
use crate::storage::UploadId;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, StatusCode};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone)]
struct Progress {
    hasher: Sha256,
    size: u64,
}

type Slot = Arc<tokio::sync::Mutex<Option<Progress>>>;

/// Hash state per upload; the slot's lock also serialises an upload's
/// requests (two PATCHes to one upload never interleave).
#[derive(Default)]
pub struct Progresses(Mutex<HashMap<UploadId, Slot>>);

impl Progresses {
    fn slot(&self, id: &UploadId) -> Slot {
        match self.0.lock() {
            Ok(mut m) => m.entry(id.clone()).or_default().clone(),
            // A panic elsewhere poisoned the map: a fresh slot still works
            // (its hash is rebuilt from the file).
            Err(_) => Slot::default(),
        }
    }

    fn forget(&self, id: &UploadId) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(id);
        }
    }
}

fn upload_unknown() -> ApiError {
    ApiError::new(Code::BlobUploadUnknown, "blob upload unknown to registry")
}

fn parse_id(id: &str) -> Result<UploadId, ApiError> {
    id.parse().map_err(|_| upload_unknown())
}

/// 202 (or 204 for status) with where to send the next chunk.
fn in_progress(status: StatusCode, name: &str, id: &UploadId, size: u64) -> Result<Resp, ApiError> {
    in_progress_asking(status, name, id, size, None)
}

/// The same, asking for chunks of at least `chunk_min` bytes.
fn in_progress_asking(status: StatusCode, name: &str, id: &UploadId, size: u64, chunk_min: Option<u64>) -> Result<Resp, ApiError> {
    let mut b = body::status(status);
    if let Some(n) = chunk_min {
        b = b.header("OCI-Chunk-Min-Length", n);
    }
    let b = b
        .header(header::LOCATION, format!("/v2/{name}/blobs/uploads/{id}"))
        .header(header::RANGE, format!("0-{}", size.saturating_sub(1)))
        .header(header::CONTENT_LENGTH, 0)
        .header("Docker-Upload-UUID", id.to_string());
    body::finish(b, body::empty())
}

fn created(name: &str, d: &Digest) -> Result<Resp, ApiError> {
    let b = body::status(StatusCode::CREATED)
        .header(header::LOCATION, format!("/v2/{name}/blobs/{d}"))
        .header(header::CONTENT_LENGTH, 0)
        .header("Docker-Content-Digest", d.to_string());
    body::finish(b, body::empty())
}

pub async fn start(state: &State, name: &str, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let query = req.uri().query().map(str::to_string);
    let query = query.as_deref();
    if let Some(mount) = query_param(query, "mount") {
        let d: Digest = mount.parse()?;
        if let Some(from) = query_param(query, "from") {
            crate::name::check_name(&from)?;
            // With tokens, mounting needs pull on `from` too; without it the
            // client uploads instead, as if the blob were not there.
            let may_read = req.extensions().get::<super::access::Granted>().is_none_or(|g| g.0.allows("repository", &from, "pull"));
            if may_read && state.storage.blob_in_repo(&from, &d)?.is_some() {
                state.storage.link_blob(name, &d)?;
                return created(name, &d);
            }
        }
        // Not mountable: the client uploads instead, as the spec says.
    }
    let digest = query_param(query, "digest").map(|s| s.parse::<Digest>()).transpose()?;
    let id = state.storage.new_upload(name)?;
    let slot = state.uploads.slot(&id);
    let mut progress = slot.lock().await;
    let size = append(state, &id, 0, &mut progress, req.into_body(), None).await?;
    match digest {
        Some(d) => complete(state, name, &id, &mut progress, &d).await,
        None => in_progress_asking(StatusCode::ACCEPTED, name, &id, size, state.chunk_min_length),
    }
}

pub fn status(state: &State, name: &str, id: &str) -> Result<Resp, ApiError> {
    let id = parse_id(id)?;
    let size = state.storage.upload_size(name, &id)?.ok_or_else(upload_unknown)?;
    in_progress(StatusCode::NO_CONTENT, name, &id, size)
}

pub async fn patch(state: &State, name: &str, id: &str, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let id = parse_id(id)?;
    let slot = state.uploads.slot(&id);
    let mut progress = slot.lock().await;
    let size = state.storage.upload_size(name, &id)?.ok_or_else(upload_unknown)?;
    let range = match req.headers().get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(r) => Some(parse_content_range(r).ok_or_else(|| ApiError::new(Code::RangeInvalid, format!("invalid Content-Range {r:?}")))?),
    };
    if let Some((start, _)) = range {
        if start != size {
            // Tell the client where the upload really is.
            let b = body::status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::LOCATION, format!("/v2/{name}/blobs/uploads/{id}"))
                .header(header::RANGE, format!("0-{}", size.saturating_sub(1)))
                .header("Docker-Upload-UUID", id.to_string());
            let e = ApiError::new(Code::RangeInvalid, format!("chunk starts at {start}, the upload is at {size}"));
            return body::finish(b, body::full(e.body()));
        }
    }
    let size = append(state, &id, size, &mut progress, req.into_body(), range).await?;
    in_progress(StatusCode::ACCEPTED, name, &id, size)
}

pub async fn finish(state: &State, name: &str, id: &str, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let id = parse_id(id)?;
    let d: Digest = query_param(req.uri().query(), "digest")
        .ok_or_else(|| ApiError::new(Code::DigestInvalid, "digest missing: PUT needs ?digest="))?
        .parse()?;
    let slot = state.uploads.slot(&id);
    let mut progress = slot.lock().await;
    let size = state.storage.upload_size(name, &id)?.ok_or_else(upload_unknown)?;
    append(state, &id, size, &mut progress, req.into_body(), None).await?;
    complete(state, name, &id, &mut progress, &d).await
}

pub fn cancel(state: &State, name: &str, id: &str) -> Result<Resp, ApiError> {
    let id = parse_id(id)?;
    state.storage.upload_size(name, &id)?.ok_or_else(upload_unknown)?;
    state.storage.remove_upload(&id)?;
    state.uploads.forget(&id);
    body::finish(body::status(StatusCode::NO_CONTENT).header(header::CONTENT_LENGTH, 0), body::empty())
}

/// Verifies the digest and moves the data into place as a blob of `name`.
async fn complete(state: &State, name: &str, id: &UploadId, progress: &mut Option<Progress>, want: &Digest) -> Result<Resp, ApiError> {
    let p = progress.take().ok_or_else(|| ApiError::new(Code::Unknown, "upload state lost"))?;
    let got = Digest::from_hasher(p.hasher);
    if &got != want {
        // A wrong digest ends the upload: nothing of it becomes visible.
        state.storage.remove_upload(id)?;
        state.uploads.forget(id);
        return Err(ApiError::new(Code::DigestInvalid, format!("provided digest {want} did not match uploaded content {got}"))
            .with_detail(serde_json::json!({ "digest": want.to_string() })));
    }
    state.storage.commit_blob(&state.storage.upload_data(id), want)?;
    state.storage.link_blob(name, want)?;
    state.storage.remove_upload(id)?;
    state.uploads.forget(id);
    created(name, want)
}

/// Appends a request body to the upload whose data is `size` bytes now,
/// hashing it as it streams. On any failure the file and the hash go
/// back to where they were, so a broken chunk can be sent again.
async fn append(
    state: &State,
    id: &UploadId,
    size: u64,
    progress: &mut Option<Progress>,
    mut body: Incoming,
    range: Option<(u64, u64)>,
) -> Result<u64, ApiError> {
    let path = state.storage.upload_data(id);
    let mut p = match progress.take() {
        Some(p) if p.size == size => p,
        _ => rehash(&path).await?,
    };
    let before = p.clone();
    let mut f = tokio::fs::OpenOptions::new().append(true).open(&path).await?;
    let result: Result<(), ApiError> = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ApiError::new(Code::BlobUploadInvalid, format!("reading the chunk: {e}")))?;
            if let Ok(data) = frame.into_data() {
                p.hasher.update(&data);
                p.size += data.len() as u64;
                f.write_all(&data).await?;
            }
        }
        f.flush().await?;
        if let Some((start, end)) = range {
            let sent = p.size - before.size;
            if end < start || sent != end - start + 1 {
                return Err(ApiError::new(Code::SizeInvalid, format!("Content-Range {start}-{end} but {sent} bytes sent")));
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let size = p.size;
            *progress = Some(p);
            Ok(size)
        }
        Err(e) => {
            f.set_len(before.size).await?;
            *progress = Some(before);
            Err(e)
        }
    }
}

/// The hash of what an upload holds so far (after a server restart).
async fn rehash(path: &std::path::Path) -> Result<Progress, ApiError> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut p = Progress { hasher: Sha256::new(), size: 0 };
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok(p);
        }
        p.hasher.update(&buf[..n]);
        p.size += n as u64;
    }
}

/// `START-END` (inclusive), with or without a `bytes ` prefix.
fn parse_content_range(h: &str) -> Option<(u64, u64)> {
    let s = h.trim();
    let s = s.strip_prefix("bytes ").or_else(|| s.strip_prefix("bytes=")).unwrap_or(s);
    let s = s.split('/').next()?;
    let (a, b) = s.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("0-99"), Some((0, 99)));
        assert_eq!(parse_content_range("bytes 100-199/*"), Some((100, 199)));
        assert_eq!(parse_content_range("x-1"), None);
        assert_eq!(parse_content_range(""), None);
    }
}
