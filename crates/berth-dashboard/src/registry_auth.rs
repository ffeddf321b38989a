//! Registry credentials for pulls started from the page. The browser never
//! holds them: for `POST /images/create?fromImage=…` the dashboard asks the
//! credential store of the user who runs it (given by the caller: the
//! docker CLI config, as `berth pull` reads it) and sends what it finds to
//! the daemon as `X-Registry-Auth`.

use hyper::Method;
use std::sync::Arc;

/// The image a pull names (`fromImage`) → the `X-Registry-Auth` value for
/// its registry, when credentials are stored for it. May run a credential
/// helper, so it is called on a blocking thread.
pub type RegistryAuth = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The image `POST /images/create` pulls, if this request is a pull.
pub fn pulled_image(method: &Method, path_and_query: &str) -> Option<String> {
    if method != Method::POST {
        return None;
    }
    let (path, query) = path_and_query.split_once('?')?;
    if path != "/images/create" {
        return None;
    }
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "fromImage")
        .map(|(_, v)| decode(v))
        .filter(|v| !v.is_empty())
}

/// A query value: `%XX` escapes and `+` for a space.
fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(x) => {
                    out.push(x);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pulls_name_an_image() {
        let post = Method::POST;
        assert_eq!(pulled_image(&post, "/images/create?fromImage=127.0.0.1%3A5000%2Fa%2Fb&tag=v1").as_deref(), Some("127.0.0.1:5000/a/b"));
        assert_eq!(pulled_image(&post, "/images/create?tag=v1&fromImage=busybox").as_deref(), Some("busybox"));
        assert_eq!(pulled_image(&post, "/images/create?fromSrc=-"), None);
        assert_eq!(pulled_image(&post, "/images/create?fromImage="), None);
        assert_eq!(pulled_image(&post, "/images/create"), None);
        assert_eq!(pulled_image(&Method::GET, "/images/create?fromImage=busybox"), None);
        assert_eq!(pulled_image(&post, "/images/createx?fromImage=busybox"), None);
        assert_eq!(pulled_image(&post, "/containers/create?fromImage=busybox"), None);
    }

    #[test]
    fn decodes_query_values() {
        assert_eq!(decode("a%2Fb%3a1"), "a/b:1");
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
