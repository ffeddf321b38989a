//! Registry errors, kept close to what the registry said so the daemon can
//! word them as dockerd does.

use serde::Deserialize;

/// One entry of a registry's `{"errors":[...]}` body.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RegistryErrorEntry {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl std::fmt::Display for RegistryErrorEntry {
    // Docker's errcode: the code in lower case with spaces, then the message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = self.code.to_lowercase().replace('_', " ");
        if self.message.is_empty() {
            f.write_str(&code)
        } else {
            write!(f, "{code}: {}", self.message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DistributionError {
    /// The registry answered with error codes (`MANIFEST_UNKNOWN`, `DENIED`, ...).
    #[error("{}", .errors.first().map(ToString::to_string).unwrap_or_default())]
    Registry { status: u16, errors: Vec<RegistryErrorEntry> },
    /// A status without a registry error body.
    #[error("{}", status_text(.method, .url, *.status, .text))]
    Status { method: String, url: String, status: u16, text: String },
    /// Basic auth asked for and no credentials known.
    #[error("{method} \"{url}\": no basic auth credentials")]
    NoBasicCredentials { method: String, url: String },
    #[error("toomanyrequests: {message}")]
    TooManyRequests { message: String, retry_after: Option<u64> },
    #[error("{method} \"{url}\": {message}")]
    Transport { method: String, url: String, message: String },
    #[error("{0}")]
    Tls(String),
    #[error("error fetching token from {realm}: {message}")]
    Token { realm: String, message: String },
    #[error("digest mismatch for {expected}: got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("unexpected EOF: {digest} is {expected} bytes but the registry sent {got}")]
    Truncated { digest: String, expected: u64, got: u64 },
    #[error("{0}")]
    InvalidManifest(String),
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    #[error("no matching manifest for {wanted} in the manifest list entries (available: {})", .available.join(", "))]
    NoMatchingPlatform { wanted: String, available: Vec<String> },
    #[error("invalid reference: {0}")]
    InvalidReference(String),
}

fn status_text(method: &str, url: &str, status: u16, text: &str) -> String {
    if method == "login attempt to" {
        return format!("login attempt to {url} {text}");
    }
    format!("{method} \"{url}\": response status code {status}: {text}")
}

impl DistributionError {
    /// The first registry error code, if the registry gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            DistributionError::Registry { errors, .. } => errors.first().map(|e| e.code.as_str()),
            _ => None,
        }
    }

    /// Worth another try: the registry was busy or briefly broken.
    pub fn retryable(&self) -> bool {
        match self {
            DistributionError::Registry { status, .. } | DistributionError::Status { status, .. } => *status >= 500,
            DistributionError::Transport { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = DistributionError> = std::result::Result<T, E>;
