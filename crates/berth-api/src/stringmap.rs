//! String maps as Go decodes them: a JSON `null` value inside a
//! `map[string]string` is the empty string, and a `null` map is no map.
//! Clients rely on it (docker-compose 1.29 sends `"Tmpfs": {"/run": null}`).
//! The same holds for any non-pointer field: `null` is its zero value
//! ([`null_default`]; docker-py's `Mount` sends `"ReadOnly": null`).

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let m = Option::<BTreeMap<String, Option<String>>>::deserialize(d)?;
    Ok(m.map(|m| m.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()))
}

/// A map that may be absent or `null` (read as empty).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(read(d)?.unwrap_or_default())
}

/// A map whose absence (`null`) is kept.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    read(d)
}

/// A string that may be `null` (read as empty, as Go does).
pub fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// Any field that may be `null`, read as its default (Go's zero value).
pub fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "super::deserialize")]
        m: BTreeMap<String, String>,
        #[serde(deserialize_with = "super::deserialize_opt")]
        o: Option<BTreeMap<String, String>>,
    }

    #[test]
    fn null_values_are_empty_strings() {
        let t: T = serde_json::from_str(r#"{"m":{"a":null,"b":"x"},"o":{"/run":null}}"#).expect("valid");
        assert_eq!(t.m.get("a").map(String::as_str), Some(""));
        assert_eq!(t.m.get("b").map(String::as_str), Some("x"));
        assert_eq!(t.o.and_then(|o| o.get("/run").cloned()).as_deref(), Some(""));
        let t: T = serde_json::from_str(r#"{"m":null,"o":null}"#).expect("valid");
        assert!(t.m.is_empty() && t.o.is_none());
        let t: T = serde_json::from_str("{}").expect("valid");
        assert!(t.m.is_empty() && t.o.is_none());
        assert!(serde_json::from_str::<T>(r#"{"m":{"a":1}}"#).is_err());
    }
}
