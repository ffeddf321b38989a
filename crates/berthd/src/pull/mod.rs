//! `POST /images/create?fromImage=`: pull an image from its registry.
//! The manifest and config are fetched before the response starts, so a
//! missing image is a plain 404 (the docker CLI's run/create relies on it);
//! then the layers download in parallel (bounded), each verified while it
//! streams into `<data-root>/pull-cache`, and are unpacked in order as they
//! arrive. The image is recorded only when every layer is in.

mod auth;
pub mod cache;
pub mod memo;
mod progress;
pub mod push;
mod wording;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_api::ApiError;
use berth_distribution::{DistributionError, Manifest, PlatformSpec, Registry, Repository};
use berth_image::{ImageError, ImageStore, PullOutcome, Reference};
use berth_store::Digest;
use tokio::io::AsyncWriteExt;
use tokio::sync::{oneshot, Semaphore};

pub use progress::Progress;

/// dockerd's default `max-concurrent-downloads`.
const PARALLEL_DOWNLOADS: usize = 3;
const MAX_CONFIG: u64 = 16 << 20;
/// Bytes between two `Downloading` messages of one layer.
const PROGRESS_EVERY: u64 = 512 << 10;

/// What to pull, as the API request says it.
pub struct PullRequest {
    pub reference: Reference,
    /// No tag or digest given: every tag of the repository (`pull -a`).
    pub all_tags: bool,
    pub platform: PlatformSpec,
    pub auth_header: Option<String>,
}

impl PullRequest {
    /// From `fromImage`, `tag` and `platform`.
    pub fn from_query(from_image: &str, tag: Option<&str>, platform: Option<&str>, auth: Option<&str>) -> Result<PullRequest, ApiError> {
        let bad_ref = |e: ImageError| crate::error::image_error(e);
        let mut r = Reference::parse_normalized(from_image).map_err(bad_ref)?;
        if let Some(t) = tag.filter(|t| !t.is_empty()) {
            if r.tag().is_none() && r.digest().is_none() {
                let s = if t.contains(':') { format!("{}@{t}", r.name()) } else { format!("{}:{t}", r.name()) };
                r = Reference::parse_normalized(&s).map_err(bad_ref)?;
            }
        }
        // As dockerd: a name without tag (the CLI always sends one, except for -a) means all tags.
        let all_tags = r.tag().is_none() && r.digest().is_none();
        if all_tags {
            r = r.with_tag("latest").map_err(bad_ref)?;
        }
        let platform = match platform.filter(|p| !p.is_empty()) {
            Some(p) => PlatformSpec::parse(p).map_err(|e| ApiError::invalid(e.to_string()))?,
            None => PlatformSpec::host(),
        };
        Ok(PullRequest { reference: r, all_tags, platform, auth_header: auth.map(str::to_string) })
    }
}

struct Layer {
    digest: String,
    size: u64,
    media_type: String,
}

/// A pull whose manifest and config are known.
pub struct Plan {
    reference: Reference,
    repo: Arc<Repository>,
    /// The digest the user's reference resolved to (an index's, for a multi-arch image).
    manifest_digest: String,
    config_bytes: Vec<u8>,
    diff_ids: Vec<Digest>,
    layers: Vec<Layer>,
}

fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

async fn read_blob(repo: &Repository, digest: &str, size: u64) -> Result<Vec<u8>, DistributionError> {
    if size > MAX_CONFIG {
        return Err(DistributionError::InvalidManifest(format!("config blob {digest} is too large ({size} bytes)")));
    }
    let mut blob = repo.blob(digest, size).await?;
    let mut out = Vec::with_capacity(size as usize);
    while let Some(c) = blob.chunk().await? {
        out.extend_from_slice(&c);
    }
    Ok(out)
}

fn is_layer(mt: &str) -> bool {
    mt.contains("tar") && !mt.contains("nondistributable") || mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
}

