//! `cp` both ways, with docker's path rules, errors, and escape attempts
//! through container symlinks (nothing outside the rootfs is read or written).

use berth_e2e::{both, Cli, TestDaemon};
use std::fs;
use std::path::{Path, PathBuf};

/// A local tree: h/f, h/dir/a, h/dir/sub/.
fn local(d: &TestDaemon) -> PathBuf {
    let h = d.dir().join("h");
    fs::create_dir_all(h.join("dir/sub")).expect("mkdir");
    fs::write(h.join("f"), "file\n").expect("write");
    fs::write(h.join("dir/a"), "a\n").expect("write");
    h
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A host directory that escapes aim at; it must never change.
fn host_marker(d: &TestDaemon) -> PathBuf {
    let m = d.dir().join("hostmark");
    fs::create_dir_all(&m).expect("mkdir");
    fs::write(m.join("keep"), "host secret\n").expect("write");
    m
}

fn host_unchanged(m: &Path) {
    let names: Vec<_> = fs::read_dir(m).expect("read_dir").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names, vec!["keep"], "host marker dir changed");
    assert_eq!(fs::read_to_string(m.join("keep")).expect("read"), "host secret\n");
}

fn cat(d: &TestDaemon, c: Cli, path: &str) -> String {
    d.cli(c, &["exec", "cc", "cat", path]).out()
}

both! {
    fn host_to_container_and_back(d, c) {
        let h = local(d);
        d.cli(c, &["run", "-d", "--name", "cc", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/tmp/"]).assert_ok();
        assert_eq!(cat(d, c, "/tmp/f"), "file");
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/tmp/renamed"]).assert_ok();
        assert_eq!(cat(d, c, "/tmp/renamed"), "file");
        // A directory: into a new name, into an existing dir, and its contents with `/.`.
        d.cli(c, &["cp", &s(&h.join("dir")), "cc:/tmp/d1"]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("dir")), "cc:/tmp/d1"]).assert_ok();
        d.cli(c, &["cp", &format!("{}/.", s(&h.join("dir"))), "cc:/tmp/d2"]).assert_ok();
        d.cli(c, &["exec", "cc", "mkdir", "/tmp/d3"]).assert_ok();
        d.cli(c, &["cp", &format!("{}/.", s(&h.join("dir"))), "cc:/tmp/d3"]).assert_ok();
        let found = d.cli(c, &["exec", "cc", "sh", "-c", "find /tmp/d1 /tmp/d2 /tmp/d3 | sort"]).assert_ok().out();
        assert_eq!(found, "/tmp/d1\n/tmp/d1/a\n/tmp/d1/dir\n/tmp/d1/dir/a\n/tmp/d1/dir/sub\n/tmp/d1/sub\n/tmp/d2\n/tmp/d2/a\n/tmp/d2/sub\n/tmp/d3\n/tmp/d3/a\n/tmp/d3/sub");
        // Back to the host.
        let out = d.dir().join("out");
        fs::create_dir_all(&out).expect("mkdir");
        d.cli(c, &["cp", "cc:/tmp/f", &s(&out.join("g"))]).assert_ok();
        assert_eq!(fs::read_to_string(out.join("g")).expect("g"), "file\n");
        d.cli(c, &["cp", "cc:/etc/passwd", &s(&out)]).assert_ok();
        assert!(fs::read_to_string(out.join("passwd")).expect("passwd").starts_with("root:"));
        d.cli(c, &["cp", "cc:/tmp/d2", &s(&out.join("d2"))]).assert_ok();
        assert_eq!(fs::read_to_string(out.join("d2/a")).expect("a"), "a\n");
        d.cli(c, &["cp", "cc:/tmp/d2/.", &s(&out)]).assert_ok();
        assert_eq!(fs::read_to_string(out.join("a")).expect("a"), "a\n");
        assert!(out.join("sub").is_dir());
    }
}

