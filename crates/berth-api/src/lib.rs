//! Docker Engine API wire types for berth: the JSON shapes that cross the
//! socket, the error type with its HTTP status, version negotiation, the
//! multiplexed stdio framing, the query strings and filters, and the time
//! formats the API uses.
//!
//! Field names follow the Engine API (v1.50) exactly; structs keep unknown
//! fields in an `extra` map where a client may send more than berth
//! understands, so that `inspect` echoes back what was sent.

pub mod archive;
pub mod casefold;
pub mod container;
pub mod detachkeys;
pub mod error;
pub mod exec;
pub mod gates;
pub mod gofmt;
pub mod image;
pub mod network;
pub mod plugin;
pub mod query;
pub mod stdcopy;
pub mod stringmap;
pub mod strslice;
pub mod system;
pub mod time;
pub mod version;
pub mod volume;

pub use error::{ApiError, ErrorKind};
