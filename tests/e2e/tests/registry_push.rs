//! Push, the rest of it: cross-repository mounts from the layers' remembered
//! digests (pushed or pulled), `--all-tags`, chunked uploads when the
//! registry asks for them, against Debian's docker-registry and berth's own
//! server, through both CLIs.
use std::process::Command;

use berth_e2e::berth_registry::Registry as BerthRegistry;
use berth_e2e::registry::{archive_with_layers, file_layer, noise, three_layer_archive, Registry};
use berth_e2e::{Cli, TestDaemon};

/// `load -i TAR`; the loaded image's ID.
fn load(d: &TestDaemon, tar: &std::path::Path) -> String {
    let o = d.docker(&["load", "-i", &tar.display().to_string()]);
    o.assert_ok();
    o.out().lines().find_map(|l| l.strip_prefix("Loaded image ID: ").map(str::to_string)).unwrap_or_else(|| panic!("no image ID in {}", o.out()))
}

fn tags(host: &str, repo: &str) -> Vec<String> {
    let o = Command::new("skopeo").args(["list-tags", "--tls-verify=false", &format!("docker://{host}/{repo}")]).output().expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("tags json");
    let mut t: Vec<String> = v["Tags"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default();
    t.sort();
    t
}

fn memo_files(d: &TestDaemon) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(d.data_root().join("distribution/by-diff-id")).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default()
}

#[test]
fn pushed_layers_mount_into_other_repositories() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    let id = load(&d, &three_layer_archive(dir.path(), "mounts"));
    let a = format!("{}/team/a:v1", reg.host());
    d.berth(&["tag", &id, &a]).assert_ok();
    let o = d.berth(&["push", &a]);
    o.assert_ok();
    assert_eq!(o.out().matches("Pushed").count(), 3, "{}", o.out());
    // What each layer was compressed to is remembered, one file per layer.
    assert_eq!(memo_files(&d).len(), 3, "{:?}", memo_files(&d));
    // The same layers into other repositories: mounted, not sent again.
    for (cli, repo) in [(Cli::Docker, "team/b"), (Cli::Berth, "c")] {
        let name = format!("{}/{repo}:v1", reg.host());
        d.cli(cli, &["tag", &id, &name]).assert_ok();
        let o = d.cli(cli, &["push", &name]);
        o.assert_ok();
        let out = o.out();
        // From a repository that has them (the newest note first: team/b for c).
        assert_eq!(out.matches("Mounted from team/").count(), 3, "{out}");
        assert!(!out.contains("Pushed"), "{out}");
        assert!(out.contains("v1: digest: sha256:"), "{out}");
    }
    // A second push of the same image costs HEADs: every layer exists.
    let again = d.docker(&["push", &a]);
    again.assert_ok();
    assert_eq!(again.out().matches("Layer already exists").count(), 3, "{}", again.out());
    // The three repositories hold one and the same manifest.
    let digest = reg.manifest_digest("team/a", "v1", None);
    assert_eq!(reg.manifest_digest("team/b", "v1", None), digest);
    assert_eq!(reg.manifest_digest("c", "v1", None), digest);

    // Pulled layers are remembered too: a fresh daemon pulls team/a and
    // pushes it to a new repository by mounting.
    let fresh = TestDaemon::start();
    fresh.docker(&["pull", &a]).assert_ok();
    let e = format!("{}/e:v1", reg.host());
    fresh.docker(&["tag", &a, &e]).assert_ok();
    let o = fresh.docker(&["push", &e]);
    o.assert_ok();
    assert_eq!(o.out().matches("Mounted from team/a").count(), 3, "{}", o.out());
    assert!(!o.out().contains("Pushed"), "{}", o.out());
    assert_eq!(reg.manifest_digest("e", "v1", None), digest);
}

#[test]
fn damaged_layer_notes_mean_compressing_again() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    let id = load(&d, &three_layer_archive(dir.path(), "damaged"));
    let a = format!("{}/first:v1", reg.host());
    d.berth(&["tag", &id, &a]).assert_ok();
    d.berth(&["push", &a]).assert_ok();
    let digest = reg.manifest_digest("first", "v1", None);
    let files = memo_files(&d);
    assert_eq!(files.len(), 3);
    for f in &files {
        std::fs::write(f, b"{ not json").expect("damage");
    }
    // Without notes nothing can be mounted: the layers are compressed again,
    // to the same bytes, and uploaded (the registry has them under another name only).
    let b = format!("{}/second:v1", reg.host());
    d.berth(&["tag", &id, &b]).assert_ok();
    let o = d.berth(&["push", &b]);
    o.assert_ok();
    assert!(!o.out().contains("Mounted from"), "{}", o.out());
    assert_eq!(o.out().matches("Pushed").count(), 3, "{}", o.out());
    assert_eq!(reg.manifest_digest("second", "v1", None), digest, "the same layers compress to the same digests");
    // The notes are whole again.
    for f in &files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).expect("read")).expect("a note is JSON again");
        assert!(v.as_array().is_some_and(|a| !a.is_empty()), "{v}");
    }
}

