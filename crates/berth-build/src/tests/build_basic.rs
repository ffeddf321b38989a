use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::fake::{Events, FakeHost};
use crate::{build, BuildError, BuildOptions};

pub fn ctx_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (p, c) in files {
        let full = t.path().join(p);
        if let Some(d) = full.parent() {
            fs::create_dir_all(d).ok();
        }
        fs::write(full, c).ok();
    }
    t
}

pub fn opts(ctx: &Path, dockerfile: &str) -> BuildOptions {
    BuildOptions {
        dockerfile: dockerfile.as_bytes().to_vec(),
        dockerfile_path: "Dockerfile".into(),
        context: ctx.to_path_buf(),
        network: "default".into(),
        ..Default::default()
    }
}

fn history(h: &FakeHost, id: &str) -> Vec<(String, bool)> {
    h.image(id)
        .0
        .history
        .iter()
        .map(|x| (x.created_by.clone().unwrap_or_default(), x.empty_layer))
        .collect()
}

#[test]
fn config_and_history_like_dockerd() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("app/main.sh", "echo hi"), ("README", "r")]);
    let h = FakeHost::new();
    let ev = Events::default();
    let df = "FROM busybox\nENV A=1 B=\"x y\"\nENV C=$A D=${NOPE:-dflt}\nWORKDIR /srv\nCOPY app /srv/app\nCOPY --chown=www:www README .\nRUN touch /srv/built\nEXPOSE 80 53/udp\nVOLUME /data\nUSER www\nLABEL a=b\nSTOPSIGNAL SIGINT\nENTRYPOINT [\"/bin/run\"]\nHEALTHCHECK --interval=5s CMD true\nSHELL [\"/bin/bash\", \"-c\"]\nCMD serve\n";
    let r = build(&h, &opts(ctx.path(), df), &ev)?;
    let (img, root, _) = h.image(&r.image_id);
    let c = img.config.clone().unwrap_or_default();
    assert_eq!(c.env, Some(vec!["PATH=/bin".into(), "A=1".into(), "B=x y".into(), "C=1".into(), "D=dflt".into()]));
    assert_eq!(c.working_dir.as_deref(), Some("/srv"));
    assert_eq!(c.user.as_deref(), Some("www"));
    assert_eq!(c.entrypoint, Some(vec!["/bin/run".into()]));
    // CMD after ENTRYPOINT, in bash because of SHELL.
    assert_eq!(c.cmd, Some(vec!["/bin/bash".into(), "-c".into(), "serve".into()]));
    assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(c.exposed_ports.map(|m| m.keys().cloned().collect::<Vec<_>>()), Some(vec!["53/udp".into(), "80/tcp".into()]));
    assert!(c.volumes.is_some_and(|v| v.contains_key("/data")));
    assert_eq!(c.labels.and_then(|l| l.get("a").cloned()).as_deref(), Some("b"));
    assert_eq!(c.healthcheck.and_then(|h| h.interval), Some(5_000_000_000));
    let hist = history(&h, &r.image_id);
    let want: Vec<(&str, bool)> = vec![
        ("base", false),
        ("/bin/sh -c #(nop)  ENV A=1 B=x y", true),
        ("/bin/sh -c #(nop)  ENV C=1 D=dflt", true),
        ("/bin/sh -c #(nop) WORKDIR /srv", false),
    ];
    for (i, (w, e)) in want.iter().enumerate() {
        assert_eq!((hist[i].0.as_str(), hist[i].1), (*w, *e), "history {i}");
    }
    assert!(hist[4].0.starts_with("/bin/sh -c #(nop) COPY dir:") && hist[4].0.ends_with(" in /srv/app "), "{}", hist[4].0);
    assert!(hist[5].0.starts_with("/bin/sh -c #(nop) COPY --chown=www:wwwfile:") && hist[5].0.ends_with(" in . "), "{}", hist[5].0);
    assert_eq!(hist[6], ("/bin/sh -c touch /srv/built".into(), false));
    assert_eq!(hist[7].0, "/bin/sh -c #(nop)  EXPOSE 80 53/udp");
    assert_eq!(hist[8].0, "/bin/sh -c #(nop)  VOLUME [/data]");
    assert_eq!(hist[12].0, "/bin/sh -c #(nop)  ENTRYPOINT [\"/bin/run\"]");
    assert_eq!(hist[13].0, "/bin/sh -c #(nop)  HEALTHCHECK &{Test:[CMD-SHELL true] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}");
    assert_eq!(hist[14].0, "/bin/sh -c #(nop)  SHELL [/bin/bash -c]");
    assert_eq!(hist[15].0, "/bin/bash -c #(nop)  CMD [\"/bin/bash\" \"-c\" \"serve\"]");
    // Files: a directory's contents, owners, the WORKDIR.
    assert_eq!(fs::read_to_string(root.join("srv/app/main.sh")).ok().as_deref(), Some("echo hi"));
    let md = fs::metadata(root.join("srv/README")).map_err(io)?;
    assert_eq!((md.uid(), md.gid()), (33, 34));
    assert!(root.join("srv/built").is_file());
    let lines = ev.lines();
    assert_eq!(lines[0], "Step 1/16 : FROM busybox");
    assert_eq!(lines.iter().filter(|l| l.starts_with("Step ")).count(), 16);
    Ok(())
}

