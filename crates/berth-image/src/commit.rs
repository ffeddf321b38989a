//! `docker commit`: a new image made of a parent image plus one layer
//! (the container's changes, as an OCI layer tar), with the container's
//! run configuration and `--change` instructions as its config.

use crate::config::{ContainerConfig, History, ImageConfig};
use crate::error::{ImageError, Result};
use crate::import::apply_changes;
use crate::reference::Reference;
use crate::store::{ImageStore, Prepared};
use crate::timestamp::now_rfc3339;
use berth_store::Digest;
use std::io::Read;

/// What `commit` records besides the layer.
pub struct CommitOptions<'a> {
    pub parent: &'a Digest,
    /// The container's configuration (Cmd, Env, ... as it ran).
    pub config: ContainerConfig,
    pub changes: &'a [String],
    pub tag: Option<&'a Reference>,
    pub comment: &'a str,
    pub author: &'a str,
    /// The container's command, for `history`.
    pub created_by: &'a str,
    /// The committed container's ID and configuration, kept in the image
    /// config as dockerd keeps them (`container`, `container_config`),
    /// for image inspect before API 1.45.
    pub container: &'a str,
    pub container_config: serde_json::Value,
}

impl ImageStore {
    pub fn commit(&self, layer_tar: impl Read, o: CommitOptions<'_>) -> Result<Digest> {
        let parent = self.resolve(&o.parent.to_string())?;
        let mut run = o.config;
        apply_changes(&mut run, o.changes)?;
        let _ingest = self.lock_ingest();
        let mut layers = Vec::new();
        for chain in &parent.layers {
            layers.push(self.layers.info(chain)?);
        }
        let top = layers.last().map(|l| l.chain_id.clone());
        let info = self.layers.apply(top.as_ref(), layer_tar)?;
        let new_chain = info.chain_id.clone();
        let created = now_rfc3339();
        let mut config: ImageConfig = parent.config.clone();
        config.created = Some(created.clone());
        config.author = Some(o.author.to_string()).filter(|a| !a.is_empty());
        config.config = Some(run);
        config.extra.insert("container".into(), o.container.into());
        // The v1 config's `parent`: image inspect's `Parent` for a committed image.
        config.extra.insert("parent".into(), o.parent.to_string().into());
        config.extra.insert("container_config".into(), o.container_config);
        config.rootfs.diff_ids.push(info.diff_id.clone());
        config.history.push(History {
            created: Some(created),
            created_by: Some(o.created_by.to_string()),
            author: Some(o.author.to_string()).filter(|a| !a.is_empty()),
            comment: Some(o.comment.to_string()).filter(|c| !c.is_empty()),
            ..Default::default()
        });
        layers.push(info);
        let prepared = Prepared {
            config_bytes: config.to_vec()?,
            config,
            layers,
            tags: o.tag.into_iter().cloned().collect(),
        };
        match self.register(vec![prepared]) {
            Ok(mut done) => done.pop().map(|(id, _)| id).ok_or_else(|| ImageError::Corrupt("commit recorded nothing".into())),
            Err(e) => {
                self.discard_layers(&[new_chain]);
                Err(e)
            }
        }
    }
}
