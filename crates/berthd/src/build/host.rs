//! berth-build's `BuildHost`, for one build: FROM through the image store
//! and the pull code, snapshots as overlay mounts, RUN on the container
//! run path, commits into the image store, the persistent cache.

use super::messages::BuildStream;
use super::snapshot::OverlaySnapshot;
use super::BuildManager;
use crate::container::rootfs::{Mounter, SysMounter};
use crate::container::BuildStep;
use berth_build::{BaseImage, BuildEvents, BuildHost, Fetched, HostError, HostErrorKind, ImageConfig, RunSpec, Snapshot};
use berth_image::Reference;
use berth_store::Digest;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::runtime::Handle;

pub struct JobHost {
    pub m: Arc<BuildManager>,
    pub stream: Arc<BuildStream>,
    pub rt: Handle,
    /// This build's scratch directory (snapshots, mount sources).
    pub work: PathBuf,
    /// The client's `X-Registry-Config` (credentials by registry), if sent.
    pub auth: Option<String>,
    /// The build's `--network`, for RUN steps that do not say.
    pub network: String,
    /// `--cache-from`: the only images cache hits may name.
    pub cache_scope: Option<std::collections::HashSet<String>>,
}

fn internal(e: impl std::fmt::Display) -> HostError {
    HostError::new(HostErrorKind::Internal, e.to_string())
}

fn from_api(e: berth_api::ApiError) -> HostError {
    let kind = match e.kind {
        berth_api::ErrorKind::NotFound => HostErrorKind::NotFound,
        berth_api::ErrorKind::InvalidArgument => HostErrorKind::InvalidArgument,
        berth_api::ErrorKind::Unavailable => HostErrorKind::Unavailable,
        _ => HostErrorKind::Internal,
    };
    HostError::new(kind, e.message)
}

fn digest(id: &str) -> Result<Digest, HostError> {
    id.parse().map_err(|_| HostError::new(HostErrorKind::InvalidArgument, format!("not an image ID: {id}")))
}

impl JobHost {
    fn mounter(&self) -> Arc<dyn Mounter> {
        Arc::new(SysMounter)
    }

    fn check_cancelled(&self) -> Result<(), HostError> {
        if self.stream.cancelled() {
            return Err(internal("the build was cancelled: the client went away"));
        }
        Ok(())
    }

    fn lowers(&self, image: Option<&str>) -> Result<Vec<PathBuf>, HostError> {
        let Some(id) = image else { return Ok(Vec::new()) };
        let img = self.m.images.resolve(id).map_err(|e| from_api(crate::error::image_error(e)))?;
        Ok(self.m.images.layer_dirs(&img))
    }

    /// Pulls `name` through the registry client, streaming its progress
    /// into the build's output as dockerd's classic builder does.
    fn pull(&self, r: &Reference, platform: Option<&str>) -> Result<(), HostError> {
        let auth = super::registry_config::auth_for(self.auth.as_deref(), r.domain());
        let pr = crate::pull::PullRequest::from_query(&r.to_string(), None, platform, auth.as_deref()).map_err(from_api)?;
        let registry = berth_distribution::Registry::new(self.m.cfg.registry());
        let images = self.m.images.clone();
        let root = self.m.cfg.data_root.clone();
        let stream = self.stream.clone();
        let events = self.m.events.clone();
        self.rt.block_on(async move {
            let plan = crate::pull::Plan::resolve(&registry, &pr, &images).await.map_err(|e| crate::pull::pull_error(&e, &pr.reference))?;
            let familiar = plan.reference().familiar_string();
            let (ptx, mut prx) = tokio::sync::mpsc::channel::<Bytes>(16);
            let progress = crate::pull::Progress::new(ptx);
            let forward = async {
                while let Some(b) = prx.recv().await {
                    stream.send_bytes_async(b).await;
                }
            };
            let run = async move {
                let r = plan.execute(images, &root, &progress, true).await;
                drop(progress);
                r
            };
            let (r, ()) = tokio::join!(run, forward);
            r.map_err(berth_api::ApiError::internal)?;
            let mut attrs = std::collections::BTreeMap::new();
            attrs.insert("name".to_string(), familiar.clone());
            events.emit("image", "pull", &familiar, attrs);
            Ok::<(), berth_api::ApiError>(())
        })
        .map_err(from_api)
    }
}

impl BuildHost for JobHost {
    fn base_image(&self, name: &str, platform: Option<&str>, pull: bool, _ev: &dyn BuildEvents) -> Result<BaseImage, HostError> {
        self.check_cancelled()?;
        let found = |img: berth_image::Image| BaseImage { id: img.id.to_string(), config: img.config };
        // A local name or image ID, unless --pull asks for the registry's.
        if !pull {
            if let Ok(img) = self.m.images.resolve(name) {
                return Ok(found(img));
            }
        }
        let r = Reference::parse_normalized(name).map_err(|e| HostError::new(HostErrorKind::InvalidArgument, e.to_string()))?;
        if !pull {
            if let Ok(img) = self.m.images.resolve(&r.to_string()) {
                return Ok(found(img));
            }
        }
        self.pull(&r, platform)?;
        let img = self.m.images.resolve(&r.to_string()).map_err(|e| HostError::new(HostErrorKind::NotFound, e.to_string()))?;
        Ok(found(img))
    }

