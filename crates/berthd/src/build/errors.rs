//! A failed build as the client sees it: dockerd's message, and the
//! failing RUN's exit code in `errorDetail.code` (the docker CLI exits
//! with it).

use berth_api::{ApiError, ErrorKind};
use berth_build::{BuildError, HostErrorKind};

pub fn describe(e: &BuildError) -> (ApiError, Option<i64>) {
    let kind = match e {
        BuildError::Host(h) => match h.kind {
            HostErrorKind::NotFound => ErrorKind::NotFound,
            HostErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
            HostErrorKind::Unavailable => ErrorKind::Unavailable,
            HostErrorKind::Internal => ErrorKind::Internal,
        },
        _ => ErrorKind::InvalidArgument,
    };
    (ApiError::new(kind, e.to_string()), e.exit_code().map(i64::from))
}
