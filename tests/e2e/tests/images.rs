//! load, images, tag, rmi, save, import, history, inspect; hostile archives.
use std::path::{Path, PathBuf};
use std::process::Command;

use berth_e2e::{both, Cli, TestDaemon};

fn image_id(d: &TestDaemon, c: Cli, name: &str) -> String {
    d.cli(c, &["image", "inspect", "-f", "{{.Id}}", name]).assert_ok().out()
}

fn sha256_file(p: &Path) -> String {
    let o = Command::new("sha256sum").arg(p).output().expect("sha256sum");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

/// A rootfs tarball with /bin/busybox only, for `import`.
fn rootfs_tar(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let f = std::fs::File::create(&out).expect("create rootfs tar");
    let mut b = tar::Builder::new(f);
    b.append_path_with_name("/bin/busybox", "bin/busybox").expect("append busybox");
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_cksum();
    b.append_link(&mut h, "bin/sh", "busybox").expect("append sh");
    b.append_data(&mut tar_file_header(name.len() as u64), "marker", name.as_bytes()).expect("marker");
    b.finish().expect("finish");
    out
}

fn tar_file_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    h
}

/// Appends an entry whose name is written raw into the header, bypassing
/// the tar crate's own path checks (which refuse `..`).
fn append_raw(b: &mut tar::Builder<std::fs::File>, name: &str, kind: tar::EntryType, link: Option<&str>, data: &[u8]) {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            old.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(if kind == tar::EntryType::Symlink { 0o777 } else { 0o644 });
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, data).expect("append raw");
}

/// A docker-save archive `hostile:latest` whose only layer is `layer`.
fn save_archive(dir: &Path, name: &str, layer: &Path) -> PathBuf {
    let diff_id = sha256_file(layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh"]}},"rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}}}}"#
    );
    let cfg_path = dir.join(format!("{name}-config.json"));
    std::fs::write(&cfg_path, &config).expect("write config");
    let cfg_id = sha256_file(&cfg_path);
    let manifest = format!(r#"[{{"Config":"{cfg_id}.json","RepoTags":["hostile:latest"],"Layers":["{diff_id}/layer.tar"]}}]"#);
    let out = dir.join(name);
    let mut b = tar::Builder::new(std::fs::File::create(&out).expect("create archive"));
    let layer_bytes = std::fs::read(layer).expect("read layer");
    b.append_data(&mut tar_file_header(config.len() as u64), format!("{cfg_id}.json"), config.as_bytes()).expect("cfg");
    b.append_data(&mut tar_file_header(layer_bytes.len() as u64), format!("{diff_id}/layer.tar"), &layer_bytes[..]).expect("layer");
    b.append_data(&mut tar_file_header(manifest.len() as u64), "manifest.json", manifest.as_bytes()).expect("manifest");
    b.finish().expect("finish");
    out
}

