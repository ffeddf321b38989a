//! Bearer token auth, the flow Docker Hub uses: a request without a good
//! token gets `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`;
//! the client fetches a token from the realm (this server's `/token`, with
//! Basic credentials checked against the htpasswd file, or anonymously) and
//! retries with it. Tokens are JWTs signed with HMAC-SHA256 under a key made
//! at start, so they end with the server; they name the repositories and
//! actions granted and expire after five minutes.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// The `service` the challenge names and tokens are issued for.
pub const SERVICE: &str = "berth-registry";
/// Seconds a token is good for (distribution's default too).
pub const LIFETIME: u64 = 300;
/// Seconds a refresh token is good for (it ends with the server's key anyway).
pub const REFRESH_LIFETIME: u64 = 30 * 86_400;
/// The audience of refresh tokens: they never pass as access tokens.
const REFRESH_AUDIENCE: &str = "berth-registry/refresh";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One grant: `repository:NAME:pull,push` or `registry:catalog:*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    /// Parse a `scope` parameter (`TYPE:NAME:ACTIONS`; the name may hold a port's `:`).
    pub fn parse(scope: &str) -> Option<Access> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        if kind.is_empty() || name.is_empty() || actions.is_empty() {
            return None;
        }
        let actions = actions.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect();
        Some(Access { kind: kind.to_string(), name: name.to_string(), actions })
    }

    /// The `scope` string a challenge names.
    pub fn scope(&self) -> String {
        format!("{}:{}:{}", self.kind, self.name, self.actions.join(","))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub access: Vec<Access>,
}

impl Claims {
    /// Whether the token grants `action` on `kind:name`.
    pub fn allows(&self, kind: &str, name: &str, action: &str) -> bool {
        self.access.iter().any(|a| a.kind == kind && a.name == name && a.actions.iter().any(|x| x == action || x == "*"))
    }
}

/// What a requested scope becomes: a user of the htpasswd file may pull,
/// push and delete any repository and list the catalog; an anonymous
/// client may pull when the server allows it, and nothing else.
pub fn grant(requested: &[Access], user: Option<&str>, anonymous_pull: bool) -> Vec<Access> {
    requested
        .iter()
        .filter_map(|r| {
            let allowed: &[&str] = match (r.kind.as_str(), user) {
                ("repository", Some(_)) => &["pull", "push", "delete"],
                ("repository", None) if anonymous_pull => &["pull"],
                ("registry", Some(_)) if r.name == "catalog" => &["*"],
                _ => &[],
            };
            let actions: Vec<String> = r.actions.iter().filter(|a| allowed.contains(&a.as_str())).cloned().collect();
            (!actions.is_empty()).then(|| Access { kind: r.kind.clone(), name: r.name.clone(), actions })
        })
        .collect()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(msg).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

pub struct Issuer {
    key: [u8; 32],
}

impl Issuer {
    /// A fresh signing key from the kernel's random source.
    pub fn new() -> std::io::Result<Issuer> {
        let mut key = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut key)?;
        Ok(Issuer { key })
    }

    pub fn issue(&self, sub: &str, access: Vec<Access>) -> (String, Claims) {
        self.sign(SERVICE, sub, LIFETIME, access)
    }

    /// A refresh token for `user` (offline access, Docker's `identitytoken`):
    /// good for `REFRESH_LIFETIME`, only at `/token`, never as an access token.
    pub fn issue_refresh(&self, user: &str) -> String {
        self.sign(REFRESH_AUDIENCE, user, REFRESH_LIFETIME, Vec::new()).0
    }

    fn sign(&self, aud: &str, sub: &str, lifetime: u64, access: Vec<Access>) -> (String, Claims) {
        let iat = now();
        let claims = Claims { iss: SERVICE.into(), sub: sub.into(), aud: aud.into(), exp: iat + lifetime, iat, access };
        let head = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signed = format!("{head}.{body}");
        let sig = B64.encode(hmac(&self.key, signed.as_bytes()));
        (format!("{signed}.{sig}"), claims)
    }

    /// The claims of an access token this server signed and that has not expired.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        self.verify_for(token, SERVICE)
    }

    /// The user a refresh token of this server was issued to.
    pub fn verify_refresh(&self, token: &str) -> Option<String> {
        self.verify_for(token, REFRESH_AUDIENCE).map(|c| c.sub).filter(|u| !u.is_empty())
    }

    fn verify_for(&self, token: &str, aud: &str) -> Option<Claims> {
        let (signed, sig) = token.rsplit_once('.')?;
        let (_, body) = signed.split_once('.')?;
        let sig = B64.decode(sig).ok()?;
        let want = hmac(&self.key, signed.as_bytes());
        // Compared in constant time: a timing difference would leak the MAC.
        if sig.len() != want.len() || sig.iter().zip(want.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return None;
        }
        let claims: Claims = serde_json::from_slice(&B64.decode(body).ok()?).ok()?;
        (claims.aud == aud && claims.exp > now()).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(hex::encode(hmac(b"Jefe", b"what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn scopes_parse_and_print() {
        let a = Access::parse("repository:127.0.0.1:5000/x:pull,push").unwrap();
        assert_eq!((a.kind.as_str(), a.name.as_str()), ("repository", "127.0.0.1:5000/x"));
        assert_eq!(a.actions, ["pull", "push"]);
        assert_eq!(a.scope(), "repository:127.0.0.1:5000/x:pull,push");
        for bad in ["", "repository", "repository:x", "repository::pull", ":x:pull", "repository:x:"] {
            assert_eq!(Access::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn grants_by_who_asks() {
        let req = vec![Access::parse("repository:a:pull,push").unwrap(), Access::parse("registry:catalog:*").unwrap()];
        let user = grant(&req, Some("u"), false);
        assert_eq!(user.len(), 2);
        assert_eq!(user[0].actions, ["pull", "push"]);
        assert!(grant(&req, None, false).is_empty());
        let anon = grant(&req, None, true);
        assert_eq!(anon, vec![Access { kind: "repository".into(), name: "a".into(), actions: vec!["pull".into()] }]);
    }

    #[test]
    fn tokens_verify_only_untouched_and_unexpired() {
        let i = Issuer::new().unwrap();
        let (t, c) = i.issue("alice", vec![Access::parse("repository:a:pull").unwrap()]);
        let got = i.verify(&t).unwrap();
        assert_eq!(got, c);
        assert!(got.allows("repository", "a", "pull") && !got.allows("repository", "a", "push") && !got.allows("repository", "b", "pull"));
        // Another server's key, a changed body, a cut signature, junk.
        assert!(Issuer::new().unwrap().verify(&t).is_none());
        let parts: Vec<&str> = t.split('.').collect();
        let forged = B64.encode(br#"{"iss":"berth-registry","sub":"x","aud":"berth-registry","exp":99999999999,"iat":0,"access":[{"type":"repository","name":"a","actions":["push"]}]}"#);
        assert!(i.verify(&format!("{}.{forged}.{}", parts[0], parts[2])).is_none());
        assert!(i.verify(&t[..t.len() - 2]).is_none());
        assert!(i.verify("a.b").is_none() && i.verify("").is_none());
        // Expired: signed correctly, but its time is over.
        let old = Claims { iss: SERVICE.into(), sub: "a".into(), aud: SERVICE.into(), exp: 10, iat: 0, access: vec![] };
        let signed = format!("{}.{}", parts[0], B64.encode(serde_json::to_vec(&old).unwrap()));
        let sig = B64.encode(hmac(&i.key, signed.as_bytes()));
        assert!(i.verify(&format!("{signed}.{sig}")).is_none());
    }

    #[test]
    fn refresh_tokens_are_not_access_tokens() {
        let i = Issuer::new().unwrap();
        let r = i.issue_refresh("alice");
        assert_eq!(i.verify_refresh(&r).as_deref(), Some("alice"));
        assert!(i.verify(&r).is_none());
        let (t, _) = i.issue("alice", vec![]);
        assert!(i.verify_refresh(&t).is_none());
        assert!(Issuer::new().unwrap().verify_refresh(&r).is_none());
    }
}
