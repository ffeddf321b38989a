//! `X-Registry-Auth`: base64url of the JSON auth config the docker CLI sends.

use base64::Engine as _;
use berth_distribution::Credentials;
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct AuthConfig {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "registrytoken")]
    registry_token: String,
    #[serde(default, rename = "identitytoken")]
    identity_token: String,
}

/// The credentials in the header, if it holds any. A header that cannot be
/// read counts as none, as dockerd treats it.
pub fn from_header(value: Option<&str>) -> Option<Credentials> {
    let v = value?.trim();
    if v.is_empty() {
        return None;
    }
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
    ];
    let raw = engines.iter().find_map(|e| e.decode(v).ok())?;
    let a: AuthConfig = serde_json::from_slice(&raw).ok()?;
    if a.username.is_empty() && a.registry_token.is_empty() && a.identity_token.is_empty() {
        return None;
    }
    Some(Credentials {
        username: a.username,
        password: a.password,
        registry_token: Some(a.registry_token).filter(|t| !t.is_empty()),
        identity_token: Some(a.identity_token).filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_header() {
        let h = base64::engine::general_purpose::URL_SAFE.encode(r#"{"username":"u","password":"p","serveraddress":"x"}"#);
        let c = from_header(Some(&h)).expect("creds");
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p"));
        let empty = base64::engine::general_purpose::URL_SAFE.encode("{}");
        assert!(from_header(Some(&empty)).is_none());
        assert!(from_header(Some("!!!")).is_none());
        assert!(from_header(None).is_none());
        // What the docker CLI sends after a login that got an identity token.
        let h = base64::engine::general_purpose::URL_SAFE.encode(r#"{"username":"u","identitytoken":"rt","serveraddress":"x"}"#);
        let c = from_header(Some(&h)).expect("creds");
        assert_eq!((c.password.as_str(), c.identity_token.as_deref()), ("", Some("rt")));
    }
}
