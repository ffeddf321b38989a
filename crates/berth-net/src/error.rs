//! The crate's error type.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("invalid subnet {0:?}")]
    BadSubnet(String),
    #[error("invalid IP address {0:?}")]
    BadAddress(String),
    /// Docker's wording, which users grep for.
    #[error("invalid pool request: Pool overlaps with other one on this address space")]
    Overlap,
    #[error("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")]
    NoPool,
    #[error("no available IPv4 addresses on this network's address pools: {0}")]
    Exhausted(String),
    #[error("Address already in use")]
    AddressInUse,
    #[error("{0}")]
    Invalid(String),
    #[error("{cmd}: {msg}")]
    Command { cmd: String, msg: String },
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

impl NetError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> NetError {
        let what = what.into();
        move |source| NetError::Io { what, source }
    }
}
