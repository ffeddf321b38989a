//! Registries that lie or stall (tiny fake servers in the test): digest
//! mismatch, truncated blobs, busy answers, and `kill -9` of berthd mid-pull.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use berth_e2e::registry::{file_layer, no_image, sha256_hex, stop, unique_layer};
use berth_e2e::{wait_until, Cli, TestDaemon};

/// A registry that lies: its one layer is not what the manifest says
/// (`Corrupt`) or is cut short (`Truncate`).
#[derive(Clone, Copy)]
enum Lie {
    Corrupt,
    Truncate,
    /// Honest, but busy: the first manifest request gets a 503, the first
    /// layer request a 429 with `Retry-After: 1`.
    Flaky,
    /// Honest, behind Docker Hub's token flow: every `/v2/` request needs
    /// `Bearer good-token`, which `/token` hands out anonymously for the
    /// asked scope only.
    Token,
}

fn hostile_registry(lie: Lie) -> (u16, std::thread::JoinHandle<()>) {
    let layer = unique_layer();
    let diff_id = sha256_hex(&layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh"]}},"rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}}}}"#
    );
    let config_digest = sha256_hex(config.as_bytes());
    let served = match lie {
        Lie::Corrupt => {
            let mut l = layer.clone();
            let mid = l.len() / 2;
            l[mid] ^= 0xff;
            l
        }
        Lie::Truncate => layer[..layer.len() / 2].to_vec(),
        Lie::Flaky | Lie::Token => layer.clone(),
    };
    let tokens = matches!(lie, Lie::Token);
    let mut busy_manifest = matches!(lie, Lie::Flaky);
    let mut busy_layer = matches!(lie, Lie::Flaky);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"sha256:{config_digest}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":{},"digest":"sha256:{diff_id}"}}]}}"#,
        config.len(),
        layer.len()
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(false).expect("blocking");
    let h = std::thread::spawn(move || {
        // Bounded: a handful of requests per pull attempt, then it stops by itself.
        for _ in 0..40 {
            let Ok((mut s, _)) = listener.accept() else { return };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            // berthd tries TLS first on an insecure registry: refuse a hello (0x16) at once.
            if r.fill_buf().map_or(true, |b| b.first().is_none_or(|c| *c == 0x16)) {
                continue;
            }
            let mut first = String::new();
            if r.read_line(&mut first).is_err() || !first.starts_with("GET ") {
                continue;
            }
            let mut authz = String::new();
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                    break;
                }
                if let Some(v) = l.strip_prefix("Authorization: ").or_else(|| l.strip_prefix("authorization: ")) {
                    authz = v.trim().to_string();
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            if tokens && path.starts_with("/token?") {
                let body = if path.contains("service=fake") && path.contains("scope=repository:tok:pull") { r#"{"token":"good-token"}"# } else { "{}" };
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body.as_bytes());
                continue;
            }
            if tokens && path.starts_with("/v2/") && authz != "Bearer good-token" {
                let port = s.local_addr().map(|a| a.port()).unwrap_or(0);
                let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
                let head = format!(
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\",scope=\"repository:tok:pull\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body);
                continue;
            }
            if path.contains("/manifests/") && std::mem::take(&mut busy_manifest) {
                let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            }
            if path.ends_with(&diff_id) && std::mem::take(&mut busy_layer) {
                let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
                let head = format!("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body);
                continue;
            }
            let (ct, body, declared): (&str, Vec<u8>, usize) = if path == "/v2/" {
                ("application/json", b"{}".to_vec(), 2)
            } else if path.contains("/manifests/") {
                ("application/vnd.docker.distribution.manifest.v2+json", manifest.clone().into_bytes(), manifest.len())
            } else if path.ends_with(&config_digest) {
                ("application/octet-stream", config.clone().into_bytes(), config.len())
            } else if path.ends_with(&diff_id) {
                // A truncated blob still declares the full length, then hangs up.
                ("application/octet-stream", served.clone(), layer.len())
            } else if path == "/quit" {
                return;
            } else {
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
            let _ = s.flush();
            let mut rest = Vec::new();
            let _ = s.shutdown(std::net::Shutdown::Write);
            let _ = s.take(0).read_to_end(&mut rest);
        }
    });
    (port, h)
}

#[test]
fn hostile_registry_leaves_no_image() {
    let d = TestDaemon::start();
    let before = d.docker(&["images", "-qa"]).assert_ok().out();
    for (lie, cli, want) in [(Lie::Corrupt, Cli::Docker, "digest mismatch"), (Lie::Truncate, Cli::Berth, "unexpected EOF")] {
        let (port, h) = hostile_registry(lie);
        let name = format!("127.0.0.1:{port}/evil:latest");
        let o = d.cli(cli, &["pull", &name]);
        o.assert_code(1).assert_stderr_contains(want);
        no_image(&d, &name);
        let images = d.docker(&["images", "-qa"]).assert_ok().out();
        assert_eq!(images, before, "an image appeared");
        stop(port, h);
    }
    // 503 and 429 are retried (after Retry-After), and the pull succeeds.
    let (port, h) = hostile_registry(Lie::Flaky);
    let name = format!("127.0.0.1:{port}/busy:latest");
    let o = d.berth(&["pull", &name]);
    o.assert_ok();
    assert!(o.out().contains("Pull complete"), "{}", o.out());
    stop(port, h);
    // Docker Hub's flow: 401 with a Bearer challenge, an anonymous token, then the pull.
    let (port, h) = hostile_registry(Lie::Token);
    let name = format!("127.0.0.1:{port}/tok:latest");
    let o = d.docker(&["pull", &name]);
    o.assert_ok();
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    stop(port, h);
}

/// A registry for a two-layer image whose second layer stalls halfway
/// while `stall` is set; counts the requests for each layer. With `ranges`
/// it answers `Range: bytes=N-` with 206 and the rest, as registries do.
struct StallingRegistry {
    port: u16,
    stall: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The next request for the second layer gets half of it, then the connection closes.
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Each request's path and `Range` header (empty without one).
    hits: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    second: String,
    first: String,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl StallingRegistry {
    fn start() -> StallingRegistry {
        StallingRegistry::start_with(true)
    }

    fn start_with(ranges: bool) -> StallingRegistry {
        use std::sync::atomic::Ordering;
        let a = unique_layer();
        // Larger than berthd's 1 MiB write buffer at half: a killed pull leaves bytes on disk.
        let filler: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let b = file_layer("second", &filler);
        let (da, db) = (sha256_hex(&a), sha256_hex(&b));
        let (first, second) = (da.clone(), db.clone());
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh"]}},"rootfs":{{"type":"layers","diff_ids":["sha256:{da}","sha256:{db}"]}}}}"#
        );
        let dc = sha256_hex(config.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"sha256:{dc}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":{},"digest":"sha256:{da}"}},{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":{},"digest":"sha256:{db}"}}]}}"#,
            config.len(),
            a.len(),
            b.len()
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stall = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stall2, cut2, hits2) = (stall.clone(), cut.clone(), hits.clone());
        let handle = std::thread::spawn(move || {
            for _ in 0..60 {
                let Ok((mut s, _)) = listener.accept() else { return };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                // berthd tries TLS first on an insecure registry: refuse a hello (0x16) at once.
                if r.fill_buf().map_or(true, |b| b.first().is_none_or(|c| *c == 0x16)) {
                    continue;
                }
                let mut first = String::new();
                if r.read_line(&mut first).is_err() || !first.starts_with("GET ") {
                    continue;
                }
                let mut range = String::new();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("range")) {
                        let _ = k;
                        range = v.trim().to_string();
                    }
                }
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                if path == "/quit" {
                    return;
                }
                hits2.lock().expect("hits").push((path.clone(), range.clone()));
                let (mut body, stalls): (Vec<u8>, bool) = if path == "/v2/" {
                    (b"{}".to_vec(), false)
                } else if path.contains("/manifests/") {
                    (manifest.clone().into_bytes(), false)
                } else if path.ends_with(&dc) {
                    (config.clone().into_bytes(), false)
                } else if path.ends_with(&da) {
                    (a.clone(), false)
                } else if path.ends_with(&db) {
                    (b.clone(), stall2.load(Ordering::SeqCst))
                } else {
                    let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                };
                let ct = if path.contains("/manifests/") { "application/vnd.docker.distribution.manifest.v2+json" } else { "application/octet-stream" };
                let from = range.strip_prefix("bytes=").and_then(|r| r.strip_suffix('-')).and_then(|n| n.parse::<usize>().ok());
                let head = match from.filter(|n| ranges && *n < body.len()) {
                    Some(n) => {
                        let total = body.len();
                        let h = format!("HTTP/1.1 206 Partial Content\r\nContent-Type: {ct}\r\nContent-Range: bytes {n}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", total - 1, total - n);
                        body = body[n..].to_vec();
                        h
                    }
                    None => format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()),
                };
                let _ = s.write_all(head.as_bytes());
                if path.ends_with(&db) && cut2.swap(false, Ordering::SeqCst) {
                    // Half of it, then the connection drops.
                    let _ = s.write_all(&body[..body.len() / 2]);
                    let _ = s.flush();
                    let _ = s.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                if stalls {
                    // Half the blob, then nothing until the daemon is killed.
                    let _ = s.write_all(&body[..body.len() / 2]);
                    let _ = s.flush();
                    let held = s;
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(20));
                        drop(held);
                    });
                    continue;
                }
                let _ = s.write_all(&body);
                let _ = s.flush();
            }
        });
        StallingRegistry { port, stall, cut, hits, first, second, handle: Some(handle) }
    }

    fn hits_for(&self, hex: &str) -> usize {
        self.ranges_for(hex).len()
    }

    /// The `Range` header of each request for blob `hex`, in order.
    fn ranges_for(&self, hex: &str) -> Vec<String> {
        self.hits.lock().expect("hits").iter().filter(|(p, _)| p.ends_with(hex)).map(|(_, r)| r.clone()).collect()
    }
}