impl Plan {
    /// `store`: a config the daemon has already (an image it has) is read
    /// from there instead of the registry — an up-to-date pull costs the
    /// manifest only, as in dockerd.
    pub async fn resolve(registry: &Registry, req: &PullRequest, store: &ImageStore) -> Result<Plan, DistributionError> {
        let r = &req.reference;
        let creds = auth::from_header(req.auth_header.as_deref());
        let repo = Arc::new(registry.repository(r.domain(), r.path(), creds).await?);
        let wanted = match (r.digest(), r.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => "latest".to_string(),
        };
        let top = repo.manifest(&wanted).await?;
        let manifest_digest = top.digest.clone();
        let mut manifest = Manifest::parse(&top.content_type, &top.data)?;
        if let Manifest::Index(idx) = &manifest {
            let desc = berth_distribution::select(idx, &req.platform)?;
            let one = repo.manifest(desc.digest().as_ref()).await?;
            manifest = Manifest::parse(&one.content_type, &one.data)?;
        }
        let Manifest::Image(m) = manifest else {
            return Err(DistributionError::InvalidManifest("an image index points at another index".into()));
        };
        let cfg = m.config();
        let cfg_mt = cfg.media_type().to_string();
        if !(cfg_mt.ends_with("container.image.v1+json") || cfg_mt == "application/vnd.oci.image.config.v1+json") {
            return Err(DistributionError::UnsupportedMediaType(format!("{cfg_mt} (config of {})", r.familiar_string())));
        }
        let local = Digest::parse(cfg.digest().as_ref())
            .ok()
            .filter(|d| store.is_current(d, None))
            .and_then(|d| store.config_bytes(&d).ok())
            .filter(|b| b.len() as u64 == cfg.size());
        let config_bytes = match local {
            Some(b) => b,
            None => read_blob(&repo, cfg.digest().as_ref(), cfg.size()).await?,
        };
        let config = berth_image::ImageConfig::from_slice(&config_bytes)
            .map_err(|e| DistributionError::InvalidManifest(format!("invalid image config: {e}")))?;
        let mut layers = Vec::new();
        for l in m.layers() {
            let mt = l.media_type().to_string();
            if !is_layer(&mt) {
                return Err(DistributionError::UnsupportedMediaType(format!("{mt} (layer of {})", r.familiar_string())));
            }
            layers.push(Layer { digest: l.digest().to_string(), size: l.size(), media_type: mt });
        }
        if config.rootfs.diff_ids.len() != layers.len() {
            return Err(DistributionError::InvalidManifest(format!(
                "the image config lists {} layers but the manifest has {}",
                config.rootfs.diff_ids.len(),
                layers.len()
            )));
        }
        Ok(Plan { reference: r.clone(), repo, manifest_digest, config_bytes, diff_ids: config.rootfs.diff_ids.clone(), layers })
    }

