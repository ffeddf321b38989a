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

#[cfg(test)]
mod tests {
    use super::*;
    use berth_distribution::RegistryErrorEntry;

    fn registry(status: u16, code: &str, message: &str) -> DistributionError {
        DistributionError::Registry { status, errors: vec![RegistryErrorEntry { code: code.into(), message: message.into() }] }
    }

    #[test]
    fn words_errors_as_dockerd() {
        let r = Reference::parse_normalized("busybox:nope").expect("ref");
        let e = pull_error(&registry(404, "MANIFEST_UNKNOWN", "manifest unknown"), &r);
        assert_eq!((e.status(), e.message.as_str()), (404, "manifest for busybox:nope not found: manifest unknown: manifest unknown"));
        let e = pull_error(&registry(401, "DENIED", "requested access to the resource is denied"), &r);
        assert_eq!(
            e.message,
            "pull access denied for busybox, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
        );
        assert_eq!(e.status(), 404);
        let e = pull_error(&registry(404, "NAME_UNKNOWN", "repository name not known to registry"), &r);
        assert_eq!(e.message, "repository busybox not found: name unknown: repository name not known to registry");
        let e = pull_error(&registry(500, "UNKNOWN", "boom"), &r);
        assert_eq!((e.status(), e.message.as_str()), (500, "unknown: boom"));
    }
}
