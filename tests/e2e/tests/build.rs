//! `build` through `berth build` and the docker CLI's classic builder
//! (`DOCKER_BUILDKIT=0 docker build`): messages, the image's config and
//! files, the step cache, failing steps, hostile contexts, and that a
//! build leaves nothing running or mounted.

use berth_e2e::{both, Cli, Out, TestDaemon};
use std::path::PathBuf;

/// The docker CLI has no buildx here: the classic builder's API is what it speaks.
fn classic() {
    // SAFETY (of intent): every test sets the same value before running a client.
    std::env::set_var("DOCKER_BUILDKIT", "0");
}

/// A context directory with `files` (path → content) under the test's dir.
fn context(d: &TestDaemon, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = d.dir().join(name);
    for (p, content) in files {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        std::fs::write(&f, content).expect("write");
    }
    dir
}

fn build(d: &TestDaemon, c: Cli, args: &[&str]) -> Out {
    classic();
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    d.cli(c, &all)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

const APP: &str = "FROM busybox
ENV GREETING=hello DIR=/srv
WORKDIR $DIR
COPY greet.txt ./
RUN echo \"$GREETING from run\" > run.txt && chmod 600 run.txt
LABEL org.example.role=demo
EXPOSE 8080/tcp
CMD [\"cat\", \"greet.txt\", \"run.txt\"]
";

both! {
    fn builds_an_image_with_its_config_and_files(d, c) {
        let ctx = context(d, "app", &[("Dockerfile", APP), ("greet.txt", "greetings\n")]);
        let out = build(d, c, &["-t", "app", ctx.to_str().expect("utf8")]);
        out.assert_ok();
        // Without a terminal berth prints the classic lines too.
        let s = out.out();
        assert!(s.contains("Step 1/8 : FROM busybox"), "{s}");
        assert!(s.contains("Step 5/8 : RUN echo \"$GREETING from run\" > run.txt && chmod 600 run.txt"), "{s}");
        assert!(s.contains("Successfully tagged app:latest"), "{s}");
        // The tag is an image event, as dockerd sends it.
        let until = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 1).to_string();
        let events = d.cli(c, &["events", "--since", "0", "--until", &until, "--filter", "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}"]);
        assert!(events.assert_ok().lines().contains(&"tag app:latest".to_string()), "{}", events.out());
        d.cli(c, &["run", "--rm", "app"]).assert_ok().assert_stdout("greetings\nhello from run");
        d.cli(c, &["run", "--rm", "app", "stat", "-c", "%a %U %n", "/srv/run.txt", "/srv/greet.txt"])
            .assert_ok()
            .assert_stdout("600 root /srv/run.txt\n644 root /srv/greet.txt");
        let f = "{{json .Config.Env}} {{.Config.WorkingDir}} {{json .Config.Cmd}} {{json .Config.Labels}} {{json .Config.ExposedPorts}}";
        d.cli(c, &["image", "inspect", "-f", f, "app"]).assert_ok().assert_stdout(
            r#"["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello","DIR=/srv"] /srv ["cat","greet.txt","run.txt"] {"org.example.role":"demo"} {"8080/tcp":{}}"#,
        );
        // One history row per instruction, newest first, as Docker writes them.
        let hist = d.cli(c, &["history", "--no-trunc", "--format", "{{.CreatedBy}}", "app"]).assert_ok().lines();
        assert_eq!(hist.len(), 8, "{hist:?}");
        assert_eq!(hist[0], "/bin/sh -c #(nop)  CMD [\"cat\" \"greet.txt\" \"run.txt\"]");
        assert_eq!(hist[3], "/bin/sh -c echo \"$GREETING from run\" > run.txt && chmod 600 run.txt");
        assert!(hist[4].starts_with("/bin/sh -c #(nop) COPY file:") && hist[4].ends_with(" in ./"), "{hist:?}");
        assert_eq!(hist[5], "/bin/sh -c #(nop) WORKDIR /srv");
        // Each row names its step's image, as dockerd's history walks the parents.
        let ids = d.cli(c, &["history", "-q", "app"]).assert_ok().lines();
        assert!(ids.iter().take(7).all(|i| i != "<missing>"), "{ids:?}");
        // Intermediate images: only with -a.
        let top = d.cli(c, &["images", "-q"]).assert_ok().lines();
        let all = d.cli(c, &["images", "-aq"]).assert_ok().lines();
        assert_eq!(top.len(), 2, "busybox and app: {top:?}");
        assert!(all.len() > top.len(), "{all:?}");
        assert!(d.leaked_mounts().is_empty(), "{:?}", d.leaked_mounts());
        // Removing the image takes its untagged intermediate images along.
        d.cli(c, &["rmi", "app"]).assert_ok();
        assert_eq!(d.cli(c, &["images", "-aq"]).assert_ok().lines().len(), 1);
    }
}

both! {
    fn the_cache_reuses_unchanged_steps_and_invalidates_from_a_change(d, c) {
        let ctx = context(d, "cache", &[("Dockerfile", APP), ("greet.txt", "one\n")]);
        let path = ctx.to_str().expect("utf8");
        build(d, c, &["-t", "c1", path]).assert_ok();
        let again = build(d, c, &["-t", "c2", path]);
        again.assert_ok();
        assert_eq!(count(&again.out(), " ---> Using cache"), 7, "{}", again.out());
        let id1 = d.cli(c, &["image", "inspect", "-f", "{{.Id}}", "c1"]).assert_ok().out();
        let id2 = d.cli(c, &["image", "inspect", "-f", "{{.Id}}", "c2"]).assert_ok().out();
        assert_eq!(id1, id2, "a fully cached build is the same image");
        // A change to the copied file: COPY and every step after it run again.
        std::fs::write(ctx.join("greet.txt"), "two\n").expect("write");
        let changed = build(d, c, &["-t", "c3", path]);
        changed.assert_ok();
        assert_eq!(count(&changed.out(), " ---> Using cache"), 2, "ENV and WORKDIR only: {}", changed.out());
        d.cli(c, &["run", "--rm", "c3"]).assert_ok().assert_stdout("two\nhello from run");
        // Only the content counts, not the mtime.
        std::fs::write(ctx.join("greet.txt"), "two\n").expect("write");
        let touched = build(d, c, &["-t", "c4", path]);
        touched.assert_ok();
        let id3 = d.cli(c, &["image", "inspect", "-f", "{{.Id}}", "c3"]).assert_ok().out();
        let id4 = d.cli(c, &["image", "inspect", "-f", "{{.Id}}", "c4"]).assert_ok().out();
        assert_eq!(id3, id4);
        // --no-cache runs every step.
        let cold = build(d, c, &["--no-cache", "-t", "c5", path]);
        cold.assert_ok();
        assert_eq!(count(&cold.out(), "Using cache"), 0, "{}", cold.out());
    }
}

both! {
    fn a_failing_run_gives_its_exit_code_and_leaves_nothing(d, c) {
        let ctx = context(d, "fail", &[("Dockerfile", "FROM busybox\nRUN echo before\nRUN echo doomed; exit 3\nRUN echo never\n")]);
        let out = build(d, c, &["-t", "doomed", ctx.to_str().expect("utf8")]);
        out.assert_code(3).assert_stderr_contains("The command '/bin/sh -c echo doomed; exit 3' returned a non-zero code: 3");
        assert!(out.out().contains("doomed"), "the step's output is shown: {}", out.out());
        assert!(!out.out().contains("never"), "{}", out.out());
        d.cli(c, &["image", "inspect", "doomed"]).assert_fail();
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
        assert!(d.leaked_mounts().is_empty(), "{:?}", d.leaked_mounts());
    }
}

both! {
    fn errors_name_the_dockerfile_line(d, c) {
        let bad = context(d, "bad", &[("Dockerfile", "FROM busybox\nRUN true\nFROBNICATE now\n")]);
        let out = build(d, c, &[bad.to_str().expect("utf8")]);
        out.assert_fail().assert_stderr_contains("unknown instruction");
        let err = out.stderr.clone();
        assert!(err.to_lowercase().contains("frobnicate") && err.contains('3'), "{err}");
        assert!(!out.out().contains("Step 1"), "nothing runs before the parse error: {}", out.out());

        let missing = context(d, "missing", &[("Dockerfile", "FROM busybox\nCOPY nothere.txt /x\n")]);
        let out = build(d, c, &[missing.to_str().expect("utf8")]);
        out.assert_fail().assert_stderr_contains("nothere.txt");
        // The docker CLI shows the classic `Step 2/2 : COPY nothere.txt /x` line before the
        // error; berth's adds the line (berthd's errorDetail.line).
        assert!(out.out().contains("Step 2/2 : COPY nothere.txt /x"), "{}", out.out());
        if c == Cli::Berth {
            out.assert_stderr_contains("at Dockerfile:2: COPY nothere.txt /x");
        }

        // A bad flag and a stage cycle: parse errors
        // naming the line, before any step runs.
        for (name, df, want) in [
            ("badflag", "FROM busybox\nRUN true\nCOPY --bogus=1 a /a\n", "line 3: unknown flag: bogus"),
            ("cycle", "FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n", "circular dependency detected on stage"),
        ] {
            let ctx = context(d, name, &[("Dockerfile", df)]);
            let out = build(d, c, &[ctx.to_str().expect("utf8")]);
            out.assert_fail().assert_stderr_contains(want);
            assert!(!out.out().contains("Step 1/"), "{name}: {}", out.out());
        }

        let target = context(d, "target", &[("Dockerfile", "FROM busybox AS one\nRUN true\n")]);
        build(d, c, &["--target", "two", target.to_str().expect("utf8")]).assert_fail().assert_stderr_contains("two");

        let nofile = context(d, "nofile", &[("other", "x")]);
        build(d, c, &[nofile.to_str().expect("utf8")]).assert_fail();
        d.cli(c, &["images", "-aq"]).assert_ok().lines().len().eq(&1).then_some(()).expect("only busybox is left");
        // A failing RUN (after a step that succeeded, whose image stays, as dockerd's).
        let failing = context(d, "failing", &[("Dockerfile", "FROM busybox\nRUN echo one\nRUN exit 7\n")]);
        let out = build(d, c, &[failing.to_str().expect("utf8")]);
        out.assert_code(7);
        if c == Cli::Berth {
            out.assert_stderr_contains("at Dockerfile:3");
        }
    }
}

both! {
    fn quiet_prints_only_the_id_and_iidfile_gets_it(d, c) {
        let ctx = context(d, "quiet", &[("Dockerfile", "FROM busybox\nRUN echo noisy\n")]);
        let iid = d.dir().join("iid");
        let out = build(d, c, &["-q", "--iidfile", iid.to_str().expect("utf8"), ctx.to_str().expect("utf8")]);
        out.assert_ok();
        let id = out.out();
        assert!(id.starts_with("sha256:") && id.len() == 71 && !id.contains("noisy"), "{id}");
        // docker's CLI writes the stream's line with -q (newline and all).
        assert_eq!(std::fs::read_to_string(&iid).expect("iidfile").trim_end(), id);
    }
}

both! {
    fn a_dockerfile_or_a_tarball_on_stdin(d, c) {
        classic();
        d.cli_with_stdin(c, &["build", "-t", "fromstdin", "-"], "FROM busybox\nCMD [\"echo\", \"from stdin\"]\n").assert_ok();
        d.cli(c, &["run", "--rm", "fromstdin"]).assert_ok().assert_stdout("from stdin");
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in [("Dockerfile", "FROM busybox\nCOPY a.txt /\nCMD [\"cat\", \"/a.txt\"]\n"), ("a.txt", "in a tarball\n")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, data.as_bytes()).expect("tar");
        }
        let bytes = tar.into_inner().expect("tar");
        d.cli_with_stdin_bytes(c, &["build", "-t", "fromtar", "-"], &bytes).assert_ok();
        d.cli(c, &["run", "--rm", "fromtar"]).assert_ok().assert_stdout("in a tarball");
    }
}