    fn snapshot(&self, parent: Option<&str>) -> Result<Box<dyn Snapshot>, HostError> {
        self.check_cancelled()?;
        let _t = Took::new("snapshot");
        let lowers = self.lowers(parent)?;
        let snap = OverlaySnapshot::mount(&self.work, &lowers, self.mounter()).map_err(|e| internal(format!("mounting the step's rootfs: {e}")))?;
        Ok(Box::new(snap))
    }

    fn run(&self, snap: &dyn Snapshot, spec: &RunSpec, ev: &dyn BuildEvents) -> Result<i32, HostError> {
        self.check_cancelled()?;
        let _t = Took::new("run");
        let mounts = super::mounts::prepare(&self.m, &self.work, &spec.mounts).map_err(internal)?;
        let id = crate::container::naming::new_id();
        let network = if spec.network.is_empty() { self.network.clone() } else { spec.network.clone() };
        let step = BuildStep {
            id: id.clone(),
            rootfs: snap.rootfs().to_path_buf(),
            args: spec.args.clone(),
            env: spec.env.clone(),
            user: spec.user.clone(),
            working_dir: spec.working_dir.clone(),
            network,
            extra_hosts: spec.extra_hosts.clone(),
            shm_size: spec.shm_size,
            mounts: mounts.mounts.clone(),
        };
        self.stream.container(&id, true);
        let (otx, mut orx) = tokio::sync::mpsc::unbounded_channel::<(bool, Bytes)>();
        let containers = self.m.containers.clone();
        let closed = self.stream.sender();
        let task = self.rt.spawn(async move {
            let output: crate::container::StepOutput = Box::new(move |stream, data| {
                let _ = otx.send((stream == berth_api::stdcopy::Stream::Stderr, data));
            });
            containers.run_build_step(step, output, async move { closed.closed().await }).await
        });
        while let Some((stderr, chunk)) = orx.blocking_recv() {
            if stderr {
                // dockerd's classic builder shows a step's stderr in red.
                let mut red = Vec::with_capacity(chunk.len() + 9);
                red.extend_from_slice(b"\x1b[91m");
                red.extend_from_slice(&chunk);
                red.extend_from_slice(b"\x1b[0m");
                ev.output(&red);
            } else {
                ev.output(&chunk);
            }
        }
        let code = self.rt.block_on(task).map_err(internal)?.map_err(from_api)?;
        drop(mounts);
        self.check_cancelled()?;
        // As dockerd (rm without forcerm): a failed step's container is not
        // reported removed. berth never keeps it (nothing records it).
        if code == 0 {
            self.stream.container(&id, false);
        }
        Ok(i32::try_from(code).unwrap_or(i32::MAX))
    }

    fn commit(&self, parent: Option<&str>, snap: Option<Box<dyn Snapshot>>, config: ImageConfig) -> Result<String, HostError> {
        self.check_cancelled()?;
        let _t = Took::new(if snap.is_some() { "commit (layer)" } else { "commit (config)" });
        let parent = parent.map(digest).transpose()?;
        let images = self.m.images.clone();
        let Some(snap) = snap else {
            let id = images.create_child(parent.as_ref(), None, config).map_err(internal)?;
            return Ok(id.to_string());
        };
        let upper = self.upper_of(snap.rootfs())?;
        // The layer is read from the upper directory once nothing writes it;
        // the store then takes the directory over (its files are not written
        // a second time), keeping the tar only as the layer's blob.
        self.mounter().unmount(snap.rootfs()).map_err(internal)?;
        crate::container::fsdiff::settle_upper(&upper).map_err(|e| internal(format!("preparing the layer: {e}")))?;
        let made = images.create_child_from_dir(parent.as_ref(), &upper, &crate::container::fsdiff::adopted_layer_tar, config);
        drop(snap);
        Ok(made.map_err(internal)?.to_string())
    }

    fn mount_image(&self, id: &str) -> Result<Box<dyn Snapshot>, HostError> {
        self.snapshot(Some(id))
    }

    fn cache_get(&self, key: &str) -> Option<String> {
        let id = self.m.cache.get(key)?;
        if self.cache_scope.as_ref().is_some_and(|s| !s.contains(&id)) {
            return None;
        }
        if self.m.images.resolve(&id).is_ok() {
            Some(id)
        } else {
            self.m.cache.remove(key);
            None
        }
    }

    fn cache_put(&self, key: &str, image_id: &str) {
        self.m.cache.put(key, image_id);
    }

    fn fetch_url(&self, url: &str, _ev: &dyn BuildEvents) -> Result<Fetched, HostError> {
        self.check_cancelled()?;
        super::fetch::fetch(&self.rt, url, &self.work).map_err(|e| HostError::new(HostErrorKind::Unavailable, e))
    }
}

/// With `-D`: how long one host call took, logged when it ends.
struct Took(&'static str, std::time::Instant);

impl Took {
    fn new(what: &'static str) -> Took {
        Took(what, std::time::Instant::now())
    }
}

impl Drop for Took {
    fn drop(&mut self) {
        crate::daemon::debug(&format!("build: {} {:.1}ms", self.0, self.1.elapsed().as_secs_f64() * 1000.0));
    }
}

impl JobHost {
    /// The upper directory of a snapshot this build made (its rootfs is
    /// `<work>/<snap>/rootfs`, its upper `<work>/<snap>/upper`).
    fn upper_of(&self, rootfs: &Path) -> Result<PathBuf, HostError> {
        let dir = rootfs.parent().filter(|d| d.parent() == Some(self.work.as_path())).ok_or_else(|| internal("commit of a snapshot this build did not make"))?;
        Ok(dir.join("upper"))
    }
}
