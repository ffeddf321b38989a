//! Where the daemon listens: `unix:///path` or `tcp://host:port`.

use crate::error::ClientError;
use std::fmt;

pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";
/// Environment variable naming the daemon when `-H` is not given.
pub const HOST_ENV: &str = "BERTH_HOST";
/// The docker CLI's, read when `BERTH_HOST` is not set.
pub const DOCKER_HOST_ENV: &str = "DOCKER_HOST";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Unix(String),
    Tcp(String),
}

impl Host {
    pub fn parse(s: &str) -> Result<Host, ClientError> {
        Host::parse_with_port(s, 2375)
    }

    /// As `parse`, with the port a bare TCP host gets (docker's 2376 for TLS).
    pub fn parse_with_port(s: &str, default_port: u16) -> Result<Host, ClientError> {
        let bad = || ClientError::InvalidHost(s.to_string());
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(Host::Unix(path.to_string()));
        }
        let addr = s.strip_prefix("tcp://").or_else(|| s.strip_prefix("http://")).ok_or_else(bad)?;
        let addr = addr.trim_end_matches('/');
        if addr.is_empty() || addr.contains('/') {
            return Err(bad());
        }
        // A bare host gets docker's default port.
        let addr = if addr.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            addr.to_string()
        } else {
            format!("{addr}:{default_port}")
        };
        Ok(Host::Tcp(addr))
    }

    /// `-H` if given, else `$BERTH_HOST`, else `$DOCKER_HOST` (as the docker
    /// CLI reads it), else the default socket.
    pub fn from_flag_or_env(flag: Option<&str>, tls: bool) -> Result<Host, ClientError> {
        let port = if tls { 2376 } else { 2375 };
        let env = |k: &str| std::env::var(k).ok().filter(|h| !h.is_empty());
        match flag.map(str::to_string).or_else(|| env(HOST_ENV)).or_else(|| env(DOCKER_HOST_ENV)) {
            Some(h) => Host::parse_with_port(&h, port),
            None => Host::parse(DEFAULT_HOST),
        }
    }

    /// The `Host` header value (docker uses this name for unix sockets).
    pub(crate) fn authority(&self) -> &str {
        match self {
            Host::Unix(_) => "api.moby.localhost",
            Host::Tcp(a) => a,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Unix(p) => write!(f, "unix://{p}"),
            Host::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(Host::parse(DEFAULT_HOST).unwrap(), Host::Unix("/run/berth/berth.sock".into()));
        assert_eq!(Host::parse("tcp://127.0.0.1:2375").unwrap(), Host::Tcp("127.0.0.1:2375".into()));
        assert_eq!(Host::parse("tcp://localhost").unwrap(), Host::Tcp("localhost:2375".into()));
        assert_eq!(Host::parse("tcp://[::1]:80").unwrap(), Host::Tcp("[::1]:80".into()));
        assert_eq!(Host::parse_with_port("tcp://h", 2376).unwrap(), Host::Tcp("h:2376".into()));
        assert_eq!(Host::parse("unix:///x").unwrap().to_string(), "unix:///x");
    }

    #[test]
    fn rejects_bad_hosts() {
        for h in ["", "unix://", "ssh://x", "tcp://", "tcp://a/b", "/run/x.sock"] {
            assert!(Host::parse(h).is_err(), "{h}");
        }
    }
}