/// A test's own I/O failure, as a BuildError so `?` works in these tests.
fn io(e: std::io::Error) -> BuildError {
    BuildError::Step { line: 0, message: e.to_string(), text: String::new() }
}

#[test]
fn child_images_are_made_fresh() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let (mut cfg, root, _) = h.image(&h.tags.lock().unwrap_or_else(|p| p.into_inner())["busybox"].clone());
    cfg.author = Some("someone".into());
    cfg.extra.insert("container_config".into(), serde_json::json!({"Cmd": ["x"]}));
    cfg.extra.insert("os.features".into(), serde_json::json!(["f"]));
    h.add_image("based", cfg, root);
    let r = build(&h, &opts(ctx.path(), "FROM based\nENV A=1\nMAINTAINER me\nENV B=2\n"), &Events::default())?;
    let img = h.image(&r.image_id).0;
    assert_eq!(img.author.as_deref(), Some("me"));
    assert!(!img.extra.contains_key("container_config"));
    assert!(img.extra.contains_key("os.features"));
    assert_eq!(img.history.last().and_then(|h| h.author.clone()).as_deref(), Some("me"));
    let parent = h.image(&r.image_id).2.unwrap_or_default();
    let (p2, _, _) = h.image(&parent);
    let grand = h.image(&h.image(&parent).2.unwrap_or_default()).0;
    assert_eq!(grand.author, None, "before MAINTAINER the author is empty, not the base's");
    assert_eq!(p2.author.as_deref(), Some("me"));
    Ok(())
}

#[test]
fn entrypoint_resets_only_an_inherited_cmd() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let r = build(&h, &opts(ctx.path(), "FROM busybox\nENTRYPOINT [\"top\"]\n"), &Events::default())?;
    assert_eq!(h.image(&r.image_id).0.config.and_then(|c| c.cmd), None);
    let r = build(&h, &opts(ctx.path(), "FROM busybox\nCMD [\"-b\"]\nENTRYPOINT top\n"), &Events::default())?;
    let c = h.image(&r.image_id).0.config.unwrap_or_default();
    assert_eq!(c.cmd, Some(vec!["-b".into()]));
    assert_eq!(c.entrypoint, Some(vec!["/bin/sh".into(), "-c".into(), "top".into()]));
    Ok(())
}