    /// Download, unpack and record. Progress goes to `p`; the error is worded
    /// for the stream. `status`: end with the `Status:` line (not for one tag of `-a`).
    pub async fn execute(self, store: Arc<ImageStore>, data_root: &Path, p: &Progress, status: bool) -> Result<PullOutcome, String> {
        let r = &self.reference;
        let what = r.tag().map(str::to_string).or_else(|| r.digest().map(|d| d.to_string())).unwrap_or_default();
        p.status_for(&what, &format!("Pulling from {}", familiar_path(r))).await;
        let present = store.layers_present(&self.diff_ids);
        let config_id = Digest::of_bytes(&self.config_bytes);
        // dockerd says nothing per layer for an image it has whole.
        let quiet_layers = store.is_current(&config_id, None) && present.iter().all(|p| *p);
        for (l, here) in self.layers.iter().zip(&present).filter(|_| !quiet_layers) {
            p.with_id(&short(&l.digest), if *here { "Already exists" } else { "Pulling fs layer" }).await;
        }
        let cache = cache::dir(data_root);
        // No prune removes these layers from the cache while this pull runs.
        let _held = cache::InUse::hold(self.layers.iter().map(|l| l.digest.as_str()));
        tokio::fs::create_dir_all(&cache).await.map_err(|e| format!("creating {}: {e}", cache.display()))?;
        let sem = Arc::new(Semaphore::new(PARALLEL_DOWNLOADS));
        // Layers unpack as soon as they are in, as many at once as there are
        // cores (each into its own directory); they join the store in order.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let unpacking = Arc::new(Semaphore::new(cores));
        let mut receivers = Vec::new();
        let mut tasks = Vec::new();
        for (l, here) in self.layers.iter().zip(&present) {
            let (tx, rx) = oneshot::channel::<Result<berth_store::Unpacked, String>>();
            receivers.push(Some(rx));
            if *here {
                continue;
            }
            let (repo, sem, p, cache) = (self.repo.clone(), sem.clone(), p.clone(), cache.clone());
            let (store, unpacking) = (store.clone(), unpacking.clone());
            let (digest, size) = (l.digest.clone(), l.size);
            tasks.push(tokio::spawn(async move {
                let res = match download(&repo, &digest, size, &cache, &sem, &p).await {
                    Ok(path) => unpack(&store, &unpacking, path, &short(&digest), &p).await,
                    Err(e) => Err(e),
                };
                let _ = tx.send(res);
            }));
        }
        let ids: Vec<String> = self.layers.iter().map(|l| short(&l.digest)).collect();
        let tag = Some(r.clone());
        let repo_digest = format!("{}@{}", r.familiar_name(), self.manifest_digest);
        let config_bytes = self.config_bytes.clone();
        let pb = p.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut last: Option<usize> = None;
            let res = store.commit_pull(config_bytes, tag, repo_digest, |i| {
                if let Some(prev) = last.replace(i) {
                    pb.blocking_with_id(&ids[prev], "Pull complete");
                }
                let rx = receivers.get_mut(i).and_then(Option::take).ok_or_else(|| ImageError::InvalidArchive(format!("layer {i} is missing")))?;
                match rx.blocking_recv() {
                    Ok(Ok(u)) => Ok(berth_image::LayerSource::Unpacked(u)),
                    Ok(Err(e)) => Err(ImageError::InvalidArchive(e)),
                    Err(_) => Err(ImageError::InvalidArchive("download abandoned".into())),
                }
            });
            if let (Ok(_), Some(prev)) = (&res, last) {
                pb.blocking_with_id(&ids[prev], "Pull complete");
            }
            res
        })
        .await
        .map_err(|e| e.to_string());
        for t in &tasks {
            t.abort();
        }
        // Wait for the aborted downloads to be dropped (their partial files
        // removed) before the stream reports the outcome.
        for t in tasks {
            let _ = t.await;
        }
        let outcome = match result {
            Ok(Ok(o)) => o,
            Ok(Err(ImageError::InvalidArchive(m))) => return Err(m),
            Ok(Err(e)) => return Err(e.to_string()),
            Err(e) => return Err(e),
        };
        // The layers are unpacked and recorded: their compressed copies have done their job.
        // What they were is remembered, so a push to this registry can mount or skip them.
        let memo = memo::LayerMemo::open(data_root);
        let repository = format!("{}/{}", r.domain(), r.path());
        for (l, diff_id) in self.layers.iter().zip(&self.diff_ids) {
            let _ = tokio::fs::remove_file(cache.join(cache::file_name(&l.digest))).await;
            let c = memo::Compressed { digest: l.digest.clone(), size: l.size, media_type: l.media_type.clone(), repository: repository.clone() };
            let _ = memo.add_async(diff_id, c).await;
        }
        p.status(&format!("Digest: {}", self.manifest_digest)).await;
        if status {
            let status = if outcome.up_to_date { "Image is up to date for" } else { "Downloaded newer image for" };
            p.status(&format!("Status: {status} {}", r.familiar_string())).await;
        }
        Ok(outcome)
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }
}

/// The repository's path on its registry (`library/busybox`), as dockerd's "Pulling from" names it.
fn familiar_path(r: &Reference) -> String {
    r.path().to_string()
}

/// One layer into the verified cache. A blob that is there already was
/// verified before (an interrupted pull): it is used as is.
async fn download(
    repo: &Repository,
    digest: &str,
    size: u64,
    cache: &Path,
    sem: &Semaphore,
    p: &Progress,
) -> Result<PathBuf, String> {
    let id = short(digest);
    let done = cache.join(cache::file_name(digest));
    // Left by an interrupted pull: written without fsync (the image's diff
    // IDs check what is unpacked anyway), so hashed again before reuse.
    if tokio::fs::metadata(&done).await.is_ok_and(|m| m.len() == size) {
        let (path, want) = (done.clone(), digest.to_string());
        let whole = tokio::task::spawn_blocking(move || file_digest(&path).is_ok_and(|d| d == want)).await.unwrap_or(false);
        if whole {
            p.with_id(&id, "Download complete").await;
            return Ok(done);
        }
        let _ = tokio::fs::remove_file(&done).await;
    }
    let _permit = sem.acquire().await.map_err(|e| e.to_string())?;
    let part = cache.join(cache::partial_name(digest));
    fetch_resuming(repo, digest, size, &part, &id, p).await?;
    p.with_id(&id, "Verifying Checksum").await;
    tokio::fs::rename(&part, &done).await.map_err(|e| format!("storing {digest}: {e}"))?;
    p.with_id(&id, "Download complete").await;
    Ok(done)
}

