//! The same Dockerfiles built by berthd and by dockerd's classic builder,
//! compared: the image's filesystem (path, type, mode, owner, size,
//! content, link target; not mtimes) and its Config and history.
//! Needs Debian's docker.io (dockerd), so it is ignored by default:
//! `cargo test -p berth-e2e --test build_vs_dockerd -- --ignored`.

use berth_e2e::{busybox_tar, TestDaemon};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// dockerd on its own roots, without a bridge or iptables (it never
/// touches the host's network; the builds use `--network none`).
struct Dockerd {
    child: Child,
    dir: PathBuf,
}

impl Dockerd {
    fn start(dir: &Path) -> Dockerd {
        let bin = Path::new("/usr/sbin/dockerd");
        assert!(bin.exists(), "this test compares with dockerd: install Debian's docker.io");
        std::fs::create_dir_all(dir).expect("mkdir");
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("log");
        let child = Command::new(bin)
            .args(["--data-root", &format!("{}/data", dir.display()), "--exec-root", &format!("{}/exec", dir.display())])
            .args(["-H", &format!("unix://{}/docker.sock", dir.display()), "--pidfile", &format!("{}/docker.pid", dir.display())])
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn dockerd");
        let d = Dockerd { child, dir: dir.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !d.docker(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "dockerd did not come up: {}", std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(200));
        }
        d
    }

    fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CONFIG", self.dir.join("config"))
            .args(["-H", &format!("unix://{}/docker.sock", self.dir.display())])
            .args(args)
            .output()
            .expect("docker")
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // SAFETY: SIGTERM to the dockerd this test spawned.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = Command::new("umount").arg("-R").arg(self.dir.join("data")).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One entry of an exported filesystem, mtimes left out.
fn listing(tar_bytes: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut a = tar::Archive::new(tar_bytes);
    for e in a.entries().expect("tar") {
        let mut e = e.expect("entry");
        let path = e.path().expect("path").to_string_lossy().trim_end_matches('/').to_string();
        // Files the runtime provides, not the image; and dockerd's "init
        // layer" (/dev/console, /dev/pts, /dev/shm, /etc/mtab), which its
        // `export` of any container carries and berth's does not.
        const RUNTIME: &[&str] = &[".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf", "dev/console", "dev/pts", "dev/shm", "etc/mtab"];
        if RUNTIME.contains(&path.as_str()) {
            continue;
        }
        let xattrs: Vec<String> = e
            .pax_extensions()
            .ok()
            .flatten()
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|x| x.key().is_ok_and(|k| k.starts_with("SCHILY.xattr.")))
            .map(|x| format!("{}={:02x?}", x.key().unwrap_or_default(), x.value_bytes()))
            .collect();
        let h = e.header().clone();
        let mut data = Vec::new();
        let _ = e.read_to_end(&mut data);
        let link = e.link_name().ok().flatten().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
        let digest = format!("{:x}", data.iter().fold(0u64, |a, b| a.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(*b))));
        out.insert(
            path,
            format!(
                "{:?} {:o} {}:{} size={} link={link} data={digest} xattrs={xattrs:?}",
                h.entry_type(),
                h.mode().unwrap_or(0) & 0o7777,
                h.uid().unwrap_or(0),
                h.gid().unwrap_or(0),
                data.len()
            ),
        );
    }
    out
}

fn export(run: impl Fn(&[&str]) -> std::process::Output, image: &str, out: &Path) -> BTreeMap<String, String> {
    let c = run(&["create", image, "true"]);
    assert!(c.status.success(), "create {image}: {}", String::from_utf8_lossy(&c.stderr));
    let id = String::from_utf8_lossy(&c.stdout).trim().to_string();
    let e = run(&["export", "-o", out.to_str().expect("utf8"), &id]);
    assert!(e.status.success(), "export: {}", String::from_utf8_lossy(&e.stderr));
    run(&["rm", &id]);
    listing(&std::fs::read(out).expect("read export"))
}

fn config(run: impl Fn(&[&str]) -> std::process::Output, image: &str) -> serde_json::Value {
    let o = run(&["image", "inspect", "-f", "{{json .Config}}", image]);
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("config json");
    if let Some(m) = v.as_object_mut() {
        // The builder's container hostname and image are per-run values.
        for k in ["Hostname", "Image"] {
            m.remove(k);
        }
    }
    v
}

