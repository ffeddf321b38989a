//! `POST /images/{name}/push`: layers gzip-compressed from the stored
//! tars (deterministically, so a second push finds them by HEAD), uploaded
//! monolithically unless the registry has them, then the config and a
//! Docker schema 2 manifest.

use std::io::Read;
use std::sync::Arc;

use berth_api::ApiError;
use berth_distribution::{media, Registry};
use berth_image::{ImageStore, Reference};
use bytes::Bytes;
use flate2::write::GzEncoder;
use serde_json::json;

use super::Progress;

const LAYER_MEDIA: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const CONFIG_MEDIA: &str = "application/vnd.docker.container.image.v1+json";

fn gzip_blob(store: &ImageStore, diff_id: &berth_store::Digest) -> Result<(String, Bytes), String> {
    let mut f = store.blobs().open_blob(diff_id).map_err(|e| format!("layer {diff_id}: {e}"))?;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| format!("layer {diff_id}: {e}"))?;
        if n == 0 {
            break;
        }
        std::io::Write::write_all(&mut enc, &buf[..n]).map_err(|e| e.to_string())?;
    }
    let data = enc.finish().map_err(|e| e.to_string())?;
    Ok((berth_store::Digest::of_bytes(&data).to_string(), Bytes::from(data)))
}

/// Checks before the answer starts: the image exists locally.
pub fn check(store: &ImageStore, r: &Reference) -> Result<berth_image::Image, ApiError> {
    store.resolve(&r.to_string()).map_err(|_| ApiError::not_found(format!("An image does not exist locally with the tag: {}", r.name())))
}

pub async fn run(store: Arc<ImageStore>, registry: Registry, r: Reference, auth: Option<String>, p: Progress) -> Result<(), String> {
    let img = check(&store, &r).map_err(|e| e.message)?;
    p.status(&format!("The push refers to repository [{}]", r.name())).await;
    let creds = super::credentials(auth.as_deref());
    let repo = registry.repository_for_push(r.domain(), r.path(), creds).await.map_err(|e| e.to_string())?;
    let diff_ids = img.config.rootfs.diff_ids.clone();
    let mut layers = Vec::new();
    // Docker lists the top layer first.
    for diff_id in diff_ids.iter().rev() {
        p.with_id(&short(diff_id.hex()), "Preparing").await;
    }
    for diff_id in diff_ids.iter().rev() {
        let id = short(diff_id.hex());
        let (st, d) = (store.clone(), diff_id.clone());
        let (digest, data) = tokio::task::spawn_blocking(move || gzip_blob(&st, &d)).await.map_err(|e| e.to_string())??;
        let size = data.len();
        if repo.blob_exists(&digest).await.map_err(|e| e.to_string())? {
            p.with_id(&id, "Layer already exists").await;
        } else {
            p.bytes(&id, "Pushing", 0, size as u64).await;
            repo.upload_blob(&digest, data).await.map_err(|e| e.to_string())?;
            p.with_id(&id, "Pushed").await;
        }
        layers.push(json!({ "mediaType": LAYER_MEDIA, "size": size, "digest": digest }));
    }
    layers.reverse();
    let config = Bytes::from(store.config_bytes(&img.id).map_err(|e| e.to_string())?);
    let config_digest = img.id.to_string();
    if !repo.blob_exists(&config_digest).await.map_err(|e| e.to_string())? {
        repo.upload_blob(&config_digest, config.clone()).await.map_err(|e| e.to_string())?;
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::DOCKER_MANIFEST,
        "config": { "mediaType": CONFIG_MEDIA, "size": config.len(), "digest": config_digest },
        "layers": layers,
    });
    let data = Bytes::from(serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?);
    let size = data.len();
    let tag = r.tag().unwrap_or("latest").to_string();
    let digest = repo.put_manifest(&tag, media::DOCKER_MANIFEST, data).await.map_err(|e| e.to_string())?;
    p.status(&format!("{tag}: digest: {digest} size: {size}")).await;
    p.aux(json!({ "Tag": tag, "Digest": digest, "Size": size })).await;
    Ok(())
}

fn short(hex: &str) -> String {
    hex.chars().take(12).collect()
}
