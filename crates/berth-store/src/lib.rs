//! The data root: content-addressed blobs, unpacked layers, and crash-safe JSON records.

mod archive;
mod blob;
mod digest;
mod dirfd;
mod error;
mod extract;
mod layer;
mod quarantine;
mod record;
mod targuard;
mod tmp;
mod topdir;

#[cfg(test)]
mod cp_tests;
#[cfg(test)]
mod extract_tests;

pub use archive::archive_entry;
pub use extract::{extract_into, ExtractOptions};
pub use blob::{BlobStore, BlobWriter};
pub use digest::Digest;
pub use error::{Result, StoreError};
pub use layer::{LayerInfo, LayerStore, TarWriter, Unpacked};
pub use quarantine::{Quarantine, Quarantined};
pub use record::{remove_stale_temps, write_atomic, Loaded, RecordDir};
pub use targuard::{TarGuard, MAX_SPECIAL};
pub use tmp::{clean_tmp, tmp_dir, unique_name, TempDir};
pub use topdir::mark_top_dir;
