//! `docker load`: docker-save archives (`manifest.json`) and OCI image layouts (`index.json`).

use std::collections::BTreeMap;
use std::io::Read;

use berth_store::Digest;
use serde::Deserialize;
use serde_json::Value;

use crate::config::ImageConfig;
use crate::error::{ImageError, Result};
use crate::reference::Reference;
use crate::spool::{decompressed, Spool};
use crate::store::{ImageStore, Prepared};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    pub id: Digest,
    /// Familiar `name:tag` strings.
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestItem {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    pub digest: Digest,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Deserialize)]
pub(crate) struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

const MAX_INDEX_DEPTH: usize = 4;

/// The Go architecture name of this machine, as image configs spell it.
pub(crate) fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn json<T: serde::de::DeserializeOwned>(name: &str, data: &[u8]) -> Result<T> {
    serde_json::from_slice(data).map_err(|e| ImageError::InvalidArchive(format!("{name}: {e}")))
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

impl ImageStore {
    /// Load every image in a docker-save or OCI-layout archive (optionally gzipped).
    /// All or nothing: on error no image or tag is recorded and new layers are removed.
    pub fn load(&self, r: impl Read) -> Result<Vec<LoadedImage>> {
        let _ingest = self.lock_ingest();
        let spool = Spool::new(&self.root, r)?;
        let mut created = Vec::new();
        let result = self
            .load_spooled(&spool, &mut created)
            .and_then(|p| self.register(p));
        match result {
            Ok(done) => Ok(done
                .into_iter()
                .map(|(id, tags)| LoadedImage {
                    id,
                    tags: tags.iter().map(Reference::familiar_string).collect(),
                })
                .collect()),
            Err(e) => {
                self.discard_layers(&created);
                Err(ImageError::archive(e))
            }
        }
    }

    fn load_spooled(&self, spool: &Spool, created: &mut Vec<Digest>) -> Result<Vec<Prepared>> {
        if spool.exists("manifest.json") {
            self.load_docker(spool, created)
        } else if spool.exists("index.json") {
            self.load_oci(spool, created)
        } else {
            Err(ImageError::InvalidArchive(
                "no manifest.json or index.json found: not a docker-save archive or OCI image layout".into(),
            ))
        }
    }

    fn load_docker(&self, spool: &Spool, created: &mut Vec<Digest>) -> Result<Vec<Prepared>> {
        let items: Vec<ManifestItem> = json("manifest.json", &spool.read("manifest.json")?)?;
        let mut out = Vec::new();
        for item in items {
            if let Some(hex) = item.config.strip_prefix("blobs/sha256/") {
                spool.verify(&item.config, &Digest::from_hex(hex)?)?;
            }
            let config_bytes = spool.read(&item.config)?;
            let tags = item
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| Reference::parse(t))
                .collect::<Result<Vec<_>>>()?;
            out.push(self.prepare(
                config_bytes,
                tags,
                created,
                |i| {
                    let name = item
                        .layers
                        .get(i)
                        .ok_or_else(|| ImageError::InvalidArchive("missing layer".into()))?;
                    decompressed(spool.open(name)?)
                },
                item.layers.len(),
            )?);
        }
        Ok(out)
    }

    /// Check a config against its layers, then unpack them.
    fn prepare<'s>(
        &self,
        config_bytes: Vec<u8>,
        tags: Vec<Reference>,
        created: &mut Vec<Digest>,
        open: impl FnMut(usize) -> Result<Box<dyn Read + 's>>,
        layer_count: usize,
    ) -> Result<Prepared> {
        let config = ImageConfig::from_slice(&config_bytes).map_err(ImageError::archive)?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != layer_count {
            return Err(ImageError::InvalidArchive(format!(
                "image config lists {} layers but the archive has {layer_count}",
                diff_ids.len()
            )));
        }
        let layers = self.apply_layers(diff_ids, open, created)?;
        Ok(Prepared {
            config_bytes,
            config,
            layers,
            tags,
        })
    }

    fn load_oci(&self, spool: &Spool, created: &mut Vec<Digest>) -> Result<Vec<Prepared>> {
        let index: Index = json("index.json", &spool.read("index.json")?)?;
        if index.manifests.is_empty() {
            return Err(ImageError::InvalidArchive(
                "index.json lists no manifests".into(),
            ));
        }
        let mut out = Vec::new();
        for desc in &index.manifests {
            let name = desc
                .annotations
                .get("io.containerd.image.name")
                .or_else(|| {
                    desc.annotations
                        .get("org.opencontainers.image.ref.name")
                        .filter(|n| n.contains([':', '/']))
                });
            let tags = match name {
                Some(n) => vec![Reference::parse(n)?],
                None => Vec::new(),
            };
            let manifest = pick_manifest(spool, desc, 0)?;
            spool.verify(&blob_path(&manifest.config.digest), &manifest.config.digest)?;
            let config_bytes = spool.read(&blob_path(&manifest.config.digest))?;
            for l in &manifest.layers {
                spool.verify(&blob_path(&l.digest), &l.digest)?;
            }
            let layers = &manifest.layers;
            out.push(self.prepare(
                config_bytes,
                tags,
                created,
                |i| {
                    let l = layers
                        .get(i)
                        .ok_or_else(|| ImageError::InvalidArchive("missing layer".into()))?;
                    decompressed(spool.open(&blob_path(&l.digest))?)
                },
                layers.len(),
            )?);
        }
        Ok(out)
    }
}

/// Follow nested indexes down to the image manifest for this platform.
fn pick_manifest(spool: &Spool, desc: &Descriptor, depth: usize) -> Result<Manifest> {
    if depth > MAX_INDEX_DEPTH {
        return Err(ImageError::InvalidArchive(
            "image indexes nested too deeply".into(),
        ));
    }
    let path = blob_path(&desc.digest);
    spool.verify(&path, &desc.digest)?;
    let data = spool.read(&path)?;
    let value: Value = json(&path, &data)?;
    let is_index = match desc.media_type.as_deref() {
        Some(mt) if mt.ends_with("manifest.v1+json") || mt.ends_with("manifest.v2+json") => false,
        Some(mt) if mt.ends_with("index.v1+json") || mt.ends_with("manifest.list.v2+json") => true,
        _ => value.get("manifests").is_some(),
    };
    if !is_index {
        return json(&path, &data);
    }
    let index: Index = json(&path, &data)?;
    let arch = host_arch();
    let wanted = |d: &&Descriptor| match &d.platform {
        Some(p) => p.os == "linux" && p.architecture == arch,
        None => !d.annotations.contains_key("vnd.docker.reference.type"),
    };
    let chosen = index.manifests.iter().find(wanted).ok_or_else(|| {
        ImageError::InvalidArchive(format!("no manifest for linux/{arch} in the image index"))
    })?;
    pick_manifest(spool, chosen, depth + 1)
}