#[test]
fn layer_cache_hits_and_invalidation() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("package.json", "{}"), ("src/app.js", "v1")]);
    let h = FakeHost::new();
    let df = "FROM busybox\nCOPY package.json /app/\nRUN touch /app/deps\nCOPY . /app\nRUN echo built\n";
    let first = build(&h, &opts(ctx.path(), df), &Events::default())?;
    let ev = Events::default();
    let again = build(&h, &opts(ctx.path(), df), &ev)?;
    assert_eq!(first, again);
    assert_eq!(ev.lines().iter().filter(|l| *l == " ---> Using cache").count(), 4);
    // mtime only: still cached.
    let f = fs::File::options().write(true).open(ctx.path().join("src/app.js")).map_err(io)?;
    f.set_modified(std::time::SystemTime::UNIX_EPOCH).map_err(io)?;
    let ev = Events::default();
    assert_eq!(build(&h, &opts(ctx.path(), df), &ev)?, first);
    // Content: the COPY . and every step after it run again; the ones before hit.
    fs::write(ctx.path().join("src/app.js"), "v2").ok();
    let ev = Events::default();
    let third = build(&h, &opts(ctx.path(), df), &ev)?;
    assert_ne!(third, first);
    assert_eq!(ev.lines().iter().filter(|l| *l == " ---> Using cache").count(), 2);
    assert!(ev.lines().iter().any(|l| l == "out: built"));
    // --no-cache: nothing from the cache.
    let ev = Events::default();
    let mut o = opts(ctx.path(), df);
    o.no_cache = true;
    build(&h, &o, &ev)?;
    assert!(!ev.lines().iter().any(|l| l == " ---> Using cache"));
    Ok(())
}

#[test]
fn failing_run_reports_code_and_line() {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let e = build(&h, &opts(ctx.path(), "FROM busybox\n\nRUN echo a; exit 3\nRUN touch /never\n"), &Events::default()).err();
    let Some(e) = e else { panic!("the build should fail") };
    assert_eq!(e.to_string(), "The command '/bin/sh -c echo a; exit 3' returned a non-zero code: 3");
    assert_eq!(e.exit_code(), Some(3));
    assert_eq!(e.line(), Some(3));
    assert!(!h.calls().iter().any(|c| c.contains("/never")));
    assert_eq!(h.calls().iter().filter(|c| c.starts_with("commit")).count(), 0);
}

#[test]
fn errors_before_any_step() {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nRUN true\nFROOM x\n"), &Events::default()).err();
    assert_eq!(e.map(|e| e.to_string()).as_deref(), Some("dockerfile parse error on line 3: unknown instruction: FROOM (did you mean FROM?)"));
    assert!(h.calls().is_empty(), "nothing ran: {:?}", h.calls());
}

#[test]
fn missing_copy_source_wording() {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY nope /x\n"), &Events::default()).err();
    let Some(e) = e else { panic!("the build should fail") };
    assert_eq!(e.to_string(), "COPY failed: file not found in build context or excluded by .dockerignore: stat nope: file does not exist");
    assert_eq!(e.line(), Some(2));
    assert_eq!(e.instruction(), Some("COPY nope /x"));
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY a b /x\n"), &Events::default()).err();
    assert!(e.is_some());
}

#[test]
fn build_args_history_and_warning() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let mut o = opts(ctx.path(), "ARG TAG=busybox\nFROM ${TAG}\nARG A\nARG B=2\nARG TAG\nRUN echo $A\n");
    o.build_args = BTreeMap::from([
        ("A".to_string(), Some("1".to_string())),
        ("HTTP_PROXY".to_string(), Some("http://proxy".to_string())),
        ("UNUSED".to_string(), Some("x".to_string())),
    ]);
    let ev = Events::default();
    let r = build(&h, &o, &ev)?;
    let hist = history(&h, &r.image_id);
    assert_eq!(hist.last().map(|x| x.0.as_str()), Some("|3 A=1 B=2 TAG=busybox /bin/sh -c echo $A"));
    let runs = h.runs.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(runs[0].env.contains(&"HTTP_PROXY=http://proxy".to_string()), "{:?}", runs[0].env);
    assert!(runs[0].env.contains(&"A=1".to_string()));
    assert_eq!(ev.lines().last().map(String::as_str), Some("warn: [Warning] One or more build-args [UNUSED] were not consumed"));
    assert_eq!(ev.lines()[0], "Step 1/6 : ARG TAG=busybox");
    // ARG values never land in the image config.
    assert!(!h.image(&r.image_id).0.config.and_then(|c| c.env).unwrap_or_default().iter().any(|e| e.starts_with("A=")));
    Ok(())
}

