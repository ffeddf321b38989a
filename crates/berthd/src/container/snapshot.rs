//! Whole-filesystem views of a container: `diff`, `export` and `commit`.

use super::fsdiff;
use super::manager::{Container, ContainerManager};
use super::rootfs::RootfsPaths;
use berth_api::ApiError;
use berth_image::{CommitOptions, Reference};
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::mpsc;

/// `POST /commit` parameters.
pub struct CommitRequest {
    pub tag: Option<Reference>,
    pub comment: String,
    pub author: String,
    pub changes: Vec<String>,
    pub pause: bool,
    /// Run configuration overriding the container's (the request body).
    pub config: Option<berth_api::container::ContainerConfig>,
}

impl ContainerManager {
    /// `GET /containers/{id}/changes`.
    pub fn changes(&self, c: &Container) -> Result<Vec<serde_json::Value>, ApiError> {
        let rec = c.snapshot();
        let image = self.images.resolve(&rec.image_id).map_err(crate::error::image_error)?;
        let lowers = self.images.layer_dirs(&image);
        let upper = RootfsPaths::new(&self.cfg.container_dir(&c.id)).upper;
        Ok(fsdiff::changes(&upper, &lowers)
            .into_iter()
            .map(|(path, kind)| serde_json::json!({"Path": path, "Kind": kind as u8}))
            .collect())
    }

    /// Runs `f` on the container's merged rootfs on a blocking thread,
    /// mounting a stopped container's rootfs around it (under the op lock,
    /// so the container cannot start meanwhile).
    pub(super) async fn with_rootfs<T: Send + 'static>(
        self: &Arc<Self>,
        c: &Arc<Container>,
        f: impl FnOnce(&super::record::ContainerRecord, &std::path::Path) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _op = c.op.lock().await;
        let rec = c.snapshot();
        let image = self.images.resolve(&rec.image_id).map_err(crate::error::image_error)?;
        let lowers = self.images.layer_dirs(&image);
        let paths = RootfsPaths::new(&self.cfg.container_dir(&c.id));
        let running = rec.state.status.is_running();
        let mounter = self.mounter.clone();
        tokio::task::spawn_blocking(move || {
            if !running {
                for d in [&paths.upper, &paths.work, &paths.rootfs] {
                    std::fs::create_dir_all(d).map_err(|e| ApiError::internal(e.to_string()))?;
                }
                mounter
                    .mount_overlay(&lowers, &paths.upper, &paths.work, &paths.rootfs)
                    .map_err(|e| ApiError::internal(format!("mounting rootfs: {e}")))?;
            }
            let res = f(&rec, &paths.rootfs);
            if !running {
                let _ = mounter.unmount(&paths.rootfs);
            }
            res
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
    }

    /// `GET /containers/{id}/export`: the merged rootfs as a tar stream.
    pub async fn export(self: &Arc<Self>, c: Arc<Container>, tx: mpsc::Sender<Bytes>) -> Result<(), ApiError> {
        let id = c.id.clone();
        self.with_rootfs(&c, move |_, root| {
            fsdiff::export_tar(root, crate::http::stream_io::ChannelWriter::new(tx))
                .map_err(|e| ApiError::internal(format!("exporting {id}: {e}")))
        })
        .await
    }

    /// `POST /commit`: a new image of the container's changes.
    pub async fn commit(self: &Arc<Self>, c: &Arc<Container>, req: CommitRequest) -> Result<String, ApiError> {
        let rec = c.snapshot();
        let paused_here = if req.pause && rec.state.status == super::record::Status::Running {
            match self.pause(c).await {
                Ok(()) => true,
                // It exited meanwhile: a stopped container is committed unpaused.
                Err(_) if !c.snapshot().state.status.is_running() => false,
                Err(e) => return Err(e),
            }
        } else {
            false
        };
        let rec = c.snapshot();
        let parent = self.images.resolve(&rec.image_id).map_err(crate::error::image_error)?;
        let upper = RootfsPaths::new(&self.cfg.container_dir(&c.id)).upper;
        let mut run = parent.config.config.clone().unwrap_or_default();
        let cfg = req.config.unwrap_or_else(|| rec.config.clone());
        // The container's run configuration becomes the image's.
        run.cmd = cfg.cmd.clone().or(run.cmd);
        run.entrypoint = cfg.entrypoint.clone().or(run.entrypoint);
        if !cfg.env.is_empty() {
            run.env = Some(cfg.env.clone());
        }
        if !cfg.working_dir.is_empty() {
            run.working_dir = Some(cfg.working_dir.clone());
        }
        if !cfg.user.is_empty() {
            run.user = Some(cfg.user.clone());
        }
        if !cfg.labels.is_empty() {
            run.labels = Some(cfg.labels.clone());
        }
        let mut created_by = vec![rec.path.clone()];
        created_by.extend(rec.args.iter().cloned());
        let images = self.images.clone();
        let parent_id = parent.id.clone();
        let container_id = c.id.clone();
        let container_config = serde_json::to_value(&rec.config).unwrap_or_default();
        let result = tokio::task::spawn_blocking(move || {
            // Stream the layer through a pipe: tar writer thread → store reader.
            let existed: std::collections::HashSet<_> = images.list().into_iter().map(|i| i.id).collect();
            let (r, w) = std::io::pipe().map_err(|e| berth_image::ImageError::Corrupt(e.to_string()))?;
            let writer = std::thread::spawn(move || fsdiff::layer_tar(&upper, w));
            let id = images.commit(
                r,
                CommitOptions {
                    parent: &parent_id,
                    config: run,
                    changes: &req.changes,
                    tag: req.tag.as_ref(),
                    comment: &req.comment,
                    author: &req.author,
                    created_by: &created_by.join(" "),
                    container: &container_id,
                    container_config,
                },
            );
            let wrote = writer.join().map_err(|_| berth_image::ImageError::Corrupt("layer writer panicked".into()))?;
            // The store's error comes first: when it stopped reading (a
            // full disk), the writer only saw a broken pipe.
            let id = id?;
            if let Err(e) = wrote {
                // The store took a truncated layer: the image must not stay.
                if !existed.contains(&id) {
                    let _ = images.remove(&id);
                }
                return Err(berth_image::ImageError::Corrupt(format!("writing the layer: {e}")));
            }
            Ok(id)
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()));
        if paused_here {
            self.unpause_after_commit(c).await?;
        }
        let id = result?.map_err(crate::error::image_error)?;
        self.emit(c, "commit", &[]);
        Ok(id.to_string())
    }
}
