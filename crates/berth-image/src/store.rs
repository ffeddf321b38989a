//! The image store: image records (`<root>/images/<id-hex>.json`), the tag map
//! (`<root>/repositories.json`) and the blobs and layers they point at.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use berth_store::{
    write_atomic, BlobStore, Digest, LayerInfo, LayerStore, Quarantine, Quarantined, RecordDir,
    StoreError,
};
use serde::{Deserialize, Serialize};

use crate::config::ImageConfig;
use crate::error::{ImageError, Result};
use crate::reference::Reference;
use crate::timestamp::now_rfc3339;

/// What is persisted per image; the config itself lives in the blob store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ImageRecord {
    pub id: Digest,
    pub config_digest: Digest,
    /// Chain ids, base layer first.
    pub layers: Vec<Digest>,
    pub size: u64,
    pub created: Option<String>,
    pub loaded_at: String,
    #[serde(default)]
    pub digests: Vec<String>,
}

/// An image as callers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: Digest,
    pub config: ImageConfig,
    /// Familiar `name:tag` strings, sorted.
    pub tags: Vec<String>,
    pub digests: Vec<String>,
    /// Unpacked size of all layers.
    pub size: u64,
    pub created: Option<String>,
    pub loaded_at: String,
    /// Chain ids, base layer first.
    pub layers: Vec<Digest>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedImage {
    pub id: Digest,
    /// Familiar references that pointed at it.
    pub untagged: Vec<String>,
}

pub(crate) struct Cached {
    pub record: ImageRecord,
    pub config: ImageConfig,
}

#[derive(Default)]
pub(crate) struct State {
    pub images: BTreeMap<Digest, Cached>,
    pub refs: BTreeMap<Reference, Digest>,
}

/// One layer of an image being recorded: its uncompressed tar, to unpack
/// now, or a layer already unpacked (a pull unpacks several at once).
pub enum LayerSource<'s> {
    Tar(Box<dyn Read + 's>),
    Unpacked(berth_store::Unpacked),
}

/// An image ready to be recorded: its config bytes and unpacked layers.
pub(crate) struct Prepared {
    pub config_bytes: Vec<u8>,
    pub config: ImageConfig,
    pub layers: Vec<LayerInfo>,
    pub tags: Vec<Reference>,
}

pub struct ImageStore {
    pub(crate) root: PathBuf,
    pub(crate) layers: LayerStore,
    records: RecordDir<ImageRecord>,
    state: Mutex<State>,
    /// Serialises loads and imports, so one cannot discard a layer another just reused.
    /// Held without `state`, so lookups stay fast while a load unpacks.
    pub(crate) ingest: Mutex<()>,
    quarantined: Vec<Quarantined>,
}

/// Tags from `repositories.json`. A damaged file is moved aside and the images stay,
/// untagged: losing names is better than refusing to start.
fn load_refs(data_root: &Path, q: &Quarantine, state: &mut State) -> Option<Quarantined> {
    let repo_path = data_root.join("repositories.json");
    let parsed = match std::fs::read(&repo_path) {
        Ok(data) => serde_json::from_slice::<BTreeMap<String, Digest>>(&data).map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => Err(e.to_string()),
    };
    let map = match parsed {
        Ok(map) => map,
        Err(e) => return Some(q.move_aside("repositories", &repo_path, &e)),
    };
    for (name, id) in map {
        if let (Ok(r), true) = (Reference::parse_normalized(&name), state.images.contains_key(&id)) {
            state.refs.insert(r, id);
        }
    }
    None
}

