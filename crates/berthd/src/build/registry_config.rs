//! `X-Registry-Config`, the credentials the docker CLI sends with a build:
//! base64 JSON of registry → auth config, for every registry it knows.
//! A FROM that pulls uses the entry for its image's registry, handed to
//! the pull code in `X-Registry-Auth`'s form.

use base64::Engine as _;
use serde_json::{Map, Value};

/// The `X-Registry-Auth` value for `domain` (`docker.io` for Hub images).
pub fn auth_for(header: Option<&str>, domain: &str) -> Option<String> {
    let v = header?.trim();
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
    ];
    let raw = engines.iter().find_map(|e| e.decode(v).ok())?;
    let map: Map<String, Value> = serde_json::from_slice(&raw).ok()?;
    let hub = domain == "docker.io";
    let entry = map.iter().find_map(|(k, v)| {
        let host = k.trim_start_matches("https://").trim_start_matches("http://");
        let host = host.split('/').next().unwrap_or("");
        let same = host == domain || (hub && matches!(host, "index.docker.io" | "registry-1.docker.io" | "docker.io"));
        same.then_some(v)
    })?;
    let bytes = serde_json::to_vec(entry).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_image_registrys_entry() {
        let cfg = r#"{"https://index.docker.io/v1/":{"username":"hub"},"localhost:5000":{"username":"local"}}"#;
        let h = base64::engine::general_purpose::URL_SAFE.encode(cfg);
        let decode = |s: String| String::from_utf8(base64::engine::general_purpose::URL_SAFE.decode(s).unwrap_or_default()).unwrap_or_default();
        assert!(decode(auth_for(Some(&h), "docker.io").unwrap_or_default()).contains("hub"));
        assert!(decode(auth_for(Some(&h), "localhost:5000").unwrap_or_default()).contains("local"));
        assert!(auth_for(Some(&h), "quay.io").is_none());
        assert!(auth_for(Some("junk!"), "docker.io").is_none());
    }
}
