//! Layer cache keys: sha256 over the parent image, the step's history line (which holds
//! the normalized instruction, build args for RUN, and source hashes for COPY/ADD), the
//! resulting image config, and whatever else changes the result (chmod, mounts...).

use sha2::{Digest, Sha256};

use berth_image::ContainerConfig;

/// Bumped when the builder's semantics change, so old entries stop matching.
const VERSION: &str = "berth-build-cache-v1";

pub fn key(parent: Option<&str>, created_by: &str, config: &ContainerConfig, extra: &[String]) -> String {
    let mut h = Sha256::new();
    for part in [VERSION, parent.unwrap_or("scratch"), created_by] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(serde_json::to_vec(config).unwrap_or_default());
    for e in extra {
        h.update([0]);
        h.update(e.as_bytes());
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}