both! {
    fn dockerignore_keeps_files_out(d, c) {
        let ctx = context(d, "ignore", &[
            ("Dockerfile", "FROM busybox\nCOPY . /ctx\nCMD [\"find\", \"/ctx\", \"-type\", \"f\"]\n"),
            (".dockerignore", "secret.txt\nlogs/\n*.tmp\n!keep.tmp\n"),
            ("secret.txt", "s"), ("logs/a.log", "l"), ("x.tmp", "t"), ("keep.tmp", "k"), ("src/main.c", "m"),
        ]);
        build(d, c, &["-t", "ign", ctx.to_str().expect("utf8")]).assert_ok();
        let mut files = d.cli(c, &["run", "--rm", "ign"]).assert_ok().lines();
        files.sort();
        assert_eq!(files, ["/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/keep.tmp", "/ctx/src/main.c"]);
    }
}

both! {
    fn build_args_labels_and_network_none(d, c) {
        let ctx = context(d, "args", &[("Dockerfile", "FROM busybox\nARG WHO=nobody\nRUN echo \"hi $WHO\" > /who && ls /sys/class/net > /nets\nCMD [\"cat\", \"/who\", \"/nets\"]\n")]);
        build(d, c, &["--build-arg", "WHO=world", "--label", "made.by=test", "--network", "none", "-t", "args", ctx.to_str().expect("utf8")]).assert_ok();
        d.cli(c, &["run", "--rm", "args"]).assert_ok().assert_stdout("hi world\nlo");
        d.cli(c, &["image", "inspect", "-f", "{{index .Config.Labels \"made.by\"}}", "args"]).assert_ok().assert_stdout("test");
    }
}

