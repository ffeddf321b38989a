//! API version negotiation: the newest version berth speaks, the oldest it
//! accepts, and the `/v1.xx/` path prefix clients send.

/// The API version berth implements (the docker CLI 28 speaks this).
pub const API_VERSION: &str = "1.50";
/// The oldest API version berth accepts, as dockerd 28 does.
pub const MIN_API_VERSION: &str = "1.24";

/// A parsed `major.minor` API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub fn parse(s: &str) -> Option<ApiVersion> {
        let (a, b) = s.split_once('.')?;
        Some(ApiVersion { major: a.parse().ok()?, minor: b.parse().ok()? })
    }
    pub fn current() -> ApiVersion {
        ApiVersion { major: 1, minor: 50 }
    }
    pub fn min() -> ApiVersion {
        ApiVersion { major: 1, minor: 24 }
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Splits a request path into its optional version prefix and the rest:
/// `/v1.43/containers/json` → `(Some(1.43), "/containers/json")`.
pub fn split_version_prefix(path: &str) -> (Option<ApiVersion>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        let end = rest.find('/').unwrap_or(rest.len());
        if let Some(v) = ApiVersion::parse(&rest[..end]) {
            return (Some(v), &rest[end..]);
        }
    }
    (None, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefix() {
        let (v, p) = split_version_prefix("/v1.43/containers/json");
        assert_eq!(v, ApiVersion::parse("1.43"));
        assert_eq!(p, "/containers/json");
        assert_eq!(split_version_prefix("/_ping"), (None, "/_ping"));
        assert_eq!(split_version_prefix("/version"), (None, "/version"));
        assert_eq!(split_version_prefix("/vx/y").1, "/vx/y");
    }

    #[test]
    fn orders_versions() {
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.24").unwrap());
        assert_eq!(ApiVersion::current().to_string(), API_VERSION);
        assert_eq!(ApiVersion::min().to_string(), MIN_API_VERSION);
    }
}
