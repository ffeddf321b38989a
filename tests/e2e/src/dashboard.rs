//! `berth dashboard` as a child process of a test, and raw HTTP requests
//! to it (for the requests a browser would never send).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Dashboard {
    child: Child,
    /// The login URL it printed.
    pub login_url: String,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub port: u16,
}

impl Dashboard {
    /// Starts `berth -H <daemon> dashboard --addr 127.0.0.1:0` and reads its URL.
    pub fn start(d: &crate::TestDaemon) -> Dashboard {
        Dashboard::start_with(d, &[])
    }

    /// As [`start`](Self::start), with more `dashboard` flags (TLS).
    pub fn start_with(d: &crate::TestDaemon, extra: &[&str]) -> Dashboard {
        Dashboard::start_for(d, &["-H", &d.host()], extra)
    }

    /// With `berth`'s own flags (`-H tcp://…`, the client TLS flags) for
    /// reaching the daemon.
    pub fn start_for(d: &crate::TestDaemon, client: &[&str], extra: &[&str]) -> Dashboard {
        let mut child = Command::new(d.bin_dir().join("berth"))
            .args(client)
            .args(["dashboard", "--addr", "127.0.0.1:0"])
            .args(extra)
            // The daemon's client config (`d.berth(["login", …])` writes
            // it), never the machine's own ~/.docker.
            .env("DOCKER_CONFIG", d.dir().join("docker-config"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn berth dashboard");
        let mut first = String::new();
        let stdout = child.stdout.take().expect("dashboard stdout");
        let mut lines = BufReader::new(stdout);
        lines.read_line(&mut first).expect("dashboard's first line");
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        let login_url = first.split_whitespace().find(|w| w.starts_with("http://") || w.starts_with("https://")).unwrap_or_else(|| panic!("no URL in {first:?}")).to_string();
        let base = login_url.split("/login").next().unwrap_or_default().to_string();
        let port = base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in URL");
        let host = client.iter().position(|a| *a == "-H").and_then(|i| client.get(i + 1)).copied().unwrap_or_default();
        assert!(first.contains(host), "names its daemon: {first}");
        Dashboard { child, login_url, base, port }
    }

    /// One raw request: (status, body). `headers` are sent as given; a
    /// `Host` header is added unless one is among them.
    pub fn http(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let (status, _, body) = self.http_full(method, path, headers, body);
        (status, body)
    }

    /// As [`http`](Self::http), with the response head too.
    pub fn http_full(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the dashboard");
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str(&format!("Host: 127.0.0.1:{}\r\n", self.port));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).expect("send");
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let (status, head, body) = crate::webdriver::parse_response(&raw).expect("an HTTP answer");
        (status, head, body)
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dashboard {
    /// Logs in with the printed token over raw HTTP; returns the session
    /// cookie (`name=value`) and the session's CSRF token.
    pub fn login(&self) -> (String, String) {
        let path = self.login_url.split_once(&self.base).map(|(_, p)| p.to_string()).expect("login path");
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", self.port).expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read");
        assert!(raw.starts_with("HTTP/1.1 303"), "{raw}");
        let set = raw.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("a cookie");
        let cookie = set.split_once(':').and_then(|(_, v)| v.trim().split(';').next()).expect("cookie value").to_string();
        let (st, body) = self.http("GET", "/session", &[("Cookie", &cookie)], "");
        assert_eq!(st, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("session json");
        (cookie, v["csrf"].as_str().expect("csrf").to_string())
    }
}
