//! What can stop the dashboard from starting or serving.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("berth dashboard: refusing to listen on {0}: the dashboard can do everything the Engine API can, so it binds only to loopback (127.0.0.1, ::1) without TLS; berth does not support TLS for the dashboard yet")]
    NotLoopback(SocketAddr),
    #[error("berth dashboard: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("berth dashboard: cannot read random bytes for the login token: {0}")]
    Random(std::io::Error),
    #[error("berth dashboard: {0}")]
    Io(#[from] std::io::Error),
}
