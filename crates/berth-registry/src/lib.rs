#![cfg_attr(test, allow(clippy::unwrap_used))]
//! berth's registry server: the OCI distribution API over hyper, storing
//! on the filesystem, with optional htpasswd auth and TLS; plus gc of
//! unreferenced blobs and the docker-archive image that runs the server.

mod auth;
mod digest;
pub mod error;
pub mod gc;
mod http;
pub mod image;
mod lock;
mod manifest;
mod name;
mod storage;
mod token;

pub use digest::Digest;
pub use error::RegistryError;
pub use http::{serve, ServeConfig};
