//! Checking a manifest before it is stored: its media type, its shape (via
//! oci-spec's types), and that everything it references is in the
//! repository with the size it claims, as distribution checks.

use crate::digest::Digest;
use crate::error::{ApiError, Code};
use crate::storage::Storage;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Largest manifest accepted (distribution's limit too).
pub const MAX_MANIFEST: usize = 4 << 20;

/// Layers a registry is not expected to hold (Windows base layers).
const FOREIGN: [&str; 2] = [
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
];

/// What a stored manifest points at, for validation and gc.
#[derive(Debug, PartialEq, Eq)]
pub struct References {
    /// Config and layers (by blob).
    pub blobs: Vec<(Digest, u64)>,
    /// Child manifests (of an index).
    pub manifests: Vec<(Digest, u64)>,
    /// The manifest this one refers to (OCI 1.1 `subject`): a signature,
    /// an SBOM… belongs to it.
    pub subject: Option<Digest>,
}

/// The `subject` digest of a manifest body, if it has a valid one.
fn subject_of(body: &[u8]) -> Option<Digest> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["subject"]["digest"].as_str()?.parse().ok()
}

/// The media type to store `body` under: the Content-Type, which must agree
/// with the body's own `mediaType` when it has one.
pub fn media_type(content_type: Option<&str>, body: &[u8]) -> Result<&'static str, ApiError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(body).map_err(|e| invalid(format!("manifest is not JSON: {e}")))?;
    let ct = content_type.map(|c| c.split(';').next().unwrap_or("").trim()).filter(|c| !c.is_empty());
    let declared = match (ct, probe.media_type.as_deref()) {
        (Some(c), Some(m)) if c != m => {
            return Err(invalid(format!("Content-Type {c} does not match the manifest's mediaType {m}")))
        }
        (Some(c), _) => c.to_string(),
        (None, Some(m)) => m.to_string(),
        // An OCI manifest may leave mediaType out; its shape tells.
        (None, None) if probe.manifests.is_some() => OCI_INDEX.to_string(),
        (None, None) => OCI_MANIFEST.to_string(),
    };
    [DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX]
        .into_iter()
        .find(|t| *t == declared)
        .ok_or_else(|| invalid(format!("unsupported manifest media type {declared}")))
}

/// Parses `body` as `media_type` and lists what it references.
pub fn references(media_type: &str, body: &[u8]) -> Result<References, ApiError> {
    let convert = |d: &Descriptor| -> Result<(Digest, u64), ApiError> {
        let digest: Digest = d.digest().to_string().parse()?;
        Ok((digest, d.size()))
    };
    if media_type == DOCKER_LIST || media_type == OCI_INDEX {
        let idx: ImageIndex = serde_json::from_slice(body).map_err(|e| invalid(format!("invalid index: {e}")))?;
        if idx.schema_version() != 2 {
            return Err(invalid("schemaVersion must be 2"));
        }
        let manifests = idx.manifests().iter().map(convert).collect::<Result<_, _>>()?;
        return Ok(References { blobs: Vec::new(), manifests, subject: subject_of(body) });
    }
    let m: ImageManifest = serde_json::from_slice(body).map_err(|e| invalid(format!("invalid manifest: {e}")))?;
    if m.schema_version() != 2 {
        return Err(invalid("schemaVersion must be 2"));
    }
    let mut blobs = vec![convert(m.config())?];
    for l in m.layers() {
        if FOREIGN.contains(&l.media_type().to_string().as_str()) {
            continue;
        }
        blobs.push(convert(l)?);
    }
    Ok(References { blobs, manifests: Vec::new(), subject: subject_of(body) })
}

/// Every reference must be in repository `name` with the size it claims.
pub fn check_present(storage: &Storage, name: &str, refs: &References) -> Result<(), ApiError> {
    for (d, size) in &refs.blobs {
        match storage.blob_in_repo(name, d)? {
            None => return Err(blob_unknown(d)),
            Some(s) if s != *size => return Err(size_mismatch(d, *size, s)),
            Some(_) => {}
        }
    }
    for (d, size) in &refs.manifests {
        if storage.manifest_media_type(name, d)?.is_none() {
            return Err(blob_unknown(d));
        }
        match storage.blob_size(d)? {
            Some(s) if s != *size => return Err(size_mismatch(d, *size, s)),
            _ => {}
        }
    }
    Ok(())
}

fn blob_unknown(d: &Digest) -> ApiError {
    ApiError::new(Code::ManifestBlobUnknown, format!("blob unknown to registry: {d}"))
        .with_detail(serde_json::json!({"digest": d.to_string()}))
}

fn size_mismatch(d: &Digest, claimed: u64, actual: u64) -> ApiError {
    invalid(format!("{d}: the manifest says {claimed} bytes, the registry has {actual}"))
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::ManifestInvalid, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(config: &Digest, csize: u64, layer: &Digest, lsize: u64) -> String {
        serde_json::json!({
            "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config.to_string(), "size": csize},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": layer.to_string(), "size": lsize}],
        })
        .to_string()
    }

    #[test]
    fn media_types() {
        let m = manifest(&Digest::of(b"c"), 1, &Digest::of(b"l"), 1);
        assert_eq!(media_type(Some(DOCKER_MANIFEST), m.as_bytes()).unwrap(), DOCKER_MANIFEST);
        assert_eq!(media_type(None, m.as_bytes()).unwrap(), DOCKER_MANIFEST);
        assert_eq!(media_type(Some(OCI_MANIFEST), m.as_bytes()).unwrap_err().code, Code::ManifestInvalid);
        assert_eq!(media_type(None, b"{\"manifests\":[]}").unwrap(), OCI_INDEX);
        assert_eq!(media_type(Some("text/plain"), b"{}").unwrap_err().code, Code::ManifestInvalid);
        assert_eq!(media_type(None, b"not json").unwrap_err().code, Code::ManifestInvalid);
    }

    #[test]
    fn references_must_be_present_with_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let c = s.put_blob_bytes(b"config").unwrap();
        let l = s.put_blob_bytes(b"layer").unwrap();
        let m = manifest(&c, 6, &l, 5);
        let refs = references(DOCKER_MANIFEST, m.as_bytes()).unwrap();
        assert_eq!(refs.blobs, vec![(c.clone(), 6), (l.clone(), 5)]);
        // Stored, but not in this repository.
        assert_eq!(check_present(&s, "r", &refs).unwrap_err().code, Code::ManifestBlobUnknown);
        s.link_blob("r", &c).unwrap();
        s.link_blob("r", &l).unwrap();
        check_present(&s, "r", &refs).unwrap();
        let wrong = references(DOCKER_MANIFEST, manifest(&c, 6, &l, 99).as_bytes()).unwrap();
        assert_eq!(check_present(&s, "r", &wrong).unwrap_err().code, Code::ManifestInvalid);
        let bad = m.replace(&l.hex()[..8], "zzzzzzzz");
        assert_eq!(references(DOCKER_MANIFEST, bad.as_bytes()).unwrap_err().code, Code::ManifestInvalid);
    }

    #[test]
    fn index_references_manifests() {
        let d = Digest::of(b"m");
        let idx = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": d.to_string(), "size": 1, "platform": {"architecture": "amd64", "os": "linux"}}]});
        let refs = references(OCI_INDEX, idx.to_string().as_bytes()).unwrap();
        assert_eq!(refs.manifests, vec![(d, 1)]);
        assert!(refs.blobs.is_empty());
    }
}