both! {
    fn hostile_contexts_are_refused_or_contained(d, c) {
        classic();
        // A tar entry climbing out of the context.
        let mut tar = tar::Builder::new(Vec::new());
        let escape = d.dir().join("escaped.txt");
        let data = "FROM busybox\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "Dockerfile", data.as_bytes()).expect("tar");
        let mut h = tar::Header::new_gnu();
        let name = b"../../../../../../../../tmp/berth-build-escape.txt";
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, &b"x"[..]).expect("tar");
        let bytes = tar.into_inner().expect("tar");
        d.cli_with_stdin_bytes(c, &["build", "-"], &bytes).assert_fail();
        assert!(!std::path::Path::new("/tmp/berth-build-escape.txt").exists() && !escape.exists());
        // A symlink in the context pointing out of it: COPY never reads the host's file.
        let outside = d.dir().join("host-secret");
        std::fs::write(&outside, "host secret").expect("write");
        let ctx = context(d, "links", &[("Dockerfile", "FROM busybox\nCOPY link /copied\n")]);
        std::os::unix::fs::symlink(&outside, ctx.join("link")).expect("symlink");
        let out = build(d, c, &["-t", "links", ctx.to_str().expect("utf8")]);
        if out.code == 0 {
            let inside = d.cli(c, &["run", "--rm", "links", "sh", "-c", "cat /copied 2>/dev/null; readlink /copied"]).out();
            assert!(!inside.contains("host secret"), "{inside}");
        }
        assert!(d.leaked_mounts().is_empty(), "{:?}", d.leaked_mounts());
    }
}

