//! `POST /images/{name}/push?tag=`: one tag, or every tag of the repository
//! when none is given (`push --all-tags`). Per layer, as dockerd does: a
//! compressed digest remembered from an earlier pull or push is checked with
//! HEAD (`Layer already exists`) or cross-mounted from another repository of
//! the same registry (`Mounted from …`); otherwise the stored tar is gzipped
//! (deterministically) into a temp file, hashed on the way, and uploaded.
//! Layers go up to five at a time (dockerd's `max-concurrent-uploads`);
//! then the config and a Docker schema 2 manifest.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_api::ApiError;
use berth_distribution::{media, BlobSource, Mount, Registry, Repository, UploadSession};
use berth_image::{Image, ImageStore, Reference};
use berth_store::Digest;
use bytes::Bytes;
use flate2::write::GzEncoder;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

use super::memo::{Compressed, LayerMemo};
use super::Progress;

const LAYER_MEDIA: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const CONFIG_MEDIA: &str = "application/vnd.docker.container.image.v1+json";
/// dockerd's default `max-concurrent-uploads`.
const PARALLEL_UPLOADS: usize = 5;
/// gzip level of pushed layers. Level 1 of zlib-rs is "quick": static
/// Huffman codes only, which grow incompressible data by a tenth and make
/// it slow to inflate; level 2 falls back to stored blocks for such data
/// and compresses the rest nearly as fast.
const PUSH_GZIP_LEVEL: u32 = 2;
/// Remembered digests tried per layer, as HEADs and as mounts.
const MAX_CANDIDATES: usize = 3;

/// What to push: one tag, or every tag of the repository.
pub struct PushRequest {
    pub reference: Reference,
    pub all_tags: bool,
    pub auth_header: Option<String>,
}

