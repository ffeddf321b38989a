//! `GET`/`HEAD`/`DELETE /v2/NAME/blobs/DIGEST`, with single byte ranges.

use super::body::{self, FileBody, Resp};
use super::State;
use crate::digest::Digest;
use crate::error::{ApiError, Code};
use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, StatusCode};
use tokio::io::AsyncSeekExt;

fn unknown(d: &Digest) -> ApiError {
    ApiError::new(Code::BlobUnknown, "blob unknown to registry").with_detail(serde_json::json!({ "digest": d.to_string() }))
}

pub async fn get(state: &State, name: &str, digest: &str, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let d: Digest = digest.parse()?;
    let size = state.storage.blob_in_repo(name, &d)?.ok_or_else(|| unknown(&d))?;
    let range = match req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(r) => match parse_range(r, size) {
            Some(r) => Some(r),
            None => {
                let b = body::status(StatusCode::RANGE_NOT_SATISFIABLE).header(header::CONTENT_RANGE, format!("bytes */{size}"));
                return body::finish(b, body::full(ApiError::new(Code::RangeInvalid, "invalid range").body()));
            }
        },
    };
    let (start, len) = range.unwrap_or((0, size));
    let mut b = body::status(if range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK })
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{d}\""))
        .header(header::CACHE_CONTROL, "max-age=31536000")
        .header("Docker-Content-Digest", d.to_string());
    if range.is_some() {
        b = b.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{size}", start + len - 1));
    }
    if req.method() == hyper::Method::HEAD {
        return body::finish(b, body::empty());
    }
    let mut f = tokio::fs::File::open(state.storage.blob_path(&d)).await?;
    if start > 0 {
        f.seek(std::io::SeekFrom::Start(start)).await?;
    }
    body::finish(b, FileBody::boxed(f, len))
}

pub fn delete(state: &State, name: &str, digest: &str) -> Result<Resp, ApiError> {
    let d: Digest = digest.parse()?;
    if !state.delete_enabled {
        return Err(ApiError::new(Code::Unsupported, "deletion is disabled (berth registry serve --enable-delete)"));
    }
    if !state.storage.unlink_blob(name, &d)? {
        return Err(unknown(&d));
    }
    body::finish(body::status(StatusCode::ACCEPTED).header(header::CONTENT_LENGTH, 0), body::empty())
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` within `size`, as (start, length).
fn parse_range(h: &str, size: u64) -> Option<(u64, u64)> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.checked_sub(n.min(size))?, size.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, size.checked_sub(1)?),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size.checked_sub(1)?)),
    };
    (start <= end && end < size).then(|| (start, end - start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=90-200", 100), Some((90, 10)));
        for bad in ["bytes=100-", "bytes=5-1", "bytes=a-b", "items=0-1", "bytes=0-1,3-4", "bytes=0-0"] {
            let size = if bad == "bytes=0-0" { 0 } else { 100 };
            assert_eq!(parse_range(bad, size), None, "{bad}");
        }
    }
}