both! {
    fn list_tag_filter(d, c) {
        let id = image_id(d, c, "busybox");
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
        let short = &id[7..19];
        let images = d.cli(c, &["images"]);
        images.assert_ok();
        let lines = images.lines();
        for col in ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"] {
            assert!(lines[0].contains(col), "{images:?}");
        }
        assert_eq!(lines.len(), 2, "{images:?}");
        assert!(lines[1].starts_with("busybox") && lines[1].contains("latest") && lines[1].contains(short), "{images:?}");
        d.cli(c, &["images", "-q"]).assert_ok().assert_stdout(short);

        d.cli(c, &["tag", "busybox", "mybox:1"]).assert_ok();
        d.cli(c, &["tag", &id, "localhost:5000/other/box:v2"]).assert_ok();
        let repos = d.cli(c, &["images", "--format", "{{.Repository}}:{{.Tag}}"]).assert_ok().lines();
        let mut repos = repos.clone();
        repos.sort();
        assert_eq!(repos, vec!["busybox:latest", "localhost:5000/other/box:v2", "mybox:1"]);
        d.cli(c, &["images", "--filter", "reference=busy*", "--format", "{{.Repository}}:{{.Tag}}"])
            .assert_ok()
            .assert_stdout("busybox:latest");
        d.cli(c, &["images", "mybox", "--format", "{{.Repository}}:{{.Tag}}"]).assert_ok().assert_stdout("mybox:1");
        d.cli(c, &["image", "inspect", "-f", "{{json .RepoTags}}", "mybox:1"]).assert_ok().assert_stdout_contains("\"mybox:1\"");
        d.cli(c, &["rmi", "mybox:1"]).assert_ok().assert_stdout("Untagged: mybox:1");
        d.cli(c, &["rmi", "localhost:5000/other/box:v2"]).assert_ok();
        assert_eq!(image_id(d, c, "busybox"), id, "untag removed the image");

        // Retagging a name onto another image leaves the old one dangling.
        let rootfs = rootfs_tar(d.dir(), "one.tar");
        let first = d.cli(c, &["import", &rootfs.display().to_string(), "dang:1"]).assert_ok().out();
        assert!(first.starts_with("sha256:"), "{first}");
        d.cli(c, &["images", "--filter", "dangling=true", "-q"]).assert_ok().assert_stdout("");
        d.cli(c, &["tag", "busybox", "dang:1"]).assert_ok();
        d.cli(c, &["images", "--filter", "dangling=true", "-q"]).assert_ok().assert_stdout(&first[7..19]);
        let dangling = d.cli(c, &["images", "--filter", "dangling=true", "--format", "{{.Repository}}:{{.Tag}}"]).assert_ok().out();
        assert_eq!(dangling, "<none>:<none>");
        d.cli(c, &["rmi", &first[7..19]]).assert_ok();
        d.cli(c, &["images", "--filter", "dangling=true", "-q"]).assert_ok().assert_stdout("");
    }
}

both! {
    fn list_and_prune_time_filters(d, c) {
        // An image imported now is newer than busybox.
        let rootfs = rootfs_tar(d.dir(), "new.tar");
        let newer = d.cli(c, &["import", &rootfs.display().to_string(), "newer:1"]).assert_ok().out();
        let (old_short, new_short) = (image_id(d, c, "busybox")[7..19].to_string(), newer[7..19].to_string());
        d.cli(c, &["images", "-q", "--filter", "since=busybox"]).assert_ok().assert_stdout(&new_short);
        d.cli(c, &["images", "-q", "--filter", "before=newer:1"]).assert_ok().assert_stdout(&old_short);
        d.cli(c, &["images", "-q", "--filter", "since=nosuchimage"]).assert_fail().assert_stderr_contains("No such image: nosuchimage");
        // until: nothing was created before 1971; everything before an hour from now.
        d.cli(c, &["images", "-q", "--filter", "until=1971-01-01T00:00:00Z"]).assert_ok().assert_stdout("");
        let mut all = d.cli(c, &["images", "-q", "--filter", "until=-1h"]).assert_ok().lines();
        all.sort();
        let mut want = vec![old_short.clone(), new_short.clone()];
        want.sort();
        assert_eq!(all, want);
        d.cli(c, &["images", "-q", "--filter", "until=99999999999999999999h"]).assert_fail().assert_stderr_contains("invalid filter 'until=");
        // Prune honours until and label: neither removes newer:1 here.
        d.cli(c, &["image", "prune", "-a", "-f", "--filter", "until=1971-01-01T00:00:00Z"]).assert_ok();
        d.cli(c, &["image", "prune", "-a", "-f", "--filter", "label=nosuchlabel"]).assert_ok();
        d.cli(c, &["image", "inspect", "newer:1"]).assert_ok();
        d.cli(c, &["rmi", "newer:1"]).assert_ok();
    }
}

