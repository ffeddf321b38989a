//! The store's error type: every I/O failure carries the path it concerned.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("invalid digest: {0}")]
    InvalidDigest(String),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("unsafe path in archive: {0}")]
    UnsafePath(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// Extraction would replace a directory by a non-directory or the reverse.
    #[error("{0}")]
    Conflict(String),
    #[error("corrupt: {0}")]
    Corrupt(String),
    #[error("invalid key: {0:?}")]
    InvalidKey(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        StoreError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// Attach a path to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| StoreError::io(path, e))
    }
}
