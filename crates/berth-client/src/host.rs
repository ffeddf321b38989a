//! Where the daemon listens: `unix:///path` or `tcp://host:port`.

use crate::error::ClientError;
use std::fmt;

pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";
/// Environment variable naming the daemon when `-H` is not given.
pub const HOST_ENV: &str = "BERTH_HOST";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Unix(String),
    Tcp(String),
}

impl Host {
    pub fn parse(s: &str) -> Result<Host, ClientError> {
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
        // A bare host gets docker's plain-TCP default port.
        let addr = if addr.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            addr.to_string()
        } else {
            format!("{addr}:2375")
        };
        Ok(Host::Tcp(addr))
    }

    /// `-H` if given, else `$BERTH_HOST`, else the default socket.
    pub fn from_flag_or_env(flag: Option<&str>) -> Result<Host, ClientError> {
        match flag {
            Some(h) => Host::parse(h),
            None => match std::env::var(HOST_ENV) {
                Ok(h) if !h.is_empty() => Host::parse(&h),
                _ => Host::parse(DEFAULT_HOST),
            },
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
        assert_eq!(Host::parse("unix:///x").unwrap().to_string(), "unix:///x");
    }

    #[test]
    fn rejects_bad_hosts() {
        for h in ["", "unix://", "ssh://x", "tcp://", "tcp://a/b", "/run/x.sock"] {
            assert!(Host::parse(h).is_err(), "{h}");
        }
    }
}
