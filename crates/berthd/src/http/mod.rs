//! The HTTP edge: the unix-socket server, request decoding helpers and
//! the one place that turns an error into a status and Docker's body.

pub mod body;
pub mod response;
pub mod server;
pub mod stream_io;

pub use body::Body;
// Query strings and filters are wire formats: berth-api parses them
// (reachable from the fuzz targets without the daemon).
pub use berth_api::query;
pub use query::Query;