#[test]
fn cache_survives_a_restart_and_builder_prune_frees_it() {
    classic();
    let d = TestDaemon::start();
    let ctx = context(&d, "restart", &[("Dockerfile", "FROM busybox\nRUN echo layer > /f\n"), ("x", "y")]);
    let path = ctx.to_str().expect("utf8");
    d.docker(&["build", "-t", "r1", path]).assert_ok();
    d.kill9();
    d.restart();
    let again = d.docker(&["build", "-t", "r2", path]);
    again.assert_ok();
    assert_eq!(count(&again.out(), " ---> Using cache"), 1, "{}", again.out());
    // The cache is counted, and pruned.
    d.berth(&["system", "df"]).assert_ok().assert_stdout_contains("Build Cache");
    let df = d.docker(&["system", "df", "--format", "{{.Type}} {{.TotalCount}}"]).assert_ok().out();
    assert!(df.lines().any(|l| l.starts_with("Build Cache ") && !l.ends_with(" 0")), "{df}");
    d.berth(&["builder", "prune", "-af"]).assert_ok().assert_stdout_contains("Total reclaimed space:");
    let cold = d.docker(&["build", "-t", "r3", path]);
    cold.assert_ok();
    assert_eq!(count(&cold.out(), "Using cache"), 0, "{}", cold.out());
    d.stop();
}