/// Times one layer's download is resumed (HTTP Range) after the stream
/// broke off, within one pull, as dockerd's 5 attempts; a resume that
/// brings no new byte counts double.
const MAX_RESUMES: u32 = 5;

/// Download blob `digest` into `part`, continuing the prefix an earlier,
/// interrupted attempt left there (this pull's, or one before a crash or
/// `kill -9`). The prefix is hashed again to restore the digest's state
/// (reading it back costs far less than fetching it), then only the rest is
/// asked for (`Range: bytes=N-`). The file holds unverified bytes until the
/// whole digest matches, so it is a `.partial`, never a cache entry: only
/// the rename after verification makes it one. A digest mismatch removes it;
/// one after a resume starts over from byte 0 once (the prefix may have
/// been torn by a crash). Any other failure keeps it for the next attempt.
async fn fetch_resuming(repo: &Repository, digest: &str, size: u64, part: &Path, id: &str, p: &Progress) -> Result<(), String> {
    let path = part.to_path_buf();
    let (mut have, mut state) = tokio::task::spawn_blocking(move || prefix_state(&path, size))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{}: {e}", part.display()))?;
    let mut budget = MAX_RESUMES * 2;
    let mut restarted = false;
    loop {
        let before = have;
        match fetch_from(repo, digest, size, part, have, state.clone(), id, p).await {
            Ok(()) => return Ok(()),
            Err(Fetch::Broken(e, got, st)) if budget > 0 => {
                budget = budget.saturating_sub(if got > before { 1 } else { 2 });
                (have, state) = (got, st);
                crate::daemon::debug(&format!("pull {digest}: {e}; resuming at byte {have}"));
            }
            Err(Fetch::Mismatch(_)) if have > 0 && !restarted => {
                restarted = true;
                let _ = tokio::fs::remove_file(part).await;
                (have, state) = (0, <sha2::Sha256 as sha2::Digest>::new());
            }
            Err(Fetch::Mismatch(e)) => {
                let _ = tokio::fs::remove_file(part).await;
                return Err(e);
            }
            Err(Fetch::Broken(e, ..) | Fetch::Other(e)) => return Err(e),
        }
    }
}

/// How one attempt at a blob ended, if not whole.
enum Fetch {
    /// The stream broke off: resumable from this many bytes, this hash state.
    Broken(String, u64, sha2::Sha256),
    /// The content is not what the digest says.
    Mismatch(String),
    Other(String),
}

/// The first bytes of `part` (at most `size`; a longer file is cut back)
/// and their hash state.
fn prefix_state(part: &Path, size: u64) -> std::io::Result<(u64, sha2::Sha256)> {
    use sha2::Digest as _;
    use std::io::Read;
    let mut h = sha2::Sha256::new();
    let f = match std::fs::OpenOptions::new().read(true).write(true).open(part) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, h)),
        Err(e) => return Err(e),
    };
    if f.metadata()?.len() >= size {
        // Whole yet unverified, or more: nothing in it can be trusted as a prefix.
        f.set_len(0)?;
        return Ok((0, h));
    }
    let n = std::io::copy(&mut f.take(size), &mut h)?;
    Ok((n, h))
}