#[test]
fn push_all_tags() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    let one = load(&d, &three_layer_archive(dir.path(), "tag-one"));
    let two = load(&d, &three_layer_archive(dir.path(), "tag-two"));
    for (cli, repo) in [(Cli::Berth, "viaberth"), (Cli::Docker, "viadocker")] {
        let name = format!("{}/{repo}", reg.host());
        d.cli(cli, &["tag", &one, &format!("{name}:v1")]).assert_ok();
        d.cli(cli, &["tag", &two, &format!("{name}:v2")]).assert_ok();
        d.cli(cli, &["tag", &two, &format!("{}/other:v3", reg.host())]).assert_ok();
        // A tag and --all-tags contradict each other: refused, nothing pushed.
        let o = d.cli(cli, &["push", "-a", &format!("{name}:v1")]);
        o.assert_code(1).assert_stderr_contains("tag can't be used with --all-tags/-a");
        let o = d.cli(cli, &["push", "--all-tags", &name]);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains(&format!("The push refers to repository [{name}]")), "{out}");
        let v1 = out.find("v1: digest: sha256:").unwrap_or_else(|| panic!("no v1 digest line: {out}"));
        let v2 = out.find("v2: digest: sha256:").unwrap_or_else(|| panic!("no v2 digest line: {out}"));
        assert!(v1 < v2, "tags go in order: {out}");
        assert!(!out.contains("v3"), "another repository's tag was pushed: {out}");
        assert_eq!(tags(&reg.host(), repo), ["v1", "v2"]);
    }
    // A digest cannot be pushed (the API refuses it; nothing is sent).
    let (code, body) = d.api("POST", &format!("/images/{}/viaberth@sha256:{}/push", reg.host(), "a".repeat(64)), None);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("cannot push a digest reference"), "{body}");
    // Nothing tagged in that repository: dockerd's error, no request made.
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["push", "-a", &format!("{}/nothing", reg.host())]);
        o.assert_code(1).assert_stderr_contains(&format!("An image does not exist locally with the tag: {}/nothing", reg.host()));
    }
}