#[test]
fn a_client_that_goes_away_stops_the_build() {
    classic();
    let d = TestDaemon::start();
    let ctx = context(&d, "hang", &[("Dockerfile", "FROM busybox\nRUN echo started; sleep 300\n")]);
    let mut child = std::process::Command::new(berth_e2e::bin_dir().join("berth"))
        .env("BERTH_HOST", d.host())
        .args(["build", "--progress", "plain", ctx.to_str().expect("utf8")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn berth build");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut stdout, &mut line).expect("read");
        assert!(n > 0, "the build ended before its RUN started");
        if line.contains("started") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let gone = berth_e2e::wait_until(std::time::Duration::from_secs(10), || {
        d.leaked_processes().iter().all(|p| !p.contains("berth-shim")) && d.leaked_mounts().is_empty()
    });
    assert!(gone, "{:?} {:?}", d.leaked_processes(), d.leaked_mounts());
    d.stop();
}

both! {
    fn run_mount_cache_outlives_builds_until_pruned(d, c) {
        let ctx = context(d, "cachemount", &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count\nCMD [\"cat\", \"/count\"]\n",
        )]);
        let path = ctx.to_str().expect("utf8");
        build(d, c, &["--no-cache", "-t", "cm", path]).assert_ok();
        d.cli(c, &["run", "--rm", "cm"]).assert_ok().assert_stdout("1");
        build(d, c, &["--no-cache", "-t", "cm", path]).assert_ok();
        d.cli(c, &["run", "--rm", "cm"]).assert_ok().assert_stdout("2");
        d.berth(&["builder", "prune", "-af"]).assert_ok();
        build(d, c, &["--no-cache", "-t", "cm", path]).assert_ok();
        d.cli(c, &["run", "--rm", "cm"]).assert_ok().assert_stdout("1");
    }
}

#[test]
fn secrets_reach_run_mounts_but_never_the_context() {
    classic();
    let d = TestDaemon::start();
    let secret = d.dir().join("token.txt");
    std::fs::write(&secret, "s3cr3t").expect("write");
    let ctx = context(&d, "secret", &[(
        "Dockerfile",
        "FROM busybox\nCOPY . /ctx\nRUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /secret-size\nCMD [\"sh\", \"-c\", \"cat /secret-size; ls -A /ctx\"]\n",
    )]);
    let src = format!("id=tok,src={}", secret.display());
    d.berth(&["build", "--secret", &src, "-t", "sec", ctx.to_str().expect("utf8")]).assert_ok();
    d.berth(&["run", "--rm", "sec"]).assert_ok().assert_stdout("6\nDockerfile");
    // A secret the Dockerfile names but the client did not send.
    d.berth(&["build", "--no-cache", ctx.to_str().expect("utf8")]).assert_fail();
    d.stop();
}

both! {
    fn from_pulls_a_missing_image_with_the_clients_credentials(d, c) {
        let reg = berth_e2e::registry::Registry::start(Some(("builder", "s3cret")));
        reg.push(berth_e2e::busybox_tar(), "base/busybox:1", Some("builder:s3cret"));
        d.cli(c, &["login", "-u", "builder", "-p", "s3cret", &reg.host()]).assert_ok();
        let from = format!("{}/base/busybox:1", reg.host());
        let ctx = context(d, "pull", &[("Dockerfile", &format!("FROM {from}\nRUN echo pulled > /p\nCMD [\"cat\", \"/p\"]\n"))]);
        let out = build(d, c, &["-t", "pulled", ctx.to_str().expect("utf8")]);
        out.assert_ok();
        assert!(out.out().contains("Pulling from base/busybox") || out.out().contains("Downloaded newer image"), "{}", out.out());
        d.cli(c, &["run", "--rm", "pulled"]).assert_ok().assert_stdout("pulled");
        d.cli(c, &["image", "inspect", &from]).assert_ok();
        // Without credentials the registry refuses the pull, and the build fails.
        d.cli(c, &["rmi", "pulled", &from]).assert_ok();
        d.cli(c, &["logout", &reg.host()]).assert_ok();
        build(d, c, &["--no-cache", ctx.to_str().expect("utf8")]).assert_fail();
    }
}

/// Serves `body` at any path to each connection (HTTP/1.0 style) until dropped.
fn http_server(body: &'static str) -> u16 {
    http_server_bytes(body.as_bytes().to_vec())
}

fn http_server_bytes(body: Vec<u8>) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = std::io::Write::write_all(&mut s, head.as_bytes());
            let _ = std::io::Write::write_all(&mut s, &body);
        }
    });
    port
}

/// A gzip-compressed context tarball of `files`.
fn context_tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_bytes()).expect("tar");
    }
    b.into_inner().expect("tar").finish().expect("gzip")
}

