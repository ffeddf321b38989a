//! `docker save`: the layout Docker 25+ writes — an OCI image layout (`oci-layout`,
//! `index.json`, `blobs/sha256/…`) plus the legacy `manifest.json` and `repositories`, so
//! both old and new loaders accept it.

use std::collections::BTreeMap;
use std::io::Write;

use berth_store::Digest;
use serde_json::{json, Value};

use crate::error::{ImageError, Result};
use crate::reference::Reference;
use crate::store::ImageStore;

const MT_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MT_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MT_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

struct Selected {
    id: Digest,
    diff_ids: Vec<Digest>,
    tags: Vec<Reference>,
}

fn tar_err(e: std::io::Error) -> ImageError {
    ImageError::io("<save stream>", e)
}

fn header(size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(mode);
    h.set_entry_type(kind);
    h.set_mtime(0);
    h
}

fn add_bytes<W: Write>(b: &mut tar::Builder<W>, path: &str, data: &[u8]) -> Result<()> {
    let mut h = header(data.len() as u64, 0o644, tar::EntryType::Regular);
    b.append_data(&mut h, path, data).map_err(tar_err)
}

fn to_json(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| ImageError::Corrupt(e.to_string()))
}

impl ImageStore {
    /// Which images and tags to write. A bare repository name (`busybox`) means all of its
    /// tags, as in Docker; an id means the image without tags.
    fn select(&self, names: &[String]) -> Result<Vec<Selected>> {
        let state = self.lock();
        let mut out: Vec<Selected> = Vec::new();
        let mut add = |id: Digest, tag: Option<Reference>| {
            let diff_ids = state
                .images
                .get(&id)
                .map(|c| c.config.rootfs.diff_ids.clone())
                .unwrap_or_default();
            let sel = match out.iter_mut().position(|s| s.id == id) {
                Some(i) => &mut out[i],
                None => {
                    out.push(Selected {
                        id,
                        diff_ids,
                        tags: Vec::new(),
                    });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            if let Some(t) = tag {
                if !sel.tags.contains(&t) {
                    sel.tags.push(t);
                }
            }
        };
        for name in names {
            let bare = Reference::parse_normalized(name)
                .ok()
                .filter(|r| r.tag().is_none() && r.digest().is_none());
            let repo_tags: Vec<(Reference, Digest)> = match &bare {
                Some(r) => state
                    .refs
                    .iter()
                    .filter(|(t, _)| t.name() == r.name() && t.tag().is_some())
                    .map(|(t, d)| (t.clone(), d.clone()))
                    .collect(),
                None => Vec::new(),
            };
            if !repo_tags.is_empty() {
                repo_tags.into_iter().for_each(|(t, d)| add(d, Some(t)));
                continue;
            }
            let id = ImageStore::resolve_id(&state, name)?;
            let tag = Reference::parse(name)
                .ok()
                .filter(|r| state.refs.get(r) == Some(&id));
            add(id, tag);
        }
        Ok(out)
    }

    pub fn save(&self, images: &[String], w: impl Write) -> Result<()> {
        let selected = self.select(images)?;
        let mut b = tar::Builder::new(w);
        for dir in ["blobs/", "blobs/sha256/"] {
            let mut h = header(0, 0o755, tar::EntryType::Directory);
            b.append_data(&mut h, dir, std::io::empty())
                .map_err(tar_err)?;
        }
        let mut written: Vec<Digest> = Vec::new();
        let mut index = Vec::new();
        let mut manifest_json = Vec::new();
        let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for sel in &selected {
            let config = self.config_bytes(&sel.id)?;
            if !written.contains(&sel.id) {
                add_bytes(&mut b, &format!("blobs/sha256/{}", sel.id.hex()), &config)?;
                written.push(sel.id.clone());
            }
            let mut layer_descs = Vec::new();
            for diff in &sel.diff_ids {
                let size = self.blobs().size(diff)?;
                if !written.contains(diff) {
                    let mut h = header(size, 0o644, tar::EntryType::Regular);
                    let f = self.blobs().open_blob(diff)?;
                    b.append_data(&mut h, format!("blobs/sha256/{}", diff.hex()), f)
                        .map_err(tar_err)?;
                    written.push(diff.clone());
                }
                layer_descs
                    .push(json!({"mediaType": MT_LAYER, "digest": diff.to_string(), "size": size}));
            }
            let manifest = to_json(&json!({
                "schemaVersion": 2,
                "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": sel.id.to_string(), "size": config.len()},
                "layers": layer_descs,
            }))?;
            let mdigest = Digest::of_bytes(&manifest);
            if !written.contains(&mdigest) {
                add_bytes(
                    &mut b,
                    &format!("blobs/sha256/{}", mdigest.hex()),
                    &manifest,
                )?;
                written.push(mdigest.clone());
            }
            let desc = |ann: Option<Value>| {
                let mut d = json!({"mediaType": MT_MANIFEST, "digest": mdigest.to_string(), "size": manifest.len()});
                if let Some(a) = ann {
                    d["annotations"] = a;
                }
                d
            };
            if sel.tags.is_empty() {
                index.push(desc(None));
            }
            for t in &sel.tags {
                index.push(desc(Some(json!({
                    "io.containerd.image.name": t.to_string(),
                    "org.opencontainers.image.ref.name": t.tag().unwrap_or("latest"),
                }))));
                if let (Some(tag), Some(top)) = (t.tag(), sel.diff_ids.last()) {
                    repositories
                        .entry(t.familiar_name())
                        .or_default()
                        .insert(tag.to_string(), top.hex().to_string());
                }
            }
            let repo_tags: Vec<String> = sel.tags.iter().map(Reference::familiar_string).collect();
            manifest_json.push(json!({
                "Config": format!("blobs/sha256/{}", sel.id.hex()),
                "RepoTags": if repo_tags.is_empty() { Value::Null } else { json!(repo_tags) },
                "Layers": sel.diff_ids.iter().map(|d| format!("blobs/sha256/{}", d.hex())).collect::<Vec<_>>(),
            }));
        }
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index});
        add_bytes(&mut b, "index.json", &to_json(&index)?)?;
        add_bytes(
            &mut b,
            "manifest.json",
            &to_json(&Value::Array(manifest_json))?,
        )?;
        add_bytes(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        if !repositories.is_empty() {
            add_bytes(&mut b, "repositories", &to_json(&json!(repositories))?)?;
        }
        b.into_inner().and_then(|mut w| w.flush()).map_err(tar_err)
    }
}