both! {
    fn tar_streams_both_ways(d, c) {
        d.cli(c, &["run", "-d", "--name", "cc", "busybox", "sleep", "1000"]).assert_ok();
        let mut b = tar::Builder::new(Vec::new());
        let mut hd = tar::Header::new_gnu();
        hd.set_size(3);
        hd.set_mode(0o640);
        hd.set_uid(1234);
        hd.set_gid(5678);
        hd.set_cksum();
        b.append_data(&mut hd, "x/y", &b"hi\n"[..]).expect("tar");
        let t = b.into_inner().expect("tar");
        d.cli_with_stdin_bytes(c, &["cp", "-", "cc:/tmp"], &t).assert_ok();
        assert_eq!(cat(d, c, "/tmp/x/y"), "hi");
        d.cli(c, &["exec", "cc", "stat", "-c", "%u:%g %a", "/tmp/x/y"]).assert_ok().assert_stdout("1234:5678 640");
        d.cli_with_stdin_bytes(c, &["cp", "-", "cc:/tmp/x/y"], &t).assert_fail().assert_stderr_contains("destination \"cc:/tmp/x/y\" must be a directory");
        let out = d.dir().join("stream.tar");
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{} cp cc:/tmp/x - > {}", if c == Cli::Docker { "docker".to_string() } else { s(&d.bin_dir().join("berth")) }, s(&out)))
            .env("DOCKER_HOST", d.host()).env("BERTH_HOST", d.host()).env("DOCKER_CONFIG", d.dir().join("docker-config"))
            .status().expect("sh");
        assert!(o.success());
        let mut ar = tar::Archive::new(fs::File::open(&out).expect("tar"));
        let names: Vec<String> = ar.entries().expect("tar").map(|e| e.expect("entry").path().expect("path").to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["x/", "x/y"]);
    }
}