both! {
    fn a_context_from_an_http_url(d, c) {
        // berth sends remote= and the daemon downloads; the docker CLI downloads the
        // tarball itself and uploads it. Both give the same image.
        let port = http_server_bytes(context_tar_gz(&[
            ("Dockerfile", "FROM busybox\nCOPY hello.txt /\nCMD [\"cat\", \"/hello.txt\"]\n"),
            ("hello.txt", "from a remote context\n"),
        ]));
        build(d, c, &["-t", "fromurl", &format!("http://127.0.0.1:{port}/ctx.tar.gz")]).assert_ok();
        d.cli(c, &["run", "--rm", "fromurl"]).assert_ok().assert_stdout("from a remote context");
        assert!(d.leaked_mounts().is_empty(), "{:?}", d.leaked_mounts());
    }
}

#[test]
fn remote_contexts_over_the_api() {
    let d = TestDaemon::start();
    // A tarball URL (what docker-py sends for `images.build(path=URL)`).
    let port = http_server_bytes(context_tar_gz(&[("Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\n"), ("a.txt", "A\n")]));
    let (code, body) = d.api("POST", &format!("/build?t=remote-tar&remote=http%3A%2F%2F127.0.0.1%3A{port}%2Fctx.tgz"), None);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("Successfully tagged remote-tar:latest"), "{body}");
    d.berth(&["run", "--rm", "remote-tar", "cat", "/a.txt"]).assert_ok().assert_stdout("A");
    // A plain Dockerfile URL: an empty context with that Dockerfile.
    let port = http_server("FROM busybox\nRUN echo built-from-a-url > /note\n");
    let (code, body) = d.api("POST", &format!("/build?t=remote-df&remote=http%3A%2F%2F127.0.0.1%3A{port}%2FDockerfile"), None);
    assert_eq!(code, 200, "{body}");
    d.berth(&["run", "--rm", "remote-df", "cat", "/note"]).assert_ok().assert_stdout("built-from-a-url");
    // Git remotes are refused by name, before anything is fetched or built.
    for git in ["https%3A%2F%2F127.0.0.1%3A9%2Frepo.git", "git%40github.com%3Amoby%2Fmoby", "git%3A%2F%2F127.0.0.1%2Frepo"] {
        let (code, body) = d.api("POST", &format!("/build?t=nope&remote={git}"), None);
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("does not clone git repositories"), "{body}");
    }
    d.berth(&["build", "-t", "nope", "https://127.0.0.1:9/repo.git"]).assert_fail().assert_stderr_contains("does not clone git repositories");
    // A URL nothing answers at: the build fails naming it, and leaves no image.
    let (code, body) = d.api("POST", "/build?t=nope&remote=http%3A%2F%2F127.0.0.1%3A9%2Fctx.tar", None);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("127.0.0.1:9"), "{body}");
    d.berth(&["image", "inspect", "nope"]).assert_fail();
    assert!(d.leaked_mounts().is_empty(), "{:?}", d.leaked_mounts());
    d.stop();
}

both! {
    fn what_berth_does_not_honour_is_refused_and_leaves_nothing(d, c) {
        for (name, df, want) in [
            ("security", "FROM busybox\nRUN echo before\nRUN --security=insecure echo hi\n", "RUN --security is not supported by berth"),
            ("keepgit", "FROM busybox\nADD --keep-git-dir=true https://127.0.0.1:9/r.git /r\n", "ADD --keep-git-dir is not supported by berth"),
            ("ssh", "FROM busybox\nRUN --mount=type=ssh ssh-add -l\n", "RUN --mount=type=ssh is not supported by berth"),
        ] {
            let ctx = context(d, name, &[("Dockerfile", df)]);
            let out = build(d, c, &["-t", name, ctx.to_str().expect("utf8")]);
            out.assert_fail().assert_stderr_contains(want);
            // Refused at parse time: no step ran.
            assert!(!out.out().contains("Step 1/"), "{}", out.out());
            d.cli(c, &["image", "inspect", name]).assert_fail();
        }
        // ADD of a git URL fails at its step, before anything is fetched.
        let ctx = context(d, "addgit", &[("Dockerfile", "FROM busybox\nRUN echo before\nADD https://127.0.0.1:9/moby/moby.git /src\n")]);
        build(d, c, &["-t", "addgit", ctx.to_str().expect("utf8")])
            .assert_fail()
            .assert_stderr_contains("is a git repository, and berth does not clone git repositories");
        d.cli(c, &["image", "inspect", "addgit"]).assert_fail();
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
        assert!(d.leaked_mounts().is_empty(), "{:?}", d.leaked_mounts());
        let work = d.data_root().join("build/work");
        let left: Vec<_> = std::fs::read_dir(&work).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(left.is_empty(), "build work directories left: {left:?}");
    }
}

