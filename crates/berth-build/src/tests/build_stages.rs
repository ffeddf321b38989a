use super::build_basic::{ctx_with, opts};
use super::fake::{Events, FakeHost};
use crate::{build, BuildError};

#[test]
fn multi_stage_copy_from_and_skipping() -> Result<(), BuildError> {
    let ctx = ctx_with(&[("src.c", "int main;")]);
    let h = FakeHost::new();
    let df = "FROM busybox AS build\nCOPY src.c /src/\nRUN write /src/app binary\nFROM busybox AS unused\nRUN exit 9\nFROM scratch\nCOPY --from=build /src/app /app\nCOPY --from=0 /etc/passwd /passwd\n";
    let ev = Events::default();
    let r = build(&h, &opts(ctx.path(), df), &ev)?;
    let (img, root, _) = h.image(&r.image_id);
    assert_eq!(std::fs::read_to_string(root.join("app")).ok().as_deref(), Some("binary"));
    assert!(root.join("passwd").is_file());
    assert!(!h.calls().iter().any(|c| c.contains("exit 9")), "the unused stage was skipped");
    // Numbering covers the stages built: 3 + 3 steps.
    assert!(ev.lines().contains(&"Step 6/6 : COPY --from=0 /etc/passwd /passwd".to_string()), "{:?}", ev.lines());
    assert_eq!(img.os, "linux");
    assert!(img.config.and_then(|c| c.env).is_some_and(|e| e[0].starts_with("PATH=")));
    Ok(())
}

#[test]
fn target_and_unknown_target() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let df = "FROM busybox AS a\nRUN touch /a\nFROM busybox AS b\nRUN exit 1\n";
    let mut o = opts(ctx.path(), df);
    o.target = Some("a".into());
    let r = build(&h, &o, &Events::default())?;
    assert!(h.image(&r.image_id).1.join("a").is_file());
    o.target = Some("zzz".into());
    let e = build(&h, &o, &Events::default()).err().map(|e| e.to_string());
    assert_eq!(e.as_deref(), Some("failed to reach build target zzz in Dockerfile"));
    Ok(())
}

#[test]
fn parallel_stages_keep_their_output_in_order() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let df = "FROM busybox AS one\nRUN echo one\nFROM busybox AS two\nRUN echo two\nFROM busybox\nCOPY --from=one /etc/group /g1\nCOPY --from=two /etc/group /g2\n";
    let ev = Events::default();
    build(&h, &opts(ctx.path(), df), &ev)?;
    let lines = ev.lines();
    let pos = |s: &str| lines.iter().position(|l| l == s).unwrap_or(usize::MAX);
    assert!(pos("out: one") < pos("Step 3/7 : FROM busybox AS two"), "{lines:?}");
    assert!(pos("out: two") < pos("Step 5/7 : FROM busybox"), "{lines:?}");
    Ok(())
}

#[test]
fn failing_stage_fails_the_build() {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let df = "FROM busybox AS bad\nRUN exit 4\nFROM busybox\nCOPY --from=bad /x /x\n";
    let e = build(&h, &opts(ctx.path(), df), &Events::default()).err();
    assert_eq!(e.and_then(|e| e.exit_code()), Some(4));
}

#[test]
fn many_parallel_stages_and_a_forward_reference() -> Result<(), BuildError> {
    let ctx = ctx_with(&[]);
    let h = FakeHost::new();
    let mut df = String::from("FROM busybox AS final0\nCOPY --from=late /late /late\n");
    for i in 0..10 {
        df.push_str(&format!("FROM busybox AS s{i}\nRUN write /f{i} {i}\n"));
    }
    df.push_str("FROM busybox AS late\nRUN write /late yes\nFROM final0\n");
    for i in 0..10 {
        df.push_str(&format!("COPY --from=s{i} /f{i} /all/\n"));
    }
    let ev = Events::default();
    let r = build(&h, &opts(ctx.path(), &df), &ev)?;
    let root = h.image(&r.image_id).1;
    for i in 0..10 {
        assert_eq!(std::fs::read_to_string(root.join(format!("all/f{i}"))).ok(), Some(i.to_string()));
    }
    assert!(root.join("late").is_file());
    // Steps come out numbered in file order.
    let steps: Vec<usize> = ev
        .lines()
        .iter()
        .filter_map(|l| l.strip_prefix("Step ").and_then(|r| r.split('/').next()).and_then(|n| n.parse().ok()))
        .collect();
    let mut sorted = steps.clone();
    sorted.sort_unstable();
    assert_eq!(steps, sorted);
    assert_eq!(steps.len(), 2 + 20 + 2 + 11);
    Ok(())
}

#[test]
#[ignore = "measurement, run by hand: cargo test -p berth-build --release -- --ignored --nocapture"]
fn measure_cached_nine_steps() -> Result<(), BuildError> {
    let files: Vec<(String, String)> = (0..200).map(|i| (format!("src/d{}/f{i}.txt", i % 10), format!("content {i}"))).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let ctx = ctx_with(&refs);
    let h = FakeHost::new();
    let df = "FROM busybox\nENV A=1\nWORKDIR /app\nCOPY src/d0 /app/d0\nRUN touch /x\nCOPY . /app\nRUN touch /y\nEXPOSE 80\nCMD [\"sh\"]\n";
    let t = std::time::Instant::now();
    build(&h, &opts(ctx.path(), df), &Events::default())?;
    let cold = t.elapsed();
    let t = std::time::Instant::now();
    build(&h, &opts(ctx.path(), df), &Events::default())?;
    eprintln!("fake host: cold {cold:?} (cp -a snapshots), cached {:?}", t.elapsed());
    Ok(())
}