/// One GET of the blob from byte `have` on (the prefix's hash `state`),
/// appended to `part`.
#[allow(clippy::too_many_arguments)]
async fn fetch_from(repo: &Repository, digest: &str, size: u64, part: &Path, have: u64, state: sha2::Sha256, id: &str, p: &Progress) -> Result<(), Fetch> {
    use berth_distribution::DistributionError as E;
    use tokio::io::AsyncSeekExt;
    let classify = |e: E, fallback: (u64, sha2::Sha256)| match e {
        E::DigestMismatch { .. } => Fetch::Mismatch(e.to_string()),
        E::Truncated { .. } => Fetch::Broken(e.to_string(), fallback.0, fallback.1),
        e if e.retryable() => Fetch::Broken(e.to_string(), fallback.0, fallback.1),
        e => Fetch::Other(e.to_string()),
    };
    let mut blob = repo.blob_from(digest, size, have, state.clone()).await.map_err(|e| classify(e, (have, state.clone())))?;
    let io = |e: std::io::Error| Fetch::Other(format!("{}: {e}", part.display()));
    // Created before any await below that could be cut by an abort.
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(part).map_err(io)?;
    let mut file = tokio::fs::File::from_std(file);
    // A registry that ignored the range sends everything again: start over.
    let start = blob.offset();
    file.set_len(start).await.map_err(io)?;
    file.seek(std::io::SeekFrom::Start(start)).await.map_err(io)?;
    // Large writes: each write of a tokio File is a trip to the blocking pool.
    let mut f = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut shown = 0u64;
    loop {
        let chunk = match blob.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                // What was passed on is written: flushed, it is the prefix to resume from.
                let progress = blob.progress();
                f.flush().await.map_err(io)?;
                return Err(classify(e, progress));
            }
        };
        f.write_all(&chunk).await.map_err(io)?;
        let got = blob.progress().0;
        if got - shown >= PROGRESS_EVERY || got == size {
            shown = got;
            p.bytes(id, "Downloading", got, size).await;
        }
    }
    f.flush().await.map_err(io)?;
    Ok(())
}

/// Unpack a downloaded layer into a temporary directory (a blocking job,
/// at most `unpacking`'s permits at once).
async fn unpack(store: &Arc<ImageStore>, unpacking: &Semaphore, path: PathBuf, id: &str, p: &Progress) -> Result<berth_store::Unpacked, String> {
    let _permit = unpacking.acquire().await.map_err(|e| e.to_string())?;
    p.with_id(id, "Extracting").await;
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let tar = berth_image::decompressed(f).map_err(|e| e.to_string())?;
        store.layer_store().unpack(tar).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `sha256:HEX` of a file's content.
fn file_digest(path: &Path) -> std::io::Result<String> {
    use sha2::Digest as _;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

pub use wording::pull_error;

/// Every tag of the repository `req` names.
pub async fn list_tags(registry: &Registry, req: &PullRequest) -> Result<Vec<String>, DistributionError> {
    let r = &req.reference;
    let repo = registry.repository(r.domain(), r.path(), auth::from_header(req.auth_header.as_deref())).await?;
    repo.tags().await
}

impl PullRequest {
    /// The same pull for one tag.
    pub fn for_tag(&self, tag: &str) -> Result<PullRequest, ApiError> {
        let reference = self.reference.with_tag(tag).map_err(crate::error::image_error)?;
        Ok(PullRequest { reference, all_tags: false, platform: self.platform.clone(), auth_header: self.auth_header.clone() })
    }
}

/// The credentials an `X-Registry-Auth` header carries.
pub fn credentials(header: Option<&str>) -> Option<berth_distribution::Credentials> {
    auth::from_header(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    #[test]
    fn a_partial_prefix_is_rehashed_and_a_full_one_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("x.partial");
        // Nothing there: start at 0.
        let (n, _) = prefix_state(&part, 10).expect("state");
        assert_eq!(n, 0);
        // A prefix: its length, and the hash state continues where it ends.
        std::fs::write(&part, b"abcd").expect("write");
        let (n, mut h) = prefix_state(&part, 10).expect("state");
        assert_eq!(n, 4);
        h.update(b"efghij");
        assert_eq!(h.finalize(), sha2::Sha256::digest(b"abcdefghij"));
        // As long as the blob (or longer) but never verified: cut back to nothing.
        std::fs::write(&part, b"0123456789").expect("write");
        assert_eq!(prefix_state(&part, 10).expect("state").0, 0);
        assert_eq!(std::fs::metadata(&part).map(|m| m.len()).ok(), Some(0));
    }
}
