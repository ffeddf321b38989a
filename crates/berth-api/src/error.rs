//! The one error type that crosses the API edge, and the one mapping from
//! its kind to an HTTP status.

use serde::{Deserialize, Serialize};

/// What went wrong, in the terms the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    InvalidArgument,
    NotModified,
    Forbidden,
    /// Credentials refused (dockerd's Unauthorized: a failed `POST /auth`).
    Unauthorized,
    Unavailable,
    /// A feature the object does not offer (dockerd's NotImplemented, e.g.
    /// reading the logs of a container whose log driver keeps none).
    NotImplemented,
    /// A request body over the endpoint's bound.
    TooLarge,
    Internal,
}

impl ErrorKind {
    /// The HTTP status Docker answers with for this kind of error.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::InvalidArgument => 400,
            ErrorKind::NotModified => 304,
            ErrorKind::Forbidden => 403,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Unavailable => 503,
            ErrorKind::NotImplemented => 501,
            ErrorKind::TooLarge => 413,
            ErrorKind::Internal => 500,
        }
    }

    /// The kind a client infers from a status it received.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            400 => ErrorKind::InvalidArgument,
            304 => ErrorKind::NotModified,
            403 => ErrorKind::Forbidden,
            401 => ErrorKind::Unauthorized,
            503 => ErrorKind::Unavailable,
            501 => ErrorKind::NotImplemented,
            413 => ErrorKind::TooLarge,
            _ => ErrorKind::Internal,
        }
    }
}

/// An error with a kind and Docker's user-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into() }
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, m)
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, m)
    }
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
    /// Docker's error body: `{"message": "..."}`.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { message: self.message.clone() }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_docker_statuses() {
        assert_eq!(ErrorKind::NotFound.status(), 404);
        assert_eq!(ErrorKind::Conflict.status(), 409);
        assert_eq!(ErrorKind::InvalidArgument.status(), 400);
        assert_eq!(ErrorKind::NotModified.status(), 304);
        assert_eq!(ErrorKind::TooLarge.status(), 413);
        for k in [ErrorKind::NotFound, ErrorKind::Conflict, ErrorKind::InvalidArgument, ErrorKind::TooLarge] {
            assert_eq!(ErrorKind::from_status(k.status()), k);
        }
    }

    #[test]
    fn body_is_message_json() {
        let e = ApiError::not_found("No such container: x");
        assert_eq!(
            serde_json::to_string(&e.body()).unwrap(),
            r#"{"message":"No such container: x"}"#
        );
    }
}
