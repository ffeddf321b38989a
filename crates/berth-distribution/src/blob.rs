//! A blob download that verifies itself: every chunk is hashed and counted,
//! and the stream fails instead of ending when the digest or size is off.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use sha2::{Digest as _, Sha256};

use crate::error::{DistributionError, Result};

/// A blob being downloaded: each chunk is hashed and counted as it passes.
pub struct Blob {
    body: Incoming,
    digest: String,
    size: u64,
    got: u64,
    hasher: Sha256,
    done: bool,
    offset: u64,
}

impl Blob {
    pub(crate) fn new(body: Incoming, digest: &str, size: u64) -> Blob {
        Blob::resumed(body, digest, size, 0, Sha256::new())
    }

    /// A stream of the bytes after the first `got`, which hashed to `hasher`.
    pub(crate) fn resumed(body: Incoming, digest: &str, size: u64, got: u64, hasher: Sha256) -> Blob {
        Blob { body, digest: digest.to_string(), size, got, hasher, done: false, offset: got }
    }

    /// The byte of the blob this stream starts at (0 unless a range was granted).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes of the blob passed on so far (the offset included) and their
    /// hash state: where a download interrupted now would resume.
    pub fn progress(&self) -> (u64, Sha256) {
        (self.got, self.hasher.clone())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The next chunk; `None` once the whole blob arrived and matched its digest.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        loop {
            let Some(frame) = self.body.frame().await else {
                self.done = true;
                if self.got != self.size {
                    return Err(DistributionError::Truncated { digest: self.digest.clone(), expected: self.size, got: self.got });
                }
                let actual = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
                if actual != self.digest {
                    return Err(DistributionError::DigestMismatch { expected: self.digest.clone(), actual });
                }
                return Ok(None);
            };
            let frame = frame.map_err(|e| {
                let message = e.to_string();
                if self.got < self.size {
                    return DistributionError::Truncated { digest: self.digest.clone(), expected: self.size, got: self.got };
                }
                DistributionError::Transport { method: "GET".into(), url: format!("blobs/{}", self.digest), message }
            })?;
            let Ok(data) = frame.into_data() else { continue };
            self.got += data.len() as u64;
            if self.got > self.size {
                return Err(DistributionError::DigestMismatch {
                    expected: self.digest.clone(),
                    actual: format!("more than the {} bytes the manifest declares", self.size),
                });
            }
            self.hasher.update(&data);
            return Ok(Some(data));
        }
    }
}