impl ImageStore {
    /// Open (or create) the image store under `data_root`. Clears `<root>/tmp`, so call
    /// it once at start-up before anything else uses the data root.
    pub fn open(data_root: &Path) -> Result<ImageStore> {
        berth_store::clean_tmp(data_root)?;
        let q = Quarantine::new(data_root);
        let mut quarantined = Vec::new();
        let layers = LayerStore::open(data_root)?;
        let records: RecordDir<ImageRecord> = RecordDir::open(&data_root.join("images"))?;
        // An ingest a crash interrupted: its records go before loading.
        let _ = crate::journal::recover(data_root, &records);
        berth_store::remove_stale_temps(data_root);
        let mut state = State::default();
        let loaded = records.load(&q)?;
        quarantined.extend(loaded.quarantined);
        for (key, record) in loaded.records {
            // An image whose config is gone or damaged cannot be run or inspected.
            let config = layers
                .blobs()
                .read(&record.config_digest)
                .map_err(ImageError::from)
                .and_then(|bytes| ImageConfig::from_slice(&bytes));
            match config {
                Ok(config) => {
                    state.images.insert(record.id.clone(), Cached { record, config });
                }
                Err(e) => quarantined.push(records.quarantine(&q, &key, &format!("config {}: {e}", record.config_digest))?),
            }
        }
        let images_lost = !quarantined.is_empty();
        quarantined.extend(load_refs(data_root, &q, &mut state));
        let layer_load = layers.load(&q)?;
        quarantined.extend(layer_load.quarantined);
        let store = ImageStore {
            root: data_root.to_path_buf(),
            layers,
            records,
            state: Mutex::new(state),
            ingest: Mutex::new(()),
            quarantined,
        };
        // Start-up repair: a load or import that died after unpacking but
        // before recording leaves layers no image refers to. Skipped when an image
        // record was quarantined: its layers look unused but may hold containers' rootfs.
        if !images_lost {
            let all: Vec<Digest> = layer_load.records.into_iter().map(|(_, l)| l.chain_id).collect();
            store.discard_layers(&all);
        }
        Ok(store)
    }

    /// The damaged records `open` moved aside, for the daemon to log.
    pub fn quarantined(&self) -> &[Quarantined] {
        &self.quarantined
    }

    pub fn blobs(&self) -> &BlobStore {
        self.layers.blobs()
    }

    pub fn layer_store(&self) -> &LayerStore {
        &self.layers
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave State half-updated in a way that matters more
        // than refusing all further image operations would.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn lock_ingest(&self) -> MutexGuard<'_, ()> {
        self.ingest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `refs` as the new `repositories.json`; the caller swaps it
    /// into the state only once this succeeded, so a failed write (a full
    /// disk) leaves memory and disk as they were.
    fn persist_refs(&self, refs: &BTreeMap<Reference, Digest>) -> Result<()> {
        let map: BTreeMap<String, &Digest> =
            refs.iter().map(|(r, d)| (r.to_string(), d)).collect();
        let data =
            serde_json::to_vec_pretty(&map).map_err(|e| ImageError::Corrupt(e.to_string()))?;
        write_atomic(&self.root.join("repositories.json"), &data)?;
        Ok(())
    }

    /// Unpack the layers for `diff_ids`, reusing layers already present. `open(i)` gives
    /// the uncompressed tar of layer `i`. New chain ids are pushed to `created` so a failed
    /// load can remove them.
    pub(crate) fn apply_layers<'s>(
        &self,
        diff_ids: &[Digest],
        mut open: impl FnMut(usize) -> Result<Box<dyn Read + 's>>,
        created: &mut Vec<Digest>,
    ) -> Result<Vec<LayerInfo>> {
        self.apply_sources(diff_ids, |i| open(i).map(LayerSource::Tar), created)
    }

