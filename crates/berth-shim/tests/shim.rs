//! End-to-end: a real runc container driven through berth-shim. Needs root
//! (as CI runs); skipped otherwise.

mod fixture;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use fixture::{assert_ready, is_root, read_frames, read_ok, Fixture};

#[test]
fn runs_logs_and_reports_exit() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut f = Fixture::new(&["sh", "-c", "echo hello; echo err >&2; exit 3"]);
    let (line, ok) = f.spawn(&[]);
    assert!(ok, "{line}");
    let pid = assert_ready(&line);
    assert_eq!(f.call("state\n"), format!("running {pid}\n"));
    assert_eq!(f.call("bogus\n"), "err unknown command\n");
    let mut attach = f.connect("attach\n");
    read_ok(&mut attach);
    let mut wait = f.connect("wait\n");
    assert_eq!(f.call("start\n"), "ok\n");
    let (out, err) = read_frames(&mut attach);
    assert_eq!(String::from_utf8_lossy(&out), "hello\n");
    assert_eq!(String::from_utf8_lossy(&err), "err\n");
    let mut reply = String::new();
    wait.read_to_string(&mut reply).expect("wait reply");
    assert_eq!(reply, "exit 3\n");
    f.assert_clean();

    let log = std::fs::read_to_string(f.dir.join("container.json")).expect("log file");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    for (text, stream) in [("hello\\n", "stdout"), ("err\\n", "stderr")] {
        let want = format!("{{\"log\":\"{text}\",\"stream\":\"{stream}\",\"time\":\"");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&want) && l.ends_with("Z\"}")),
            "{log}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(f.state("exit")).expect("exit file"),
        "3"
    );
}

#[test]
fn kill_gives_128_plus_signal() {
    if !is_root() {
        return;
    }
    let mut f = Fixture::new(&["sleep", "100"]);
    let (line, _) = f.spawn(&[]);
    assert_ready(&line);
    assert_eq!(f.call("start\n"), "ok\n");
    assert_eq!(f.call("kill 0\n"), "err invalid signal\n");
    let mut wait = f.connect("wait\n");
    assert_eq!(f.call("kill 9\n"), "ok\n");
    let mut reply = String::new();
    wait.read_to_string(&mut reply).expect("wait reply");
    assert_eq!(reply, "exit 137\n");
    f.assert_clean();
    assert_eq!(
        std::fs::read_to_string(f.state("exit")).expect("exit file"),
        "137"
    );
}

#[test]
fn stdin_once_feeds_and_closes_stdin() {
    if !is_root() {
        return;
    }
    let mut f = Fixture::new(&["cat"]);
    let (line, _) = f.spawn(&["--stdin", "--stdin-once"]);
    assert_ready(&line);
    let mut attach = f.connect("attach stdin\n");
    read_ok(&mut attach);
    let mut wait = f.connect("wait\n");
    assert_eq!(f.call("start\n"), "ok\n");
    attach.write_all(b"abc").expect("write stdin");
    attach.shutdown(Shutdown::Write).expect("half-close");
    let (out, err) = read_frames(&mut attach);
    assert_eq!(out, b"abc");
    assert!(err.is_empty());
    let mut reply = String::new();
    wait.read_to_string(&mut reply).expect("wait reply");
    assert_eq!(reply, "exit 0\n");
    // Gone with the shim: later callers read the exit file.
    assert!(UnixStream::connect(f.state("shim.sock")).is_err());
    assert_eq!(
        std::fs::read_to_string(f.state("exit")).expect("exit file"),
        "0"
    );
    f.assert_clean();
}

#[test]
fn create_failure_is_reported_and_cleaned_up() {
    if !is_root() {
        return;
    }
    let mut f = Fixture::new(&["/nonexistent"]);
    let (line, ok) = f.spawn(&[]);
    assert!(!ok);
    assert!(line.starts_with("err ") && line.ends_with('\n'), "{line:?}");
    assert!(
        line.contains("/nonexistent"),
        "runtime's message expected: {line:?}"
    );
    assert_eq!(line.lines().count(), 1);
    f.assert_clean();
    assert!(!f.state("exit").exists());
}

#[test]
fn bad_arguments_fail_before_forking() {
    let out = Command::new(env!("CARGO_BIN_EXE_berth-shim"))
        .args(["--id", "x"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run berth-shim");
    assert!(!out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("err usage: ") && line.ends_with('\n'),
        "{line:?}"
    );
}

#[test]
fn slow_and_silent_clients_do_not_block_output() {
    if !is_root() {
        return;
    }
    // ~8 MB of output: far more than a socket buffer plus the per-client bound.
    let mut f = Fixture::new(&[
        "sh",
        "-c",
        "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 8000000; printf tail",
    ]);
    let (line, _) = f.spawn(&[]);
    assert_ready(&line);
    let mut stalled = f.connect("attach\n"); // never read past "ok"
    read_ok(&mut stalled);
    let _silent = UnixStream::connect(f.state("shim.sock")).expect("connect"); // never sends a command
    let mut reader = f.connect("attach\n");
    read_ok(&mut reader);
    let mut wait = f.connect("wait\n");
    assert_eq!(f.call("start\n"), "ok\n");
    let (out, _) = read_frames(&mut reader);
    assert_eq!(out.len(), 8_000_000 + 4);
    // 8_000_000 = 216_216 lines of 37 bytes + 8 bytes of a last, unterminated one.
    assert!(out.ends_with(b"xyz\n01234567tail"));
    let mut reply = String::new();
    wait.read_to_string(&mut reply).expect("wait reply");
    assert_eq!(reply, "exit 0\n");
    f.assert_clean();
    let log = std::fs::read_to_string(f.dir.join("container.json")).expect("log file");
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("{\"log\":\"01234567tail\",\"stream\":\"stdout\""),
        "{last}"
    );
    assert_eq!(log.lines().count(), 216_216 + 1);
}

#[test]
fn no_fds_leak_into_shim_or_container() {
    if !is_root() {
        return;
    }
    let mut f = Fixture::new(&["sh", "-c", "ls /proc/self/fd; read x"]);
    // A non-close-on-exec fd in the launcher, as a careless parent might leave.
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array for pipe to fill.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (line, _) = f.spawn(&["--stdin"]);
    // SAFETY: closing the two fds pipe() just gave us.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    assert_ready(&line);
    let pid = f.shim_pid.expect("shim pid");
    let mut attach = f.connect("attach stdin\n");
    read_ok(&mut attach);
    assert_eq!(f.call("start\n"), "ok\n");
    // stdin 0,1,2 + log, socket, stdout, stderr, stdin, pidfd, attach client.
    let shim_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("shim fds")
        .count();
    assert_eq!(shim_fds, 10);
    attach.write_all(b"\n").expect("write");
    let (out, _) = read_frames(&mut attach);
    // ls's own directory fd is 3.
    assert_eq!(String::from_utf8_lossy(&out), "0\n1\n2\n3\n");
    f.assert_clean();
}
