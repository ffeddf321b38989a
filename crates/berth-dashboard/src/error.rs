//! What can stop the dashboard from starting or serving.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("berth dashboard: refusing to listen on {0}: the dashboard can do everything the Engine API can, so it listens beyond loopback (127.0.0.1, ::1) only with TLS (--tls-cert and --tls-key)")]
    NotLoopback(SocketAddr),
    #[error("berth dashboard: listening on {0} needs --public-host: the name browsers will use to reach it (requests for any other Host are refused)")]
    NeedPublicHost(SocketAddr),
    #[error("berth dashboard: --tls-cert and --tls-key go together")]
    HalfTls,
    #[error("berth dashboard: {0}")]
    Tls(String),
    #[error("berth dashboard: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("berth dashboard: cannot read random bytes for the login token: {0}")]
    Random(std::io::Error),
    #[error("berth dashboard: {0}")]
    Io(#[from] std::io::Error),
}