both! {
    fn rmi_refuses_used_image(d, c) {
        let id = image_id(d, c, "busybox");
        d.cli(c, &["create", "--name", "user", "busybox"]).assert_ok();
        let out = d.cli(c, &["rmi", "busybox"]);
        out.assert_fail();
        assert!(
            out.stderr.contains("must force") || out.stderr.contains("is using its referenced image"),
            "{out:?}"
        );
        let out = d.cli(c, &["rmi", &id]);
        out.assert_fail();
        assert!(out.stderr.contains("must be forced") || out.stderr.contains("is using its referenced image") || out.stderr.contains("must force"), "{out:?}");
        image_id(d, c, "busybox");
        d.cli(c, &["rmi", "-f", "busybox"]).assert_ok().assert_stdout_contains("Untagged: busybox:latest");
        d.cli(c, &["images", "busybox", "-q"]).assert_ok().assert_stdout("");
        d.cli(c, &["inspect", "-f", "{{.Image}}", "user"]).assert_ok().assert_stdout(&id);
        d.cli(c, &["rmi", "nosuchimage"]).assert_fail().assert_stderr_contains("No such image: nosuchimage");
    }
}

both! {
    fn save_rmi_load_round_trip(d, c) {
        let id = image_id(d, c, "busybox");
        let saved = d.dir().join("saved.tar");
        d.cli(c, &["save", "-o", &saved.display().to_string(), "busybox"]).assert_ok();
        d.cli(c, &["rmi", "busybox"]).assert_ok().assert_stdout_contains("Deleted: sha256:");
        d.cli(c, &["images", "-q"]).assert_ok().assert_stdout("");
        d.cli(c, &["load", "-i", &saved.display().to_string()]).assert_ok().assert_stdout("Loaded image: busybox:latest");
        assert_eq!(image_id(d, c, "busybox"), id);
        d.cli(c, &["run", "--rm", "busybox", "echo", "again"]).assert_ok().assert_stdout("again");
        // load from stdin as well
        let bytes = std::fs::read(&saved).expect("read saved");
        d.cli(c, &["rmi", "busybox"]).assert_ok();
        d.cli_with_stdin_bytes(c, &["load"], &bytes).assert_ok().assert_stdout("Loaded image: busybox:latest");
        assert_eq!(image_id(d, c, "busybox"), id);
    }
}

