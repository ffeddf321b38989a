//! The seam between the builder and the daemon: what a build needs from its host.

use std::path::{Path, PathBuf};

use berth_image::ImageConfig;

use crate::error::HostError;

/// A resolved FROM image.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// `sha256:<hex>`
    pub id: String,
    pub config: ImageConfig,
}

/// A file downloaded for `ADD <url>`.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// A temporary file the host owns (and removes after the build).
    pub path: PathBuf,
    /// The name the file gets when the destination is a directory (last URL path
    /// segment, as Docker derives it).
    pub file_name: String,
    /// The `Last-Modified` header, if any (Docker sets the file's mtime from it).
    pub last_modified: Option<String>,
}

/// `RUN --mount=type=cache,sharing=...`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheSharing {
    #[default]
    Shared,
    Private,
    Locked,
}

/// One `RUN --mount=...`, resolved by the builder to host-side paths where it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// A persistent cache directory the host keeps under its data root by `id`.
    Cache {
        id: String,
        target: String,
        read_only: bool,
        sharing: CacheSharing,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// A bind of a directory or file the builder resolved (inside the context or a
    /// stage/image rootfs); read-only unless `rw` (then writes are discarded by the host).
    Bind {
        source: PathBuf,
        target: String,
        read_write: bool,
    },
    Tmpfs { target: String, size: Option<i64> },
    /// A secret file from `BuildOptions::secrets`, mounted read-only.
    Secret {
        source: PathBuf,
        target: String,
        mode: u32,
        uid: u32,
        gid: u32,
    },
}

/// The process a RUN step starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunSpec {
    /// argv, already wrapped in the SHELL for shell form.
    pub args: Vec<String>,
    /// Image env + build args in scope, as the classic builder sets them.
    pub env: Vec<String>,
    pub user: String,
    pub working_dir: String,
    pub network: String,
    pub extra_hosts: Vec<String>,
    pub shm_size: Option<i64>,
    pub mounts: Vec<RunMount>,
}

/// A rootfs directory the builder may read (and, for a working snapshot, write).
pub trait Snapshot: Send + Sync {
    fn rootfs(&self) -> &Path;
}

/// What the builder needs from the daemon.
pub trait BuildHost: Send + Sync {
    /// FROM: resolve `name` (pulling when missing or when `pull`); never called for `scratch`.
    fn base_image(
        &self,
        name: &str,
        platform: Option<&str>,
        pull: bool,
        ev: &dyn BuildEvents,
    ) -> Result<BaseImage, HostError>;
    /// A writable working rootfs on top of `parent` (None = scratch), mounted.
    fn snapshot(&self, parent: Option<&str>) -> Result<Box<dyn Snapshot>, HostError>;
    /// RUN: run `spec` in a container on the snapshot's rootfs, streaming output to
    /// `ev.output`; returns the exit code.
    fn run(&self, snap: &dyn Snapshot, spec: &RunSpec, ev: &dyn BuildEvents)
        -> Result<i32, HostError>;
    /// A new image: `parent`'s layers + the snapshot's changes as one layer (no new
    /// layer when `snap` is None), with `config` as its complete image config (the
    /// builder fills config, history, created; the host fills rootfs.diff_ids).
    fn commit(
        &self,
        parent: Option<&str>,
        snap: Option<Box<dyn Snapshot>>,
        config: ImageConfig,
    ) -> Result<String, HostError>;
    /// A read-only view of an image's rootfs (COPY --from).
    fn mount_image(&self, id: &str) -> Result<Box<dyn Snapshot>, HostError>;
    /// Persistent layer cache: key → image ID (the host checks the image still exists).
    fn cache_get(&self, key: &str) -> Option<String>;
    fn cache_put(&self, key: &str, image_id: &str);
    /// The config of an image the builder got from the cache (so later steps build on
    /// its exact history). The default says "unknown" and the builder then uses the
    /// config it computed for the step, which differs only in `created` times.
    fn image_config(&self, id: &str) -> Result<ImageConfig, HostError> {
        Err(HostError::new(
            crate::error::HostErrorKind::NotFound,
            format!("no config for {id}"),
        ))
    }
    /// ADD <url>: download to a temp file.
    fn fetch_url(&self, url: &str, ev: &dyn BuildEvents) -> Result<Fetched, HostError>;
}

/// Progress in the classic builder's terms; the host renders dockerd's JSON messages.
pub trait BuildEvents: Send + Sync {
    /// `Step n/total : INSTRUCTION ...` (text is the instruction as written, expanded
    /// as the classic builder prints it).
    fn step(&self, n: usize, total: usize, text: &str);
    /// ` ---> Using cache`
    fn cached(&self);
    /// RUN output, pull progress.
    fn output(&self, bytes: &[u8]);
    /// ` ---> <12-hex id>`
    fn step_done(&self, image_id: &str);
    /// e.g. `[Warning] One or more build-args [X] were not consumed`
    fn warning(&self, text: &str);
}
