//! Recording a pulled image: the layers arrive (already verified against
//! their digests, as tars or already unpacked) through `open`, become
//! layers in order, and only then is the image recorded and tagged, all or
//! nothing.

use berth_store::Digest;

use crate::config::ImageConfig;
use crate::error::{ImageError, Result};
use crate::reference::Reference;
use crate::store::{ImageStore, LayerSource, Prepared};

/// How a pull ended for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOutcome {
    pub id: Digest,
    /// The image existed and `tag` already pointed at it.
    pub up_to_date: bool,
}

impl ImageStore {
    /// Which layers of `diff_ids` are already unpacked (same chain).
    pub fn layers_present(&self, diff_ids: &[Digest]) -> Vec<bool> {
        let mut parent: Option<Digest> = None;
        diff_ids
            .iter()
            .map(|d| {
                let chain = Digest::chain(parent.as_ref(), d);
                let present = self.layers.exists(&chain) && self.blobs().exists(d);
                parent = Some(chain);
                present
            })
            .collect()
    }

    /// Whether image `id` is recorded and `tag` (if any) points at it.
    pub fn is_current(&self, id: &Digest, tag: Option<&Reference>) -> bool {
        let state = self.lock();
        state.images.contains_key(id) && tag.is_none_or(|t| state.refs.get(t) == Some(id))
    }

    /// Unpack the layers `open(i)` gives (uncompressed tar streams, called
    /// only for layers not present yet), record the image, point `tag` at it
    /// and remember `repo_digest` (`name@sha256:...`).
    pub fn commit_pull<'s>(
        &self,
        config_bytes: Vec<u8>,
        tag: Option<Reference>,
        repo_digest: String,
        open: impl FnMut(usize) -> Result<LayerSource<'s>>,
    ) -> Result<PullOutcome> {
        let _ingest = self.lock_ingest();
        let config = ImageConfig::from_slice(&config_bytes)?;
        let id = Digest::of_bytes(&config_bytes);
        let up_to_date = self.is_current(&id, tag.as_ref());
        // Already whole, tagged and known by this digest: nothing to write.
        let known = self.lock().images.get(&id).is_some_and(|c| c.record.digests.contains(&repo_digest));
        if up_to_date && known && self.layers_present(&config.rootfs.diff_ids).iter().all(|p| *p) {
            return Ok(PullOutcome { id, up_to_date });
        }
        let mut created = Vec::new();
        let layers = match self.apply_sources(&config.rootfs.diff_ids.clone(), open, &mut created) {
            Ok(l) => l,
            Err(e) => {
                self.discard_layers(&created);
                return Err(e);
            }
        };
        let prepared = Prepared { config_bytes, config, layers, tags: tag.into_iter().collect() };
        if let Err(e) = self.register(vec![prepared]) {
            self.discard_layers(&created);
            return Err(e);
        }
        self.add_repo_digest(&id, repo_digest)?;
        Ok(PullOutcome { id, up_to_date })
    }

    /// Remember where an image came from (`RepoDigests`), replacing an older
    /// digest of the same repository.
    fn add_repo_digest(&self, id: &Digest, repo_digest: String) -> Result<()> {
        let mut state = self.lock();
        let Some(cached) = state.images.get_mut(id) else {
            return Err(ImageError::NotFound(id.to_string()));
        };
        if cached.record.digests.contains(&repo_digest) {
            return Ok(());
        }
        let repo = repo_digest.split('@').next().unwrap_or("").to_string();
        let mut record = cached.record.clone();
        record.digests.retain(|d| d.split('@').next() != Some(repo.as_str()));
        record.digests.push(repo_digest);
        self.records_put(&record)?;
        cached.record = record;
        Ok(())
    }
}
