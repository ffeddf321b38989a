//! `berth registry serve` on a loopback port for a test, driven with curl
//! and skopeo; stopped (SIGTERM, then waited for) when dropped.

use crate::bin_dir;
use crate::certs::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Registry {
    child: Option<Child>,
    pub port: u16,
    pub data: PathBuf,
    https: bool,
    log: PathBuf,
}

impl Registry {
    /// Starts a server storing in `data` with `extra` flags, and waits
    /// until it answers.
    pub fn start(data: &Path, extra: &[&str]) -> Registry {
        let port = free_port();
        let log = data.with_extension("log");
        let logf = std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(bin_dir().join("berth"))
            .args(["registry", "serve", "--addr", &addr, "--data-root"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(logf)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn berth registry serve: {e}"));
        let https = extra.contains(&"--tls-cert");
        let mut r = Registry { child: Some(child), port, data: data.to_path_buf(), https, log };
        let up = crate::wait_until(Duration::from_secs(20), || {
            if let Some(Ok(Some(_))) = r.child.as_mut().map(|c| c.try_wait()) {
                return true;
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let exited = r.child.as_mut().map(|c| c.try_wait()).and_then(|w| w.ok()).flatten();
        assert!(up && exited.is_none(), "registry did not start ({exited:?}): {}", r.log());
        r
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `127.0.0.1:PORT`, as skopeo's docker:// references want it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{path}", if self.https { "https" } else { "http" }, self.port)
    }

    /// Stops the server (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                // SAFETY: signalling our own child, which we have not reaped yet.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            let gone = crate::wait_until(Duration::from_secs(10), || matches!(c.try_wait(), Ok(Some(_))));
            if !gone {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// One HTTP exchange made with curl.
#[derive(Debug)]
pub struct Http {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Http {
    /// A response header's value (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The first error code of an OCI error body.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Runs `curl -sS --path-as-is ARGS URL` and returns status, headers and body.
pub fn curl(args: &[&str], url: &str) -> Http {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (h, b) = (tmp.path().join("h"), tmp.path().join("b"));
    let out = Command::new("curl")
        .args(["-sS", "--path-as-is", "-D"])
        .arg(&h)
        .arg("-o")
        .arg(&b)
        .args(["-w", "%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("run curl (scripts/install-deps.sh installs it)");
    let status = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    assert!(status != 0, "curl {args:?} {url}: {}", String::from_utf8_lossy(&out.stderr));
    // With several responses (a 100 Continue), keep the last header block.
    let headers = std::fs::read_to_string(&h).unwrap_or_default();
    let headers = headers.rsplit("\r\n\r\n").find(|s| !s.trim().is_empty()).unwrap_or_default().to_string();
    Http { status, headers, body: std::fs::read_to_string(&b).unwrap_or_default() }
}

/// Runs skopeo and returns (success, stdout, stderr).
pub fn skopeo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("skopeo").args(args).output().expect("run skopeo (scripts/install-deps.sh installs it)");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// skopeo that must succeed; its stdout.
pub fn skopeo_ok(args: &[&str]) -> String {
    let (ok, out, err) = skopeo(args);
    assert!(ok, "skopeo {args:?} failed: {err}");
    out
}

/// sha256 of bytes as `sha256:HEX`, through sha256sum (the harness has no hash crate).
pub fn sha256(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut c = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum");
    c.stdin.take().expect("stdin").write_all(bytes).expect("write");
    let out = c.wait_with_output().expect("sha256sum");
    format!("sha256:{}", String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default())
}
