#![cfg_attr(test, allow(clippy::unwrap_used))]
//! Typed async client for the Docker Engine API as berthd (or dockerd)
//! serves it: over a unix socket or plain TCP, with API version
//! negotiation, JSON helpers, streamed request and response bodies, and
//! hijacked (attach) connections.

mod archive;
mod body;
mod client;
mod error;
mod hijack;
mod host;
mod query;
mod stream;
mod tls;
mod transport;

pub use body::RequestBody;
pub use client::{segment, Client, WaitHandle};
pub use error::ClientError;
pub use hijack::Hijacked;
pub use host::{Host, DEFAULT_HOST, HOST_ENV};
pub use query::{Filters, Query};
pub use tls::TlsOptions;
pub use stream::{BodyReader, JsonStream, ResponseStream};
pub use hyper::Method;
