//! Query strings as the docker client builds them: keys sorted, values
//! percent-encoded, repeated keys allowed, and `filters` as a JSON map of
//! lists (`{"status":["exited"]}`).

use std::collections::BTreeMap;

/// An ordered list of query parameters; encodes sorted by key like Go's
/// `url.Values.Encode`, keeping the order of repeated keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds `key=value` (repeatable).
    pub fn add(mut self, key: &str, value: impl Into<String>) -> Query {
        self.pairs.push((key.to_string(), value.into()));
        self
    }

    /// Adds `key=1` when `on`, as the docker client sends booleans.
    pub fn flag(self, key: &str, on: bool) -> Query {
        if on {
            self.add(key, "1")
        } else {
            self
        }
    }

    /// Adds `key=value` unless the value is empty.
    pub fn non_empty(self, key: &str, value: &str) -> Query {
        if value.is_empty() {
            self
        } else {
            self.add(key, value)
        }
    }

    /// Adds `filters=<json>` unless there are no filters.
    pub fn filters(self, filters: &Filters) -> Query {
        if filters.is_empty() {
            self
        } else {
            self.add("filters", filters.to_json())
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `a=1&b=x%20y` (no leading `?`).
    pub fn encode(&self) -> String {
        let mut pairs: Vec<&(String, String)> = self.pairs.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: repeated keys keep their order
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", escape(k, false), escape(v, false)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/`,
/// `:` and `@` when encoding a path, so image names keep their shape).
pub(crate) fn escape(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (path && matches!(b, b'/' | b':' | b'@'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Docker's filter arguments: a name mapped to the values given for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    map: BTreeMap<String, Vec<String>>,
}

impl Filters {
    pub fn new() -> Filters {
        Filters::default()
    }

    pub fn add(&mut self, name: &str, value: &str) {
        let values = self.map.entry(name.to_string()).or_default();
        if !values.iter().any(|v| v == value) {
            values.push(value.to_string());
        }
    }

    /// Parses a `--filter name=value` argument.
    pub fn add_arg(&mut self, arg: &str) -> Result<(), String> {
        match arg.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                self.add(&k.trim().to_lowercase(), v);
                Ok(())
            }
            _ => Err(format!("bad format of filter (expected name=value): {arg}")),
        }
    }

    pub fn get(&self, name: &str) -> &[String] {
        self.map.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// `{"name":["v1","v2"]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.map).unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_sorted_and_escaped() {
        let q = Query::new().add("tail", "all").add("since", "1.5").flag("follow", true).flag("x", false);
        assert_eq!(q.encode(), "follow=1&since=1.5&tail=all");
        let q = Query::new().add("name", "a b&c=d/é").add("changes", "CMD [\"x\"]").add("changes", "ENV A=1");
        assert_eq!(q.encode(), "changes=CMD%20%5B%22x%22%5D&changes=ENV%20A%3D1&name=a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn path_escape_keeps_image_names() {
        assert_eq!(escape("docker.io/library/busybox:latest", true), "docker.io/library/busybox:latest");
        assert_eq!(escape("a b?#", true), "a%20b%3F%23");
    }

    #[test]
    fn filters_encode_as_json_lists() {
        let mut f = Filters::new();
        f.add_arg("status=exited").unwrap();
        f.add_arg("status=created").unwrap();
        f.add_arg("label=a=b").unwrap();
        f.add_arg("status=exited").unwrap();
        assert_eq!(f.to_json(), r#"{"label":["a=b"],"status":["exited","created"]}"#);
        let q = Query::new().filters(&f).encode();
        assert!(q.starts_with("filters=%7B%22label%22"));
        assert!(f.add_arg("novalue").is_err());
        assert!(f.add_arg("=x").is_err());
        assert!(Query::new().filters(&Filters::new()).is_empty());
    }
}
