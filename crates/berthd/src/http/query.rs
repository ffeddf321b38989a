//! Query strings as the Engine API uses them: percent-decoded pairs,
//! Docker's loose booleans, and the JSON `filters` argument.

use berth_api::ApiError;
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
    /// `{"status":{"exited":true}}` form.
    pub fn filters(&self) -> Result<Filters, ApiError> {
        let raw = match self.get("filters") {
            None | Some("") => return Ok(Filters::default()),
            Some(r) => r,
        };
        let v: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| ApiError::invalid(format!("invalid filter: {e}")))?;
        let obj = v.as_object().ok_or_else(|| ApiError::invalid("invalid filter: not an object"))?;
        let mut map = BTreeMap::new();
        for (k, vals) in obj {
            let list: Vec<String> = match vals {
                serde_json::Value::Array(a) => {
                    a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()
                }
                serde_json::Value::Object(o) => o
                    .iter()
                    .filter(|(_, b)| b.as_bool() == Some(true))
                    .map(|(s, _)| s.clone())
                    .collect(),
                _ => return Err(ApiError::invalid(format!("invalid filter '{k}'"))),
            };
            map.insert(k.clone(), list);
        }
        Ok(Filters { map })
    }
}

/// Parsed filters: each key with the values the client gave (OR within a key, AND across keys).
#[derive(Debug, Default)]
pub struct Filters {
    map: BTreeMap<String, Vec<String>>,
}

impl Filters {
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
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
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
    fn parses_both_filter_forms() {
        let q = Query::parse(Some("filters=%7B%22status%22%3A%5B%22exited%22%5D%7D"));
        assert_eq!(q.filters().unwrap().values("status"), ["exited"]);
        let q = Query::parse(Some("filters={\"label\":{\"a=b\":true}}"));
        assert_eq!(q.filters().unwrap().values("label"), ["a=b"]);
        let q = Query::parse(Some("filters=notjson"));
        assert!(q.filters().is_err());
        let f = Query::parse(Some("filters={\"bogus\":[\"1\"]}")).filters().unwrap();
        assert_eq!(f.validate(&["status"]).unwrap_err().message, "invalid filter 'bogus'");
    }
}
