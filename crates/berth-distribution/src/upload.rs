//! Pushing into a repository: blob existence, monolithic uploads, manifests.

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::LOCATION;
use hyper::{Method, Response};

use crate::client::{challenge_of, resolve, sha256_hex, Repository};
use crate::error::{DistributionError, Result};

impl Repository {
    /// One authenticated request with a body (push), retried once after a
    /// fresh token when the registry asks for one.
    async fn write(&self, method: Method, url: &str, body: Option<(&str, Bytes)>) -> Result<Response<Incoming>> {
        let mut authz = self.authorization(false).await?;
        for attempt in 0..2 {
            let resp = self.send_body(method.clone(), url, None, authz.as_deref(), body.clone()).await?;
            if resp.status() == hyper::StatusCode::UNAUTHORIZED && attempt == 0 {
                if let Some(c) = challenge_of(&resp) {
                    *self.challenge.lock().await = Some(c);
                    authz = self.authorization(true).await?;
                    if authz.is_some() {
                        continue;
                    }
                }
            }
            if resp.status().is_success() || resp.status() == hyper::StatusCode::NOT_FOUND && method == Method::HEAD {
                return Ok(resp);
            }
            return Err(self.error_of(url, resp).await);
        }
        Err(DistributionError::Status { method: method.to_string(), url: url.to_string(), status: 401, text: "unauthorized".into() })
    }

    /// Whether the registry has blob `digest` in this repository.
    pub async fn blob_exists(&self, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.endpoint.base, self.name);
        let resp = self.write(Method::HEAD, &url, None).await?;
        Ok(resp.status().is_success())
    }

    /// Monolithic upload: `POST blobs/uploads/`, then `PUT` the bytes at the
    /// location it gives with `?digest=`.
    pub async fn upload_blob(&self, digest: &str, data: Bytes) -> Result<()> {
        let start = format!("{}/v2/{}/blobs/uploads/", self.endpoint.base, self.name);
        let resp = self.write(Method::POST, &start, None).await?;
        let loc = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if loc.is_empty() {
            return Err(DistributionError::Status { method: "POST".into(), url: start, status: resp.status().as_u16(), text: "no upload location".into() });
        }
        let mut url = resolve(&start, &loc);
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={}", digest.replace(':', "%3A")));
        self.write(Method::PUT, &url, Some(("application/octet-stream", data))).await?;
        Ok(())
    }

    /// `PUT manifests/TAG`; returns the digest the registry stored it under.
    pub async fn put_manifest(&self, tag: &str, media_type: &str, data: Bytes) -> Result<String> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.endpoint.base, self.name);
        let digest = format!("sha256:{}", sha256_hex(&data));
        self.write(Method::PUT, &url, Some((media_type, data))).await?;
        Ok(digest)
    }

}
