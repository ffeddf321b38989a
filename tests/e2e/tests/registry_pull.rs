//! Pulls from registries started by the test on loopback: Debian's
//! `docker-registry` (the reference distribution registry, images pushed
//! with skopeo), with and without htpasswd, and a hostile fake registry.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use berth_e2e::certs::free_port;
use berth_e2e::{busybox_tar, process_tmp, wait_until, Cli, TestDaemon};

/// A `docker-registry serve` on 127.0.0.1 with its own config and storage.
struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Registry {
    fn start(htpasswd: Option<(&str, &str)>) -> Registry {
        Registry::start_with(htpasswd, false)
    }

    /// With `tls`, the registry serves https with a certificate from a CA the test makes.
    fn start_with(htpasswd: Option<(&str, &str)>, tls: bool) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut auth = String::new();
        if let Some((u, p)) = htpasswd {
            let o = Command::new("htpasswd").args(["-Bbn", u, p]).output().expect("htpasswd");
            assert!(o.status.success());
            std::fs::write(dir.path().join("htpasswd"), &o.stdout).expect("write htpasswd");
            auth = format!("auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n", dir.path().join("htpasswd").display());
        }
        let tls_cfg = if tls {
            std::fs::create_dir_all(dir.path().join("certs")).expect("certs dir");
            let certs = berth_e2e::certs::Certs::generate(&dir.path().join("certs"));
            format!("  tls:\n    certificate: {}\n    key: {}\n", certs.server_cert().display(), certs.server_key().display())
        } else {
            String::new()
        };
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{tls_cfg}{auth}",
            dir.path().join("data").display()
        );
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).expect("write config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry (scripts/install-deps.sh installs it)");
        let up = wait_until(Duration::from_secs(15), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        assert!(up, "docker-registry did not listen on {port}");
        Registry { child, dir, port }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `skopeo copy docker-archive:TAR docker://HOST/NAME`.
    fn push(&self, tar: &Path, name: &str, creds: Option<&str>) {
        let mut c = Command::new("skopeo");
        c.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some(cr) = creds {
            c.args(["--dest-creds", cr]);
        }
        let o = c
            .arg(format!("docker-archive:{}", tar.display()))
            .arg(format!("docker://{}/{name}", self.host()))
            .output()
            .expect("skopeo");
        assert!(o.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&o.stderr));
    }

    fn manifest_digest(&self, name: &str, tag: &str, creds: Option<&str>) -> String {
        let mut c = Command::new("skopeo");
        c.args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"]);
        if let Some(cr) = creds {
            c.args(["--creds", cr]);
        }
        let o = c.arg(format!("docker://{}/{name}:{tag}", self.host())).output().expect("skopeo inspect");
        assert!(o.status.success(), "skopeo inspect: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

fn no_image(d: &TestDaemon, name: &str) {
    d.docker(&["image", "inspect", name]).assert_fail();
    let cache = d.data_root().join("pull-cache");
    let left: Vec<_> = std::fs::read_dir(&cache).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    let tmp: Vec<PathBuf> = std::fs::read_dir(d.data_root().join("tmp")).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(tmp.is_empty(), "half-downloaded files left: {tmp:?} (cache {left:?})");
}

#[test]
fn pull_by_tag_digest_and_up_to_date_with_both_clis() {
    let reg = Registry::start(None);
    reg.push(busybox_tar(), "busybox:latest", None);
    let digest = reg.manifest_digest("busybox", "latest", None);
    let d = TestDaemon::start();
    let name = format!("{}/busybox", reg.host());
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains("Using default tag: latest"), "{out}");
        assert!(out.contains("latest: Pulling from busybox"), "{out}");
        assert!(out.contains(&format!("Digest: {digest}")), "{out}");
        assert!(out.contains(&format!("Status: Downloaded newer image for {name}:latest")), "{out}");
        assert!(out.ends_with(&format!("{name}:latest")), "{out}");
        let again = d.cli(cli, &["pull", &name]);
        again.assert_ok();
        let out = again.out();
        assert!(out.contains(&format!("Status: Image is up to date for {name}:latest")), "{out}");
        assert!(!out.contains("Pull complete"), "{out}");
        d.cli(cli, &["run", "--rm", &name, "echo", "pulled"]).assert_ok().assert_stdout("pulled");
        let digests = d.cli(cli, &["image", "inspect", "-f", "{{json .RepoDigests}}", &name]).assert_ok().out();
        assert_eq!(digests, format!("[\"{name}@{digest}\"]"));
        d.cli(cli, &["rmi", &format!("{name}:latest")]).assert_ok();
        no_image(&d, &format!("{name}:latest"));
        // By digest: recorded under the digest, no tag.
        let by_digest = format!("{name}@{digest}");
        let o = d.cli(cli, &["pull", &by_digest]);
        o.assert_ok();
        assert!(o.out().contains(&format!("Status: Downloaded newer image for {by_digest}")), "{}", o.out());
        d.cli(cli, &["run", "--rm", &by_digest, "true"]).assert_ok();
        d.cli(cli, &["rmi", &by_digest]).assert_ok();
    }
}

