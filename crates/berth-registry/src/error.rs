//! The distribution spec's error codes, their HTTP statuses and JSON body,
//! and the crate's own error for everything outside a request.

use hyper::StatusCode;
use std::path::PathBuf;

/// An error code of the distribution spec (plus the few distribution adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    TagInvalid,
    PaginationNumberInvalid,
    RangeInvalid,
    /// A manifest (or other bounded body) over its limit: 413.
    TooLarge,
    Unauthorized,
    /// A token request's `scope` that does not parse (400).
    ScopeInvalid,
    Unsupported,
    /// No endpoint at that path (distribution answers a bare 404).
    NotFound,
    Unknown,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::NameInvalid => "NAME_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::SizeInvalid | Code::TooLarge => "SIZE_INVALID",
            Code::TagInvalid => "TAG_INVALID",
            Code::PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID",
            Code::RangeInvalid => "RANGE_INVALID",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::ScopeInvalid => "SCOPE_INVALID",
            Code::Unsupported => "UNSUPPORTED",
            Code::NotFound => "NOT_FOUND",
            Code::Unknown => "UNKNOWN",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::BlobUnknown | Code::BlobUploadUnknown | Code::ManifestUnknown | Code::NameUnknown | Code::NotFound => {
                StatusCode::NOT_FOUND
            }
            Code::RangeInvalid => StatusCode::RANGE_NOT_SATISFIABLE,
            Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Unsupported => StatusCode::METHOD_NOT_ALLOWED,
            Code::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A request's failure, answered as `{"errors":[{code,message,detail}]}`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub detail: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), detail: None }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> ApiError {
        self.detail = Some(detail);
        self
    }

    /// The JSON body the spec gives every error.
    pub fn body(&self) -> String {
        let mut e = serde_json::json!({"code": self.code.as_str(), "message": self.message});
        if let Some(d) = &self.detail {
            e["detail"] = d.clone();
        }
        serde_json::json!({ "errors": [e] }).to_string()
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> ApiError {
        ApiError::new(Code::Unknown, format!("storage error: {e}"))
    }
}

/// Errors outside a request: starting the server, reading its files, gc.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("htpasswd file {path}: {msg}")]
    Htpasswd { path: PathBuf, msg: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    Gc(String),
    #[error("building the image: {0}")]
    Image(String),
    /// Settings that do not go together.
    #[error("{0}")]
    Config(String),
}

impl RegistryError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> RegistryError {
        RegistryError::Io { path: path.into(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_message_and_detail() {
        let e = ApiError::new(Code::ManifestUnknown, "manifest unknown").with_detail(serde_json::json!({"Tag": "x"}));
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap_or_default();
        assert_eq!(v["errors"][0]["code"], "MANIFEST_UNKNOWN");
        assert_eq!(v["errors"][0]["message"], "manifest unknown");
        assert_eq!(v["errors"][0]["detail"]["Tag"], "x");
        assert_eq!(Code::ManifestUnknown.status(), StatusCode::NOT_FOUND);
        assert_eq!(Code::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(Code::Unsupported.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