/// The (tag, image) pairs to push, checked before the answer starts.
pub fn check(store: &ImageStore, req: &PushRequest) -> Result<Vec<(Reference, Image)>, ApiError> {
    let missing = || ApiError::not_found(format!("An image does not exist locally with the tag: {}", req.reference.familiar_name()));
    if !req.all_tags {
        let img = store.resolve(&req.reference.to_string()).map_err(|_| missing())?;
        return Ok(vec![(req.reference.clone(), img)]);
    }
    let name = req.reference.name();
    let mut out = Vec::new();
    for img in store.list() {
        for t in &img.tags {
            if let Ok(r) = Reference::parse_normalized(t) {
                if r.name() == name && r.tag().is_some() {
                    out.push((r, img.clone()));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(missing());
    }
    // dockerd pushes the repository's tags in lexical order.
    out.sort_by_key(|a| a.0.to_string());
    Ok(out)
}

/// Push every (tag, image) of `req` into its repository.
pub async fn run(store: Arc<ImageStore>, registry: Registry, data_root: PathBuf, req: PushRequest, p: Progress) -> Result<(), String> {
    let items = check(&store, &req).map_err(|e| e.message)?;
    let r = &req.reference;
    p.status(&format!("The push refers to repository [{}]", r.name())).await;
    let creds = super::credentials(req.auth_header.as_deref());
    let repo = Arc::new(registry.repository_for_push(r.domain(), r.path(), creds).await.map_err(|e| e.to_string())?);
    let ctx = Arc::new(Ctx { store, repo, memo: LayerMemo::open(&data_root), data_root, target: format!("{}/{}", r.domain(), r.path()), p });
    for (tag, img) in items {
        push_image(&ctx, tag.tag().unwrap_or("latest"), &img).await?;
    }
    Ok(())
}

struct Ctx {
    store: Arc<ImageStore>,
    repo: Arc<Repository>,
    memo: LayerMemo,
    data_root: PathBuf,
    /// `host/path` of the repository pushed to.
    target: String,
    p: Progress,
}

async fn push_image(ctx: &Arc<Ctx>, tag: &str, img: &Image) -> Result<(), String> {
    let diff_ids = img.config.rootfs.diff_ids.clone();
    // Docker lists the top layer first.
    for diff_id in diff_ids.iter().rev() {
        ctx.p.with_id(&short(diff_id.hex()), "Preparing").await;
    }
    let sem = Arc::new(Semaphore::new(PARALLEL_UPLOADS));
    let mut tasks = Vec::new();
    for diff_id in diff_ids.iter().rev() {
        let (ctx, sem, diff_id) = (ctx.clone(), sem.clone(), diff_id.clone());
        tasks.push(tokio::spawn(async move {
            let permit = match sem.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    ctx.p.with_id(&short(diff_id.hex()), "Waiting").await;
                    sem.acquire_owned().await.map_err(|e| e.to_string())?
                }
            };
            let res = push_layer(&ctx, &diff_id).await;
            drop(permit);
            res
        }));
    }
    let mut layers = Vec::new();
    let mut first_error = None;
    for t in tasks {
        match t.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(c) => layers.push(json!({ "mediaType": LAYER_MEDIA, "size": c.size, "digest": c.digest })),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    layers.reverse();
    let config = Bytes::from(ctx.store.config_bytes(&img.id).map_err(|e| e.to_string())?);
    let config_digest = img.id.to_string();
    let repo = &ctx.repo;
    if !repo.blob_exists(&config_digest).await.map_err(|e| e.to_string())? {
        repo.upload_blob(&config_digest, &BlobSource::Bytes(config.clone()), None, None).await.map_err(|e| e.to_string())?;
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::DOCKER_MANIFEST,
        "config": { "mediaType": CONFIG_MEDIA, "size": config.len(), "digest": config_digest },
        "layers": layers,
    });
    let data = Bytes::from(serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?);
    let size = data.len();
    let digest = repo.put_manifest(tag, media::DOCKER_MANIFEST, data).await.map_err(|e| e.to_string())?;
    ctx.p.status(&format!("{tag}: digest: {digest} size: {size}")).await;
    ctx.p.aux(json!({ "Tag": tag, "Digest": digest, "Size": size })).await;
    Ok(())
}

/// One layer into the repository; returns its compressed descriptor.
async fn push_layer(ctx: &Arc<Ctx>, diff_id: &Digest) -> Result<Compressed, String> {
    let id = short(diff_id.hex());
    let (host, _) = ctx.target.split_once('/').unwrap_or(("", ""));
    let known: Vec<Compressed> = ctx.memo.get_async(diff_id).await.into_iter().filter(|c| c.is_gzip() && c.split().0 == host).collect();
    let remember = |c: &Compressed| {
        let mine = Compressed { repository: ctx.target.clone(), media_type: LAYER_MEDIA.to_string(), ..c.clone() };
        async move {
            // Losing the note costs a compression next time, not the push.
            let _ = ctx.memo.add_async(diff_id, mine.clone()).await;
            mine
        }
    };
    // 1. A digest this layer is known by may be in the repository already.
    let mut headed = Vec::new();
    for c in known.iter().filter(|c| !headed.contains(&c.digest)).take(MAX_CANDIDATES).cloned().collect::<Vec<_>>() {
        headed.push(c.digest.clone());
        if ctx.repo.blob_exists(&c.digest).await.map_err(|e| e.to_string())? {
            ctx.p.with_id(&id, "Layer already exists").await;
            return Ok(remember(&c).await);
        }
    }
    // 2. Or in another repository of the same registry: mount it from there.
    let mut session: Option<UploadSession> = None;
    for c in known.iter().filter(|c| c.repository != ctx.target).take(MAX_CANDIDATES) {
        match ctx.repo.mount_blob(&c.digest, c.split().1).await {
            Ok(Mount::Mounted) => {
                ctx.p.with_id(&id, &format!("Mounted from {}", c.split().1)).await;
                return Ok(remember(c).await);
            }
            Ok(Mount::Upload(s)) => {
                // Not mountable: the registry opened an upload instead; use it.
                session = Some(s);
                break;
            }
            // A mount is an optimisation: any refusal means uploading.
            Err(_) => continue,
        }
    }
    // 3. Compress (once: the digest is remembered) and upload.
    let tmp = berth_store::tmp_dir(&ctx.data_root).map_err(|e| e.to_string())?.join(berth_store::unique_name("push"));
    let (store, d, path) = (ctx.store.clone(), diff_id.clone(), tmp.clone());
    let compressed = tokio::task::spawn_blocking(move || gzip_to(&store, &d, &path)).await.map_err(|e| e.to_string())?;
    let result = async {
        let (digest, size) = compressed?;
        let c = Compressed { digest, size, media_type: LAYER_MEDIA.to_string(), repository: ctx.target.clone() };
        if !headed.contains(&c.digest) && ctx.repo.blob_exists(&c.digest).await.map_err(|e| e.to_string())? {
            ctx.p.with_id(&id, "Layer already exists").await;
            return Ok(remember(&c).await);
        }
        ctx.p.bytes(&id, "Pushing", 0, size).await;
        let (p, pid) = (ctx.p.clone(), id.clone());
        let on_progress: berth_distribution::OnProgress = Arc::new(move |sent| p.try_bytes(&pid, "Pushing", sent, size));
        let src = BlobSource::File { path: tmp.clone(), size };
        ctx.repo.upload_blob(&c.digest, &src, session, Some(on_progress)).await.map_err(|e| e.to_string())?;
        ctx.p.with_id(&id, "Pushed").await;
        Ok(remember(&c).await)
    }
    .await;
    let _ = tokio::fs::remove_file(&tmp).await;
    result
}

/// Writes what passes through into a file and a hash.
struct Hashing {
    file: std::fs::File,
    hash: Sha256,
    size: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// gzip layer `diff_id`'s tar into `out`; its digest and size. The gzip
/// header carries no time or name, so the same tar always gives the same bytes.
fn gzip_to(store: &ImageStore, diff_id: &Digest, out: &Path) -> Result<(String, u64), String> {
    let err = |e: std::io::Error| format!("layer {diff_id}: {e}");
    let mut f = store.blobs().open_blob(diff_id).map_err(|e| format!("layer {diff_id}: {e}"))?;
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut enc = GzEncoder::new(Hashing { file, hash: Sha256::new(), size: 0 }, flate2::Compression::new(PUSH_GZIP_LEVEL));
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        enc.write_all(&buf[..n]).map_err(err)?;
    }
    let h = enc.finish().map_err(err)?;
    Ok((format!("sha256:{}", hex::encode(h.hash.finalize())), h.size))
}

fn short(hex: &str) -> String {
    hex.chars().take(12).collect()
}
