//! OCI 1.1 referrers: `GET /v2/NAME/referrers/DIGEST[?artifactType=T]`
//! lists, as an OCI index, the manifests of NAME whose `subject` is DIGEST
//! (signatures, SBOMs, attestations). Found by reading the repository's
//! manifests: no second index to keep consistent.

use super::body::{self, Resp};
use super::route::query_param;
use super::State;
use crate::digest::Digest;
use crate::error::ApiError;
use crate::manifest::{MAX_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::StatusCode;
use serde_json::{json, Value};

pub fn list(state: &State, name: &str, digest: &str, query: Option<&str>) -> Result<Resp, ApiError> {
    let subject: Digest = digest.parse()?;
    let filter = query_param(query, "artifactType").filter(|t| !t.is_empty());
    let mut found = Vec::new();
    for d in state.storage.manifest_revisions(name)? {
        let Some(media_type) = state.storage.manifest_media_type(name, &d)? else { continue };
        if media_type != OCI_MANIFEST && media_type != OCI_INDEX {
            continue;
        }
        let bytes = state.storage.read_blob(&d, MAX_MANIFEST as u64)?;
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else { continue };
        if let Some(desc) = descriptor(&v, &subject, &d, bytes.len(), &media_type) {
            if filter.as_deref().is_none_or(|f| desc["artifactType"] == f) {
                found.push(desc);
            }
        }
    }
    let index = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found });
    let mut r = body::json(StatusCode::OK, &index);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
    if filter.is_some() {
        r.headers_mut().insert("OCI-Filters-Applied", HeaderValue::from_static("artifactType"));
    }
    Ok(r)
}

/// The index entry for manifest `v` (digest `d`) if its subject is `subject`.
fn descriptor(v: &Value, subject: &Digest, d: &Digest, size: usize, media_type: &str) -> Option<Value> {
    if v["subject"]["digest"].as_str() != Some(subject.to_string().as_str()) {
        return None;
    }
    // The spec: artifactType, else the config's media type.
    let artifact_type = v.get("artifactType").or_else(|| v["config"].get("mediaType")).cloned();
    let mut desc = json!({ "mediaType": media_type, "digest": d.to_string(), "size": size });
    if let Some(t) = artifact_type {
        desc["artifactType"] = t;
    }
    if let Some(a) = v.get("annotations") {
        desc["annotations"] = a.clone();
    }
    Some(desc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        let s = Digest::of(b"subject");
        let d = Digest::of(b"sig");
        let v = json!({"schemaVersion": 2, "artifactType": "application/x-sig", "config": {"mediaType": "application/vnd.oci.empty.v1+json"},
            "subject": {"digest": s.to_string()}, "annotations": {"k": "v"}});
        let desc = descriptor(&v, &s, &d, 10, OCI_MANIFEST).unwrap();
        assert_eq!(desc["artifactType"], "application/x-sig");
        assert_eq!(desc["annotations"]["k"], "v");
        assert_eq!(desc["size"], 10);
        let no_type = json!({"config": {"mediaType": "application/x-cfg"}, "subject": {"digest": s.to_string()}});
        assert_eq!(descriptor(&no_type, &s, &d, 1, OCI_MANIFEST).unwrap()["artifactType"], "application/x-cfg");
        assert!(descriptor(&v, &d, &d, 1, OCI_MANIFEST).is_none());
    }
}
