//! The image crate's error type.

use std::path::PathBuf;

use berth_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Display matches dockerd: `No such image: busybox:latest`.
    #[error("No such image: {0}")]
    NotFound(String),
    /// The full message, e.g. `invalid reference format`.
    #[error("{0}")]
    InvalidReference(String),
    #[error("invalid image archive: {0}")]
    InvalidArchive(String),
    #[error("multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    /// A bad `--change` instruction for import.
    #[error("{0}")]
    InvalidChange(String),
    #[error("corrupt image data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    /// Storage-level rejections of archive content (bad paths, mismatched digests, broken
    /// tars) are the archive's fault, so report them as such.
    pub(crate) fn archive(e: ImageError) -> ImageError {
        match e {
            ImageError::Store(
                s @ (StoreError::UnsafePath(_)
                | StoreError::DigestMismatch { .. }
                | StoreError::InvalidDigest(_)
                | StoreError::Corrupt(_)),
            ) => ImageError::InvalidArchive(s.to_string()),
            ImageError::Corrupt(m) => ImageError::InvalidArchive(m),
            other => other,
        }
    }
}
