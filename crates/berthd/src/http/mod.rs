//! The HTTP edge: the unix-socket server, request decoding helpers and
//! the one place that turns an error into a status and Docker's body.

pub mod body;
pub mod query;
pub mod response;
pub mod server;
pub mod stream_io;

pub use body::Body;
pub use query::Query;