#[test]
fn layers_already_present_are_skipped() {
    let reg = Registry::start(None);
    reg.push(busybox_tar(), "a:1", None);
    reg.push(busybox_tar(), "b:1", None);
    let d = TestDaemon::start();
    d.docker(&["load", "-i", &busybox_tar().display().to_string()]).assert_ok();
    let o = d.docker(&["pull", &format!("{}/a:1", reg.host())]);
    o.assert_ok();
    // Same image already loaded: every layer is there.
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    assert!(!o.out().contains("Pull complete"), "{}", o.out());
    let o = d.berth(&["pull", &format!("{}/b:1", reg.host())]);
    o.assert_ok();
    assert!(!o.out().contains("Pulling fs layer"), "{}", o.out());
}

#[test]
fn missing_images_are_worded_as_docker_words_them() {
    let reg = Registry::start(None);
    reg.push(busybox_tar(), "busybox:latest", None);
    let d = TestDaemon::start();
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &format!("{}/busybox:nope", reg.host())]);
        o.assert_code(1).assert_stderr_contains(&format!(
            "Error response from daemon: manifest for {}/busybox:nope not found: manifest unknown: manifest unknown",
            reg.host()
        ));
        let o = d.cli(cli, &["pull", &format!("{}/nothere", reg.host())]);
        o.assert_code(1).assert_stderr_contains("not found");
    }
    // run of a missing image pulls it first (the docker CLI does so client-side).
    let name = format!("{}/busybox", reg.host());
    let o = d.docker(&["run", "--rm", &name, "echo", "ran"]);
    o.assert_ok().assert_stdout("ran");
    o.assert_stderr_contains(&format!("Unable to find image '{name}:latest' locally"));
    d.docker(&["rmi", &name]).assert_ok();
    let o = d.berth(&["run", "--rm", &name, "echo", "ran"]);
    o.assert_ok().assert_stdout("ran");
    d.berth(&["rmi", &name]).assert_ok();
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["run", "--rm", "--pull", "never", &name, "true"]);
        o.assert_code(125).assert_stderr_contains("No such image");
        d.cli(cli, &["image", "inspect", &name]).assert_fail();
        let cname = format!("pull-always-{}", cli.name());
        let o = d.cli(cli, &["create", "--pull", "always", "--name", &cname, &name]);
        o.assert_ok();
        assert!(o.stderr.contains("Status: Downloaded newer image for"), "{}", o.stderr);
        d.cli(cli, &["rm", &cname]).assert_ok();
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
}

#[test]
fn basic_auth_registry() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    reg.push(busybox_tar(), "private:latest", Some("alice:s3cret"));
    let d = TestDaemon::start();
    let name = format!("{}/private", reg.host());
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_code(1).assert_stderr_contains("no basic auth credentials");
    }
    no_image(&d, &name);
    // The docker CLI sends X-Registry-Auth from its config file.
    let cfg = tempfile::tempdir().expect("tempdir");
    let auth = base64_std(b"alice:s3cret");
    std::fs::write(cfg.path().join("config.json"), format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}", reg.host())).expect("config");
    let o = d.cli_with_env(Cli::Docker, &["pull", &name], &[("DOCKER_CONFIG", &cfg.path().display().to_string())]);
    o.assert_ok();
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    let bad = base64_std(b"alice:wrong");
    std::fs::write(cfg.path().join("config.json"), format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{bad}\"}}}}}}", reg.host())).expect("config");
    d.docker(&["rmi", &name]).assert_ok();
    let o = d.cli_with_env(Cli::Docker, &["pull", &name], &[("DOCKER_CONFIG", &cfg.path().display().to_string())]);
    o.assert_code(1);
    no_image(&d, &name);
}

