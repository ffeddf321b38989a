//! The daemon's half of `docker build`: the context upload, the
//! `BuildHost` berth-build runs its steps through (images, overlay
//! snapshots, RUN on the container run path, the persistent cache), and
//! dockerd's classic JSON messages.
//!
//! Under the data root:
//! ```text
//! build/cache/<sha256 of key>.json   cache key → image ID (survives restarts)
//! build/mounts/<sha256 of id>/        RUN --mount=type=cache directories
//! build/work/<unique>/                one build's snapshots and context (removed after)
//! ```

mod cache;
mod context;
mod errors;
mod fetch;
mod host;
mod job;
mod messages;
mod mounts;
mod prune;
mod registry_config;
mod request;
mod snapshot;

pub use messages::{error_line, BuildStream, Item};
pub use request::BuildRequest;

use crate::config::DaemonConfig;
use crate::container::ContainerManager;
use crate::events::EventBus;
use berth_image::ImageStore;
use std::path::PathBuf;
use std::sync::Arc;

pub struct BuildManager {
    cfg: Arc<DaemonConfig>,
    images: Arc<ImageStore>,
    containers: Arc<ContainerManager>,
    events: Arc<EventBus>,
    cache: cache::CacheIndex,
}

impl BuildManager {
    /// Opens the build area; what a crashed build left in `build/work` is
    /// unmounted and removed.
    pub fn open(cfg: Arc<DaemonConfig>, images: Arc<ImageStore>, containers: Arc<ContainerManager>, events: Arc<EventBus>) -> std::io::Result<Arc<BuildManager>> {
        let m = BuildManager { cache: cache::CacheIndex::open(&cfg.data_root.join("build/cache"))?, cfg, images, containers, events };
        std::fs::create_dir_all(m.mounts_dir())?;
        snapshot::clear_work(&m.work_root());
        Ok(Arc::new(m))
    }

    fn work_root(&self) -> PathBuf {
        self.cfg.data_root.join("build/work")
    }

    fn mounts_dir(&self) -> PathBuf {
        self.cfg.data_root.join("build/mounts")
    }
}

impl BuildManager {
    /// Starts a build on a blocking thread. The first item on the returned
    /// channel tells the route whether to answer 200 and stream, or with
    /// the error's status (dockerd does the same: an error before any
    /// output is the HTTP error).
    pub fn start(self: &Arc<Self>, req: BuildRequest, auth: Option<String>, body: impl std::io::Read + Send + 'static) -> tokio::sync::mpsc::Receiver<Item> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let stream = Arc::new(BuildStream::new(tx, req.quiet));
        let job = job::Job { m: self.clone(), req, auth, stream, rt: tokio::runtime::Handle::current() };
        tokio::task::spawn_blocking(move || job.run(body));
        rx
    }
}
