//! Volumes and mounts: named, anonymous, bind, tmpfs, `--mount`,
//! `--volumes-from`, image VOLUMEs with copy-up, the `volume` commands,
//! persistence, read-only enforcement, symlink escapes and bad specs.
use berth_e2e::{both, Cli, TestDaemon};
use std::path::{Path, PathBuf};

/// A rootfs tarball: busybox, /bin/sh, /etc/passwd, plus `extra` entries
/// (path, kind, link target or file content, uid, mode).
fn rootfs_tar(dir: &Path, name: &str, extra: &[(&str, tar::EntryType, &str, u64, u32)]) -> PathBuf {
    let out = dir.join(name);
    let mut b = tar::Builder::new(std::fs::File::create(&out).expect("create tar"));
    b.append_path_with_name("/bin/busybox", "bin/busybox").expect("append busybox");
    let mut entries: Vec<(&str, tar::EntryType, &str, u64, u32)> = vec![
        ("bin/sh", tar::EntryType::Symlink, "busybox", 0, 0o777),
        ("etc/", tar::EntryType::Directory, "", 0, 0o755),
        ("etc/passwd", tar::EntryType::Regular, "root:x:0:0:image-passwd:/:/bin/sh\n", 0, 0o644),
        ("tmp/", tar::EntryType::Directory, "", 0, 0o1777),
    ];
    entries.extend_from_slice(extra);
    for (path, kind, data, uid, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_mtime(1_700_000_000);
        match kind {
            tar::EntryType::Symlink => {
                h.set_size(0);
                b.append_link(&mut h, path, data).expect("append link");
            }
            _ => {
                let body = if kind == tar::EntryType::Regular { data.as_bytes() } else { b"" };
                h.set_size(body.len() as u64);
                h.set_cksum();
                b.append_data(&mut h, path, body).expect("append entry");
            }
        }
    }
    b.finish().expect("finish tar");
    out
}

fn busybox_sh(d: &TestDaemon, c: Cli, args: &[&str], script: &str) -> berth_e2e::Out {
    let mut a: Vec<&str> = vec!["run", "--rm"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["busybox", "sh", "-c", script]);
    d.cli(c, &a)
}

fn volume_names(d: &TestDaemon, c: Cli) -> Vec<String> {
    d.cli(c, &["volume", "ls", "-q"]).assert_ok().lines()
}

both! {
    fn named_volume_persists_across_containers(d, c) {
        busybox_sh(d, c, &["-v", "data:/data"], "echo hello > /data/f").assert_ok();
        busybox_sh(d, c, &["-v", "data:/data"], "cat /data/f").assert_ok().assert_stdout("hello");
        assert_eq!(volume_names(d, c), ["data"]);
        let mp = d.cli(c, &["volume", "inspect", "-f", "{{.Mountpoint}}", "data"]).assert_ok().out();
        assert_eq!(PathBuf::from(&mp), d.data_root().join("volumes/data/_data"));
        assert_eq!(std::fs::read_to_string(Path::new(&mp).join("f")).expect("volume file on host"), "hello\n");
        // `--mount` reaches the same volume.
        busybox_sh(d, c, &["--mount", "type=volume,source=data,target=/m"], "cat /m/f").assert_ok().assert_stdout("hello");
        // `ps --filter volume=` finds containers by volume name or mount point.
        d.cli(c, &["create", "--name", "user1", "-v", "data:/data", "busybox", "true"]).assert_ok();
        d.cli(c, &["create", "--name", "other", "busybox", "true"]).assert_ok();
        d.cli(c, &["ps", "-a", "--filter", "volume=data", "--format", "{{.Names}}"]).assert_ok().assert_stdout("user1");
        d.cli(c, &["ps", "-a", "--filter", "volume=/data", "--format", "{{.Names}}"]).assert_ok().assert_stdout("user1");
    }
}

