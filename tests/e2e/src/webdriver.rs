//! A minimal W3C WebDriver client for the dashboard's real-browser tests:
//! starts a WebDriver on a free loopback port (Debian's `chromedriver` for
//! headless `chromium`, or `geckodriver` for headless `firefox-esr`) and
//! drives the browser through it with plain HTTP/1.1 requests.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The keys WebDriver sends for Enter and Escape.
pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Which browser a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
        }
    }
}

/// A WebDriver process with one headless browser session; both end on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    profile: tempfile::TempDir,
    pub engine: Engine,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

impl Browser {
    /// Headless chromium.
    pub fn start() -> Browser {
        Browser::start_in(Engine::Chromium)
    }

    pub fn start_in(engine: Engine) -> Browser {
        Browser::start_full(engine, false)
    }

    /// Firefox as users run it: it cuts connections that stay silent for
    /// 5 s after the host's network changes. Other tests turn that off,
    /// since every container start or removal changes the network.
    pub fn start_noticing_network_changes(engine: Engine) -> Browser {
        Browser::start_full(engine, true)
    }

    fn start_full(engine: Engine, network_changes: bool) -> Browser {
        let port = free_port();
        let profile = tempfile::Builder::new().prefix(&format!("berth-e2e-{}-", engine.name())).tempdir().expect("browser profile dir");
        let driver = match engine {
            Engine::Chromium => Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver (apt-get install chromium-driver; scripts/install-deps.sh)"),
            // geckodriver copies its profile under --profile-root and
            // removes it when the session ends.
            Engine::Firefox => Command::new(geckodriver())
                .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--log", "fatal", "--profile-root"])
                .arg(profile.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("geckodriver (cargo install geckodriver --locked; scripts/install-deps.sh)"),
        };
        let mut b = Browser { driver, port, session: String::new(), profile, engine };
        let ready = crate::wait_until(Duration::from_secs(20), || b.call("GET", "/status", None).is_ok_and(|v| v["value"]["ready"] == true));
        assert!(ready, "{} WebDriver did not become ready", engine.name());
        let caps = match engine {
            Engine::Chromium => json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    // Root has no user namespace sandbox to spare for the browser.
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--window-size=1280,860", "--no-first-run", "--disable-extensions",
                             format!("--user-data-dir={}", b.profile.path().display())],
                },
            }}}),
            Engine::Firefox => {
                assert!(Path::new(FIREFOX).exists(), "{FIREFOX} is missing (apt-get install firefox-esr; scripts/install-deps.sh)");
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "firefox",
                    "moz:firefoxOptions": {
                        "binary": FIREFOX,
                        "args": ["-headless", "--width=1280", "--height=860"],
                        // No update checks, telemetry, remote settings or
                        // first-run pages: no traffic beyond loopback (on
                        // top of geckodriver's own recommended preferences).
                        "prefs": {
                            "app.update.enabled": false,
                            "browser.shell.checkDefaultBrowser": false,
                            "datareporting.policy.dataSubmissionEnabled": false,
                            "toolkit.telemetry.enabled": false,
                            "network.captive-portal-service.enabled": false,
                            "network.connectivity-service.enabled": false,
                            "browser.safebrowsing.malware.enabled": false,
                            "browser.safebrowsing.phishing.enabled": false,
                            "extensions.update.enabled": false,
                            "browser.search.update": false,
                            "services.settings.server": "http://127.0.0.1:9/v1",
                            "app.normandy.enabled": false,
                            "browser.region.network.url": "",
                            "browser.newtabpage.enabled": false,
                            "browser.startup.homepage_override.mstone": "ignore",
                            "network.dns.disablePrefetch": true,
                            "network.prefetch-next": false,
                            "network.predictor.enabled": false,
                            // Firefox closes every connection that receives
                            // nothing for 5 s after the host's network
                            // changes, and these tests change it all the
                            // time (each container's veth pair): the event
                            // stream and a 10 s `stop` were cut mid-test.
                            // Users see the same: see
                            // start_noticing_network_changes.
                            "network.notify.changed": network_changes,
                        },
                    },
                }}})
            }
        };
        let v = b.call("POST", "/session", Some(caps)).unwrap_or_else(|e| panic!("new {} WebDriver session: {e}", engine.name()));
        b.session = v["value"]["sessionId"].as_str().expect("sessionId").to_string();
        if engine == Engine::Firefox {
            b.resize(1280, 860);
        }
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let raw = read_response(&mut s).map_err(|e| e.to_string())?;
        let (status, _, body) = parse_response(&raw)?;
        let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if status >= 400 {
            return Err(format!("WebDriver {method} {path}: {status} {}", v["value"]["message"]));
        }
        Ok(v)
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.call(method, &format!("/session/{}{path}", self.session), body).map(|mut v| v["value"].take())
    }

    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url }))).expect("navigate");
    }

    /// Runs a script in the page (`return ...;` gives its value; an async
    /// function's promise is awaited).
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.session_call("POST", "/execute/sync", Some(json!({ "script": script, "args": args }))).unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Awaits a script returning a truthy value, polled every 100 ms.
    pub fn wait_js(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.js(script, json!([]));
            if !(v.is_null() || v == false || v == "" || v == 0) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; page {} text:\n{}",
                self.js("return location.href", json!([])),
                self.js("return document.body.innerText", json!([]))
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let v = match self.session_call("POST", "/element", Some(json!({"using": "css selector", "value": css}))) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("find {css}: {e}");
                return None;
            }
        };
        let id = v[ELEMENT_KEY].as_str().map(str::to_string);
        if id.is_none() {
            eprintln!("find {css}: {v}");
        }
        id
    }

    /// Waits for an element and clicks it.
    pub fn click(&self, css: &str) {
        let el = self.wait_for(css);
        self.session_call("POST", &format!("/element/{el}/click"), Some(json!({}))).unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(el) = self.find(css) {
                return el;
            }
            assert!(Instant::now() < deadline, "no element {css}; page text:\n{}", self.js("return document.body.innerText", json!([])));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types into an element as a user would (real key events).
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_for(css);
        self.session_call("POST", &format!("/element/{el}/value"), Some(json!({ "text": text }))).unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Resizes the window (a narrow one for the small-screen layout).
    pub fn resize(&self, width: u32, height: u32) {
        self.session_call("POST", "/window/rect", Some(json!({ "width": width, "height": height }))).expect("window size");
    }

    /// The page's cookies, HttpOnly ones included (WebDriver sees them).
    pub fn cookies(&self) -> Vec<(String, String)> {
        let v = self.session_call("GET", "/cookie", None).expect("cookies");
        v.as_array()
            .map(|a| a.iter().map(|c| (c["name"].as_str().unwrap_or("").to_string(), c["value"].as_str().unwrap_or("").to_string())).collect())
            .unwrap_or_default()
    }

    /// Saves a PNG of the window into `dir/name.png`.
    pub fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let v = self.session_call("GET", "/screenshot", None).expect("screenshot");
        let png = base64_decode(v.as_str().expect("base64 screenshot"));
        std::fs::create_dir_all(dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

const FIREFOX: &str = "/usr/bin/firefox-esr";

/// geckodriver from the PATH, else where `cargo install` puts it.
fn geckodriver() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("geckodriver")).find(|f| f.is_file()));
    on_path.unwrap_or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
        cargo_home.join("bin/geckodriver")
    })
}

/// One response by its Content-Length: chromedriver keeps the connection
/// open whatever the request says.
fn read_response(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let len = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(len) = len {
                if raw.len() >= end + 4 + len {
                    raw.truncate(end + 4 + len);
                    return Ok(raw);
                }
            }
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

/// (status, head, body) of a raw HTTP/1.1 response, chunked or not.
pub fn parse_response(raw: &[u8]) -> Result<(u16, String, String), String> {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("no HTTP head")?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Ok((status, head.to_string(), body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::base64_decode("aGVsbG8="), b"hello");
        assert_eq!(super::base64_decode("aGk="), b"hi");
    }
}
