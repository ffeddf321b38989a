//! Images the builder makes: a parent image's layers plus at most one new
//! layer, with a config the builder wrote (run config, history, created).
//! Like dockerd's classic builder, every step's image records its parent,
//! so `history` can name the intermediate images and `images` can tell
//! them from the images people made.

use std::io::Read;
use std::path::Path;

use berth_store::{Digest, TarWriter};

use crate::config::ImageConfig;
use crate::error::{ImageError, Result};
use crate::store::{ImageStore, Prepared};

/// Where a child's new layer comes from.
enum NewLayer<'a, 'b> {
    Tar(&'a mut dyn Read),
    Dir(&'a Path, TarWriter<'b>),
}

impl ImageStore {
    /// Records a child of `parent` (`None`: `FROM scratch`). With
    /// `layer_tar`, its uncompressed layer tar becomes the top layer;
    /// without, the image shares its parent's layers (a config-only step).
    /// `config.rootfs` is filled in here; the rest is kept as given.
    pub fn create_child(&self, parent: Option<&Digest>, layer_tar: Option<&mut dyn Read>, config: ImageConfig) -> Result<Digest> {
        self.child(parent, layer_tar.map(NewLayer::Tar), config)
    }

    /// Like `create_child` with a layer, the layer being the directory `dir`
    /// (already in the store's on-disk form: overlay whiteouts and opaque
    /// directories), moved into the store rather than unpacked from its tar;
    /// `write_tar` writes that tar, which the store keeps as the layer's blob.
    pub fn create_child_from_dir(&self, parent: Option<&Digest>, dir: &Path, write_tar: TarWriter<'_>, config: ImageConfig) -> Result<Digest> {
        self.child(parent, Some(NewLayer::Dir(dir, write_tar)), config)
    }

    fn child(&self, parent: Option<&Digest>, layer: Option<NewLayer<'_, '_>>, mut config: ImageConfig) -> Result<Digest> {
        let parent = parent.map(|p| self.resolve(&p.to_string())).transpose()?;
        let _ingest = self.lock_ingest();
        let mut layers = Vec::new();
        for chain in parent.iter().flat_map(|p| p.layers.iter()) {
            layers.push(self.layers.info(chain)?);
        }
        config.rootfs.kind = "layers".into();
        config.rootfs.diff_ids = layers.iter().map(|l| l.diff_id.clone()).collect();
        let mut created = None;
        if let Some(layer) = layer {
            let top = layers.last().map(|l| l.chain_id.clone());
            let info = match layer {
                NewLayer::Tar(tar) => self.layers.apply(top.as_ref(), tar)?,
                NewLayer::Dir(dir, write_tar) => self.layers.adopt(top.as_ref(), dir, write_tar)?,
            };
            config.rootfs.diff_ids.push(info.diff_id.clone());
            created = Some(info.chain_id.clone());
            layers.push(info);
        }
        match &parent {
            Some(p) => config.extra.insert("parent".into(), p.id.to_string().into()),
            None => config.extra.remove("parent"),
        };
        let prepared = Prepared { config_bytes: config.to_vec()?, config, layers, tags: Vec::new() };
        match self.register(vec![prepared]) {
            Ok(mut done) => done.pop().map(|(id, _)| id).ok_or_else(|| ImageError::Corrupt("the build step recorded nothing".into())),
            Err(e) => {
                self.discard_layers(created.as_slice());
                Err(e)
            }
        }
    }

    /// The image `id`'s parent, as the builder or `commit` recorded it.
    pub fn parent_of(&self, image: &crate::Image) -> Option<Digest> {
        image.config.extra.get("parent")?.as_str()?.parse().ok()
    }
}