both! {
    fn bind_mounts(d, c) {
        let host = d.dir().join("hostdir");
        std::fs::create_dir_all(&host).expect("mkdir");
        std::fs::write(host.join("in"), "from-host").expect("write");
        let spec = format!("{}:/b", host.display());
        busybox_sh(d, c, &["-v", &spec], "cat /b/in; echo out > /b/out").assert_ok().assert_stdout("from-host");
        assert_eq!(std::fs::read_to_string(host.join("out")).expect("written through bind"), "out\n");
        // A missing source for -v is created as a directory.
        let missing = d.dir().join("created-by-v");
        busybox_sh(d, c, &["-v", &format!("{}:/x", missing.display())], "touch /x/f").assert_ok();
        assert!(missing.join("f").is_file());
        // ... but is an error for --mount, and nothing is created.
        let absent = d.dir().join("absent");
        let out = d.cli(c, &["run", "--rm", "--mount", &format!("type=bind,source={},target=/x", absent.display()), "busybox", "true"]);
        out.assert_code(125).assert_stderr_contains(&format!("invalid mount config for type \"bind\": bind source path does not exist: {}", absent.display()));
        assert!(!absent.exists());
        // A single file can be bound.
        let file = host.join("in");
        busybox_sh(d, c, &["--mount", &format!("type=bind,src={},dst=/etc/in.conf,readonly", file.display())], "cat /etc/in.conf").assert_ok().assert_stdout("from-host");
        // A bind is never filled with image content.
        busybox_sh(d, c, &["-v", &format!("{}:/etc", d.dir().join("emptyetc").display())], "ls /etc | wc -l").assert_ok();
        assert!(!d.dir().join("emptyetc/passwd").exists());
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}

both! {
    fn anonymous_volumes_and_rm_v(d, c) {
        d.cli(c, &["run", "--name", "anon", "-v", "/data", "-v", "keep:/keep", "busybox", "sh", "-c", "echo x > /data/f"]).assert_ok();
        let mounts = d.cli(c, &["inspect", "-f", "{{json .Mounts}}", "anon"]).assert_ok().out();
        let v: serde_json::Value = serde_json::from_str(&mounts).expect("mounts json");
        let arr = v.as_array().expect("array");
        assert_eq!(arr.len(), 2, "{mounts}");
        let anon = arr.iter().find(|m| m["Destination"] == "/data").expect("anon mount");
        let name = anon["Name"].as_str().expect("name").to_string();
        assert_eq!(name.len(), 64);
        assert_eq!((anon["Type"].as_str(), anon["Driver"].as_str(), anon["RW"].as_bool()), (Some("volume"), Some("local"), Some(true)));
        assert_eq!(anon["Source"].as_str().map(PathBuf::from), Some(d.data_root().join("volumes").join(&name).join("_data")));
        let keep = arr.iter().find(|m| m["Destination"] == "/keep").expect("named mount");
        assert_eq!((keep["Name"].as_str(), keep["Mode"].as_str(), keep["Propagation"].as_str()), (Some("keep"), Some("z"), Some("")));
        d.cli(c, &["volume", "inspect", "-f", "{{json .Labels}}", &name]).assert_ok().assert_stdout(r#"{"com.docker.volume.anonymous":""}"#);
        // In use: refused with Docker's message.
        let cid = d.cli(c, &["inspect", "-f", "{{.Id}}", "anon"]).assert_ok().out();
        d.cli(c, &["volume", "rm", "keep"]).assert_code(1).assert_stderr_contains(&format!("remove keep: volume is in use - [{cid}]"));
        d.cli(c, &["rm", "-v", "anon"]).assert_ok();
        assert_eq!(volume_names(d, c), ["keep"]);
        // --rm removes anonymous volumes, named ones survive.
        busybox_sh(d, c, &["-v", "/tmpdata", "-v", "keep:/keep"], "true").assert_ok();
        assert_eq!(volume_names(d, c), ["keep"]);
        // plain rm keeps the anonymous volume (dangling), prune takes it.
        d.cli(c, &["run", "--name", "anon2", "-v", "/d2", "busybox", "true"]).assert_ok();
        d.cli(c, &["rm", "anon2"]).assert_ok();
        assert_eq!(volume_names(d, c).len(), 2);
        let pruned = d.cli(c, &["volume", "prune", "-f"]).assert_ok().out();
        assert!(pruned.starts_with("Deleted Volumes:"), "{pruned}");
        assert_eq!(volume_names(d, c), ["keep"]);
        d.cli(c, &["volume", "prune", "-f"]).assert_ok().assert_stdout("Total reclaimed space: 0B");
        d.cli(c, &["volume", "prune", "-a", "-f"]).assert_ok().assert_stdout_contains("keep");
        assert!(volume_names(d, c).is_empty());
    }
}

both! {
    fn read_only_enforced(d, c) {
        let host = d.dir().join("ro-host");
        std::fs::create_dir_all(&host).expect("mkdir");
        for args in [
            vec!["-v".to_string(), "rov:/data:ro".to_string()],
            vec!["--mount".to_string(), "type=volume,src=rov,dst=/data,readonly".to_string()],
            vec!["-v".to_string(), format!("{}:/data:ro", host.display())],
            vec!["--mount".to_string(), "type=tmpfs,dst=/data,readonly".to_string()],
            vec!["--tmpfs".to_string(), "/data:ro".to_string()],
        ] {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            busybox_sh(d, c, &a, "touch /data/x").assert_fail().assert_stderr_contains("Read-only file system");
        }
        assert!(std::fs::read_dir(&host).expect("read").next().is_none());
        d.cli(c, &["run", "--name", "rw", "-v", "rov:/data", "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{range .Mounts}}{{.Mode}} {{.RW}}{{end}}", "rw"]).assert_ok().assert_stdout("z true");
        d.cli(c, &["run", "--name", "ro", "-v", &format!("{}:/b:ro", host.display()), "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Mode}} {{.RW}} {{.Propagation}}{{end}}", "ro"]).assert_ok().assert_stdout("bind ro false rprivate");
    }
}

both! {
    fn tmpfs_mounts(d, c) {
        let out = busybox_sh(d, c, &["--tmpfs", "/t:size=1m"], "grep ' /t ' /proc/mounts; echo hi > /t/f && cat /t/f").assert_ok().out();
        assert!(out.contains("tmpfs /t tmpfs") && out.contains("size=1024k") && out.ends_with("hi"), "{out}");
        let out = busybox_sh(d, c, &["--mount", "type=tmpfs,dst=/m,tmpfs-size=2m,tmpfs-mode=1700"], "grep ' /m ' /proc/mounts; stat -c %a /m").assert_ok().out();
        assert!(out.contains("size=2048k") && out.ends_with("1700"), "{out}");
        d.cli(c, &["run", "--name", "tm", "--mount", "type=tmpfs,dst=/m", "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}", "tm"]).assert_ok().assert_stdout("tmpfs /m true");
    }
}

both! {
    fn volumes_from(d, c) {
        d.cli(c, &["create", "--name", "src", "-v", "shared:/s", "-v", "/anon", "busybox"]).assert_ok();
        busybox_sh(d, c, &["--volumes-from", "src"], "echo shared > /s/f; echo a > /anon/f").assert_ok();
        busybox_sh(d, c, &["--volumes-from", "src:ro"], "cat /s/f /anon/f; touch /s/g").assert_fail().assert_stdout("shared\na").assert_stderr_contains("Read-only file system");
        // dockerd answers 404, on which both CLIs try to pull the image (as
        // docker does); without a registry the pull is what fails here.
        d.cli(c, &["run", "--rm", "--volumes-from", "nosuch", "busybox", "true"]).assert_code(125);
        assert_eq!(d.api("POST", "/containers/create", Some(r#"{"Image":"busybox","HostConfig":{"VolumesFrom":["nosuch"]}}"#)), (404, "{\"message\":\"No such container: nosuch\"}\n".to_string()));
        // The anonymous volume is shared, so it is in use after `rm -v src`... by nobody: gone.
        d.cli(c, &["rm", "-v", "src"]).assert_ok();
        assert_eq!(volume_names(d, c), ["shared"]);
    }
}

both! {
    fn image_volume_copy_up(d, c) {
        let tar = rootfs_tar(d.dir(), "withvol.tar", &[
            ("data/", tar::EntryType::Directory, "", 1000, 0o750),
            ("data/file", tar::EntryType::Regular, "from-image", 1000, 0o640),
            ("data/sub/", tar::EntryType::Directory, "", 0, 0o700),
            ("data/link", tar::EntryType::Symlink, "/etc/passwd", 0, 0o777),
        ]);
        d.cli(c, &["import", "--change", "VOLUME /data", &tar.display().to_string(), "withvol:1"]).assert_ok();
        let script = "cat /data/file; echo; stat -c '%u:%g %a' /data /data/file /data/sub; readlink /data/link";
        let want = "from-image\n1000:1000 750\n1000:1000 640\n0:0 700\n/etc/passwd";
        d.cli(c, &["run", "--name", "cu", "withvol:1", "sh", "-c", script]).assert_ok().assert_stdout(want);
        let mounts = d.cli(c, &["inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}} {{len .Name}}{{end}}", "cu"]).assert_ok().out();
        assert_eq!(mounts, "volume /data 64");
        // A new, empty named volume is filled too; a used one is not refilled.
        d.cli(c, &["run", "--rm", "-v", "nv:/data", "withvol:1", "sh", "-c", "cat /data/file; rm /data/file"]).assert_ok().assert_stdout("from-image");
        d.cli(c, &["run", "--rm", "-v", "nv:/data", "withvol:1", "sh", "-c", "ls /data"]).assert_ok().assert_stdout("link\nsub");
        // nocopy, and a bind, get nothing.
        d.cli(c, &["run", "--rm", "-v", "nc:/data:nocopy", "withvol:1", "busybox", "ls", "/data"]).assert_ok().assert_stdout("");
        let host = d.dir().join("bind-data");
        d.cli(c, &["run", "--rm", "-v", &format!("{}:/data", host.display()), "withvol:1", "busybox", "ls", "/data"]).assert_ok().assert_stdout("");
    }
}

both! {
    fn mount_targets_stay_in_rootfs(d, c) {
        let marker = format!("berth-escape-{}-{}", std::process::id(), c.name());
        let tar = rootfs_tar(d.dir(), "evil.tar", &[
            ("data", tar::EntryType::Symlink, "/etc", 0, 0o777),
            ("up", tar::EntryType::Symlink, "../../../../../../../etc", 0, 0o777),
            ("dangling", tar::EntryType::Symlink, &format!("/tmp/{marker}-dangle"), 0, 0o777),
        ]);
        d.cli(c, &["import", &tar.display().to_string(), "evil:1"]).assert_ok();
        let host_etc = Path::new("/etc").join(&marker);
        for target in [format!("/data/{marker}"), format!("/up/{marker}")] {
            let out = d.cli(c, &["run", "--rm", "-v", &format!("esc:{target}"), "evil:1", "sh", "-c", &format!("busybox touch {target}/f; busybox ls -d /etc/{marker}")]);
            out.assert_ok().assert_stdout(&format!("/etc/{marker}"));
            assert!(!host_etc.exists(), "mount target created on the host: {}", host_etc.display());
        }
        // A volume at the symlink copies the container's /etc, not the host's.
        d.cli(c, &["run", "--rm", "-v", "etcvol:/data", "evil:1", "busybox", "cat", "/data/passwd"]).assert_ok().assert_stdout("root:x:0:0:image-passwd:/:/bin/sh");
        let host_passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let vol_passwd = std::fs::read_to_string(d.data_root().join("volumes/etcvol/_data/passwd")).expect("copied passwd");
        assert_ne!(vol_passwd, host_passwd);
        // tmpfs and dangling links resolve inside too.
        d.cli(c, &["run", "--rm", "--tmpfs", "/up/t", "evil:1", "busybox", "grep", "-c", " /etc/t tmpfs", "/proc/mounts"]).assert_ok().assert_stdout("1");
        d.cli(c, &["run", "--rm", "-v", "dv:/dangling", "evil:1", "busybox", "true"]).assert_ok();
        assert!(!Path::new(&format!("/tmp/{marker}-dangle")).exists());
    }
}

both! {
    fn volume_commands(d, c) {
        d.cli(c, &["volume", "create", "--label", "env=prod", "--label", "team", "web"]).assert_ok().assert_stdout("web");
        d.cli(c, &["volume", "create", "db"]).assert_ok().assert_stdout("db");
        let anon = d.cli(c, &["volume", "create"]).assert_ok().out();
        assert_eq!(anon.len(), 64);
        d.cli(c, &["volume", "rm", &anon]).assert_ok().assert_stdout(&anon);
        let v: serde_json::Value = serde_json::from_str(&d.cli(c, &["volume", "inspect", "web"]).assert_ok().stdout).expect("json");
        let v = &v[0];
        assert_eq!((v["Name"].as_str(), v["Driver"].as_str(), v["Scope"].as_str()), (Some("web"), Some("local"), Some("local")));
        assert_eq!(v["Labels"], serde_json::json!({"env": "prod", "team": ""}));
        assert!(v["CreatedAt"].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z')), "{v}");
        assert_eq!(v["Mountpoint"].as_str().map(PathBuf::from), Some(d.data_root().join("volumes/web/_data")));
        let table = d.cli(c, &["volume", "ls"]).assert_ok().lines();
        assert_eq!(table, ["DRIVER    VOLUME NAME", "local     db", "local     web"]);
        d.cli(c, &["volume", "ls", "-q", "--filter", "label=env=prod"]).assert_ok().assert_stdout("web");
        d.cli(c, &["volume", "ls", "-q", "--filter", "name=d"]).assert_ok().assert_stdout("db");
        d.cli(c, &["create", "--name", "user", "-v", "db:/db", "busybox"]).assert_ok();
        d.cli(c, &["volume", "ls", "-q", "--filter", "dangling=true"]).assert_ok().assert_stdout("web");
        d.cli(c, &["volume", "ls", "-q", "--filter", "dangling=false"]).assert_ok().assert_stdout("db");
        d.cli(c, &["volume", "ls", "--filter", "bogus=1"]).assert_fail().assert_stderr_contains("invalid filter 'bogus'");
        d.cli(c, &["volume", "inspect", "nosuch"]).assert_code(1).assert_stderr_contains("no such volume");
        d.cli(c, &["volume", "rm", "nosuch"]).assert_code(1).assert_stderr_contains("no such volume");
        d.cli(c, &["volume", "rm", "-f", "nosuch"]).assert_ok();
        d.cli(c, &["volume", "create", "a/b"]).assert_fail().assert_stderr_contains("\"a/b\" includes invalid characters for a local volume name");
        d.cli(c, &["volume", "create", "-o", "bogus=1", "x1"]).assert_fail().assert_stderr_contains("invalid option: \"bogus\"");
        assert_eq!(volume_names(d, c), ["db", "web"]);
        // -a prunes unused named volumes, not used ones.
        d.cli(c, &["volume", "prune", "-a", "-f"]).assert_ok().assert_stdout_contains("Deleted Volumes:\nweb\n");
        assert_eq!(volume_names(d, c), ["db"]);
    }
}

both! {
    fn tmpfs_driver_volume(d, c) {
        d.cli(c, &["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "tv"]).assert_ok();
        d.cli(c, &["volume", "inspect", "-f", "{{json .Options}}", "tv"]).assert_ok().assert_stdout(r#"{"device":"tmpfs","o":"size=1m","type":"tmpfs"}"#);
        let out = busybox_sh(d, c, &["-v", "tv:/data"], "grep ' /data ' /proc/mounts; echo x > /data/f").assert_ok().out();
        assert!(out.contains("tmpfs /data tmpfs") && out.contains("size=1024k"), "{out}");
        // Unmounted when the container exits: the write went to the tmpfs.
        let data = d.data_root().join("volumes/tv/_data");
        assert!(d.leaked_mounts().iter().all(|m| !m.contains(&data.display().to_string())));
        assert!(!data.join("f").exists());
    }
}

both! {
    fn malformed_specs_create_nothing(d, c) {
        let cases: &[(&[&str], &str)] = &[
            (&["-v", "/a:/b:/c:/d"], "too many colons"),
            (&["-v", ":/x"], "empty section between colons"),
            (&["-v", "/x:/y:bogus"], "invalid mode: bogus"),
            (&["-v", "a:b"], "invalid mount path: 'a:b' mount path must be absolute"),
            (&["-v", "vol:rel"], "invalid volume specification: 'vol:rel'"),
            (&["-v", "bad/name:/x"], "includes invalid characters for a local volume name"),
            (&["-v", "v1:/x", "-v", "v2:/x"], "Duplicate mount point: /x"),
            (&["-v", "/h:/"], "destination can't be '/'"),
            (&["--mount", "type=xyz,target=/a"], "mount type unknown"),
            (&["--mount", "foo=bar"], "unexpected key 'foo' in 'foo=bar'"),
            (&["--mount", "type=volume"], "target is required"),
            (&["--mount", "type=tmpfs,target=/t,tmpfs-size=abc"], "invalid value for tmpfs-size: abc"),
            (&["--mount", "type=volume,src=ok1,dst=/a", "--mount", "type=volume,src=b@d,dst=/b"], "includes invalid characters"),
            (&["--tmpfs", "relative"], "mount path must be absolute"),
            (&["--volumes-from", "x:bogus"], "invalid mode: bogus"),
            (&["-v", "ok2:/a", "-v", "/x:ro"], "must not set ReadOnly mode when using anonymous volumes"),
        ];
        for (flags, msg) in cases {
            let mut a = vec!["run", "--rm"];
            a.extend_from_slice(flags);
            a.extend_from_slice(&["busybox", "true"]);
            d.cli(c, &a).assert_code(125).assert_stderr_contains(msg);
        }
        assert!(volume_names(d, c).is_empty(), "a failed create left volumes");
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}

#[test]
fn data_survives_daemon_restart() {
    let d = TestDaemon::start();
    d.berth(&["run", "--rm", "-v", "persist:/p", "busybox", "sh", "-c", "echo kept > /p/f"]).assert_ok();
    d.docker(&["run", "-d", "--name", "holder", "-v", "persist:/p", "-v", "/anon", "busybox", "sleep", "600"]).assert_ok();
    d.kill9();
    d.restart();
    // References are restored: the volume is still in use, the anonymous one is not dangling.
    d.docker(&["volume", "rm", "persist"]).assert_code(1).assert_stderr_contains("volume is in use");
    d.docker(&["volume", "ls", "-q", "--filter", "dangling=true"]).assert_ok().assert_stdout("");
    d.berth(&["rm", "-f", "-v", "holder"]).assert_ok();
    d.docker(&["run", "--rm", "-v", "persist:/p", "busybox", "cat", "/p/f"]).assert_ok().assert_stdout("kept");
    d.docker(&["volume", "ls", "-q"]).assert_ok().assert_stdout("persist");
    d.stop();
}

#[test]
fn volume_prune_follows_the_api_version() {
    // Before API 1.42 prune takes every unused volume; from 1.42 only
    // anonymous ones unless `all=true`.
    let d = TestDaemon::start();
    d.docker(&["volume", "create", "named"]).assert_ok();
    let (status, body) = d.api("POST", "/v1.43/volumes/prune", None);
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("named"), "{body}");
    let (status, body) = d.api("POST", "/v1.41/volumes/prune", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"VolumesDeleted\":[\"named\"]"), "{body}");
    d.stop();
}