#[test]
fn chunked_upload_when_the_registry_asks() {
    let root = tempfile::tempdir().expect("tempdir");
    let chunky = BerthRegistry::start(&root.path().join("chunky"), &["--chunk-min-length", "65536", "--access-log"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    // 300 kB that gzip cannot shrink: five chunks of 64 KiB.
    let id = load(&d, &archive_with_layers(dir.path(), "chunky", None, vec![file_layer("noise", &noise(7, 300_000))]));
    for cli in Cli::BOTH {
        let name = format!("{}/chunks/{}:v1", chunky.host(), cli.name());
        d.cli(cli, &["tag", &id, &name]).assert_ok();
        let o = d.cli(cli, &["push", &name]);
        o.assert_ok();
        assert!(o.out().contains("v1: digest: sha256:"), "{}", o.out());
    }
    let log = chunky.log();
    let patches: Vec<&str> = log.lines().filter(|l| l.starts_with("PATCH ") && l.ends_with(" 202")).collect();
    for want in ["0-65535", "65536-131071", "131072-196607", "196608-262143", "262144-"] {
        assert!(patches.iter().any(|l| l.contains(&format!(" {want}"))), "no PATCH of {want}: {log}");
    }
    // The last piece is finished by a PUT without a body after the chunks.
    assert!(log.lines().any(|l| l.starts_with("PUT ") && l.contains("/blobs/uploads/") && l.ends_with(" 201")), "{log}");
    // Pulled back by digest elsewhere: the identical image.
    let name = format!("{}/chunks/berth:v1", chunky.host());
    let digest = String::from_utf8_lossy(
        &Command::new("skopeo").args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}", &format!("docker://{name}")]).output().expect("skopeo").stdout,
    )
    .trim()
    .to_string();
    let fresh = TestDaemon::start();
    let by_digest = format!("{}/chunks/berth@{digest}", chunky.host());
    fresh.berth(&["pull", &by_digest]).assert_ok();
    fresh.docker(&["image", "inspect", "-f", "{{.Id}}", &by_digest]).assert_ok().assert_stdout(&id);

    // Without the header, a blob goes in one PUT.
    let plain = BerthRegistry::start(&root.path().join("plain"), &["--access-log"]);
    let name = format!("{}/mono:v1", plain.host());
    d.berth(&["tag", &id, &name]).assert_ok();
    d.berth(&["push", &name]).assert_ok();
    let log = plain.log();
    assert!(!log.contains("PATCH "), "{log}");
    assert!(log.lines().any(|l| l.starts_with("PUT ") && l.contains("/blobs/uploads/") && l.ends_with(" 201")), "{log}");

    // A registry asking for absurd chunks is refused with the reason; no tag appears.
    let greedy = BerthRegistry::start(&root.path().join("greedy"), &["--chunk-min-length", "5000000000"]);
    let name = format!("{}/greedy:v1", greedy.host());
    d.berth(&["tag", &id, &name]).assert_ok();
    let o = d.berth(&["push", &name]);
    o.assert_code(1).assert_stderr_contains("the registry asks for chunks of at least 5000000000 bytes");
    let list = berth_e2e::registry::curl(&[&greedy.url("/v2/greedy/tags/list")]);
    assert!(list.contains("MANIFEST_UNKNOWN") || list.contains("NAME_UNKNOWN") || !list.contains("v1"), "{list}");
}

#[test]
fn mounts_on_berths_own_registry() {
    let root = tempfile::tempdir().expect("tempdir");
    let reg = BerthRegistry::start(&root.path().join("data"), &["--access-log"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    let id = load(&d, &three_layer_archive(dir.path(), "own-mount"));
    let a = format!("{}/src:v1", reg.host());
    d.docker(&["tag", &id, &a]).assert_ok();
    d.docker(&["push", &a]).assert_ok();
    let b = format!("{}/dst:v1", reg.host());
    d.docker(&["tag", &id, &b]).assert_ok();
    let o = d.docker(&["push", &b]);
    o.assert_ok();
    assert!(o.out().contains("Mounted from src"), "{}", o.out());
    assert!(reg.log().lines().any(|l| l.starts_with("POST /v2/dst/blobs/uploads/") && l.ends_with(" 201")), "{}", reg.log());
}

#[test]
fn berth_push_draws_bars_on_a_terminal() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    let id = load(&d, &three_layer_archive(dir.path(), "bars"));
    let name = format!("{}/bars:v1", reg.host());
    d.berth(&["tag", &id, &name]).assert_ok();
    let t = berth_e2e::Tmux::start(&d, "push", 120, 30, Cli::Berth, &["push", &name]);
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let screen = t.screen();
    // One bar per layer, redrawn in place (plain output would keep every
    // Preparing and Pushing line), ending as Pushed; then the digest line
    // and no blank line for the aux message.
    assert_eq!(screen.matches(": Pushed").count(), 3, "{screen}");
    assert!(!screen.contains("Preparing") && !screen.contains("Pushing"), "{screen}");
    assert!(screen.contains("v1: digest: sha256:"), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let digest_at = lines.iter().position(|l| l.contains("v1: digest:")).expect("digest line");
    assert!(lines.get(digest_at + 1).is_some_and(|l| l.trim().is_empty() || l.starts_with("EXIT=")), "{screen}");
}

/// A registry speaking just enough of the push protocol, that answers 503
/// to the first PUT of each blob (`always`: to every PUT of a blob).
struct FlakyRegistry {
    port: u16,
    handle: Option<std::thread::JoinHandle<()>>,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FlakyRegistry {
    fn start(always: bool) -> FlakyRegistry {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = refused.clone();
        let handle = std::thread::spawn(move || {
            let mut failed = std::collections::HashSet::new();
            let mut uploads = 0;
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { return };
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                // berthd tries TLS first on a loopback registry: refuse the hello.
                if r.fill_buf().map_or(true, |b| b.first().is_none_or(|c| *c == 0x16)) {
                    continue;
                }
                let mut first = String::new();
                if r.read_line(&mut first).is_err() {
                    continue;
                }
                let mut len = 0usize;
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; len];
                let _ = r.read_exact(&mut body);
                let mut parts = first.split_whitespace();
                let (method, mut path) = (parts.next().unwrap_or(""), parts.next().unwrap_or("").to_string());
                // berth's client sends absolute-form targets (as HTTP/1.1 allows).
                if let Some(rest) = path.strip_prefix("http://") {
                    path = rest.find('/').map_or("/".to_string(), |i| rest[i..].to_string());
                }
                let answer = match (method, path.as_str()) {
                    (_, "/quit") => return,
                    ("GET", "/v2/") => "200 OK\r\nContent-Length: 2\r\n\r\n{}".to_string(),
                    ("HEAD", _) => "404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
                    ("POST", p) if p.contains("/blobs/uploads/") => {
                        uploads += 1;
                        format!("202 Accepted\r\nLocation: /upload/{uploads}\r\nContent-Length: 0\r\n\r\n")
                    }
                    ("PUT", p) if p.starts_with("/upload/") => {
                        let digest = p.split("digest=").nth(1).unwrap_or("").to_string();
                        if always || failed.insert(digest) {
                            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            "503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_string()
                        } else {
                            "201 Created\r\nContent-Length: 0\r\n\r\n".to_string()
                        }
                    }
                    ("PUT", p) if p.contains("/manifests/") => "201 Created\r\nContent-Length: 0\r\n\r\n".to_string(),
                    (m, p) => format!("404 Not Found\r\nContent-Length: {}\r\n\r\n{m} {p}", m.len() + p.len() + 1),
                };
                let _ = s.write_all(format!("HTTP/1.1 {answer}").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n").as_bytes());
            }
        });
        FlakyRegistry { port, handle: Some(handle), refused }
    }
}

impl Drop for FlakyRegistry {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            berth_e2e::registry::stop(self.port, h);
        }
    }
}

#[test]
fn busy_registry_uploads_are_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    let id = load(&d, &three_layer_archive(dir.path(), "flaky"));
    let reg = FlakyRegistry::start(false);
    let name = format!("127.0.0.1:{}/flaky:v1", reg.port);
    d.berth(&["tag", &id, &name]).assert_ok();
    let o = d.berth(&["push", &name]);
    o.assert_ok();
    assert_eq!(o.out().matches("Pushed").count(), 3, "{}", o.out());
    // Three layers and the config, each refused once, then accepted.
    assert_eq!(reg.refused.load(std::sync::atomic::Ordering::SeqCst), 4);
    // A registry that never accepts: the push fails, after a bounded number of tries.
    let broken = FlakyRegistry::start(true);
    let name = format!("127.0.0.1:{}/broken:v1", broken.port);
    d.berth(&["tag", &id, &name]).assert_ok();
    let started = std::time::Instant::now();
    d.docker(&["push", &name]).assert_code(1).assert_stderr_contains("503");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
    // A blob is tried four times (the first and three retries) before the
    // push gives up; the other layers, in flight in parallel, as often.
    let tries = broken.refused.load(std::sync::atomic::Ordering::SeqCst);
    assert!((4..=12).contains(&tries), "{tries} tries");
}

