//! diff, export, commit.

use berth_e2e::{both, Cli, TestDaemon};

fn make_changes(d: &TestDaemon, c: Cli) {
    d.cli(c, &["run", "--name", "chg", "busybox", "sh", "-c", "echo hi > /tmp/x; rm /bin/ls; mkdir -p /new/d; echo 1 > /etc/motd"]).assert_ok();
}

both! {
    fn diff_lists_changes(d, c) {
        make_changes(d, c);
        d.cli(c, &["diff", "chg"]).assert_ok().assert_stdout("C /bin\nD /bin/ls\nC /etc\nA /etc/motd\nA /new\nA /new/d\nC /tmp\nA /tmp/x");
        d.cli(c, &["create", "--name", "fresh", "busybox", "true"]).assert_ok();
        d.cli(c, &["diff", "fresh"]).assert_ok().assert_stdout("");
        d.cli(c, &["diff", "nosuch"]).assert_fail().assert_stderr_contains("No such container: nosuch");
    }
}

both! {
    fn export_writes_the_filesystem(d, c) {
        make_changes(d, c);
        let out = d.dir().join("export.tar");
        let out_s = out.to_string_lossy().into_owned();
        d.cli(c, &["export", "-o", &out_s, "chg"]).assert_ok();
        let mut ar = tar::Archive::new(std::fs::File::open(&out).expect("export file"));
        let mut names = Vec::new();
        for e in ar.entries().expect("tar") {
            let mut e = e.expect("entry");
            let p = e.path().expect("path").to_string_lossy().into_owned();
            if p == "tmp/x" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).expect("read");
                assert_eq!(s, "hi\n");
            }
            names.push(p);
        }
        assert!(names.contains(&"tmp/x".to_string()) && names.contains(&"bin/busybox".to_string()), "{}", names.len());
        assert!(!names.contains(&"bin/ls".to_string()), "deleted file exported");
        assert!(d.leaked_mounts().is_empty(), "export of a stopped container leaves no mount");
    }
}

both! {
    fn commit_makes_a_runnable_image(d, c) {
        make_changes(d, c);
        let id = d.cli(c, &["commit", "-c", r#"CMD ["cat","/tmp/x"]"#, "-m", "my msg", "-a", "me", "chg", "snap:1"]).assert_ok().out();
        assert!(id.starts_with("sha256:"), "{id}");
        d.cli(c, &["run", "--rm", "snap:1"]).assert_ok().assert_stdout("hi");
        d.cli(c, &["run", "--rm", "snap:1", "ls", "/bin/ls"]).assert_code(127);
        d.cli(c, &["image", "inspect", "-f", "{{.Author}} {{.Comment}} {{len .RootFS.Layers}}", "snap:1"]).assert_ok().assert_stdout("me my msg 2");
        let hist = d.cli(c, &["history", "--format", "{{.Comment}}", "snap:1"]).assert_ok().lines();
        assert_eq!(hist[0], "my msg");
        // Commit of a running container (paused while the layer is taken).
        d.cli(c, &["run", "-d", "--name", "live", "busybox", "sh", "-c", "echo live > /live; sleep 1000"]).assert_ok();
        berth_e2e::wait_until(std::time::Duration::from_secs(5), || d.cli(c, &["diff", "live"]).out().contains("A /live"));
        d.cli(c, &["commit", "live", "snap:2"]).assert_ok();
        d.cli(c, &["run", "--rm", "snap:2", "cat", "/live"]).assert_ok().assert_stdout("live");
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "live"]).assert_ok().assert_stdout("running");
        d.cli(c, &["commit", "-c", "BOGUS x", "chg", "snap:3"]).assert_fail();
        d.cli(c, &["commit", "nosuch"]).assert_fail().assert_stderr_contains("No such container: nosuch");
    }
}

both! {
    fn commit_of_a_stopped_or_never_started_container(d, c) {
        // Clients ask for pause=true by default; a container that is not
        // running is committed as it is, even one that never started (no
        // upper directory yet).
        d.cli(c, &["create", "--name", "fresh", "busybox", "touch", "/t"]).assert_ok();
        d.cli(c, &["commit", "--pause=true", "-c", "EXPOSE 8000", "fresh", "snap:fresh"]).assert_ok();
        d.cli(c, &["image", "inspect", "-f", "{{len .RootFS.Layers}} {{json .Config.ExposedPorts}}", "snap:fresh"])
            .assert_ok()
            .assert_stdout(r#"2 {"8000/tcp":{}}"#);
        d.cli(c, &["run", "--name", "done", "busybox", "sh", "-c", "echo x > /x"]).assert_ok();
        d.cli(c, &["commit", "--pause=true", "done", "snap:done"]).assert_ok();
        d.cli(c, &["run", "--rm", "snap:done", "cat", "/x"]).assert_ok().assert_stdout("x");
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "done"]).assert_ok().assert_stdout("exited");
    }
}

#[test]
fn commit_api_with_python_style_pause() {
    // docker-py sends `pause=True` and an empty JSON object.
    let d = TestDaemon::start();
    d.docker(&["create", "--name", "cr", "busybox", "true"]).assert_ok();
    let (status, body) = d.api("POST", "/v1.43/commit?container=cr&pause=True", Some("{}"));
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("\"Id\":\"sha256:"), "{body}");
    d.stop();
}
