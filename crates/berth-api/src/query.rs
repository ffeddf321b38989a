//! Query strings as the Engine API uses them: percent-decoded pairs,
//! Docker's loose booleans, and the JSON `filters` argument.

use crate::ApiError;
use std::collections::BTreeMap;

/// Decoded query parameters of one request.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query { pairs }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// Docker's boolean: absent, "", "0", "no", "false", "none" are false.
    pub fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            None => false,
            Some(v) => !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "no" | "false" | "none"),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("invalid value for {key}: {v:?}"))),
        }
    }

    /// The `filters` argument: `{"status":["exited"]}` or the legacy
    /// `{"status":{"exited":true}}` form. Anything else (a number, null or
    /// object among the values, a value that is not a list or map) is
    /// dockerd's 400 "invalid filter": a dropped value would widen a prune
    /// to everything.
    pub fn filters(&self) -> Result<Filters, ApiError> {
        match self.get("filters") {
            None | Some("") => Ok(Filters::default()),
            Some(raw) => Filters::from_json(raw),
        }
    }
}

fn invalid_filter() -> ApiError {
    ApiError::invalid("invalid filter")
}

/// Parsed filters: each key with the values the client gave (OR within a key, AND across keys).
#[derive(Debug, Default)]
pub struct Filters {
    map: BTreeMap<String, Vec<String>>,
}

impl Filters {
    pub fn from_json(raw: &str) -> Result<Filters, ApiError> {
        let v: serde_json::Value = serde_json::from_str(raw).map_err(|_| invalid_filter())?;
        let obj = v.as_object().ok_or_else(invalid_filter)?;
        let mut map = BTreeMap::new();
        for (k, vals) in obj {
            let list: Vec<String> = match vals {
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).ok_or_else(invalid_filter))
                    .collect::<Result<_, _>>()?,
                // The legacy map form: dockerd takes every key whatever its
                // boolean; a value that is not a boolean fails its decode.
                serde_json::Value::Object(o) => o
                    .iter()
                    .map(|(s, b)| if b.is_boolean() { Ok(s.clone()) } else { Err(invalid_filter()) })
                    .collect::<Result<_, _>>()?,
                _ => return Err(invalid_filter()),
            };
            map.insert(k.clone(), list);
        }
        Ok(Filters { map })
    }

    pub fn values(&self, key: &str) -> &[String] {
        self.map.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Rejects keys the endpoint does not know, with Docker's error.
    pub fn validate(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::invalid(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// A prune's `until` (at most one, as dockerd), as Unix nanoseconds.
    pub fn until(&self, now: std::time::SystemTime) -> Result<Option<i128>, ApiError> {
        match self.values("until") {
            [] => Ok(None),
            [u] => crate::time::parse_time_filter(u, now)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("invalid filter 'until={u}'"))),
            _ => Err(ApiError::invalid("more than one until filter specified")),
        }
    }

    /// The `label` (all must match) and `label!` (none may match) filters
    /// against an object's labels; `k` matches a key, `k=v` a key and value.
    pub fn labels_match<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        let one = |l: &String| match l.split_once('=') {
            Some((k, v)) => get(k) == Some(v),
            None => get(l).is_some(),
        };
        self.values("label").iter().all(one) && !self.values("label!").iter().any(one)
    }
}

fn decode(s: &str) -> String {
    percent_decode(s, true)
}

/// Percent-decodes `s`; `plus_is_space` for query strings (form encoding),
/// not for path segments (`GET /networks/test%2001` names "test 01").
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
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
    fn decodes_pairs_and_flags() {
        let q = Query::parse(Some("name=%2Ffoo+bar&all=1&force=false&x=%zz&y=%4"));
        assert_eq!(q.get("name"), Some("/foo bar"));
        assert!(q.flag("all"));
        assert!(!q.flag("force"));
        assert!(!q.flag("missing"));
        assert_eq!(q.get("x"), Some("%zz"));
        assert_eq!(q.get("y"), Some("%4"));
    }

    #[test]
    fn path_segments_keep_plus() {
        assert_eq!(percent_decode("test%2001+x", false), "test 01+x");
        assert_eq!(percent_decode("a%2Fb", false), "a/b");
        assert_eq!(percent_decode("%", false), "%");
    }

    #[test]
    fn parses_both_filter_forms() {
        let q = Query::parse(Some("filters=%7B%22status%22%3A%5B%22exited%22%5D%7D"));
        assert_eq!(q.filters().unwrap().values("status"), ["exited"]);
        let q = Query::parse(Some("filters={\"label\":{\"a=b\":true}}"));
        assert_eq!(q.filters().unwrap().values("label"), ["a=b"]);
        let q = Query::parse(Some("filters={\"label\":{\"a=b\":false}}"));
        assert_eq!(q.filters().unwrap().values("label"), ["a=b"]);
        let q = Query::parse(Some("filters=notjson"));
        assert_eq!(q.filters().unwrap_err().message, "invalid filter");
        let f = Query::parse(Some("filters={\"bogus\":[\"1\"]}")).filters().unwrap();
        assert_eq!(f.validate(&["status"]).unwrap_err().message, "invalid filter 'bogus'");
    }

    #[test]
    fn malformed_filter_values_are_refused() {
        for bad in [
            r#"{"label":[1]}"#,
            r#"{"label":[null]}"#,
            r#"{"label":[{"a":"b"}]}"#,
            r#"{"label":[["a"]]}"#,
            r#"{"label":["a",true]}"#,
            r#"{"label":{"a":1}}"#,
            r#"{"label":{"a":null}}"#,
            r#"{"label":"a"}"#,
            r#"{"label":null}"#,
            r#"{"label":1}"#,
            r#"["label"]"#,
            r#"null"#,
            r#"{"label":["a"]"#,
        ] {
            let err = Filters::from_json(bad).unwrap_err();
            assert_eq!((err.status(), err.message.as_str()), (400, "invalid filter"), "{bad}");
        }
    }

    #[test]
    fn until_and_labels() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        let f = Filters::from_json(r#"{"until":["10s"],"label":["a","b=c"],"label!":["x"]}"#).unwrap();
        assert_eq!(f.until(now).unwrap(), Some(990_000_000_000));
        let labels: BTreeMap<String, String> = [("a", "1"), ("b", "c")].map(|(k, v)| (k.to_string(), v.to_string())).into();
        assert!(f.labels_match(|k| labels.get(k).map(String::as_str)));
        let mut with_x = labels.clone();
        with_x.insert("x".into(), String::new());
        assert!(!f.labels_match(|k| with_x.get(k).map(String::as_str)));
        assert!(!f.labels_match(|_| None));
        let two = Filters::from_json(r#"{"until":["1s","2s"]}"#).unwrap();
        assert_eq!(two.until(now).unwrap_err().message, "more than one until filter specified");
        let bad = Filters::from_json(r#"{"until":["99999999999999999999h"]}"#).unwrap();
        assert_eq!(bad.until(now).unwrap_err().status(), 400);
    }
}
