//! The image builder: Dockerfile → images, through a [`BuildHost`] the daemon implements.
//!
//! Pure logic plus filesystem work on directories it is handed (the context, snapshot
//! rootfs directories); the daemon owns images, layers, containers and the cache store.

mod archive;
mod build;
mod cache;
mod config;
mod args;
mod chown;
mod copy;
mod copyop;
mod error;
mod events;
mod executor;
mod expand;
mod fsx;
mod heredoc;
mod history;
mod host;
pub mod ignore;
mod options;
mod parse;
mod pattern;
mod runop;
mod scope;
mod srchash;
mod stage;
mod words;
mod xattr;

pub use berth_image::ImageConfig;
pub use error::{BuildError, HostError, HostErrorKind};
pub use host::{BaseImage, BuildEvents, BuildHost, CacheSharing, Fetched, RunMount, RunSpec, Snapshot};
pub use options::{BuildOptions, BuildResult};

/// Builds the Dockerfile in `opts` and returns the final image's ID.
pub fn build(
    host: &dyn BuildHost,
    opts: &BuildOptions,
    ev: &dyn BuildEvents,
) -> Result<BuildResult, BuildError> {
    build::build(host, opts, ev)
}
#[cfg(test)]
mod tests;
