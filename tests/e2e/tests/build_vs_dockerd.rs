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
        let h = e.header().clone();
        let mut data = Vec::new();
        let _ = e.read_to_end(&mut data);
        let link = e.link_name().ok().flatten().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
        let digest = format!("{:x}", data.iter().fold(0u64, |a, b| a.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(*b))));
        out.insert(
            path,
            format!(
                "{:?} {:o} {}:{} size={} link={link} data={digest}",
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
    for (name, dockerfile, files) in CORPUS {
        let ctx = d.dir().join(format!("ctx-{name}"));
        std::fs::create_dir_all(&ctx).expect("mkdir");
        std::fs::write(ctx.join("Dockerfile"), dockerfile).expect("write");
        std::fs::write(ctx.join("notes.tar"), notes_tar()).expect("write");
        for (p, data) in *files {
            let f = ctx.join(p);
            std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
            std::fs::write(f, data).expect("write");
        }
        let tag = format!("corpus-{name}");
        let args = ["build", "--network", "none", "-t", &tag, ctx.to_str().expect("utf8")];
        let b = berth(&args);
        assert!(b.status.success(), "berth build {name}: {}", String::from_utf8_lossy(&b.stderr));
        let k = docker(&args);
        assert!(k.status.success(), "dockerd build {name}: {}", String::from_utf8_lossy(&k.stderr));
        let fb = export(berth, &tag, &d.dir().join("b.tar"));
        let fk = export(docker, &tag, &d.dir().join("k.tar"));
        for (p, want) in &fk {
            match fb.get(p) {
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
        if hb != hk {
            differences.push(format!("{name}: history\n  dockerd {hk:?}\n  berthd  {hb:?}"));
        }
    }
    drop(dockerd);
    d.stop();
    assert!(differences.is_empty(), "{} difference(s):\n{}", differences.len(), differences.join("\n"));
}