fn history(run: impl Fn(&[&str]) -> std::process::Output, image: &str) -> Vec<String> {
    let o = run(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", image]);
    String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
}

/// (name, Dockerfile, context files as (path, content)).
type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

const CORPUS: &[Case] = &[
    (
        "node-style",
        "FROM busybox\nWORKDIR /usr/src/app\nCOPY package.json ./\nRUN echo installed > node_modules.txt\nCOPY . .\nEXPOSE 3000\nCMD [\"sh\", \"-c\", \"cat package.json\"]\n",
        &[("package.json", "{\"name\":\"app\"}\n"), ("server.js", "console.log(1)\n"), ("lib/util.js", "x\n")],
    ),
    (
        "nginx-style",
        "FROM busybox\nRUN mkdir -p /etc/nginx/conf.d && echo nginx:x:101:101::/nonexistent:/bin/false >> /etc/passwd && echo nginx:x:101: >> /etc/group\nCOPY default.conf /etc/nginx/conf.d/\nCOPY --chown=101:101 site/ /usr/share/nginx/html/\nVOLUME /var/cache/nginx\nSTOPSIGNAL SIGQUIT\nUSER nginx\nENTRYPOINT [\"sh\"]\nCMD [\"-c\", \"ls /usr/share/nginx/html\"]\n",
        &[("default.conf", "server { listen 80; }\n"), ("site/index.html", "<h1>hi</h1>\n"), ("site/img/logo.txt", "logo\n")],
    ),
    (
        "redis-style",
        "FROM busybox\nENV REDIS_VERSION=7.2 DATA=/data\nRUN echo redis:x:999:999::/data:/bin/sh >> /etc/passwd && echo redis:x:999: >> /etc/group && mkdir $DATA && chown redis:redis $DATA\nARG BUILD_NOTE=none\nRUN echo \"$BUILD_NOTE $REDIS_VERSION\" > /version && mkdir -p /usr/local && ln -s /version /usr/local/version\nWORKDIR $DATA\nHEALTHCHECK --interval=5s --timeout=3s CMD [\"true\"]\nLABEL org.example.kind=cache\nCMD [\"cat\", \"/version\"]\n",
        &[],
    ),
    (
        "multi-stage",
        "FROM busybox AS build\nRUN mkdir /out && echo compiled > /out/app && chmod 755 /out/app\nFROM busybox AS unused\nRUN echo never > /never\nFROM busybox\nCOPY --from=build /out/app /usr/local/bin/app\nADD notes.tar /opt/\nCMD [\"/usr/local/bin/app\"]\n",
        &[],
    ),
    (
        // A Debian-style base made here: a rootfs tarball (gzip) with the entry kinds a
        // distribution image holds — setuid and sticky modes, a hard link, relative
        // and absolute symlinks, non-root owners, a setgid directory — then busybox.
        "debian-style",
        "FROM scratch\nADD rootfs.tar.gz /\nCOPY --from=busybox /bin/busybox /bin/busybox\nCOPY ping /bin/ping\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox mkdir -p /usr/local/bin && /bin/busybox --install -s /bin && echo debian-style > /etc/motd\"]\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nRUN chmod 0640 /etc/shadow && chown 0:42 /etc/shadow\nCMD [\"sh\"]\n",
        &[("ping", "#!/bin/sh\necho pong\n")],
    ),
];

/// cap_net_raw+ep as `setcap` writes it (revision 2), on `usr/bin/arping` in the
/// Debian-style rootfs tarball and on the context's `ping` (which neither the docker
/// CLI nor `berth build` puts in the context tar: both images have it without).
const NET_RAW: [u8; 20] = [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// A PAX header giving the next entry `security.capability`.
fn append_caps<W: std::io::Write>(b: &mut tar::Builder<W>) {
    let key = "SCHILY.xattr.security.capability";
    let body = key.len() + NET_RAW.len() + 3;
    let len = body + 2; // two digits
    let mut rec = format!("{len} {key}=").into_bytes();
    rec.extend_from_slice(&NET_RAW);
    rec.push(b'\n');
    assert_eq!(rec.len(), len);
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(rec.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "PaxHeaders/caps", &rec[..]).expect("pax");
}

/// The Debian-style base's rootfs: (path, type, mode, uid, gid, data or link target).
const ROOTFS: &[(&str, tar::EntryType, u32, u64, u64, &str)] = &[
    ("bin/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("etc/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("etc/debian_version", tar::EntryType::Regular, 0o644, 0, 0, "12.8\n"),
    ("etc/os-release", tar::EntryType::Symlink, 0o777, 0, 0, "../usr/lib/os-release"),
    ("etc/passwd", tar::EntryType::Regular, 0o644, 0, 0, "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"),
    ("etc/shadow", tar::EntryType::Regular, 0o600, 0, 0, "root:*:19000:0:99999:7:::\n"),
    ("home/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("home/user/", tar::EntryType::Directory, 0o700, 1000, 1000, ""),
    ("home/user/.profile", tar::EntryType::Regular, 0o644, 1000, 1000, "PS1='$ '\n"),
    ("tmp/", tar::EntryType::Directory, 0o1777, 0, 0, ""),
    ("usr/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("usr/bin/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("usr/bin/passwd", tar::EntryType::Regular, 0o4755, 0, 0, "#!/bin/sh\necho passwd\n"),
    ("usr/bin/chfn", tar::EntryType::Link, 0o4755, 0, 0, "usr/bin/passwd"),
    ("usr/bin/arping", tar::EntryType::Regular, 0o755, 0, 0, "#!/bin/sh\necho arping\n"),
    ("usr/lib/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("usr/lib/os-release", tar::EntryType::Regular, 0o644, 0, 0, "PRETTY_NAME=\"Berth Debian-style\"\nID=debian\n"),
    ("usr/sbin/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("usr/sbin/nologin", tar::EntryType::Symlink, 0o777, 0, 0, "/bin/false"),
    ("var/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("var/lib/dpkg/", tar::EntryType::Directory, 0o755, 0, 0, ""),
    ("var/lib/dpkg/status", tar::EntryType::Regular, 0o644, 0, 0, "Package: base-files\nStatus: install ok installed\n"),
    ("var/mail/", tar::EntryType::Directory, 0o2775, 0, 8, ""),
];

fn rootfs_tar_gz() -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (path, kind, mode, uid, gid, data) in ROOTFS {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(*mode);
        h.set_uid(*uid);
        h.set_gid(*gid);
        h.set_mtime(1_700_000_000);
        let body: &[u8] = if matches!(kind, tar::EntryType::Regular) { data.as_bytes() } else { b"" };
        h.set_size(body.len() as u64);
        if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
            h.set_link_name(data).expect("link name");
        }
        h.set_path(path).expect("path");
        h.set_cksum();
        if *path == "usr/bin/arping" {
            append_caps(&mut b);
        }
        b.append(&h, body).expect("tar");
    }
    b.into_inner().expect("tar").finish().expect("gzip")
}

/// History lines that may differ, each for a stated reason: (case, the start of
/// dockerd's line, berthd's exact line). Anything else that differs fails the test.
const KNOWN: &[(&str, &str, &str)] = &[
    // dockerd up to 29.4 formats HEALTHCHECK with Go's %q, which prints the struct
    // positionally (and its Retries as a rune); moby 29.5 (Go 1.26 vet) switched to
    // %+v, the form berth writes.
    (
        "redis-style",
        "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD\" \"true\"] \"5s\" \"3s\" \"0s\" ",
        "/bin/sh -c #(nop)  HEALTHCHECK &{Test:[CMD true] Interval:5s Timeout:3s StartPeriod:0s StartInterval:0s Retries:0}",
    ),
    // A `COPY --from` source is hashed from the file on disk: dockerd before 24.0
    // put the file-type bits in the mode (0100755) and looked up the owner's name
    // ("root") into the tar header it hashes; 24.0 and later (and berth) do neither.
    (
        "multi-stage",
        "/bin/sh -c #(nop) COPY file:a64d6f09bb7c3d88bdc0cb6b8bc7259cd2d045653136ee00fb7f06c4076253e7 in /usr/local/bin/app ",
        "/bin/sh -c #(nop) COPY file:6f26a62110837f5c1101bd1835b51611403e2d9ecb22913b6489f165359f61f7 in /usr/local/bin/app ",
    ),
    // The same, for the busybox binary (its hash follows Debian's busybox-static).
    (
        "debian-style",
        "/bin/sh -c #(nop) COPY file:",
        "/bin/sh -c #(nop) COPY file:",
    ),
];

fn notes_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [("notes/a.txt", "a\n"), ("notes/b.txt", "b\n")] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o640);
        h.set_uid(1000);
        h.set_gid(1000);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_bytes()).expect("tar");
    }
    b.into_inner().expect("tar")
}

#[test]
#[ignore = "compares with dockerd: needs Debian's docker.io; run with --ignored"]
fn the_corpus_builds_the_same_on_berthd_and_dockerd() {
    let d = TestDaemon::start();
    let dockerd = Dockerd::start(&d.dir().join("dockerd"));
    let load = dockerd.docker(&["load", "-i", busybox_tar().to_str().expect("utf8")]);
    assert!(load.status.success(), "{}", String::from_utf8_lossy(&load.stderr));
    let berth = |args: &[&str]| {
        let mut c = Command::new(berth_e2e::bin_dir().join("berth"));
        c.env("BERTH_HOST", d.host()).args(args);
        c.output().expect("berth")
    };
    let docker = |args: &[&str]| dockerd.docker(args);
    let mut differences = Vec::new();
    let mut known_seen = Vec::new();
    for (name, dockerfile, files) in CORPUS {
        let ctx = d.dir().join(format!("ctx-{name}"));
        std::fs::create_dir_all(&ctx).expect("mkdir");
        std::fs::write(ctx.join("Dockerfile"), dockerfile).expect("write");
        std::fs::write(ctx.join("notes.tar"), notes_tar()).expect("write");
        std::fs::write(ctx.join("rootfs.tar.gz"), rootfs_tar_gz()).expect("write");
        for (p, data) in *files {
            let f = ctx.join(p);
            std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
            std::fs::write(&f, data).expect("write");
            if *p == "ping" {
                let c = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).expect("path");
                // SAFETY: valid NUL-terminated path and name; NET_RAW is readable for its length.
                let rc = unsafe { libc::setxattr(c.as_ptr(), c"security.capability".as_ptr(), NET_RAW.as_ptr().cast(), NET_RAW.len(), 0) };
                assert_eq!(rc, 0, "setxattr: {}", std::io::Error::last_os_error());
            }
        }
        let tag = format!("corpus-{name}");
        let args = ["build", "--network", "none", "-t", &tag, ctx.to_str().expect("utf8")];
        let b = berth(&args);
        assert!(b.status.success(), "berth build {name}: {}", String::from_utf8_lossy(&b.stderr));
        let k = docker(&args);
        assert!(k.status.success(), "dockerd build {name}: {}", String::from_utf8_lossy(&k.stderr));
        let fb = export(berth, &tag, &d.dir().join("b.tar"));
        let fk = export(docker, &tag, &d.dir().join("k.tar"));
        // The comparison means something only if the images hold what was built.
        assert!(fk.len() > 100 && fb.len() > 100, "{name}: {} / {} entries exported", fk.len(), fb.len());
        if *name == "debian-style" {
            // The entry kinds this case is for reached dockerd's image (so a berthd
            // image without them shows up as a difference).
            for (p, what) in [("usr/bin/arping", "security.capability"), ("usr/bin/passwd", "Link"), ("tmp", "Directory 1777")] {
                assert!(fk.get(p).is_some_and(|e| e.contains(what)), "{name}: dockerd's /{p} {:?} lacks {what}", fk.get(p));
            }
        }
        for (p, want) in &fk {
            match fb.get(p) {
                // dockerd's init layer also makes these mount points in every
                // container (an image made FROM scratch has none of its own).
                None if ["dev", "proc", "sys"].contains(&p.as_str()) => {}
                None => differences.push(format!("{name}: /{p} only in dockerd's ({want})")),
                Some(got) if got != want => differences.push(format!("{name}: /{p}: dockerd {want}, berthd {got}")),
                _ => {}
            }
        }
        for p in fb.keys().filter(|p| !fk.contains_key(*p)) {
            differences.push(format!("{name}: /{p} only in berthd's"));
        }
        let (cb, ck) = (config(berth, &tag), config(docker, &tag));
        if cb != ck {
            differences.push(format!("{name}: Config\n  dockerd {ck}\n  berthd  {cb}"));
        }
        let (hb, hk) = (history(berth, &tag), history(docker, &tag));
        assert!(hb.len() > 1, "{name}: berth history {hb:?}");
        if hb.len() != hk.len() {
            differences.push(format!("{name}: history\n  dockerd {hk:?}\n  berthd  {hb:?}"));
        }
        for (b, k) in hb.iter().zip(&hk) {
            let known = KNOWN.iter().any(|(case, kp, bl)| case == name && k.starts_with(kp) && (b == bl || (bl.len() < 40 && b.starts_with(bl))));
            if b != k && !known {
                differences.push(format!("{name}: history line\n  dockerd {k}\n  berthd  {b}"));
            } else if b != k {
                known_seen.push(format!("{name}: {b}"));
            }
        }
    }
    drop(dockerd);
    d.stop();
    eprintln!("known, documented differences seen: {known_seen:#?}");
    assert!(differences.is_empty(), "{} difference(s):\n{}", differences.len(), differences.join("\n"));
}