#[test]
fn heredocs_labels_and_onbuild() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let df = "FROM busybox\nENV NAME=world\nCOPY <<EOF /hello.txt\nhello $NAME\nEOF\nRUN <<EOF\ntouch /from-heredoc\nEOF\nONBUILD RUN touch /triggered\n";
    let mut o = opts(ctx.path(), df);
    o.labels = BTreeMap::from([("org.x".to_string(), "1".to_string())]);
    let ev = Events::default();
    let parent = build(&h, &o, &ev)?;
    let (img, root, _) = h.image(&parent.image_id);
    assert_eq!(fs::read_to_string(root.join("hello.txt")).ok().as_deref(), Some("hello world\n"));
    assert!(root.join("from-heredoc").is_file());
    let c = img.config.unwrap_or_default();
    assert_eq!(c.on_build, Some(vec!["RUN touch /triggered".into()]));
    assert_eq!(c.labels.and_then(|l| l.get("org.x").cloned()).as_deref(), Some("1"));
    assert!(ev.lines().contains(&"Step 6/6 : LABEL org.x=1".to_string()));
    // A child image runs the trigger at its FROM and does not inherit it.
    h.tags.lock().unwrap_or_else(|p| p.into_inner()).insert("parent".into(), parent.image_id.clone());
    let ev = Events::default();
    let child = build(&h, &opts(ctx.path(), "FROM parent\nRUN touch /child\n"), &ev)?;
    let (img, root, _) = h.image(&child.image_id);
    assert!(root.join("triggered").is_file());
    assert_eq!(img.config.and_then(|c| c.on_build), None);
    let lines = ev.lines();
    let at = |s: &str| lines.iter().position(|l| l == s).unwrap_or(usize::MAX);
    assert_eq!(at("Step 1/2 : FROM parent") + 1, at("out: # Executing 1 build trigger"), "{lines:?}");
    // One ` ---> <id>` for the FROM, after its trigger ran; none for the trigger itself.
    assert!(lines[at("out: # Executing 1 build trigger") + 1].starts_with(" ---> "), "{lines:?}");
    assert_eq!(lines[at("out: # Executing 1 build trigger") + 2], "Step 2/2 : RUN touch /child", "{lines:?}");
    Ok(())
}

#[test]
fn add_unpacks_tars_and_downloads_urls() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let mut b = tar::Builder::new(Vec::new());
    let mut hd = tar::Header::new_gnu();
    hd.set_size(3);
    hd.set_mode(0o644);
    hd.set_path("inner/file").ok();
    hd.set_cksum();
    b.append(&hd, &b"abc"[..]).ok();
    let tarb = b.into_inner().unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tarb).ok();
    fs::write(ctx.path().join("bundle.tgz"), gz.finish().unwrap_or_default()).ok();
    let h = FakeHost::new();
    h.urls.lock().unwrap_or_else(|p| p.into_inner()).insert("http://127.0.0.1:1/x/tool.sh".into(), b"#!/bin/sh".to_vec());
    let df = "FROM busybox\nADD bundle.tgz /opt/\nADD http://127.0.0.1:1/x/tool.sh /usr/bin/\nCOPY bundle.tgz /raw/\n";
    let r = build(&h, &opts(ctx.path(), df), &Events::default())?;
    let root = h.image(&r.image_id).1;
    assert_eq!(fs::read_to_string(root.join("opt/inner/file")).ok().as_deref(), Some("abc"));
    let md = fs::metadata(root.join("usr/bin/tool.sh")).map_err(io)?;
    assert_eq!(md.mode() & 0o7777, 0o600);
    assert!(root.join("raw/bundle.tgz").is_file(), "COPY never unpacks");
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY http://127.0.0.1:1/x/tool.sh /\n"), &Events::default()).err();
    assert!(e.is_some_and(|e| e.to_string().contains("source can't be a URL for COPY")));
    Ok(())
}