/// A registry that asks for chunks (`OCI-Chunk-Min-Length: 65536`), keeps
/// what each upload received, and answers 503 to the second PATCH of every
/// upload once (having dropped its bytes): the client must ask where the
/// upload is (`GET`, `Range`) and send that chunk again, in the same upload.
struct ChunkFlakyRegistry {
    port: u16,
    handle: Option<std::thread::JoinHandle<()>>,
    /// Request lines (`METHOD PATH`) and, for PATCHes, the `Content-Range`.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ChunkFlakyRegistry {
    fn start() -> ChunkFlakyRegistry {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log2 = log.clone();
        let handle = std::thread::spawn(move || {
            // Upload number -> (bytes received, PATCHes seen).
            let mut uploads: std::collections::HashMap<usize, (Vec<u8>, usize)> = std::collections::HashMap::new();
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { return };
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                if r.fill_buf().map_or(true, |b| b.first().is_none_or(|c| *c == 0x16)) {
                    continue;
                }
                let mut first = String::new();
                if r.read_line(&mut first).is_err() {
                    continue;
                }
                let (mut len, mut range) = (0usize, String::new());
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if k.eq_ignore_ascii_case("content-range") {
                            range = v.trim().to_string();
                        }
                    }
                }
                let mut body = vec![0u8; len];
                // A body cut short (a slow client on a loaded machine) is not
                // taken as data: the connection just drops, which the client retries.
                if r.read_exact(&mut body).is_err() {
                    continue;
                }
                let mut parts = first.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
                log2.lock().expect("log").push(format!("{method} {path} {range}").trim_end().to_string());
                let upload_of = |p: &str| p.strip_prefix("/upload/").and_then(|r| r.split('?').next()).and_then(|n| n.parse::<usize>().ok());
                let answer = match (method.as_str(), path.as_str()) {
                    (_, "/quit") => return,
                    ("GET", "/v2/") => "200 OK\r\nContent-Length: 2\r\n\r\n{}".to_string(),
                    ("HEAD", _) => "404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
                    ("POST", p) if p.contains("/blobs/uploads/") => {
                        let n = uploads.len() + 1;
                        uploads.insert(n, (Vec::new(), 0));
                        format!("202 Accepted\r\nLocation: /upload/{n}\r\nOCI-Chunk-Min-Length: 65536\r\nContent-Length: 0\r\n\r\n")
                    }
                    ("PATCH", p) if upload_of(p).is_some_and(|n| uploads.contains_key(&n)) => {
                        let n = upload_of(p).unwrap_or(0);
                        let up = uploads.entry(n).or_default();
                        up.1 += 1;
                        let start: usize = range.split('-').next().and_then(|x| x.parse().ok()).unwrap_or(usize::MAX);
                        if up.1 == 2 {
                            "503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_string()
                        } else if start != up.0.len() {
                            "416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n".to_string()
                        } else {
                            up.0.extend_from_slice(&body);
                            format!("202 Accepted\r\nLocation: /upload/{n}\r\nRange: 0-{}\r\nContent-Length: 0\r\n\r\n", up.0.len() - 1)
                        }
                    }
                    ("GET", p) if upload_of(p).is_some_and(|n| uploads.contains_key(&n)) => {
                        let held = uploads.get(&upload_of(p).unwrap_or(0)).map_or(0, |u| u.0.len());
                        format!("204 No Content\r\nLocation: /upload/{}\r\nRange: 0-{}\r\nContent-Length: 0\r\n\r\n", upload_of(p).unwrap_or(0), held.saturating_sub(1))
                    }
                    ("PUT", p) if upload_of(p).is_some() => {
                        let n = upload_of(p).unwrap_or(0);
                        let up = uploads.entry(n).or_default();
                        up.0.extend_from_slice(&body);
                        let want = p.split("digest=").nth(1).unwrap_or("").replace("%3A", ":");
                        let got = format!("sha256:{}", berth_e2e::registry::sha256_hex(&up.0));
                        if want == got { "201 Created\r\nContent-Length: 0\r\n\r\n".to_string() } else { format!("400 Bad Request\r\nContent-Length: {}\r\n\r\n{got}", got.len()) }
                    }
                    ("PUT", p) if p.contains("/manifests/") => "201 Created\r\nContent-Length: 0\r\n\r\n".to_string(),
                    (m, p) => format!("404 Not Found\r\nContent-Length: {}\r\n\r\n{m} {p}", m.len() + p.len() + 1),
                };
                let _ = s.write_all(format!("HTTP/1.1 {answer}").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n").as_bytes());
            }
        });
        ChunkFlakyRegistry { port, handle: Some(handle), log }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for ChunkFlakyRegistry {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            berth_e2e::registry::stop(self.port, h);
        }
    }
}