#[test]
fn resource_limits_for_run_are_refused_by_name() {
    let d = TestDaemon::start();
    classic();
    let ctx = context(&d, "limits", &[("Dockerfile", "FROM busybox\nRUN echo hi\n")]);
    let dir = ctx.to_str().expect("utf8");
    for (flag, value, named) in [
        ("--memory", "64m", "memory=67108864"),
        ("--cpu-shares", "512", "cpushares=512"),
        ("--cpuset-cpus", "0", "cpusetcpus=0"),
        ("--cpu-quota", "50000", "cpuquota=50000"),
        ("--cgroup-parent", "x", "cgroupparent=x"),
        ("--ulimit", "nofile=10:10", "ulimits"),
    ] {
        let out = d.docker(&["build", flag, value, "-t", "limited", dir]);
        out.assert_fail().assert_stderr_contains("berth build does not support");
        assert!(out.stderr.contains(named), "{flag}: {}", out.stderr);
        d.docker(&["image", "inspect", "limited"]).assert_fail();
    }
    d.stop();
}

both! {
    fn add_fetches_a_url(d, c) {
        let port = http_server("fetched over http\n");
        let ctx = context(d, "addurl", &[("Dockerfile", &format!(
            "FROM busybox\nADD http://127.0.0.1:{port}/files/remote.txt /data/\nCMD [\"sh\", \"-c\", \"cat /data/remote.txt; stat -c %a /data/remote.txt\"]\n"
        ))]);
        build(d, c, &["-t", "addurl", ctx.to_str().expect("utf8")]).assert_ok();
        d.cli(c, &["run", "--rm", "addurl"]).assert_ok().assert_stdout("fetched over http\n600");
        // A URL nothing answers at fails the build, naming it.
        let dead = context(d, "deadurl", &[("Dockerfile", "FROM busybox\nADD http://127.0.0.1:9/x /x\n")]);
        build(d, c, &[dead.to_str().expect("utf8")]).assert_fail().assert_stderr_contains("127.0.0.1:9");
    }
}

both! {
    fn run_steps_are_confined_like_run(d, c) {
        let ctx = context(d, "confined", &[(
            "Dockerfile",
            "FROM busybox\nRUN grep -E '^(Seccomp|CapEff|NoNewPrivs):' /proc/self/status > /status && hostname > /hostname\nCMD [\"cat\", \"/status\"]\n",
        )]);
        build(d, c, &["--network", "none", "-t", "confined", ctx.to_str().expect("utf8")]).assert_ok();
        let in_build = d.cli(c, &["run", "--rm", "confined"]).assert_ok().out();
        let in_run = d.cli(c, &["run", "--rm", "--network", "none", "busybox", "grep", "-E", "^(Seccomp|CapEff|NoNewPrivs):", "/proc/self/status"]).assert_ok().out();
        assert_eq!(in_build, in_run, "a RUN step gets run's seccomp filter and capabilities");
        assert!(in_build.contains("Seccomp:\t2"), "{in_build}");
        // The step's hostname is its container's short ID, as dockerd's.
        let host = d.cli(c, &["run", "--rm", "confined", "cat", "/hostname"]).assert_ok().out();
        assert!(host.len() == 12 && host.bytes().all(|b| b.is_ascii_hexdigit()), "{host}");
    }
}

/// cap_net_raw+ep, as `setcap` writes it (revision 2).
const NET_RAW: [u8; 20] = [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// A tar with `bin/ping` carrying `security.capability` (a PAX record, as Docker writes it).
fn caps_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let key = "SCHILY.xattr.security.capability";
    let len = key.len() + NET_RAW.len() + 3 + 2;
    let mut rec = format!("{len} {key}=").into_bytes();
    rec.extend_from_slice(&NET_RAW);
    rec.push(b'\n');
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(rec.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "PaxHeaders/ping", &rec[..]).expect("pax");
    let mut h = tar::Header::new_ustar();
    h.set_size(5);
    h.set_mode(0o755);
    h.set_cksum();
    b.append_data(&mut h, "bin/ping", &b"ping\n"[..]).expect("tar");
    b.into_inner().expect("tar")
}

