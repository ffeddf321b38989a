//! Mapping the lower crates' errors onto the API's error kinds. This and
//! `http::response::error` are the only places that decide how a failure
//! is reported.

use berth_api::{ApiError, ErrorKind};
use berth_image::ImageError;

pub fn image_error(e: ImageError) -> ApiError {
    let kind = match &e {
        ImageError::NotFound(_) => ErrorKind::NotFound,
        ImageError::InvalidReference(_)
        | ImageError::InvalidArchive(_)
        | ImageError::Ambiguous(_)
        | ImageError::InvalidChange(_) => ErrorKind::InvalidArgument,
        _ => ErrorKind::Internal,
    };
    ApiError::new(kind, e.to_string())
}