impl Drop for StallingRegistry {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            stop(self.port, h);
        }
    }
}

#[test]
fn kill9_mid_pull_leaves_no_image_and_reuses_verified_layers() {
    let reg = StallingRegistry::start();
    let d = TestDaemon::start();
    let before = d.docker(&["images", "-qa"]).assert_ok().out();
    let name = format!("127.0.0.1:{}/stall:latest", reg.port);
    let mut pull = Command::new("docker")
        .env("DOCKER_HOST", d.host())
        .args(["pull", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker pull");
    let cached = d.data_root().join("pull-cache").join(format!("sha256-{}", reg.first));
    let got_first = wait_until(Duration::from_secs(30), || cached.exists());
    d.kill9();
    let _ = pull.kill();
    let _ = pull.wait();
    assert!(got_first, "the first layer never reached the verified cache");
    d.restart();
    assert_eq!(d.docker(&["images", "-qa"]).assert_ok().out(), before, "a half-pulled image is visible");
    let tmp: Vec<_> = std::fs::read_dir(d.data_root().join("tmp")).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(tmp.is_empty(), "partial downloads left after restart: {tmp:?}");
    assert_eq!(reg.hits_for(&reg.first), 1);
    // The second layer's bytes so far are kept as a .partial (never as a cache entry) ...
    let partial = d.data_root().join("pull-cache").join(format!("sha256-{}.partial", reg.second));
    let kept = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    assert!(kept > 0, "no partial download kept at {}", partial.display());
    assert!(!d.data_root().join("pull-cache").join(format!("sha256-{}", reg.second)).exists(), "an unverified layer is in the cache");
    reg.stall.store(false, std::sync::atomic::Ordering::SeqCst);
    let o = d.berth(&["pull", &name]);
    o.assert_ok();
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    assert_eq!(reg.hits_for(&reg.first), 1, "the verified layer was downloaded again");
    // ... and the next pull asks only for the rest of it.
    assert_eq!(reg.ranges_for(&reg.second), vec![String::new(), format!("bytes={kept}-")]);
    assert!(!partial.exists());
    d.docker(&["image", "inspect", &name]).assert_ok();
}

/// A layer download cut off half-way resumes with an HTTP Range request in
/// the same pull; a registry that ignores Range sends it whole again.
#[test]
fn a_cut_download_resumes_within_the_layer() {
    let d = TestDaemon::start();
    for (ranges, cli) in [(true, Cli::Docker), (false, Cli::Berth)] {
        let reg = StallingRegistry::start_with(ranges);
        reg.stall.store(false, std::sync::atomic::Ordering::SeqCst);
        reg.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        let name = format!("127.0.0.1:{}/cut:latest", reg.port);
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        let asked = reg.ranges_for(&reg.second);
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert_eq!(asked[0], "");
        let from: u64 = asked[1].strip_prefix("bytes=").and_then(|r| r.strip_suffix('-')).and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(from > 1_000_000, "the resume did not start where the cut was: {asked:?}");
        d.docker(&["image", "inspect", &name]).assert_ok();
        d.berth(&["rmi", &name]).assert_ok();
        let left: Vec<_> = std::fs::read_dir(d.data_root().join("pull-cache")).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(left.is_empty(), "left in the pull cache: {left:?}");
    }
    d.stop();
}

#[test]
fn image_prune_empties_the_pull_cache_but_not_under_a_pull() {
    let reg = StallingRegistry::start();
    let d = TestDaemon::start();
    let name = format!("127.0.0.1:{}/stall:latest", reg.port);
    let mut pull = Command::new("docker")
        .env("DOCKER_HOST", d.host())
        .args(["pull", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker pull");
    let cached = d.data_root().join("pull-cache").join(format!("sha256-{}", reg.first));
    let got_first = wait_until(Duration::from_secs(30), || cached.exists());
    // The pull is still running (its second layer stalls): its layer stays.
    let o = d.docker(&["image", "prune", "-f"]);
    let kept_under_pull = cached.exists();
    d.kill9();
    let _ = pull.kill();
    let _ = pull.wait();
    assert!(got_first, "the first layer never reached the verified cache");
    o.assert_ok();
    assert!(kept_under_pull, "prune removed a layer a running pull holds");
    d.restart();
    // A label filter never matches the cache (it has no labels).
    d.docker(&["image", "prune", "-f", "--filter", "label=x"]).assert_ok();
    assert!(cached.exists(), "a label-filtered prune removed the pull cache");
    let (code, body) = d.api("POST", "/images/prune", None);
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(v["SpaceReclaimed"].as_u64().is_some_and(|n| n >= 1024), "{body}");
    assert!(!cached.exists(), "prune left the cached layer");
    // So the next pull downloads it again.
    reg.stall.store(false, std::sync::atomic::Ordering::SeqCst);
    d.berth(&["pull", &name]).assert_ok();
    assert_eq!(reg.hits_for(&reg.first), 2);
}

#[test]
fn a_damaged_cached_layer_is_downloaded_again() {
    let reg = StallingRegistry::start();
    let d = TestDaemon::start();
    let name = format!("127.0.0.1:{}/stall:latest", reg.port);
    let mut pull = Command::new("docker")
        .env("DOCKER_HOST", d.host())
        .args(["pull", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker pull");
    let cached = d.data_root().join("pull-cache").join(format!("sha256-{}", reg.first));
    let got_first = wait_until(Duration::from_secs(30), || cached.exists());
    d.kill9();
    let _ = pull.kill();
    let _ = pull.wait();
    assert!(got_first, "the first layer never reached the verified cache");
    d.restart();
    // Same size, other bytes (a torn write after a power cut looks like this).
    let mut bytes = std::fs::read(&cached).expect("read cache");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cached, &bytes).expect("damage");
    reg.stall.store(false, std::sync::atomic::Ordering::SeqCst);
    let o = d.berth(&["pull", &name]);
    o.assert_ok();
    assert_eq!(reg.hits_for(&reg.first), 2, "the damaged layer was used instead of downloaded again");
    d.docker(&["image", "inspect", &name]).assert_ok();
}
