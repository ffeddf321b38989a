//! Registry authentication as Docker does it: a `WWW-Authenticate`
//! challenge names either Basic (send the credentials) or Bearer (fetch a
//! token from the realm, anonymously when there are no credentials).

use base64::Engine as _;
use serde::Deserialize;

/// What the user logged in with (`X-Registry-Auth`, `~/.docker/config.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// A bearer token to send as is (`registrytoken`).
    pub registry_token: Option<String>,
    /// An OAuth refresh token (`identitytoken`, what a token server gave
    /// `docker login`): access tokens are asked for with it, by POST, as
    /// Docker does, instead of with the password.
    pub identity_token: Option<String>,
}

impl Credentials {
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Parse a `WWW-Authenticate` value: a scheme, then `key="value"` pairs.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    let get = |k: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
    Some(Challenge::Bearer { realm: get("realm")?, service: get("service"), scope: get("scope") })
}

fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if key.is_empty() || chars.next() != Some('=') {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub access_token: String,
    /// Given to a login that asked for offline access, or a new one after a
    /// refresh (the server may rotate it).
    #[serde(default)]
    pub refresh_token: String,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<String> {
        [self.token, self.access_token].into_iter().find(|t| !t.is_empty())
    }
}

/// The client id Docker's engine names itself with to token servers.
pub(crate) const CLIENT_ID: &str = "docker";

/// The body of an OAuth token POST (`application/x-www-form-urlencoded`)
/// trading refresh token `refresh` for an access token to `scopes`, as
/// Docker's token handler sends it (the scopes space-separated in one field).
pub(crate) fn refresh_form(refresh: &str, service: Option<&str>, scopes: &[String]) -> String {
    let mut out = format!("grant_type=refresh_token&refresh_token={}&client_id={CLIENT_ID}", escape(refresh));
    if let Some(s) = service {
        out.push_str(&format!("&service={}", escape(s)));
    }
    if !scopes.is_empty() {
        out.push_str(&format!("&scope={}", escape(&scopes.join(" "))));
    }
    out
}

/// The token request URL: realm plus service and scopes (a cross-repository
/// mount asks for two), query-escaped.
pub(crate) fn token_url(realm: &str, service: Option<&str>, scopes: &[String]) -> String {
    let mut url = realm.to_string();
    let mut sep = if realm.contains('?') { '&' } else { '?' };
    if let Some(s) = service {
        url.push_str(&format!("{sep}service={}", escape(s)));
        sep = '&';
    }
    for scope in scopes {
        url.push_str(&format!("{sep}scope={}", escape(scope)));
        sep = '&';
    }
    url
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let c = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#);
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
        assert_eq!(parse_challenge(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }

    #[test]
    fn builds_token_urls() {
        assert_eq!(
            token_url("https://a/token", Some("reg x"), &["repository:library/busybox:pull".to_string()]),
            "https://a/token?service=reg%20x&scope=repository:library/busybox:pull"
        );
        let two = ["repository:me/b:pull,push".to_string(), "repository:lib/a:pull".to_string()];
        assert_eq!(token_url("https://a/t?x=1", None, &two), "https://a/t?x=1&scope=repository:me/b:pull%2Cpush&scope=repository:lib/a:pull");
    }

    #[test]
    fn basic_header() {
        let c = Credentials { username: "u".into(), password: "p".into(), ..Default::default() };
        assert_eq!(c.basic(), "Basic dTpw");
    }

    #[test]
    fn refresh_forms() {
        let scopes = ["repository:a:pull".to_string(), "repository:b:pull,push".to_string()];
        assert_eq!(
            refresh_form("r+t/=", Some("reg x"), &scopes),
            "grant_type=refresh_token&refresh_token=r%2Bt/%3D&client_id=docker&service=reg%20x&scope=repository:a:pull%20repository:b:pull%2Cpush"
        );
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"a","refresh_token":"n","expires_in":300}"#).unwrap();
        assert_eq!(t.refresh_token, "n");
        assert_eq!(t.into_token().as_deref(), Some("a"));
    }
}