#[test]
fn copy_into_hostile_base_stays_inside() -> Result<(), BuildError> {
    // The base image has /escape -> /etc (absolute): writing through it lands in the
    // rootfs's /etc, never the host's.
    let ctx = ctx_with(&[("f", "data")]);
    let h = FakeHost::new();
    let r = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY f /escape/berth-test-file\n"), &Events::default())?;
    let root = h.image(&r.image_id).1;
    assert!(root.join("etc/berth-test-file").is_file());
    assert!(!Path::new("/etc/berth-test-file").exists());
    Ok(())
}

#[test]
fn env_on_one_line_uses_the_old_values() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let r = build(&h, &opts(ctx.path(), "FROM busybox\nENV a=1\nENV a=2 b=$a\nENV c=\"$a\" d='$a' e=\\$a\n"), &Events::default())?;
    let env = h.image(&r.image_id).0.config.and_then(|c| c.env).unwrap_or_default();
    assert_eq!(env, vec!["PATH=/bin", "a=2", "b=1", "c=2", "d=$a", "e=$a"]);
    Ok(())
}

#[test]
fn platform_args_and_meta_arg_redeclaration() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let mut o = opts(ctx.path(), "ARG V=7\nFROM busybox\nARG V\nARG TARGETARCH\nRUN echo $V-$TARGETARCH\n");
    o.platform = Some("linux/arm64".into());
    let r = build(&h, &o, &Events::default())?;
    let hist = h.image(&r.image_id).0.history;
    assert_eq!(hist.last().and_then(|x| x.created_by.clone()).as_deref(), Some("|2 TARGETARCH=arm64 V=7 /bin/sh -c echo $V-$TARGETARCH"));
    Ok(())
}

#[test]
fn run_mounts_resolve_inside_the_context() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("conf/app.ini", "x")]);
    let h = FakeHost::new();
    let mut o = opts(ctx.path(), "FROM busybox\nWORKDIR /w\nRUN --mount=type=cache,target=rel true\nRUN --mount=type=bind,source=conf,target=/c --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok --mount=type=tmpfs,target=/t --network=none echo ok\n");
    o.secrets.insert("tok".into(), ctx.path().join("conf/app.ini"));
    build(&h, &o, &Events::default())?;
    let runs = h.runs.lock().unwrap_or_else(|p| p.into_inner()).clone();
    use crate::RunMount;
    assert!(matches!(&runs[0].mounts[0], RunMount::Cache { target, .. } if target == "/w/rel"));
    let spec = &runs[1];
    assert_eq!(spec.network, "none");
    assert!(matches!(&spec.mounts[0], RunMount::Bind { source, target, read_write: false } if *source == ctx.path().join("conf") && target == "/c"));
    assert!(matches!(&spec.mounts[1], RunMount::Cache { id, .. } if id == "/root/.cache"));
    assert!(matches!(&spec.mounts[2], RunMount::Secret { target, mode: 0o400, .. } if target == "/run/secrets/tok"));
    assert!(matches!(&spec.mounts[3], RunMount::Tmpfs { target, .. } if target == "/t"));
    // A bind source that climbs out of the context is resolved inside it (and missing).
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nRUN --mount=type=bind,source=../../etc,target=/x true\n"), &Events::default()).err();
    assert!(e.is_some_and(|e| e.to_string().contains("not found")));
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nRUN --mount=type=ssh true\n"), &Events::default()).err();
    assert!(e.is_some_and(|e| e.to_string().contains("not supported")));
    Ok(())
}

