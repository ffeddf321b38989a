//! Basic auth against an htpasswd file of bcrypt hashes (`htpasswd -B`),
//! the one kind distribution's htpasswd backend accepts as well.

use crate::error::RegistryError;
use base64::Engine;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

/// Realm named in `WWW-Authenticate`.
pub const REALM: &str = "berth registry";

/// Bound on remembered good credentials (each request carries them, and a
/// bcrypt check costs tens of milliseconds on purpose).
const CACHE_MAX: usize = 1024;

#[derive(Debug)]
pub struct Htpasswd {
    users: HashMap<String, String>,
    /// sha256 of "user:password" pairs that verified.
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl Htpasswd {
    pub fn load(path: &Path) -> Result<Htpasswd, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|e| RegistryError::io(path, e))?;
        Htpasswd::parse(&text).map_err(|msg| RegistryError::Htpasswd { path: path.to_path_buf(), msg })
    }

    pub fn parse(text: &str) -> Result<Htpasswd, String> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line.split_once(':').ok_or_else(|| format!("line {}: expected USER:HASH", i + 1))?;
            if !["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
                return Err(format!("line {}: user {user:?}: only bcrypt hashes are supported (htpasswd -B)", i + 1));
            }
            users.insert(user.to_string(), hash.to_string());
        }
        if users.is_empty() {
            return Err("no users".into());
        }
        Ok(Htpasswd { users, verified: Mutex::new(HashSet::new()) })
    }

    /// Whether an `Authorization` header value names a user of the file
    /// with the right password.
    pub fn check(&self, authorization: Option<&str>) -> bool {
        let Some(b64) = authorization.and_then(|a| a.strip_prefix("Basic ").or_else(|| a.strip_prefix("basic "))) else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            return false;
        };
        let Ok(pair) = String::from_utf8(raw) else {
            return false;
        };
        let Some((user, pass)) = pair.split_once(':') else {
            return false;
        };
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let key: [u8; 32] = Sha256::digest(pair.as_bytes()).into();
        if self.verified.lock().is_ok_and(|v| v.contains(&key)) {
            return true;
        }
        let ok = bcrypt::verify(pass, hash).unwrap_or(false);
        if ok {
            if let Ok(mut v) = self.verified.lock() {
                if v.len() >= CACHE_MAX {
                    v.clear();
                }
                v.insert(key);
            }
        }
        ok
    }
}

/// The user name of a Basic `Authorization` value (not checked).
pub fn basic_user(authorization: &str) -> Option<String> {
    let b64 = authorization.strip_prefix("Basic ").or_else(|| authorization.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let pair = String::from_utf8(raw).ok()?;
    pair.split_once(':').map(|(u, _)| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s))
    }

    #[test]
    fn bcrypt_users() {
        // htpasswd -nbB alice secret (cost 5 to keep the test quick)
        let h = Htpasswd::parse("alice:$2y$05$cCDz2uIazChvuZnl/j9i/uKw1bYVHNKvQGXHOYm7JSh23yWimfk9y\n").unwrap();
        assert!(h.check(Some(&basic("alice:secret"))));
        assert!(h.check(Some(&basic("alice:secret"))), "cached");
        assert!(!h.check(Some(&basic("alice:wrong"))));
        assert!(!h.check(Some(&basic("bob:secret"))));
        assert!(!h.check(Some("Basic !!!")));
        assert!(!h.check(Some("Bearer x")));
        assert!(!h.check(None));
    }

    #[test]
    fn refuses_other_hashes() {
        assert!(Htpasswd::parse("a:{SHA}abc").unwrap_err().contains("bcrypt"));
        assert!(Htpasswd::parse("a:$apr1$x$y").unwrap_err().contains("line 1"));
        assert!(Htpasswd::parse("# only a comment\n").is_err());
        assert!(Htpasswd::parse("nocolon").is_err());
    }
}