fn base64_std(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    let dir = process_tmp().join(format!("sha-{}", std::process::id()));
    std::fs::write(&dir, data).expect("write");
    let o = Command::new("sha256sum").arg(&dir).output().expect("sha256sum");
    let _ = std::fs::remove_file(&dir);
    String::from_utf8_lossy(&o.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

/// A registry that lies: its one layer is not what the manifest says
/// (`Corrupt`) or is cut short (`Truncate`).
#[derive(Clone, Copy)]
enum Lie {
    Corrupt,
    Truncate,
    /// Honest, but busy: the first manifest request gets a 503, the first
    /// layer request a 429 with `Retry-After: 1`.
    Flaky,
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
        Lie::Flaky => layer.clone(),
    };
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
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                    break;
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
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

/// A layer tar no daemon has: one file of 256 KiB.
fn unique_layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append_data(&mut h, "hostile", data.as_slice()).expect("append");
    b.into_inner().expect("tar")
}

fn stop(port: u16, h: std::thread::JoinHandle<()>) {
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(b"GET /quit HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    let _ = h.join();
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
}

/// The busybox test image's layer tar and config, from its docker-save archive.
fn busybox_parts() -> (Vec<u8>, serde_json::Value) {
    let mut a = tar::Archive::new(std::fs::File::open(busybox_tar()).expect("open busybox.tar"));
    let mut files = std::collections::BTreeMap::new();
    for e in a.entries().expect("entries") {
        let mut e = e.expect("entry");
        let p = e.path().expect("path").display().to_string().trim_start_matches("./").to_string();
        let mut v = Vec::new();
        e.read_to_end(&mut v).expect("read");
        files.insert(p, v);
    }
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
    let layer = files[m[0]["Layers"][0].as_str().expect("layer")].clone();
    let config = serde_json::from_slice(&files[m[0]["Config"].as_str().expect("config")]).expect("config");
    (layer, config)
}

fn file_layer(name: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append_data(&mut h, name, content).expect("append");
    b.into_inner().expect("tar")
}

/// A docker-save archive: busybox plus two layers of its own (`/one`, `/two`).
fn three_layer_archive(dir: &Path, marker: &str) -> PathBuf {
    three_layer_archive_for(dir, marker, None)
}

fn three_layer_archive_for(dir: &Path, marker: &str, arch: Option<&str>) -> PathBuf {
    let (base, mut config) = busybox_parts();
    if let Some(a) = arch {
        config["architecture"] = serde_json::json!(a);
    }
    let layers = [base, file_layer("one", format!("one {marker}\n").as_bytes()), file_layer("two", &vec![b'2'; 300_000])];
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha256_hex(l))).collect();
    config["rootfs"] = serde_json::json!({ "type": "layers", "diff_ids": diff_ids });
    config["history"] = serde_json::json!([]);
    let cfg = serde_json::to_vec(&config).expect("config");
    let cfg_name = format!("{}.json", sha256_hex(&cfg));
    let out = dir.join(format!("{marker}.tar"));
    let mut b = tar::Builder::new(std::fs::File::create(&out).expect("create"));
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, name, data).expect("append");
    };
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let n = format!("l{i}.tar");
        add(&n, l);
        names.push(n);
    }
    add(&cfg_name, &cfg);
    let manifest = serde_json::json!([{ "Config": cfg_name, "RepoTags": [], "Layers": names }]);
    add("manifest.json", &serde_json::to_vec(&manifest).expect("manifest"));
    b.finish().expect("finish");
    out
}

