//! Hostile requests the parsers on the API path must refuse without
//! crashing, stalling or holding unbounded memory: oversized heads, query
//! strings and header counts, pathological filters, tar streams with huge
//! extension headers, absurd sizes, sparse entries and device nodes, and
//! junk registry credentials. After each, the daemon still answers.
//! (bad_api.rs covers JSON bodies, times, filter values and body sizes.)
use berth_e2e::TestDaemon;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

fn message(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body}"));
    v["message"].as_str().unwrap_or_else(|| panic!("no message in {body}")).to_string()
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body`, writing from a thread so a daemon that answers before reading
/// everything is not a deadlock; returns the status and the response text.
fn raw(d: &TestDaemon, head: &str, body: &[u8]) -> (u16, String) {
    let s = UnixStream::connect(d.sock()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let req = [format!("{head}\r\n\r\n").into_bytes(), body.to_vec()].concat();
    let writer = std::thread::spawn(move || {
        // The daemon may answer and close before it has read it all.
        let _ = w.write_all(&req);
    });
    let mut out = Vec::new();
    let mut r = s;
    let _ = r.read_to_end(&mut out);
    let _ = writer.join();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"));
    (status, text)
}

fn body_of(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn alive(d: &TestDaemon) {
    let (status, body) = d.api("GET", "/_ping", None);
    assert_eq!((status, body.as_str()), (200, "OK"), "daemon no longer answers /_ping");
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~*".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn oversized_heads_are_refused_and_the_daemon_carries_on() {
    let d = TestDaemon::start();
    // One header value of 1 MiB.
    let (status, resp) = raw(&d, &format!("GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: {}", "a".repeat(1 << 20)), b"");
    assert_eq!(status, 431, "{}", &resp[..resp.len().min(200)]);
    alive(&d);
    // More header lines than the server takes.
    let many: String = (0..500).map(|i| format!("\r\nX-H{i}: v")).collect();
    let (status, resp) = raw(&d, &format!("GET /_ping HTTP/1.1\r\nHost: x{many}"), b"");
    assert_eq!(status, 431, "{}", &resp[..resp.len().min(200)]);
    alive(&d);
    // A query string of 1 MiB.
    let (status, resp) = raw(&d, &format!("GET /v1.50/containers/json?all={} HTTP/1.1\r\nHost: x", "1".repeat(1 << 20)), b"");
    assert!(status == 414 || status == 431, "{}", &resp[..resp.len().min(200)]);
    alive(&d);
    // A declared body length far beyond any bound is refused unread.
    let (status, resp) = raw(&d, "POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999999999", b"{");
    assert_eq!(status, 413, "{resp}");
    // A chunk size that overflows is a malformed request.
    let (status, resp) = raw(&d, "POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", b"fffffffffffffffffffff\r\nx\r\n0\r\n\r\n");
    assert_eq!(status, 400, "{resp}");
    alive(&d);
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.stop();
}

#[test]
fn pathological_filters_answer_at_once() {
    let d = TestDaemon::start();
    d.docker(&["create", "--name", "keep", "--label", "a=b", "busybox", "true"]).assert_ok();
    // A glob with thousands of stars was exponential before it was linear.
    let stars = format!("{}b", "a*".repeat(8000));
    let (status, resp) = d.api("GET", &format!("/v1.50/images/json?filters={}", enc(&format!(r#"{{"reference":["{stars}"]}}"#))), None);
    assert_eq!((status, resp.trim()), (200, "[]"), "{}", &resp[..resp.len().min(200)]);
    // Thousands of filter values, all evaluated (AND): nothing matches them all.
    let labels: Vec<String> = (0..3000).map(|i| format!(r#""l{i}=v""#)).collect();
    let f = format!(r#"{{"label":[{}]}}"#, labels.join(","));
    let (status, resp) = d.api("GET", &format!("/v1.50/containers/json?all=1&filters={}", enc(&f)), None);
    assert_eq!((status, resp.trim()), (200, "[]"), "{}", &resp[..resp.len().min(200)]);
    // Filters nested to serde_json's depth limit and beyond: a 400.
    let deep = format!(r#"{{"label":{}"a"{}}}"#, "[".repeat(200), "]".repeat(200));
    let (status, resp) = d.api("POST", &format!("/v1.50/containers/prune?filters={}", enc(&deep)), None);
    assert_eq!(status, 400, "{resp}");
    assert_eq!(message(&resp), "invalid filter");
    alive(&d);
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("keep\n");
    d.docker(&["rm", "keep"]).assert_ok();
    d.stop();
}

fn header(kind: tar::EntryType, path: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_path(path).expect("path");
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    h
}

fn pad(v: &mut Vec<u8>) {
    v.resize(v.len().div_ceil(512) * 512, 0);
}

/// A tar whose entry is preceded by an extension entry of `len` bytes.
fn with_extension(kind: tar::EntryType, len: usize) -> Vec<u8> {
    let mut v = header(kind, "././@LongLink", len as u64).as_bytes().to_vec();
    if kind == tar::EntryType::XHeader {
        let fill = len - "0000000 comment=\n".len();
        v.extend_from_slice(format!("{len:07} comment={}\n", "c".repeat(fill)).as_bytes());
    } else {
        v.resize(v.len() + len, b'n');
    }
    pad(&mut v);
    v.extend_from_slice(header(tar::EntryType::Regular, "f", 2).as_bytes());
    v.extend_from_slice(b"hi");
    pad(&mut v);
    v.resize(v.len() + 1024, 0);
    v
}

fn import(d: &TestDaemon, tar: &[u8]) -> (u16, String) {
    let head = format!("POST /v1.50/images/create?fromSrc=-&repo=hostile&tag=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-tar\r\nContent-Length: {}", tar.len());
    raw(d, &head, tar)
}

fn put_archive(d: &TestDaemon, tar: &[u8]) -> (u16, String) {
    let head = format!("PUT /v1.50/containers/box/archive?path=/tmp HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-tar\r\nContent-Length: {}", tar.len());
    raw(d, &head, tar)
}

/// Device nodes anywhere under `dir` other than overlay's 0:0 whiteouts.
fn device_nodes(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let Ok(md) = std::fs::symlink_metadata(e.path()) else { continue };
        let ft = md.file_type();
        if ft.is_block_device() || (ft.is_char_device() && md.rdev() != 0) {
            out.push(e.path().display().to_string());
        } else if ft.is_dir() {
            out.extend(device_nodes(&e.path()));
        }
    }
    out
}

#[test]
fn hostile_tar_streams_are_refused_without_buffering_them() {
    let d = TestDaemon::start();
    d.docker(&["create", "--name", "box", "busybox", "true"]).assert_ok();
    let images = d.docker(&["images", "-q", "--no-trunc"]).assert_ok().out();
    let want = "tar extended header of 2097152 bytes (at most 1048576 are accepted)";
    // GNU long names, long link names and PAX headers of 2 MiB: the tar
    // crate would buffer them whole (a client could stream gigabytes).
    for kind in [tar::EntryType::GNULongName, tar::EntryType::GNULongLink, tar::EntryType::XHeader] {
        let t = with_extension(kind, 2 << 20);
        let (status, resp) = import(&d, &t);
        assert_eq!(status, 400, "import {kind:?}: {}", &resp[..resp.len().min(300)]);
        assert!(message(body_of(&resp)).contains(want), "import {kind:?}: {resp}");
        let (status, resp) = put_archive(&d, &t);
        assert_eq!(status, 400, "archive {kind:?}: {resp}");
        assert!(message(body_of(&resp)).contains(want), "archive {kind:?}: {resp}");
        // `load` reads the same way (the archive's own tar); as dockerd's,
        // its answer is a 200 progress stream ending in the error.
        let head = format!("POST /v1.50/images/load HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-tar\r\nContent-Length: {}", t.len());
        let (status, resp) = raw(&d, &head, &t);
        assert_eq!(status, 200, "load {kind:?}: {resp}");
        let last: serde_json::Value = serde_json::from_str(body_of(&resp).lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("load {kind:?}: last line not JSON ({e}): {resp}"));
        assert!(last["errorDetail"]["message"].as_str().is_some_and(|m| m.contains(want)), "load {kind:?}: {resp}");
    }
    // A regular file whose header claims 8 GiB on a short stream.
    let mut t = header(tar::EntryType::Regular, "big", 8 << 30).as_bytes().to_vec();
    t.extend_from_slice(&[b'x'; 4096]);
    let (status, resp) = import(&d, &t);
    assert_eq!(status, 400, "short stream: {resp}");
    let (status, resp) = put_archive(&d, &t);
    assert_eq!(status, 400, "short stream archive: {resp}");
    // A GNU sparse entry whose map claims a 1 GiB file: skipped, never expanded.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_path("sparse").expect("path");
    h.set_size(512);
    h.set_mode(0o644);
    if let Some(g) = h.as_gnu_mut() {
        g.sparse[0].offset = *b"10000000000\0";
        g.sparse[0].numbytes = *b"00000001000\0";
        g.realsize = *b"10000001000\0";
    }
    h.set_cksum();
    let mut t = h.as_bytes().to_vec();
    t.extend_from_slice(&[b's'; 512]);
    t.extend_from_slice(header(tar::EntryType::Regular, "after", 2).as_bytes());
    t.extend_from_slice(b"ok");
    pad(&mut t);
    t.resize(t.len() + 1024, 0);
    // Device nodes: a layer may not bring host devices in.
    let mut dev = tar::Header::new_gnu();
    dev.set_entry_type(tar::EntryType::Char);
    dev.set_path("mem").expect("path");
    dev.set_device_major(1).expect("major");
    dev.set_device_minor(1).expect("minor");
    dev.set_size(0);
    dev.set_mode(0o666);
    dev.set_cksum();
    let end = t.len() - 1024;
    t.splice(end..end, dev.as_bytes().iter().copied());
    let (status, resp) = import(&d, &t);
    assert_eq!(status, 200, "sparse + device import: {resp}");
    let (status, resp) = put_archive(&d, &t);
    assert_eq!(status, 200, "sparse + device archive: {resp}");
    assert_eq!(device_nodes(&d.data_root()), Vec::<String>::new(), "device node extracted");
    d.docker(&["cp", "box:/tmp/after", "-"]).assert_ok();
    d.docker(&["rmi", "hostile:1"]).assert_ok();
    alive(&d);
    d.docker(&["images", "-q", "--no-trunc"]).assert_ok().assert_stdout(&images);
    d.docker(&["rm", "box"]).assert_ok();
    d.stop();
}

#[test]
fn junk_registry_credentials_are_harmless() {
    let d = TestDaemon::start();
    // A header berthd cannot read counts as no credentials, as dockerd
    // treats it: the pull goes on anonymously (here from Debian's registry
    // on loopback, which has no such repository) and fails as any pull of
    // a missing image does.
    let reg = berth_e2e::registry::Registry::start(None);
    let name = format!("127.0.0.1:{}/busybox", reg.port);
    for auth in ["!!!not-base64!!!".to_string(), "A".repeat(60_000), "eyJ1c2VybmFtZSI6".to_string()] {
        let head = format!("POST /v1.50/images/create?fromImage={name}&tag=latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Registry-Auth: {auth}");
        let (status, resp) = raw(&d, &head, b"");
        assert_eq!(status, 404, "{}", &resp[..resp.len().min(300)]);
        assert!(message(body_of(&resp)).starts_with(&format!("manifest for {name}:latest not found")), "{resp}");
    }
    // A build with a junk X-Registry-Config is refused, not decoded.
    let head = format!("POST /v1.50/build HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Registry-Config: {}\r\nContent-Length: 0", "%".repeat(10_000));
    let (status, resp) = raw(&d, &head, b"");
    assert!((400..500).contains(&status), "{resp}");
    alive(&d);
    d.stop();
}
