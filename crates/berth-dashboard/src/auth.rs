//! Login and sessions: the printed one-time token buys one session, kept
//! in an HttpOnly, SameSite=Strict cookie; each session has its own CSRF
//! token that state-changing requests must echo in a header.

use crate::error::DashboardError;
use crate::token;
use std::collections::HashMap;
use std::sync::Mutex;

pub const COOKIE: &str = "berth_dashboard";
pub const CSRF_HEADER: &str = "x-berth-csrf";

pub struct Session {
    pub csrf: String,
}

pub struct Auth {
    /// The login token until it is used.
    login: Mutex<Option<String>>,
    sessions: Mutex<HashMap<String, Session>>,
    secure: bool,
}

impl Auth {
    pub fn new(login: String, secure: bool) -> Auth {
        Auth { login: Mutex::new(Some(login)), sessions: Mutex::new(HashMap::new()), secure }
    }

    /// Spends the login token; on success returns the Set-Cookie value of
    /// the new session. A used or wrong token buys nothing.
    pub fn login(&self, offered: &str) -> Result<Option<String>, DashboardError> {
        let mut login = self.login.lock().unwrap_or_else(|p| p.into_inner());
        match login.as_deref() {
            Some(t) if token::same(t, offered) => {}
            _ => return Ok(None),
        }
        let id = token::random()?;
        let csrf = token::random()?;
        *login = None;
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), Session { csrf });
        Ok(Some(format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{}", self.secure_attr())))
    }

    /// The CSRF token of the session named by a `Cookie` header, if any.
    pub fn session_csrf(&self, cookie_header: Option<&str>) -> Option<String> {
        let id = cookie_header.and_then(session_id)?;
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.iter().find(|(k, _)| token::same(k, id)).map(|(_, s)| s.csrf.clone())
    }

    /// Ends the session; returns the Set-Cookie value that clears it.
    pub fn logout(&self, cookie_header: Option<&str>) -> String {
        if let Some(id) = cookie_header.and_then(session_id) {
            self.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        }
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", self.secure_attr())
    }

    fn secure_attr(&self) -> &'static str {
        if self.secure {
            "; Secure"
        } else {
            ""
        }
    }
}

/// Our cookie's value in a `Cookie: a=b; c=d` header.
fn session_id(header: &str) -> Option<&str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == COOKIE).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_spent_once() {
        let a = Auth::new("t0k".into(), false);
        assert!(a.login("nope").unwrap().is_none());
        let cookie = a.login("t0k").unwrap().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"));
        assert!(a.login("t0k").unwrap().is_none(), "a second login with the same token");
        let id = cookie.split(';').next().unwrap();
        let csrf = a.session_csrf(Some(&format!("x=1; {id}"))).unwrap();
        assert_eq!(csrf.len(), 64);
        assert!(a.session_csrf(Some("berth_dashboard=forged")).is_none());
        assert!(a.session_csrf(None).is_none());
        assert!(a.logout(Some(id)).contains("Max-Age=0"));
        assert!(a.session_csrf(Some(id)).is_none());
    }

    #[test]
    fn secure_cookie_under_tls() {
        let a = Auth::new("t".into(), true);
        assert!(a.login("t").unwrap().unwrap().ends_with("; Secure"));
    }
}