#[test]
fn a_failed_chunk_is_sent_again_in_the_same_upload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    // 300 kB that gzip cannot shrink: five chunks of 64 KiB.
    let id = load(&d, &archive_with_layers(dir.path(), "chunkretry", None, vec![file_layer("noise", &noise(11, 300_000))]));
    // Kept by this name while the pushed names come and go.
    d.berth(&["tag", &id, "chunkretry-keep:1"]).assert_ok();
    for cli in Cli::BOTH {
        let reg = ChunkFlakyRegistry::start();
        let name = format!("127.0.0.1:{}/chunks/{}:v1", reg.port, cli.name());
        d.cli(cli, &["tag", &id, &name]).assert_ok();
        let o = d.cli(cli, &["push", &name]);
        o.assert_ok();
        assert!(o.out().contains("v1: digest: sha256:"), "{}", o.out());
        let log = reg.log();
        // Each chunked upload: its refused second chunk asked about and sent
        // again in the same upload — one POST per blob, none started over.
        let mut by_upload: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for l in log.iter().filter(|l| l.starts_with("PATCH /upload/")) {
            let mut w = l.split_whitespace().skip(1);
            let (u, r) = (w.next().unwrap_or("").to_string(), w.next().unwrap_or("").to_string());
            by_upload.entry(u).or_default().push(r);
        }
        assert!(!by_upload.is_empty(), "no chunked upload: {log:#?}");
        for (u, ranges) in &by_upload {
            assert!(ranges.len() >= 6 && ranges[1] == ranges[2], "{u}: the refused chunk was not sent again: {ranges:?}");
            assert!(log.iter().any(|l| l == &format!("GET {u}")), "{u}: the upload's status was not asked: {log:#?}");
        }
        let posts = log.iter().filter(|l| l.starts_with("POST ")).count();
        let blobs: std::collections::BTreeSet<&String> = log.iter().filter(|l| l.starts_with("HEAD ")).collect();
        assert_eq!(posts, blobs.len(), "an upload was started over: {log:#?}");
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
    d.stop();
}
