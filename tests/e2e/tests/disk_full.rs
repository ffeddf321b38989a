//! A full data root: berthd still starts (start-up writes nothing that did
//! not change), and every write that fails names the cause ("no space
//! left on device") and leaves the state as it was.
use std::io::Write;
use std::path::Path;
use std::process::Command;

use berth_e2e::{Cli, TestDaemon};

fn run(cmd: &str, args: &[&str]) {
    let o = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(o.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Fills the filesystem of `dir` with one file; returns its path.
fn fill(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).expect("create filler");
    let chunk = vec![0u8; 1 << 20];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    p
}

fn no_space(d: &TestDaemon, c: Cli, args: &[&str]) {
    let out = d.cli(c, args);
    out.assert_fail();
    assert!(
        out.stderr.to_lowercase().contains("no space left on device"),
        "{args:?} should name the full disk: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("Broken pipe"), "{}", out.stderr);
}

#[test]
fn full_data_root_keeps_the_daemon_up_and_state_unchanged() {
    let d = TestDaemon::start();
    d.docker(&["run", "--name", "m1", "busybox", "sh", "-c", "echo hi > /made"]).assert_ok();
    d.docker(&["network", "create", "keepnet"]).assert_ok();

    // Move the data root onto a small tmpfs (nothing runs: no rootfs is
    // mounted under it).
    d.kill9();
    let data = d.data_root();
    let aside = d.dir().join("data-aside");
    std::fs::rename(&data, &aside).expect("move data aside");
    std::fs::create_dir(&data).expect("mkdir data");
    run("mount", &["-t", "tmpfs", "-o", "size=64m", "tmpfs", &data.display().to_string()]);
    run("cp", &["-a", &format!("{}/.", aside.display()), &data.display().to_string()]);
    std::fs::remove_dir_all(&aside).expect("rm aside");
    d.restart();
    d.docker(&["run", "-d", "--name", "live", "busybox", "sleep", "1000"]).assert_ok();

    let filler = fill(&data);
    // A start on a full disk.
    d.kill9();
    d.restart();
    d.docker(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]).assert_ok().assert_stdout("live running\nm1 exited");
    d.docker(&["exec", "live", "true"]).assert_ok();

    let images = d.docker(&["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]).assert_ok().out();
    let networks = d.docker(&["network", "ls", "--format", "{{.Name}}"]).assert_ok().out();
    let containers = d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().out();
    for c in [Cli::Docker, Cli::Berth] {
        no_space(&d, c, &["commit", "m1", "img1"]);
        no_space(&d, c, &["tag", "busybox", "full:1"]);
        no_space(&d, c, &["network", "create", "n1"]);
        no_space(&d, c, &["create", "--name", "c1", "busybox", "true"]);
        no_space(&d, c, &["volume", "create", "v1"]);
        d.cli(c, &["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]).assert_ok().assert_stdout(&images);
        d.cli(c, &["network", "ls", "--format", "{{.Name}}"]).assert_ok().assert_stdout(&networks);
        d.cli(c, &["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout(&containers);
    }
    // Nothing half-written stays behind in the store's spool.
    let spool: Vec<_> = std::fs::read_dir(data.join("tmp")).map(|r| r.flatten().collect()).unwrap_or_default();
    assert!(spool.is_empty(), "{spool:?}");
    // Removing needs no room.
    d.docker(&["rm", "-f", "live"]).assert_ok();
    // A clean stop with nothing running takes the default bridge down; the
    // next start sets it up again without writing its unchanged record.
    // SAFETY: kill(2) of the berthd this test started.
    unsafe { libc::kill(d.daemon_pid() as i32, libc::SIGTERM) };
    assert!(berth_e2e::wait_until(std::time::Duration::from_secs(15), || !d.dir().join("berthd.pid").exists()), "berthd did not stop");
    d.kill9();
    d.restart();
    d.docker(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]).assert_ok().assert_stdout("m1 exited");
    // Failed tags were not kept in memory: the restart shows the same.
    d.docker(&["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]).assert_ok().assert_stdout(&images);

    // With room again, the same requests work.
    std::fs::remove_file(&filler).expect("rm filler");
    d.docker(&["tag", "busybox", "full:1"]).assert_ok();
    d.docker(&["commit", "m1", "img1"]).assert_ok();
    d.docker(&["run", "--rm", "img1", "cat", "/made"]).assert_ok().assert_stdout("hi");
    d.docker(&["rm", "-f", "m1"]).assert_ok();
    d.docker(&["network", "rm", "keepnet"]).assert_ok();

    // Back onto the plain temp dir for the harness's leak checks.
    d.kill9();
    run("umount", &[&data.display().to_string()]);
    d.restart();
    d.stop();
}
