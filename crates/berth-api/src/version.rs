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
/// `/v1.43/containers/json` → `(Some("1.43"), "/containers/json")`. The
/// prefix is any run of digits and dots, as dockerd's router takes it
/// (`/v99/_ping` is version "99", which `check_requested` then refuses).
pub fn split_version_prefix(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        let end = rest.find('/').unwrap_or(rest.len());
        let v = &rest[..end];
        if !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
            return (Some(v), &rest[end..]);
        }
    }
    (None, path)
}

/// Compares dotted versions as Go's `versions.Compare` does: part by part
/// as numbers, a missing or unparsable part counting as 0.
pub fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    let part = |v: &str, i: usize| v.split('.').nth(i).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let n = a.split('.').count().max(b.split('.').count());
    (0..n).map(|i| part(a, i).cmp(&part(b, i))).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
}

/// The version a request asked for (None: no prefix, the current one),
/// refused with dockerd's words when berth does not speak it.
pub fn check_requested(v: Option<&str>) -> Result<ApiVersion, crate::ApiError> {
    let Some(v) = v else { return Ok(ApiVersion::current()) };
    if compare(v, API_VERSION).is_gt() {
        return Err(crate::ApiError::invalid(format!(
            "client version {v} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if compare(v, MIN_API_VERSION).is_lt() {
        return Err(crate::ApiError::invalid(format!(
            "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    let part = |i: usize| v.split('.').nth(i).and_then(|x| x.parse().ok()).unwrap_or(0);
    Ok(ApiVersion { major: part(0), minor: part(1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefix() {
        let (v, p) = split_version_prefix("/v1.43/containers/json");
        assert_eq!(v, Some("1.43"));
        assert_eq!(p, "/containers/json");
        assert_eq!(split_version_prefix("/_ping"), (None, "/_ping"));
        assert_eq!(split_version_prefix("/version"), (None, "/version"));
        assert_eq!(split_version_prefix("/vx/y").1, "/vx/y");
        assert_eq!(split_version_prefix("/v99/_ping"), (Some("99"), "/_ping"));
        assert_eq!(split_version_prefix("/v/_ping"), (None, "/v/_ping"));
        assert_eq!(split_version_prefix("/volumes"), (None, "/volumes"));
    }

    #[test]
    fn refuses_versions_as_dockerd() {
        let msg = |v: &str| check_requested(Some(v)).unwrap_err().message;
        assert_eq!(msg("99"), "client version 99 is too new. Maximum supported API version is 1.50");
        assert_eq!(msg("1.51"), "client version 1.51 is too new. Maximum supported API version is 1.50");
        assert_eq!(
            msg("1.10"),
            "client version 1.10 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
        );
        assert_eq!(check_requested(Some("99")).unwrap_err().status(), 400);
        assert_eq!(check_requested(Some("1.50")).unwrap(), ApiVersion::current());
        assert_eq!(check_requested(Some("1.24")).unwrap(), ApiVersion::min());
        assert_eq!(check_requested(Some("1.43.0")).unwrap(), ApiVersion { major: 1, minor: 43 });
        assert_eq!(check_requested(None).unwrap(), ApiVersion::current());
        // Go's Atoi fails on a part too big for int64, which counts as 0.
        assert!(msg("99999999999999999999").contains("too old"));
        assert!(msg("1.9").contains("too old"));
    }

    #[test]
    fn orders_versions() {
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.24").unwrap());
        assert_eq!(ApiVersion::current().to_string(), API_VERSION);
        assert_eq!(ApiVersion::min().to_string(), MIN_API_VERSION);
    }
}