#[test]
fn multi_layer_gzip_and_zstd_oci_images() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = three_layer_archive(dir.path(), "gz");
    let zst = three_layer_archive(dir.path(), "zst");
    reg.push(&gz, "three:gz", None);
    let o = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--format", "oci", "--dest-compress-format", "zstd"])
        .arg(format!("docker-archive:{}", zst.display()))
        .arg(format!("docker://{}/three:zst", reg.host()))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "skopeo zstd: {}", String::from_utf8_lossy(&o.stderr));
    let d = TestDaemon::start();
    for (cli, tag, marker) in [(Cli::Docker, "gz", "gz"), (Cli::Berth, "zst", "zst")] {
        let name = format!("{}/three:{tag}", reg.host());
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        let out = o.out();
        assert_eq!(out.matches("Pull complete").count(), 2, "{out}");
        assert_eq!(out.matches("Already exists").count(), 1, "{out}");
        d.cli(cli, &["run", "--rm", &name, "cat", "/one"]).assert_ok().assert_stdout(&format!("one {marker}"));
        let cache: Vec<_> = std::fs::read_dir(d.data_root().join("pull-cache")).map(|r| r.flatten().collect()).unwrap_or_default();
        assert!(cache.is_empty(), "downloaded blobs kept after the pull: {}", cache.len());
    }
}

/// `curl` against the registry: (status, headers, body).
fn curl(args: &[&str]) -> String {
    let o = Command::new("curl").args(["-sS", "-i"]).args(args).output().expect("curl");
    assert!(o.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn header(resp: &str, name: &str) -> String {
    resp.lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_default()
}

#[test]
fn multi_arch_index_resolves_to_the_platform() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let host_arch = if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" };
    let other_arch = if host_arch == "amd64" { "arm64" } else { "amd64" };
    let mut entries = Vec::new();
    for arch in [host_arch, other_arch] {
        let tar = three_layer_archive_for(dir.path(), arch, Some(arch));
        let o = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false", "--format", "oci"])
            .arg(format!("docker-archive:{}", tar.display()))
            .arg(format!("docker://{}/multi:{arch}", reg.host()))
            .output()
            .expect("skopeo");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let head = curl(&["-I", "-H", "Accept: application/vnd.oci.image.manifest.v1+json", &format!("http://{}/v2/multi/manifests/{arch}", reg.host())]);
        let digest = header(&head, "Docker-Content-Digest");
        let size = header(&head, "Content-Length");
        let variant = if arch == "arm64" { r#","variant":"v8""# } else { "" };
        entries.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":{size},"platform":{{"architecture":"{arch}","os":"linux"{variant}}}}}"#
        ));
    }
    let index = format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#, entries.join(","));
    let put = curl(&[
        "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.index.v1+json", "--data-binary", &index,
        &format!("http://{}/v2/multi/manifests/latest", reg.host()),
    ]);
    assert!(put.starts_with("HTTP/1.1 201"), "{put}");
    let index_digest = format!("sha256:{}", sha256_hex(index.as_bytes()));
    let d = TestDaemon::start();
    let name = format!("{}/multi", reg.host());
    // GET /distribution/NAME/json: the index's descriptor and its platforms, nothing pulled.
    let (status, body) = d.api("GET", &format!("/distribution/{name}:latest/json"), None);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["Descriptor"]["digest"], index_digest.as_str());
    assert_eq!(v["Descriptor"]["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(v["Platforms"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(v["Platforms"][0]["architecture"], host_arch);
    let (status, _) = d.api("GET", &format!("/distribution/{}/nothere/json", reg.host()), None);
    assert_eq!(status, 404);
    d.docker(&["image", "inspect", &name]).assert_fail();
    let o = d.docker(&["pull", &name]);
    o.assert_ok();
    assert!(o.out().contains(&format!("Digest: {index_digest}")), "{}", o.out());
    d.docker(&["image", "inspect", "-f", "{{.Architecture}}", &name]).assert_ok().assert_stdout(host_arch);
    d.docker(&["run", "--rm", &name, "cat", "/one"]).assert_ok().assert_stdout(&format!("one {host_arch}"));
    let other = format!("{name}:latest");
    let o = d.berth(&["pull", "--platform", &format!("linux/{other_arch}"), &other]);
    o.assert_ok();
    d.berth(&["image", "inspect", "-f", "{{.Architecture}}", &other]).assert_ok().assert_stdout(other_arch);
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", "--platform", "linux/s390x", &name]);
        o.assert_code(1).assert_stderr_contains("no matching manifest for linux/s390x in the manifest list entries");
        o.assert_stderr_contains("linux/arm64/v8");
    }
}

