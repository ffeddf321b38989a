//! The shim's error type. Hand-written (no thiserror) to keep the binary's
//! dependency list at libc only.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// Bad command line.
    Usage(String),
    /// A system call or file operation failed; `what` says which.
    Io { what: String, source: io::Error },
    /// The OCI runtime reported a failure (message from its log, or its exit status).
    Runtime(String),
}

impl Error {
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// The last OS error, tagged with what we were doing.
    pub fn last_os(what: impl Into<String>) -> Self {
        Error::io(what, io::Error::last_os_error())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "usage: {m}"),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Runtime(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_context() {
        let e = Error::io("open x", io::Error::from_raw_os_error(libc::ENOENT));
        let s = e.to_string();
        assert!(s.starts_with("open x: "), "{s}");
        assert_eq!(Error::Runtime("boom".into()).to_string(), "boom");
    }
}
