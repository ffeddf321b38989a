//! berth's registry client: the Docker Registry HTTP API v2 / OCI
//! distribution protocol over hyper and rustls. It fetches manifests and
//! streams blobs; storing them is the image store's job.

mod auth;
mod blob;
mod client;
mod error;
mod manifest;
mod registry;
mod tls;
mod token;
mod transport;
mod upload;

pub use auth::Credentials;
pub use blob::Blob;
pub use client::{Fetched, Repository};
pub use upload::{BlobSource, Mount, OnProgress, UploadSession};
pub use error::{DistributionError, RegistryErrorEntry, Result};
pub use manifest::{media, select, Manifest, PlatformSpec};
pub use registry::{Registry, RegistryConfig, DOCKER_HUB_API_HOST};
pub use tls::system_roots;
