//! Registry failures as dockerd words them, with the HTTP status it answers.

use berth_api::ApiError;
use berth_distribution::DistributionError;
use berth_image::Reference;

/// `ref` is what the user asked for (`FamiliarString` of it).
pub fn pull_error(e: &DistributionError, r: &Reference) -> ApiError {
    let msg = describe(e, r);
    match e.code() {
        Some("MANIFEST_UNKNOWN" | "NAME_UNKNOWN" | "DENIED") => ApiError::not_found(msg),
        _ => match e {
            DistributionError::NoMatchingPlatform { .. } => ApiError::not_found(msg),
            DistributionError::InvalidReference(_) => ApiError::invalid(msg),
            _ => ApiError::internal(msg),
        },
    }
}

pub fn describe(e: &DistributionError, r: &Reference) -> String {
    match e.code() {
        Some("DENIED") => {
            format!("pull access denied for {}, repository does not exist or may require 'docker login': {e}", r.familiar_name())
        }
        Some("MANIFEST_UNKNOWN") => format!("manifest for {} not found: {e}", r.familiar_string()),
        Some("NAME_UNKNOWN") => format!("repository {} not found: {e}", r.familiar_name()),
        _ => match e {
            DistributionError::Registry { status: 401, .. } => format!("{e} (try 'docker login {}')", r.domain()),
            DistributionError::DigestMismatch { .. } | DistributionError::Truncated { .. } => {
                format!("error pulling {}: {e}", r.familiar_string())
            }
            _ => e.to_string(),
        },
    }
}
