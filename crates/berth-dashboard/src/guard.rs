//! Host and Origin checks: the browser must be talking to this dashboard
//! by one of its own loopback names (a DNS-rebinding page reaches us with
//! its own name in `Host`), and a request sent from another site's page
//! carries that site in `Origin`.

use std::net::SocketAddr;

pub struct Guard {
    /// `host:port` spellings of our own address.
    hosts: Vec<String>,
    scheme: &'static str,
}

impl Guard {
    /// `public` are the names browsers use for a dashboard beyond loopback
    /// (`name` or `name:port`); they come first, so the printed URL uses one.
    pub fn new(addr: SocketAddr, tls: bool, public: &[String]) -> Guard {
        let port = addr.port();
        let mut hosts: Vec<String> = public.iter().map(|h| if h.ends_with(']') || !h.contains(':') { format!("{h}:{port}") } else { h.clone() }).collect();
        if !addr.ip().is_unspecified() {
            hosts.push(match addr {
                SocketAddr::V4(a) => format!("{}:{port}", a.ip()),
                SocketAddr::V6(a) => format!("[{}]:{port}", a.ip()),
            });
        }
        if addr.ip().is_loopback() {
            hosts.push(format!("localhost:{port}"));
        }
        Guard { hosts, scheme: if tls { "https" } else { "http" } }
    }

    /// The URL the dashboard prints.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.hosts[0])
    }

    pub fn host_ok(&self, host: Option<&str>) -> bool {
        host.is_some_and(|h| self.hosts.iter().any(|o| o.eq_ignore_ascii_case(h)))
    }

    /// A missing Origin passes here (navigations, same-origin GETs); state-
    /// changing requests need one, see [`Guard::origin_present_and_ok`].
    pub fn origin_ok(&self, origin: Option<&str>) -> bool {
        origin.is_none_or(|o| self.own_origin(o))
    }

    pub fn origin_present_and_ok(&self, origin: Option<&str>) -> bool {
        origin.is_some_and(|o| self.own_origin(o))
    }

    fn own_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix(self.scheme)
            .and_then(|r| r.strip_prefix("://"))
            .is_some_and(|h| self.hosts.iter().any(|o| o.eq_ignore_ascii_case(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_origin() {
        let g = Guard::new("127.0.0.1:8080".parse().unwrap(), false, &[]);
        assert_eq!(g.base_url(), "http://127.0.0.1:8080");
        assert!(g.host_ok(Some("127.0.0.1:8080")));
        assert!(g.host_ok(Some("LOCALHOST:8080")));
        assert!(!g.host_ok(Some("evil.example:8080")));
        assert!(!g.host_ok(Some("127.0.0.1:8081")));
        assert!(!g.host_ok(None));
        assert!(g.origin_ok(None));
        assert!(g.origin_ok(Some("http://localhost:8080")));
        assert!(!g.origin_ok(Some("https://127.0.0.1:8080")));
        assert!(!g.origin_ok(Some("http://evil.example")));
        assert!(!g.origin_ok(Some("null")));
        assert!(!g.origin_present_and_ok(None));
        assert!(g.origin_present_and_ok(Some("http://127.0.0.1:8080")));
    }

    #[test]
    fn v6() {
        let g = Guard::new("[::1]:9".parse().unwrap(), false, &[]);
        assert!(g.host_ok(Some("[::1]:9")));
        assert_eq!(g.base_url(), "http://[::1]:9");
    }

    #[test]
    fn public_names_under_tls() {
        let g = Guard::new("0.0.0.0:443".parse().unwrap(), true, &["dash.example".into(), "10.0.0.5:8443".into()]);
        assert_eq!(g.base_url(), "https://dash.example:443");
        assert!(g.host_ok(Some("dash.example:443")));
        assert!(g.host_ok(Some("10.0.0.5:8443")));
        assert!(!g.host_ok(Some("0.0.0.0:443")));
        assert!(!g.host_ok(Some("localhost:443")));
        assert!(g.origin_ok(Some("https://dash.example:443")));
        assert!(!g.origin_ok(Some("http://dash.example:443")));
    }
}