    /// `apply_layers` for layers that may have been unpacked already.
    pub(crate) fn apply_sources<'s>(
        &self,
        diff_ids: &[Digest],
        mut open: impl FnMut(usize) -> Result<LayerSource<'s>>,
        created: &mut Vec<Digest>,
    ) -> Result<Vec<LayerInfo>> {
        let mut out: Vec<LayerInfo> = Vec::new();
        for (i, diff_id) in diff_ids.iter().enumerate() {
            let parent = out.last().map(|l| l.chain_id.clone());
            let chain = Digest::chain(parent.as_ref(), diff_id);
            if self.layers.exists(&chain) && self.blobs().exists(diff_id) {
                out.push(self.layers.info(&chain)?);
                continue;
            }
            let info = match open(i)? {
                LayerSource::Tar(r) => self.layers.apply(parent.as_ref(), r)?,
                LayerSource::Unpacked(u) => self.layers.commit_unpacked(parent.as_ref(), u)?,
            };
            if !created.contains(&info.chain_id) {
                created.push(info.chain_id.clone());
            }
            if &info.diff_id != diff_id {
                return Err(ImageError::InvalidArchive(format!(
                    "layer {i} has diff id {}, but the image config says {diff_id}",
                    info.diff_id
                )));
            }
            out.push(info);
        }
        Ok(out)
    }

    /// Record prepared images (all or none) and point their tags at them.
    pub(crate) fn register(
        &self,
        prepared: Vec<Prepared>,
    ) -> Result<Vec<(Digest, Vec<Reference>)>> {
        let mut state = self.lock();
        let mut out = Vec::new();
        let mut new_records = Vec::new();
        let mut ids = Vec::new();
        for p in &prepared {
            ids.push(self.blobs().put(&p.config_bytes)?);
        }
        // Without tags there is nothing for a journal to reconcile (a crash
        // leaves each record written or not) and repositories.json stays
        // as it is: the builder's step images skip four fsyncs each.
        if prepared.iter().all(|p| p.tags.is_empty()) {
            let written = self.write_records(&state, prepared, ids, &mut out, &mut new_records);
            if let Err(e) = written {
                for c in &new_records {
                    let _ = self.records.delete(c.record.id.hex());
                }
                return Err(e);
            }
            for c in new_records {
                state.images.insert(c.record.id.clone(), c);
            }
            return Ok(out);
        }
        let mut journal = crate::journal::Journal::default();
        for (id, p) in ids.iter().zip(&prepared) {
            if !state.images.contains_key(id) && !journal.new_images.iter().any(|n| n == id.hex()) {
                journal.new_images.push(id.hex().to_string());
            }
            for t in &p.tags {
                journal.tags.insert(t.to_string(), id.hex().to_string());
            }
        }
        crate::journal::begin(&self.root, &journal)?;
        let written = self.write_records(&state, prepared, ids, &mut out, &mut new_records);
        let mut refs = state.refs.clone();
        for (id, tags) in &out {
            for t in tags {
                refs.insert(t.clone(), id.clone());
            }
        }
        if let Err(e) = written.and_then(|()| self.persist_refs(&refs)) {
            // All or none: the records just written go again.
            for c in &new_records {
                let _ = self.records.delete(c.record.id.hex());
            }
            crate::journal::end(&self.root);
            return Err(e);
        }
        crate::journal::end(&self.root);
        state.refs = refs;
        for c in new_records {
            state.images.insert(c.record.id.clone(), c);
        }
        Ok(out)
    }

    fn write_records(
        &self,
        state: &State,
        prepared: Vec<Prepared>,
        ids: Vec<Digest>,
        out: &mut Vec<(Digest, Vec<Reference>)>,
        new_records: &mut Vec<Cached>,
    ) -> Result<()> {
        for (p, id) in prepared.into_iter().zip(ids) {
            if !state.images.contains_key(&id)
                && !new_records.iter().any(|c: &Cached| c.record.id == id)
            {
                let record = ImageRecord {
                    id: id.clone(),
                    config_digest: id.clone(),
                    layers: p.layers.iter().map(|l| l.chain_id.clone()).collect(),
                    size: p.layers.iter().map(|l| l.size).sum(),
                    created: p.config.created.clone(),
                    loaded_at: now_rfc3339(),
                    digests: Vec::new(),
                };
                // Pushed before the write, so a failed write's file is
                // removed with the others.
                new_records.push(Cached {
                    record: record.clone(),
                    config: p.config,
                });
                self.records.put(id.hex(), &record)?;
            }
            out.push((id, p.tags));
        }
        Ok(())
    }

    pub(crate) fn records_put(&self, record: &ImageRecord) -> Result<()> {
        self.records.put(record.id.hex(), record)?;
        Ok(())
    }

    /// Remove layers from `created` (and their tar blobs) that no recorded image uses.
    pub(crate) fn discard_layers(&self, created: &[Digest]) {
        let state = self.lock();
        let (used_chains, used_diffs) = usage(&state);
        for chain in created {
            if used_chains.contains(chain) {
                continue;
            }
            if let Ok(info) = self.layers.info(chain) {
                if !used_diffs.contains(&info.diff_id) {
                    let _ = self.blobs().delete(&info.diff_id);
                }
            }
            let _ = self.layers.remove(chain);
        }
    }

    fn image_of(state: &State, id: &Digest) -> Option<Image> {
        let c = state.images.get(id)?;
        let mut tags: Vec<String> = state
            .refs
            .iter()
            .filter(|(r, d)| *d == id && r.tag().is_some())
            .map(|(r, _)| r.familiar_string())
            .collect();
        tags.sort();
        Some(Image {
            id: id.clone(),
            config: c.config.clone(),
            tags,
            digests: c.record.digests.clone(),
            size: c.record.size,
            created: c.record.created.clone(),
            loaded_at: c.record.loaded_at.clone(),
            layers: c.record.layers.clone(),
        })
    }

    pub(crate) fn resolve_id(state: &State, name_or_id: &str) -> Result<Digest> {
        let hex_only = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let prefix = match name_or_id.strip_prefix("sha256:") {
            Some(p) if hex_only(p) => p,
            Some(_) => return Err(ImageError::NotFound(name_or_id.to_string())),
            None => {
                let parsed = Reference::parse(name_or_id);
                if let Ok(r) = &parsed {
                    if let Some(id) = state.refs.get(r) {
                        return Ok(id.clone());
                    }
                }
                if !hex_only(name_or_id) {
                    return match parsed {
                        Ok(r) => Err(ImageError::NotFound(r.familiar_string())),
                        Err(e) => Err(e),
                    };
                }
                name_or_id
            }
        };
        let mut hits = state
            .images
            .keys()
            .filter(|id| id.hex().starts_with(prefix));
        match (hits.next(), hits.next()) {
            (Some(id), None) => Ok(id.clone()),
            (Some(_), Some(_)) => Err(ImageError::Ambiguous(name_or_id.to_string())),
            _ => Err(ImageError::NotFound(name_or_id.to_string())),
        }
    }

    /// Find an image by reference, full id, or unique id prefix.
    pub fn resolve(&self, name_or_id: &str) -> Result<Image> {
        let state = self.lock();
        let id = Self::resolve_id(&state, name_or_id)?;
        Self::image_of(&state, &id).ok_or_else(|| ImageError::NotFound(name_or_id.to_string()))
    }

    pub fn list(&self) -> Vec<Image> {
        let state = self.lock();
        state
            .images
            .keys()
            .filter_map(|id| Self::image_of(&state, id))
            .collect()
    }

    /// The raw config bytes, exactly as loaded (their hash is the image id).
    pub fn config_bytes(&self, id: &Digest) -> Result<Vec<u8>> {
        Ok(self.blobs().read(id)?)
    }

    /// Overlay lower directories of an image, top-most layer first.
    pub fn layer_dirs(&self, image: &Image) -> Vec<PathBuf> {
        image
            .layers
            .iter()
            .rev()
            .map(|c| self.layers.diff_dir(c))
            .collect()
    }

    pub fn tag(&self, source: &str, target: &Reference) -> Result<()> {
        let mut state = self.lock();
        let id = Self::resolve_id(&state, source)?;
        let mut refs = state.refs.clone();
        refs.insert(target.clone(), id);
        self.persist_refs(&refs)?;
        state.refs = refs;
        Ok(())
    }

    /// Remove one reference; returns the image it pointed at.
    pub fn untag(&self, reference: &Reference) -> Result<Digest> {
        let mut state = self.lock();
        let mut refs = state.refs.clone();
        let id = refs
            .remove(reference)
            .ok_or_else(|| ImageError::NotFound(reference.familiar_string()))?;
        self.persist_refs(&refs)?;
        state.refs = refs;
        Ok(id)
    }

    /// Delete an image, its references, and the layers and blobs no other image uses.
    pub fn remove(&self, id: &Digest) -> Result<RemovedImage> {
        let mut state = self.lock();
        let Some(gone) = state
            .images
            .get(id)
            .map(|c| (c.record.clone(), c.config.rootfs.diff_ids.clone()))
        else {
            return Err(ImageError::NotFound(id.to_string()));
        };
        let untagged: Vec<Reference> = state
            .refs
            .iter()
            .filter(|(_, d)| *d == id)
            .map(|(r, _)| r.clone())
            .collect();
        let mut refs = state.refs.clone();
        for r in &untagged {
            refs.remove(r);
        }
        self.persist_refs(&refs)?;
        state.refs = refs;
        self.records.delete(id.hex())?;
        state.images.remove(id);
        let (chains, diffs) = usage(&state);
        for chain in gone.0.layers.iter().filter(|c| !chains.contains(*c)) {
            self.layers.remove(chain)?;
        }
        for diff in gone.1.iter().filter(|d| !diffs.contains(*d)) {
            self.blobs().delete(diff)?;
        }
        match self.blobs().delete(&gone.0.config_digest) {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let mut untagged: Vec<String> = untagged.iter().map(Reference::familiar_string).collect();
        untagged.sort();
        Ok(RemovedImage {
            id: id.clone(),
            untagged,
        })
    }
}

/// Chain ids and diff ids used by recorded images.
fn usage(state: &State) -> (BTreeSet<Digest>, BTreeSet<Digest>) {
    let mut chains = BTreeSet::new();
    let mut diffs = BTreeSet::new();
    for c in state.images.values() {
        chains.extend(c.record.layers.iter().cloned());
        diffs.extend(c.config.rootfs.diff_ids.iter().cloned());
    }
    (chains, diffs)
}