#[test]
fn login_then_pull_with_both_clis() {
    let reg = Registry::start(Some(("bob", "hunter2")));
    reg.push(busybox_tar(), "secret:latest", Some("bob:hunter2"));
    let d = TestDaemon::start();
    let name = format!("{}/secret", reg.host());
    for cli in Cli::BOTH {
        let cfg = tempfile::tempdir().expect("tempdir");
        let env_cfg = cfg.path().display().to_string();
        let env = [("DOCKER_CONFIG", env_cfg.as_str())];
        let o = d.cli_with_env(cli, &["login", "-u", "bob", "-p", "wrong", &reg.host()], &env);
        o.assert_code(1).assert_stderr_contains("401 Unauthorized");
        assert!(!cfg.path().join("config.json").exists() || !std::fs::read_to_string(cfg.path().join("config.json")).unwrap_or_default().contains(&reg.host()));
        let o = d.cli_with_env(cli, &["login", "-u", "bob", "-p", "hunter2", &reg.host()], &env);
        o.assert_ok().assert_stdout_contains("Login Succeeded");
        let stored = std::fs::read_to_string(cfg.path().join("config.json")).expect("config.json");
        assert!(stored.contains(&reg.host()) && stored.contains(&base64_std(b"bob:hunter2")), "{stored}");
        let o = d.cli_with_env(cli, &["pull", &name], &env);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        d.cli(cli, &["rmi", &name]).assert_ok();
        d.cli_with_env(cli, &["logout", &reg.host()], &env).assert_ok().assert_stdout_contains(&format!("Removing login credentials for {}", reg.host()));
        d.cli_with_env(cli, &["pull", &name], &env).assert_code(1).assert_stderr_contains("no basic auth credentials");
    }
}

/// A registry for a two-layer image whose second layer stalls halfway
/// while `stall` is set; counts the requests for each layer.
struct StallingRegistry {
    port: u16,
    stall: std::sync::Arc<std::sync::atomic::AtomicBool>,
    hits: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    first: String,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl StallingRegistry {
    fn start() -> StallingRegistry {
        use std::sync::atomic::Ordering;
        let a = unique_layer();
        let b = file_layer("second", &vec![b'b'; 400_000]);
        let (da, db) = (sha256_hex(&a), sha256_hex(&b));
        let first = da.clone();
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
        let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stall2, hits2) = (stall.clone(), hits.clone());
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
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                        break;
                    }
                }
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                if path == "/quit" {
                    return;
                }
                hits2.lock().expect("hits").push(path.clone());
                let (body, stalls): (Vec<u8>, bool) = if path == "/v2/" {
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
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = s.write_all(head.as_bytes());
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
        StallingRegistry { port, stall, hits, first, handle: Some(handle) }
    }

    fn hits_for(&self, hex: &str) -> usize {
        self.hits.lock().expect("hits").iter().filter(|p| p.ends_with(hex)).count()
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
    reg.stall.store(false, std::sync::atomic::Ordering::SeqCst);
    let o = d.berth(&["pull", &name]);
    o.assert_ok();
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    assert_eq!(reg.hits_for(&reg.first), 1, "the verified layer was downloaded again");
}

#[test]
fn all_tags() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    reg.push(busybox_tar(), "many:one", None);
    reg.push(&three_layer_archive(dir.path(), "two"), "many:two", None);
    let d = TestDaemon::start();
    let name = format!("{}/many", reg.host());
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", "-a", &name]);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains("one: Pulling from many") && out.contains("two: Pulling from many"), "{out}");
        assert_eq!(out.matches("Status: ").count(), 1, "{out}");
        assert!(out.contains(&format!("Status: Downloaded newer image for {name}")), "{out}");
        let tags = d.cli(cli, &["images", "--format", "{{.Tag}}", &name]).assert_ok().out();
        assert_eq!(tags.lines().collect::<std::collections::BTreeSet<_>>(), ["one", "two"].into_iter().collect());
        d.cli(cli, &["pull", "-a", &format!("{name}:one")]).assert_fail();
        d.cli(cli, &["rmi", &format!("{name}:one"), &format!("{name}:two")]).assert_ok();
    }
}