/// The `security.capability` of each entry of an exported container that has one.
fn exported_caps(d: &TestDaemon, c: Cli, image: &str) -> Vec<(String, Vec<u8>)> {
    let id = d.cli(c, &["create", image, "true"]).assert_ok().out();
    let out = d.dir().join(format!("{image}-export.tar"));
    d.cli(c, &["export", "-o", out.to_str().expect("utf8"), &id]).assert_ok();
    d.cli(c, &["rm", &id]).assert_ok();
    let data = std::fs::read(&out).expect("export");
    let mut found = Vec::new();
    for e in tar::Archive::new(&data[..]).entries().expect("tar") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").to_string_lossy().into_owned();
        for x in e.pax_extensions().ok().flatten().into_iter().flatten().flatten() {
            if x.key() == Ok("SCHILY.xattr.security.capability") {
                found.push((name.clone(), x.value_bytes().to_vec()));
            }
        }
    }
    found
}

both! {
    fn file_capabilities_survive_add_copy_and_commit(d, c) {
        let ctx = context(d, "caps", &[(
            "Dockerfile",
            "FROM busybox AS base\nADD caps.tar /opt/\nFROM busybox\nCOPY --from=base /opt/bin/ping /usr/bin/ping\nRUN echo later > /later\n",
        )]);
        std::fs::write(ctx.join("caps.tar"), caps_tar()).expect("write");
        build(d, c, &["-t", "caps", ctx.to_str().expect("utf8")]).assert_ok();
        // Through ADD's extraction, COPY --from, two commits and a later RUN layer.
        assert_eq!(exported_caps(d, c, "caps"), vec![("usr/bin/ping".to_string(), NET_RAW.to_vec())]);
    }
}

both! {
    fn copy_exclude_leaves_out_named_files_and_paths_inside_directories(d, c) {
        let ctx = context(d, "exclude", &[
            ("Dockerfile", "FROM busybox\nCOPY --exclude=*.env app.env run.sh /one/\nCOPY --exclude=**/*.log src /two/\nCOPY --exclude=app.env app.env /three/\n"),
            ("app.env", "SECRET=1\n"),
            ("run.sh", "echo run\n"),
            ("src/main.c", "int main;\n"),
            ("src/debug.log", "log\n"),
            ("src/sub/trace.log", "log\n"),
        ]);
        build(d, c, &["-t", "excluded", ctx.to_str().expect("utf8")]).assert_ok();
        let ls = d.cli(c, &["run", "--rm", "excluded", "sh", "-c", "find /one /two /three 2>/dev/null | sort"]).out();
        assert_eq!(ls, "/one\n/one/run.sh\n/two\n/two/main.c\n/two/sub", "{ls}");
    }
}

#[test]
fn fifos_and_device_nodes_made_by_run_are_committed() {
    let d = TestDaemon::start();
    let ctx = context(&d, "mknod", &[("Dockerfile", "FROM busybox\nRUN mknod /tmp/null c 1 3 && mkfifo /tmp/fifo && echo made > /tmp/made\n")]);
    d.berth(&["build", "-t", "devnode", ctx.to_str().expect("utf8")]).assert_ok();
    // The store never creates device nodes from a layer (its layer directory has none),
    // while the layer's tar, what `save` and `push` send, keeps it as Docker's does.
    // (The tar crate's own writer named such entries by their source path: a RUN that
    // made a FIFO or a device failed its commit.)
    d.berth(&["run", "--rm", "devnode", "sh", "-c", "cat /tmp/made; test -p /tmp/fifo && echo fifo; test -e /tmp/null || echo absent"])
        .assert_ok()
        .assert_stdout("made\nfifo\nabsent");
    let out = d.dir().join("devnode.tar");
    d.berth(&["save", "-o", out.to_str().expect("utf8"), "devnode"]).assert_ok();
    let mut found = false;
    for e in tar::Archive::new(std::fs::File::open(&out).expect("open")).entries().expect("tar") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").to_string_lossy().into_owned();
        if !name.ends_with(".tar") && !name.starts_with("blobs/") {
            continue;
        }
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).expect("read");
        let mut layer = tar::Archive::new(&data[..]);
        let Ok(entries) = layer.entries() else { continue };
        for l in entries.flatten() {
            if l.path().is_ok_and(|p| p.as_os_str() == "tmp/null") {
                assert_eq!(l.header().entry_type(), tar::EntryType::Char);
                found = true;
            }
        }
    }
    assert!(found, "tmp/null is in a layer of the saved image");
    d.stop();
}
