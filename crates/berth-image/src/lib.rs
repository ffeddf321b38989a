//! Images: references, configs, the image store, and archive import/export.

mod child;
mod commit;
mod config;
mod error;
mod history;
mod import;
mod journal;
mod load;
mod pull;
mod reference;
mod refpattern;
mod save;
mod spool;
mod store;
pub mod timestamp;

#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod quarantine_tests;

pub use commit::CommitOptions;
pub use config::{ContainerConfig, EmptySet, Healthcheck, History, ImageConfig, RootFs};
pub use error::{ImageError, Result};
pub use history::HistoryEntry;
pub use import::apply_changes;
pub use load::LoadedImage;
pub use pull::PullOutcome;
pub use spool::decompressed;
pub use reference::Reference;
pub use refpattern::reference_matches;
pub use store::{Image, ImageStore, LayerSource, RemovedImage};