#[test]
fn push_then_pull_gives_the_same_image() {
    let reg = Registry::start(Some(("carol", "pw")));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    d.docker(&["load", "-i", &three_layer_archive(dir.path(), "pushed").display().to_string()]).assert_ok();
    let id = d.docker(&["images", "-q", "--no-trunc"]).assert_ok().out();
    let local = id.lines().map(str::to_string).collect::<Vec<_>>();
    let cfg = tempfile::tempdir().expect("tempdir");
    let env_cfg = cfg.path().display().to_string();
    let env = [("DOCKER_CONFIG", env_cfg.as_str())];
    for (cli, repo) in [(Cli::Berth, "viaberth"), (Cli::Docker, "viadocker")] {
        d.cli_with_env(cli, &["login", "-u", "carol", "-p", "pw", &reg.host()], &env).assert_ok();
        let name = format!("{}/{repo}:v1", reg.host());
        // The image with /one (not plain busybox): the one that is not the harness's.
        let source = local.iter().find(|i| d.docker(&["run", "--rm", i.as_str(), "cat", "/one"]).code == 0).expect("loaded image").clone();
        d.cli(cli, &["tag", &source, &name]).assert_ok();
        let o = d.cli_with_env(cli, &["push", &name], &env);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains(&format!("The push refers to repository [{}/{repo}]", reg.host())), "{out}");
        assert_eq!(out.matches("Pushed").count(), 3, "{out}");
        let digest = reg.manifest_digest(repo, "v1", Some("carol:pw"));
        assert!(out.contains(&format!("v1: digest: {digest} size: ")), "{out}");
        // A second push finds every layer there.
        let again = d.cli_with_env(cli, &["push", &name], &env);
        again.assert_ok();
        assert_eq!(again.out().matches("Layer already exists").count(), 3, "{}", again.out());
        assert!(again.out().contains(&format!("v1: digest: {digest} size: ")), "{}", again.out());
        // Pulled back by digest into a fresh daemon: the same image ID.
        let fresh = TestDaemon::start();
        let by_digest = format!("{}/{repo}@{digest}", reg.host());
        fresh.cli_with_env(cli, &["pull", &by_digest], &env).assert_ok();
        let pulled = fresh.docker(&["image", "inspect", "-f", "{{.Id}}", &by_digest]).assert_ok().out();
        assert_eq!(pulled, source);
        fresh.docker(&["run", "--rm", &by_digest, "cat", "/one"]).assert_ok().assert_stdout("one pushed");
    }
    // Not logged in: the registry refuses.
    let o = d.docker(&["push", &format!("{}/viadocker:v1", reg.host())]);
    o.assert_code(1).assert_stderr_contains("no basic auth credentials");
}

#[test]
fn tls_registry_on_loopback() {
    // Loopback registries are insecure by default (as in dockerd): https is
    // tried first, with any certificate, and used when the registry speaks it.
    let reg = Registry::start_with(Some(("dave", "pw")), true);
    let o = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "dave:pw"])
        .arg(format!("docker-archive:{}", busybox_tar().display()))
        .arg(format!("docker://{}/tls:1", reg.host()))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plain = curl(&[&format!("http://{}/v2/", reg.host())]);
    assert!(plain.starts_with("HTTP/1.0 400") || plain.contains("HTTPS"), "the registry answers plain http: {plain}");
    let d = TestDaemon::start();
    let cfg = tempfile::tempdir().expect("tempdir");
    let env_cfg = cfg.path().display().to_string();
    let env = [("DOCKER_CONFIG", env_cfg.as_str())];
    for cli in Cli::BOTH {
        d.cli_with_env(cli, &["login", "-u", "dave", "-p", "pw", &reg.host()], &env).assert_ok();
        let name = format!("{}/tls:1", reg.host());
        let o = d.cli_with_env(cli, &["pull", &name], &env);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
}
