//! `GET`/`HEAD`/`PUT`/`DELETE /v2/NAME/manifests/REFERENCE`, by tag or digest.

use super::body::{self, Resp};
use super::State;
use crate::digest::Digest;
use crate::error::{ApiError, Code};
use crate::manifest::{self, MAX_MANIFEST};
use crate::name::is_tag;
use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, StatusCode};

/// A reference is a digest if it has a colon, otherwise a tag.
enum Reference {
    Tag(String),
    Digest(Digest),
}

fn parse_reference(r: &str) -> Result<Reference, ApiError> {
    if r.contains(':') {
        return Ok(Reference::Digest(r.parse()?));
    }
    if !is_tag(r) {
        return Err(ApiError::new(Code::TagInvalid, "manifest tag did not match URI").with_detail(serde_json::json!({ "tag": r })));
    }
    Ok(Reference::Tag(r.to_string()))
}

fn unknown(name: &str, r: &str) -> ApiError {
    ApiError::new(Code::ManifestUnknown, "manifest unknown")
        .with_detail(serde_json::json!({ "name": name, "reference": r }))
}

pub fn get(state: &State, name: &str, r: &str, head: bool) -> Result<Resp, ApiError> {
    // An unknown repository answers MANIFEST_UNKNOWN too, as distribution
    // does (clients word both as "manifest unknown").
    let d = match parse_reference(r)? {
        Reference::Digest(d) => d,
        Reference::Tag(t) => state.storage.resolve_tag(name, &t)?.ok_or_else(|| unknown(name, r))?,
    };
    let media_type = state.storage.manifest_media_type(name, &d)?.ok_or_else(|| unknown(name, r))?;
    let bytes = state.storage.read_blob(&d, MAX_MANIFEST as u64)?;
    let b = body::status(StatusCode::OK)
        .header(header::CONTENT_TYPE, media_type)
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(header::ETAG, format!("\"{d}\""))
        .header("Docker-Content-Digest", d.to_string());
    body::finish(b, if head { body::empty() } else { body::full(bytes) })
}

pub async fn put(state: &State, name: &str, r: &str, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let reference = parse_reference(r)?;
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) {
        if len > MAX_MANIFEST as u64 {
            return Err(ApiError::new(Code::TooLarge, format!("manifest is larger than {MAX_MANIFEST} bytes")));
        }
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let bytes = body::read_bounded(req.into_body(), MAX_MANIFEST).await?;
    let media_type = manifest::media_type(content_type.as_deref(), &bytes)?;
    let refs = manifest::references(media_type, &bytes)?;
    let tag = match &reference {
        Reference::Digest(want) => {
            let got = Digest::of(&bytes);
            if &got != want {
                return Err(ApiError::new(Code::DigestInvalid, format!("manifest digest is {got}, not {want}")));
            }
            None
        }
        Reference::Tag(t) => Some(t.as_str()),
    };
    manifest::check_present(&state.storage, name, &refs)?;
    let d = state.storage.put_manifest(name, &bytes, media_type, tag)?;
    let mut b = body::status(StatusCode::CREATED);
    // OCI 1.1: a registry with the referrers API says it saw the subject.
    if let Some(s) = subject(&bytes) {
        b = b.header("OCI-Subject", s);
    }
    let b = b
        .header(header::LOCATION, format!("/v2/{name}/manifests/{d}"))
        .header(header::CONTENT_LENGTH, 0)
        .header("Docker-Content-Digest", d.to_string());
    body::finish(b, body::empty())
}

fn subject(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let d = v["subject"]["digest"].as_str()?;
    d.parse::<Digest>().ok().map(|d| d.to_string())
}

pub fn delete(state: &State, name: &str, r: &str) -> Result<Resp, ApiError> {
    let reference = parse_reference(r)?;
    if !state.delete_enabled {
        return Err(ApiError::new(Code::Unsupported, "deletion is disabled (berth registry serve --enable-delete)"));
    }
    let found = match reference {
        Reference::Digest(d) => state.storage.delete_manifest(name, &d)?,
        // OCI 1.1: deleting by tag removes the tag only.
        Reference::Tag(t) => state.storage.delete_tag(name, &t)?,
    };
    if !found {
        return Err(unknown(name, r));
    }
    body::finish(body::status(StatusCode::ACCEPTED).header(header::CONTENT_LENGTH, 0), body::empty())
}