#[test]
fn copy_rules_multiple_sources_wildcards_chmod() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("a.txt", "a"), ("b.txt", "b"), ("c.md", "c")]);
    let h = FakeHost::new();
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY a.txt b.txt /dst\n"), &Events::default()).err();
    assert_eq!(
        e.map(|e| e.to_string()).as_deref(),
        Some("When using COPY with more than one source file, the destination must be a directory and end with a /")
    );
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY *.none /dst/\n"), &Events::default()).err();
    assert_eq!(e.map(|e| e.to_string()).as_deref(), Some("COPY failed: no source files were specified"));
    let r = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY --chmod=640 *.txt /dst/\n"), &Events::default())?;
    let root = h.image(&r.image_id).1;
    let md = fs::metadata(root.join("dst/b.txt")).map_err(io)?;
    assert_eq!((md.mode() & 0o7777, md.uid()), (0o640, 0));
    assert!(!root.join("dst/c.md").exists());
    let hist = h.image(&r.image_id).0.history;
    assert!(hist.last().and_then(|x| x.created_by.clone()).is_some_and(|c| c.contains("COPY multi:")));
    let e = build(&h, &opts(ctx.path(), "FROM busybox\nCOPY --chown=nobody a.txt /\n"), &Events::default()).err();
    assert_eq!(
        e.map(|e| e.to_string()).as_deref(),
        Some("unable to convert uid/gid chown string to host mapping: can't find uid for user nobody: no such user: nobody")
    );
    Ok(())
}

#[test]
fn copy_exclude_parents_and_add_unpack() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("app/a.js", "a"), ("app/a.test.js", "t"), ("app/lib/b.js", "b"), ("app/lib/b.test.js", "t"), ("x.md", "m"), ("y.md", "m"), ("src/deep/one.txt", "1")]);
    let h = FakeHost::new();
    let mut b = tar::Builder::new(Vec::new());
    let mut hd = tar::Header::new_gnu();
    hd.set_size(1);
    hd.set_mode(0o644);
    hd.set_path("in-tar").ok();
    hd.set_cksum();
    b.append(&hd, &b"z"[..]).ok();
    fs::write(ctx.path().join("t.tar"), b.into_inner().unwrap_or_default()).ok();
    let df = "FROM busybox\nCOPY --exclude=*.test.js --exclude=**/*.test.js app /app\nCOPY --exclude=y.md *.md /docs/\nCOPY --parents src/deep/one.txt /p/\nCOPY --parents ./src/./deep/one.txt /q/\nADD --unpack=false t.tar /raw/\n";
    let r = build(&h, &opts(ctx.path(), df), &Events::default())?;
    let root = h.image(&r.image_id).1;
    assert!(root.join("app/a.js").is_file());
    assert!(root.join("app/lib/b.js").is_file());
    assert!(!root.join("app/a.test.js").exists());
    assert!(!root.join("app/lib/b.test.js").exists());
    assert!(root.join("docs/x.md").is_file());
    assert!(!root.join("docs/y.md").exists());
    assert!(root.join("p/src/deep/one.txt").is_file());
    assert!(root.join("q/deep/one.txt").is_file(), "the /./ pivot");
    assert!(root.join("raw/t.tar").is_file(), "--unpack=false copies the archive");
    Ok(())
}

#[test]
fn copy_exclude_drops_a_named_file_but_never_a_directory_source() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("secret.env", "s"), ("keep.txt", "k"), ("dir1/a.txt", "a"), ("dir2/b.md", "b")]);
    let h = FakeHost::new();
    let df = "FROM busybox\nCOPY --exclude=*.env secret.env keep.txt /one/\nCOPY --exclude=secret.env secret.env /two/\nCOPY --exclude=* dir* /three/\nCOPY --exclude=dir1 dir1 /four/\n";
    let r = build(&h, &opts(ctx.path(), df), &Events::default())?;
    let root = h.image(&r.image_id).1;
    assert!(root.join("one/keep.txt").is_file());
    assert!(!root.join("one/secret.env").exists(), "a named file matching --exclude is left out");
    assert!(!root.join("two").exists(), "all sources excluded: nothing copied, no error");
    assert!(root.join("three").is_dir() && !root.join("three/a.txt").exists() && !root.join("three/b.md").exists());
    assert!(root.join("four/a.txt").is_file(), "a directory source is copied; patterns apply inside it");
    Ok(())
}