both! {
    fn import_with_change(d, c) {
        let rootfs = rootfs_tar(d.dir(), "rootfs.tar");
        let id = d.cli(c, &["import", "--change", r#"CMD ["/bin/busybox","echo","imported"]"#, &rootfs.display().to_string(), "imp:1"])
            .assert_ok()
            .out();
        assert!(id.starts_with("sha256:"), "{id}");
        d.cli(c, &["run", "--rm", "imp:1"]).assert_ok().assert_stdout("imported");
        d.cli(c, &["run", "--rm", "imp:1", "/bin/busybox", "cat", "/marker"]).assert_ok().assert_stdout("rootfs.tar");
        d.cli(c, &["image", "inspect", "-f", "{{json .Config.Cmd}}", "imp:1"]).assert_ok().assert_stdout(r#"["/bin/busybox","echo","imported"]"#);
    }
}

both! {
    fn history_and_inspect(d, c) {
        let h = d.cli(c, &["history", "--no-trunc", "busybox"]);
        h.assert_ok();
        let lines = h.lines();
        for col in ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"] {
            assert!(lines[0].contains(col), "{h:?}");
        }
        assert_eq!(lines.len(), 2, "{h:?}");
        assert!(lines[1].contains("berth scripts/make-busybox-image.sh"), "{h:?}");
        let json = d.cli(c, &["image", "inspect", "busybox"]).assert_ok().stdout.clone();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(v[0]["Os"], "linux");
        assert_eq!(v[0]["Architecture"], "amd64");
        assert_eq!(v[0]["RepoTags"], serde_json::json!(["busybox:latest"]));
        assert_eq!(v[0]["Config"]["Cmd"], serde_json::json!(["sh"]));
        assert_eq!(v[0]["RootFS"]["Layers"].as_array().map(Vec::len), Some(1));
        d.cli(c, &["image", "inspect", "nosuch"]).assert_fail().assert_stderr_contains("No such image: nosuch");
    }
}

both! {
    fn load_rejects_garbage(d, c) {
        let before = d.cli(c, &["images", "-q", "--no-trunc"]).assert_ok().out();
        let junk = d.dir().join("junk.tar");
        std::fs::write(&junk, "this is not a tar archive at all\n".repeat(100)).expect("write junk");
        d.cli(c, &["load", "-i", &junk.display().to_string()]).assert_fail().assert_stderr_contains("invalid image archive");
        // As dockerd: the answer is 200, the error is in the message stream.
        let (s, body) = d.api("POST", "/images/load", Some("abc"));
        assert_eq!(s, 200, "{body}");
        assert!(body.contains(r#""errorDetail":{"message":"invalid image archive"#), "{body}");
        // A valid tar with no manifest.
        let empty = d.dir().join("nomanifest.tar");
        let mut b = tar::Builder::new(std::fs::File::create(&empty).expect("create"));
        b.append_data(&mut tar_file_header(2), "hello.txt", &b"hi"[..]).expect("append");
        b.finish().expect("finish");
        drop(b);
        d.cli(c, &["load", "-i", &empty.display().to_string()]).assert_fail();
        d.cli(c, &["images", "-q", "--no-trunc"]).assert_ok().assert_stdout(&before);
    }
}

both! {
    fn load_rejects_escaping_layers(d, c) {
        let before = d.cli(c, &["images", "-q", "--no-trunc"]).assert_ok().out();
        let outside = d.dir().join("outside");
        std::fs::create_dir_all(&outside).expect("mkdir outside");
        let outside_abs = outside.display().to_string();
        let deep_escape = format!("{}{}", "../".repeat(12), outside_abs.trim_start_matches('/'));
        // (name, entries, must the load fail?). An absolute symlink followed by
        // an entry through it may be accepted (Docker resolves it inside the
        // layer), but must never write outside.
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Vec<(String, tar::EntryType, Option<String>)>, bool)> = vec![
            ("dotdot", vec![("../escape".into(), tar::EntryType::Regular, None)], true),
            ("deep", vec![(format!("{deep_escape}/deep"), tar::EntryType::Regular, None)], true),
            ("nested", vec![("a/../../../escape2".into(), tar::EntryType::Regular, None)], true),
            (
                "symlink",
                vec![
                    ("evil".into(), tar::EntryType::Symlink, Some(outside_abs.clone())),
                    ("evil/through-symlink".into(), tar::EntryType::Regular, None),
                ],
                false,
            ),
            (
                "hardlink",
                vec![("hl".into(), tar::EntryType::Link, Some("../../../../../../../../../etc/passwd".into()))],
                true,
            ),
        ];
        for (name, entries, must_fail) in cases {
            let layer = d.dir().join(format!("{name}-layer.tar"));
            {
                let mut b = tar::Builder::new(std::fs::File::create(&layer).expect("create layer"));
                for (path, kind, link) in &entries {
                    append_raw(&mut b, path, *kind, link.as_deref(), if *kind == tar::EntryType::Regular { b"pwned" } else { b"" });
                }
                b.finish().expect("finish layer");
            }
            let archive = save_archive(d.dir(), &format!("{name}.tar"), &layer);
            let out = d.cli(c, &["load", "-i", &archive.display().to_string()]);
            if must_fail {
                out.assert_fail();
            } else if out.code == 0 {
                d.cli(c, &["rmi", "hostile:latest"]).assert_ok();
            }
            let after = d.cli(c, &["images", "-q", "--no-trunc"]).assert_ok().out();
            assert_eq!(after, before, "case {name}: images changed");
            let leaked: Vec<_> = std::fs::read_dir(&outside).expect("read outside").flatten().map(|e| e.path()).collect();
            assert!(leaked.is_empty(), "case {name}: wrote outside: {leaked:?}");
            for f in ["escape", "escape2"] {
                for dir in [d.data_root(), d.data_root().join("layers"), d.dir().to_path_buf()] {
                    assert!(!dir.join(f).exists(), "case {name}: {} exists", dir.join(f).display());
                }
            }
        }
        let found = Command::new("find").arg(d.dir()).args(["-name", "escape*", "-o", "-name", "deep", "-o", "-name", "through-symlink"]).output().expect("find");
        let found = String::from_utf8_lossy(&found.stdout).into_owned();
        let found: Vec<&str> = found.lines().filter(|l| !l.ends_with(".tar")).collect();
        assert!(found.is_empty(), "hostile entries written: {found:?}");
        // The daemon is still healthy.
        d.cli(c, &["run", "--rm", "busybox", "echo", "ok"]).assert_ok().assert_stdout("ok");
    }
}

both! {
    fn image_time_and_label_filters(d, c) {
        d.cli(c, &["create", "--name", "src", "busybox", "true"]).assert_ok();
        for (tag, label) in [("first:1", "keep=yes"), ("second:1", "keep=no"), ("third:1", "other=1")] {
            d.cli(c, &["commit", "-c", &format!("LABEL {label}"), "src", tag]).assert_ok();
        }
        let listed = |filter: &[&str]| -> Vec<String> {
            let mut a = vec!["images", "--format", "{{.Repository}}"];
            for f in filter {
                a.extend(["--filter", f]);
            }
            let mut v = d.cli(c, &a).assert_ok().lines();
            v.sort();
            v
        };
        assert_eq!(listed(&["before=second:1"]), ["busybox", "first"]);
        assert_eq!(listed(&["since=first:1"]), ["second", "third"]);
        assert_eq!(listed(&["since=first:1", "before=third:1"]), ["second"]);
        let created = d.cli(c, &["image", "inspect", "-f", "{{.Created}}", "second:1"]).assert_ok().out();
        assert_eq!(listed(&[&format!("until={created}")]), ["busybox", "first"]);
        assert_eq!(listed(&["label=keep"]), ["first", "second"]);
        d.cli(c, &["images", "--filter", "before=nosuch"]).assert_fail().assert_stderr_contains("No such image: nosuch");
        d.cli(c, &["images", "--filter", "until=yesterday"]).assert_fail();

        // prune -a with filters takes only what matches.
        d.cli(c, &["rm", "src"]).assert_ok();
        let out = d.cli(c, &["image", "prune", "-a", "-f", "--filter", "label=keep=yes"]);
        out.assert_ok().assert_stdout_contains("untagged: first:1");
        assert_eq!(listed(&[]), ["busybox", "second", "third"]);
        d.cli(c, &["image", "prune", "-a", "-f", "--filter", "label=keep", "--filter", "label!=other"]).assert_ok();
        assert_eq!(listed(&[]), ["busybox", "third"]);
        let created = d.cli(c, &["image", "inspect", "-f", "{{.Created}}", "third:1"]).assert_ok().out();
        d.cli(c, &["image", "prune", "-a", "-f", "--filter", &format!("until={created}")]).assert_ok();
        assert_eq!(listed(&[]), ["third"]);
    }
}

#[test]
fn image_inspect_legacy_fields_follow_the_api_version() {
    // docker-compose 1.29 (API 1.38) reads ContainerConfig; dockerd drops
    // it from 1.45.
    let d = TestDaemon::start();
    let (status, body) = d.api("GET", "/v1.38/images/busybox/json", None);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(v["ContainerConfig"].is_object(), "{v}");
    assert_eq!(v["Container"], "");
    let v: serde_json::Value = serde_json::from_str(&d.api("GET", "/v1.45/images/busybox/json", None).1).expect("json");
    assert!(v.get("ContainerConfig").is_none() && v.get("Container").is_none(), "{v}");
    d.stop();
}
