//! Registries for the pull/push tests: Debian's `docker-registry` started on
//! a free loopback port with its own config and storage (images pushed with
//! skopeo), and the image pieces the tests push.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::certs::free_port;
use crate::{busybox_tar, wait_until, TestDaemon};

/// A `docker-registry serve` on 127.0.0.1 with its own config and storage.
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Registry {
    pub fn start(htpasswd: Option<(&str, &str)>) -> Registry {
        Registry::start_with(htpasswd, false)
    }

    /// With `tls`, the registry serves https with a certificate from a CA the test makes.
    pub fn start_with(htpasswd: Option<(&str, &str)>, tls: bool) -> Registry {
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
            let certs = crate::certs::Certs::generate(&dir.path().join("certs"));
            format!("  tls:\n    certificate: {}\n    key: {}\n", certs.server_cert().display(), certs.server_key().display())
        } else {
            String::new()
        };
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{tls_cfg}{auth}",
            dir.path().join("data").display()
        );
        Registry::serve(dir, port, &cfg)
    }

    /// https with `cert`/`key`, requiring a client certificate from `client_ca`.
    pub fn start_mutual_tls(cert: &Path, key: &Path, client_ca: &Path) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {}\n    key: {}\n    clientcas:\n      - {}\n",
            dir.path().join("data").display(),
            cert.display(),
            key.display(),
            client_ca.display()
        );
        Registry::serve(dir, port, &cfg)
    }

    /// Writes `cfg` into `dir` and runs docker-registry on it until it
    /// listens on `port`.
    fn serve(dir: tempfile::TempDir, port: u16, cfg: &str) -> Registry {
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

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `skopeo copy docker-archive:TAR docker://HOST/NAME`.
    pub fn push(&self, tar: &Path, name: &str, creds: Option<&str>) {
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

    /// Where the registry keeps a blob (`sha256:HEX`) on disk: tests delete
    /// it to make a pull fail half-way.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.path().join("data/docker/registry/v2/blobs/sha256").join(&hex[..2.min(hex.len())]).join(hex).join("data")
    }

    pub fn manifest_digest(&self, name: &str, tag: &str, creds: Option<&str>) -> String {
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

pub fn no_image(d: &TestDaemon, name: &str) {
    d.docker(&["image", "inspect", name]).assert_fail();
    let cache = d.data_root().join("pull-cache");
    let left: Vec<_> = std::fs::read_dir(&cache).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    let tmp: Vec<PathBuf> = std::fs::read_dir(d.data_root().join("tmp")).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(tmp.is_empty(), "half-downloaded files left: {tmp:?} (cache {left:?})");
}

pub fn base64_std(data: &[u8]) -> String {
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

/// sha256 of `data` in hex, through sha256sum's stdin (tests run in
/// parallel threads: no shared scratch file).
pub fn sha256_hex(data: &[u8]) -> String {
    crate::berth_registry::sha256(data).trim_start_matches("sha256:").to_string()
}

/// A layer tar no daemon has: one file of 256 KiB.
pub fn unique_layer() -> Vec<u8> {
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

pub fn stop(port: u16, h: std::thread::JoinHandle<()>) {
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(b"GET /quit HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    let _ = h.join();
}

/// The busybox test image's layer tar and config, from its docker-save archive.
pub fn busybox_parts() -> (Vec<u8>, serde_json::Value) {
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

pub fn file_layer(name: &str, content: &[u8]) -> Vec<u8> {
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
pub fn three_layer_archive(dir: &Path, marker: &str) -> PathBuf {
    three_layer_archive_for(dir, marker, None)
}

pub fn three_layer_archive_for(dir: &Path, marker: &str, arch: Option<&str>) -> PathBuf {
    let layers = vec![file_layer("one", format!("one {marker}\n").as_bytes()), file_layer("two", &vec![b'2'; 300_000])];
    archive_with_layers(dir, marker, arch, layers)
}

/// Bytes that do not compress: `len` of them from a seed (xorshift).
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A docker-save archive `DIR/MARKER.tar`: busybox's layer, then `layers`.
pub fn archive_with_layers(dir: &Path, marker: &str, arch: Option<&str>, layers: Vec<Vec<u8>>) -> PathBuf {
    let (base, mut config) = busybox_parts();
    if let Some(a) = arch {
        config["architecture"] = serde_json::json!(a);
    }
    let layers: Vec<Vec<u8>> = std::iter::once(base).chain(layers).collect();
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

/// A TCP proxy on loopback in front of a registry that sends its answers
/// slowly (`chunk` bytes per `tick`), so that a pull's progress can be
/// watched. Ends when dropped.
pub struct SlowProxy {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SlowProxy {
    pub fn start(target: u16, chunk: usize, tick: Duration) -> SlowProxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let quit = stop.clone();
        std::thread::spawn(move || {
            while !quit.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else { continue };
                let (mut c_in, mut s_out) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut s_out);
                    let _ = s_out.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; chunk];
                    loop {
                        match s_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if c_out.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                                std::thread::sleep(tick);
                            }
                        }
                    }
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        SlowProxy { port, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `curl` against the registry: (status, headers, body).
pub fn curl(args: &[&str]) -> String {
    let o = Command::new("curl").args(["-sS", "-i"]).args(args).output().expect("curl");
    assert!(o.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn header(resp: &str, name: &str) -> String {
    resp.lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_default()
}
