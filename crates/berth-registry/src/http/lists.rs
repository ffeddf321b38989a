//! `_catalog` and `tags/list`, both paginated with `n` and `last` and a
//! `Link: <...>; rel="next"` header when more remain.

use super::body::{self, Resp};
use super::route::query_param;
use super::State;
use crate::error::{ApiError, Code};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, StatusCode};

/// Catalog page size when the client names none, and the most it may ask.
const CATALOG_DEFAULT: usize = 100;
const PAGE_MAX: usize = 1000;

pub fn catalog(state: &State, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    let all = state.storage.repositories()?;
    let (page, next) = paginate(all, req.uri().query(), Some(CATALOG_DEFAULT))?;
    let mut r = body::json(StatusCode::OK, &serde_json::json!({ "repositories": page }));
    if let Some((last, n)) = next {
        link(&mut r, &format!("/v2/_catalog?last={last}&n={n}"));
    }
    Ok(r)
}

pub fn tags(state: &State, name: &str, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    if !state.storage.repo_exists(name) {
        return Err(ApiError::new(Code::NameUnknown, "repository name not known to registry")
            .with_detail(serde_json::json!({ "name": name })));
    }
    let all = state.storage.tags(name)?;
    // n=0 lists every tag, as distribution does (the catalog gives none).
    let query = req.uri().query().filter(|q| !q.split('&').any(|kv| kv == "n=0"));
    let (page, next) = paginate(all, query, None)?;
    let mut r = body::json(StatusCode::OK, &serde_json::json!({ "name": name, "tags": page }));
    if let Some((last, n)) = next {
        link(&mut r, &format!("/v2/{name}/tags/list?last={last}&n={n}"));
    }
    Ok(r)
}

fn link(r: &mut Resp, url: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
        r.headers_mut().insert(hyper::header::LINK, v);
    }
}

/// `last` and `n` of the page after this one.
type NextPage = (String, usize);

/// The page of sorted `all` after `last`, at most `n` long, and the
/// (last, n) of the next page if there is one.
fn paginate(
    all: Vec<String>,
    query: Option<&str>,
    default_n: Option<usize>,
) -> Result<(Vec<String>, Option<NextPage>), ApiError> {
    let n = match query_param(query, "n") {
        Some(s) => {
            let n: usize = s
                .parse()
                .map_err(|_| ApiError::new(Code::PaginationNumberInvalid, format!("invalid number of results requested: {s:?}")))?;
            if n > PAGE_MAX {
                return Err(ApiError::new(Code::PaginationNumberInvalid, format!("n must be at most {PAGE_MAX}")));
            }
            Some(n)
        }
        None => default_n,
    };
    let last = query_param(query, "last");
    let rest: Vec<String> = all.into_iter().filter(|x| last.as_ref().is_none_or(|l| x.as_str() > l.as_str())).collect();
    match n {
        Some(n) if rest.len() > n => {
            let page: Vec<String> = rest.into_iter().take(n).collect();
            let next = page.last().map(|l| (l.clone(), n));
            Ok((page, next))
        }
        _ => Ok((rest, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pages() {
        let all = v(&["a", "b", "c", "d", "e"]);
        let (p, next) = paginate(all.clone(), Some("n=2"), None).unwrap();
        assert_eq!(p, v(&["a", "b"]));
        assert_eq!(next, Some(("b".into(), 2)));
        let (p, next) = paginate(all.clone(), Some("n=2&last=b"), None).unwrap();
        assert_eq!((p, next), (v(&["c", "d"]), Some(("d".into(), 2))));
        let (p, next) = paginate(all.clone(), Some("n=2&last=d"), None).unwrap();
        assert_eq!((p, next), (v(&["e"]), None));
        let (p, next) = paginate(all.clone(), None, None).unwrap();
        assert_eq!((p.len(), next), (5, None));
        let (p, next) = paginate(all.clone(), Some("n=0"), None).unwrap();
        assert_eq!((p, next), (Vec::<String>::new(), None));
        assert_eq!(paginate(all.clone(), Some("n=x"), None).unwrap_err().code, Code::PaginationNumberInvalid);
        assert_eq!(paginate(all.clone(), Some("n=-1"), None).unwrap_err().code, Code::PaginationNumberInvalid);
        assert_eq!(paginate(all, Some("n=1001"), None).unwrap_err().code, Code::PaginationNumberInvalid);
    }
}