both! {
    fn stopped_container_and_errors(d, c) {
        let h = local(d);
        d.cli(c, &["create", "--name", "cc", "busybox", "cat", "/tmp/f"]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/tmp/f"]).assert_ok();
        assert!(d.leaked_mounts().is_empty(), "cp into a stopped container leaves no mount");
        d.cli(c, &["start", "-a", "cc"]).assert_ok().assert_stdout("file");
        let out = d.dir().join("o");
        d.cli(c, &["cp", "cc:/tmp/f", &s(&out)]).assert_ok();
        assert_eq!(fs::read_to_string(&out).expect("o"), "file\n");
        assert!(d.leaked_mounts().is_empty());
        d.cli(c, &["cp", "cc:/nope", &s(&d.dir().join("x"))]).assert_fail().assert_stderr_contains("Error response from daemon: Could not find the file /nope in container cc");
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/nodir/x"]).assert_fail().assert_stderr_contains("Could not find the file /nodir in container cc");
        d.cli(c, &["cp", &s(&h.join("nope")), "cc:/tmp/"]).assert_fail().assert_stderr_contains(&format!("lstat {}: no such file or directory", s(&h.join("nope"))));
        d.cli(c, &["cp", &s(&h.join("dir")), "cc:/tmp/f"]).assert_fail().assert_stderr_contains("cannot copy directory");
        d.cli(c, &["cp", "cc:/etc", &s(&h.join("f"))]).assert_fail().assert_stderr_contains("cannot copy directory");
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/nodir/"]).assert_fail().assert_stderr_contains("no such directory");
        d.cli(c, &["cp", "cc:/etc/passwd", &s(&h.join("nodir/x/y"))]).assert_fail().assert_stderr_contains(&format!("invalid output path: directory \"{}\" does not exist", s(&h.join("nodir/x"))));
        d.cli(c, &["cp", "nosuch:/x", &s(&h)]).assert_fail().assert_stderr_contains("No such container: nosuch");
        d.cli(c, &["cp", &s(&h.join("f")), &s(&h.join("g"))]).assert_fail().assert_stderr_contains("must specify at least one container source");
        d.cli(c, &["cp", "cc:/a", "cc:/b"]).assert_fail().assert_stderr_contains("copying between containers is not supported");
        assert!(d.leaked_mounts().is_empty());
    }
}

both! {
    fn follow_link_and_archive_mode(d, c) {
        let h = local(d);
        d.cli(c, &["run", "-d", "--name", "cc", "--user", "65534:65534", "busybox", "sh", "-c", "ln -s /etc/passwd /tmp/pw; sleep 1000"]).assert_ok();
        berth_e2e::wait_until(std::time::Duration::from_secs(5), || d.cli(c, &["exec", "cc", "ls", "/tmp/pw"]).code == 0);
        let out = d.dir().join("o");
        fs::create_dir_all(&out).expect("mkdir");
        d.cli(c, &["cp", "cc:/tmp/pw", &s(&out)]).assert_ok();
        assert!(fs::symlink_metadata(out.join("pw")).expect("pw").file_type().is_symlink(), "without -L the link itself");
        d.cli(c, &["cp", "-L", "cc:/tmp/pw", &s(&out.join("pw2"))]).assert_ok();
        assert!(fs::read_to_string(out.join("pw2")).expect("pw2").starts_with("root:"));
        d.cli(c, &["cp", "-a", &s(&h.join("f")), "cc:/tmp/owned"]).assert_ok();
        d.cli(c, &["exec", "cc", "stat", "-c", "%u:%g", "/tmp/owned"]).assert_ok().assert_stdout("65534:65534");
    }
}

both! {
    fn volumes_are_copied_into(d, c) {
        let h = local(d);
        d.cli(c, &["run", "-d", "--name", "cc", "-v", "cpvol:/data", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/data/"]).assert_ok();
        assert_eq!(cat(d, c, "/data/f"), "file");
        d.cli(c, &["run", "--rm", "-v", "cpvol:/v", "busybox", "cat", "/v/f"]).assert_ok().assert_stdout("file");
        d.cli(c, &["rm", "-f", "cc"]).assert_ok();
        d.cli(c, &["volume", "rm", "cpvol"]).assert_ok();
    }
}

both! {
    fn container_symlinks_never_escape(d, c) {
        let h = local(d);
        let m = host_marker(d);
        let ms = s(&m);
        // The container plants links to the host marker dir and to `/`.
        let script = format!("ln -s {ms} /esc; ln -s / /root2; ln -s ../../../../../.. /up; mkdir -p {ms}; echo container > {ms}/keep; ln -s {ms}/keep /tmp/k; sleep 1000");
        d.cli(c, &["run", "-d", "--name", "cc", "busybox", "sh", "-c", &script]).assert_ok();
        berth_e2e::wait_until(std::time::Duration::from_secs(5), || d.cli(c, &["exec", "cc", "ls", "/tmp/k"]).code == 0);
        // Writes through the links land in the container's own tree.
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/esc/"]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("f")), "cc:/esc/keep"]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("dir")), &format!("cc:/up{ms}/dd")]).assert_ok();
        d.cli(c, &["cp", &s(&h.join("f")), &format!("cc:/root2{ms}/viaroot")]).assert_ok();
        host_unchanged(&m);
        assert_eq!(cat(d, c, &format!("{ms}/f")), "file");
        assert_eq!(cat(d, c, &format!("{ms}/viaroot")), "file");
        // A tar whose entries climb out or write through a link it planted.
        for t in [hostile(&[("../../../../x", None, "")]), hostile(&[("l", Some(ms.as_str()), ""), ("l/pwn", None, "")]), hostile(&[("esc/pwn", None, "")])] {
            d.cli_with_stdin_bytes(c, &["cp", "-", "cc:/"], &t);
            host_unchanged(&m);
        }
        // Reads through the links read the container's file, never the host's.
        let out = d.dir().join("read");
        fs::create_dir_all(&out).expect("mkdir");
        d.cli(c, &["cp", "-L", "cc:/tmp/k", &s(&out.join("k"))]).assert_ok();
        assert_eq!(fs::read_to_string(out.join("k")).expect("k"), "file\n", "container's own file (overwritten above)");
        d.cli(c, &["cp", "cc:/esc/keep", &s(&out.join("k2"))]).assert_ok();
        assert_eq!(fs::read_to_string(out.join("k2")).expect("k2"), "file\n");
        // A link to /etc/shadow: the container has none, so the copy fails (the host's is never read).
        d.cli(c, &["exec", "cc", "sh", "-c", "rm -f /etc/shadow; ln -s /etc/shadow /sh"]).assert_ok();
        d.cli(c, &["cp", "-L", "cc:/sh", &s(&out.join("shadow"))]).assert_fail();
        d.cli(c, &["cp", "cc:/sh/", &s(&out.join("shadow"))]).assert_fail();
        assert!(!out.join("shadow").exists());
        d.cli(c, &["exec", "cc", "sh", "-c", "echo mine > /etc/shadow"]).assert_ok();
        d.cli(c, &["cp", "-L", "cc:/sh", &s(&out.join("shadow"))]).assert_ok();
        assert_eq!(fs::read_to_string(out.join("shadow")).expect("shadow"), "mine\n");
        host_unchanged(&m);
    }
}

/// A raw tar (names the tar crate would refuse): (name, symlink target, data).
fn hostile(entries: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        if let Some(g) = h.as_gnu_mut() {
            g.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(l) = link {
                g.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_entry_type(if link.is_some() { tar::EntryType::Symlink } else { tar::EntryType::Regular });
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, data.as_bytes()).expect("tar");
    }
    b.into_inner().expect("tar")
}

both! {
    /// A running container keeps swapping a directory for a symlink to the host
    /// while files are copied into it: every write stays inside.
    fn racing_symlink_swap_stays_inside(d, c) {
        let h = local(d);
        let m = host_marker(d);
        let ms = s(&m);
        let script = format!("while true; do mkdir -p /race; rm -rf /race; ln -s {ms} /race; rm -f /race; mkdir -p /race/sub; done");
        d.cli(c, &["run", "-d", "--name", "cc", "busybox", "sh", "-c", &script]).assert_ok();
        for _ in 0..20 {
            let _ = d.cli(c, &["cp", &s(&h.join("dir")), "cc:/race/sub/x"]);
            let _ = d.cli(c, &["cp", &s(&h.join("f")), "cc:/race/"]);
            host_unchanged(&m);
        }
    }
}
