//! The URL space of the distribution API. A repository name may hold
//! slashes, so routes are found from the end of the path, and every part is
//! checked (name grammar, digest, tag, upload id) before it is used.

/// What a request's path asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Base,
    Catalog,
    Tags(&'a str),
    Manifest(&'a str, &'a str),
    Blob(&'a str, &'a str),
    /// `/v2/NAME/blobs/uploads/`: start an upload (or mount).
    Uploads(&'a str),
    Upload(&'a str, &'a str),
    /// OCI 1.1 `/v2/NAME/referrers/DIGEST`.
    Referrers(&'a str, &'a str),
}

pub fn parse(path: &str) -> Option<Route<'_>> {
    if path == "/v2" || path == "/v2/" {
        return Some(Route::Base);
    }
    let rest = path.strip_prefix("/v2/")?;
    if rest == "_catalog" {
        return Some(Route::Catalog);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Route::Tags(name));
    }
    if let Some(name) = rest.strip_suffix("/blobs/uploads/").or_else(|| rest.strip_suffix("/blobs/uploads")) {
        return Some(Route::Uploads(name));
    }
    let last = |marker: &str| rest.rsplit_once(marker).filter(|(n, tail)| !n.is_empty() && !tail.is_empty() && !tail.contains('/'));
    if let Some((name, id)) = last("/blobs/uploads/") {
        return Some(Route::Upload(name, id));
    }
    if let Some((name, r)) = last("/manifests/") {
        return Some(Route::Manifest(name, r));
    }
    if let Some((name, d)) = last("/blobs/") {
        return Some(Route::Blob(name, d));
    }
    if let Some((name, d)) = last("/referrers/") {
        return Some(Route::Referrers(name, d));
    }
    None
}

/// The value of query parameter `key`, percent-decoded.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = (b[i] == b'%' && i + 2 < b.len())
            .then(|| Some(hex(b[i + 1])? * 16 + hex(b[i + 2])?))
            .flatten();
        match (escaped, b[i]) {
            (Some(v), _) => {
                out.push(v);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(parse("/v2/"), Some(Route::Base));
        assert_eq!(parse("/v2"), Some(Route::Base));
        assert_eq!(parse("/v2/_catalog"), Some(Route::Catalog));
        assert_eq!(parse("/v2/a/b/tags/list"), Some(Route::Tags("a/b")));
        assert_eq!(parse("/v2/a/manifests/latest"), Some(Route::Manifest("a", "latest")));
        assert_eq!(parse("/v2/a/blobs/sha256:00"), Some(Route::Blob("a", "sha256:00")));
        assert_eq!(parse("/v2/a/b/blobs/uploads/"), Some(Route::Uploads("a/b")));
        assert_eq!(parse("/v2/a/blobs/uploads/abc"), Some(Route::Upload("a", "abc")));
        // A repository may be called "blobs" or "manifests".
        assert_eq!(parse("/v2/x/manifests/manifests/t"), Some(Route::Manifest("x/manifests", "t")));
        assert_eq!(parse("/v2/blobs/blobs/sha256:1"), Some(Route::Blob("blobs", "sha256:1")));
        assert_eq!(parse("/v2/a/b/referrers/sha256:1"), Some(Route::Referrers("a/b", "sha256:1")));
        assert_eq!(parse("/v2/a/manifests/referrers/sha256:1"), Some(Route::Referrers("a/manifests", "sha256:1")));
        for bad in ["/", "/v1/", "/v2/a", "/v2/a/manifests/", "/v2//manifests/x", "/v2/a/blobs/x/y"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn queries() {
        let q = Some("mount=sha256%3Aab&from=library%2Fbusybox&n=2&flag");
        assert_eq!(query_param(q, "mount").as_deref(), Some("sha256:ab"));
        assert_eq!(query_param(q, "from").as_deref(), Some("library/busybox"));
        assert_eq!(query_param(q, "n").as_deref(), Some("2"));
        assert_eq!(query_param(q, "flag").as_deref(), Some(""));
        assert_eq!(query_param(q, "last"), None);
        assert_eq!(query_param(None, "n"), None);
        assert_eq!(query_param(Some("x=%zz%4%é"), "x").as_deref(), Some("%zz%4%é"));
    }
}
