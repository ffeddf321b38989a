//! The client's error type. An error the daemon reported displays as the
//! daemon's message only, so callers can prefix it the way docker does.

use crate::host::Host;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon answered with an error status and `{"message": ...}`.
    #[error("{message}")]
    Api { status: u16, message: String },
    /// The daemon could not be reached at all.
    #[error("Cannot connect to the berth daemon at {host}. Is the berth daemon running?")]
    Connect {
        host: Host,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid host {0:?}: expected unix:///path or tcp://host:port")]
    InvalidHost(String),
    #[error("error during connect: {}", with_causes(.0))]
    Http(#[from] hyper::Error),
    /// TLS set-up or handshake failed.
    #[error("{0}")]
    Tls(String),
    #[error("error decoding response from daemon: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("invalid request: {0}")]
    Request(String),
}

impl ClientError {
    /// The HTTP status of a daemon-reported error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the daemon itself reported the error (docker prefixes
    /// these with "Error response from daemon: ").
    pub fn is_api(&self) -> bool {
        matches!(self, ClientError::Api { .. })
    }

    /// Builds an API error from a status and a response body, accepting a
    /// `{"message"}` JSON body or falling back to the raw text as docker does.
    pub(crate) fn from_body(status: u16, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Body {
            message: String,
        }
        let message = match serde_json::from_slice::<Body>(body) {
            Ok(b) => b.message,
            Err(_) => {
                let text = String::from_utf8_lossy(body).trim().to_string();
                if text.is_empty() {
                    format!("{} {}", status, reason(status))
                } else {
                    text
                }
            }
        };
        ClientError::Api { status, message }
    }
}

fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// An error with its causes, as Go's wrapped errors print (`a: b: c`):
/// hyper's "connection error" alone would hide a TLS alert behind it.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_displays_message_only() {
        let e = ClientError::from_body(404, br#"{"message":"No such container: x"}"#);
        assert_eq!(e.to_string(), "No such container: x");
        assert!(e.is_not_found());
    }

    #[test]
    fn non_json_bodies_are_kept_as_text() {
        assert_eq!(ClientError::from_body(500, b"boom\n").to_string(), "boom");
        assert_eq!(ClientError::from_body(502, b"").to_string(), "502 Bad Gateway");
        assert_eq!(ClientError::from_body(500, b"{\"msg\":1}").to_string(), "{\"msg\":1}");
    }
}
