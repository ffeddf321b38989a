//! End-to-end: a real runc container driven through berth-shim. Needs root
//! (as CI runs); skipped otherwise.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const RUNC: &str = "/usr/sbin/runc";
const CGROUP_PARENT: &str = "berth-test";

static SEQ: AtomicUsize = AtomicUsize::new(0);
/// Live fixtures; the shared cgroup parent is removed when the last one goes,
/// and never while a container is being created.
static LIVE: Mutex<usize> = Mutex::new(0);

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

struct Fixture {
    dir: PathBuf,
    id: String,
    shim_pid: Option<i32>,
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Fixture {
    fn new(args: &[&str]) -> Fixture {
        // The shim outlives its launcher; as subreaper we get to reap it
        // instead of leaving a zombie with an init that may not reap.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let id = format!("berth-shim-test-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(&id);
        let rootfs = dir.join("bundle/rootfs");
        std::fs::create_dir_all(rootfs.join("bin")).expect("mkdir rootfs");
        std::fs::create_dir_all(dir.join("state")).expect("mkdir state");
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("copy busybox");
        for tool in ["sh", "cat", "sleep", "echo", "yes", "head", "printf", "ls"] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(tool)).expect("symlink");
        }
        let args: Vec<String> = args.iter().map(|a| json_str(a)).collect();
        let config = CONFIG
            .replace("@ARGS@", &args.join(","))
            .replace("@CGROUP@", &format!("/{CGROUP_PARENT}/{id}"));
        std::fs::write(dir.join("bundle/config.json"), config).expect("write config");
        Fixture { dir, id, shim_pid: None }
    }

    fn state(&self, name: &str) -> PathBuf {
        self.dir.join("state").join(name)
    }

    fn runtime_root(&self) -> PathBuf {
        self.dir.join("runc-root")
    }

    /// Spawns the shim; returns its readiness line and the launcher's success.
    fn spawn(&mut self, extra: &[&str]) -> (String, bool) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        *live += 1;
        let out = Command::new(env!("CARGO_BIN_EXE_berth-shim"))
            .arg("--id").arg(&self.id)
            .arg("--bundle").arg(self.dir.join("bundle"))
            .arg("--state-dir").arg(self.dir.join("state"))
            .arg("--runtime").arg(RUNC)
            .arg("--runtime-root").arg(self.runtime_root())
            .arg("--log").arg(self.dir.join("container.json"))
            .args(extra)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .expect("run berth-shim");
        drop(live);
        if let Ok(p) = std::fs::read_to_string(self.state("shim.pid")) {
            self.shim_pid = p.trim().parse().ok();
        }
        (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success())
    }

    fn connect(&self, cmd: &str) -> UnixStream {
        let mut s = UnixStream::connect(self.state("shim.sock")).expect("connect shim.sock");
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        s.write_all(cmd.as_bytes()).expect("send command");
        s
    }

    /// One-shot command: its full reply.
    fn call(&self, cmd: &str) -> String {
        let mut s = self.connect(cmd);
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("read reply");
        reply
    }

    fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
            for e in rd.flatten() {
                let p = e.path().join(CGROUP_PARENT).join(&self.id);
                if p.exists() {
                    found.push(p);
                }
            }
        }
        found
    }

    fn runc_list(&self) -> String {
        let out = Command::new(RUNC)
            .arg("--root").arg(self.runtime_root())
            .args(["list", "-q"])
            .output()
            .expect("runc list");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Asserts the shim and everything it owned are gone.
    fn assert_clean(&self) {
        if let Some(pid) = self.shim_pid {
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) {
                assert!(Instant::now() < deadline, "shim {pid} still running");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert_eq!(self.runc_list(), "", "runc state left behind");
        assert!(self.cgroup_dirs().is_empty(), "cgroups left: {:?}", self.cgroup_dirs());
        assert!(!self.state("shim.sock").exists(), "shim.sock left behind");
    }
}

/// Whether `pid` (reparented to us, the subreaper) still runs; reaps it if not.
fn alive(pid: i32) -> bool {
    // SAFETY: waitpid on one specific pid, with a null status pointer.
    let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
    r == 0
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(pid) = self.shim_pid.filter(|&p| alive(p)) {
            // SAFETY: kill and waitpid on our own (reparented) child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        let _ = Command::new(RUNC)
            .arg("--root").arg(self.runtime_root())
            .args(["delete", "--force", &self.id])
            .stderr(Stdio::null())
            .status();
        for p in self.cgroup_dirs() {
            let _ = std::fs::remove_dir(p);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        *live -= 1;
        if *live == 0 {
            if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
                for e in rd.flatten() {
                    let _ = std::fs::remove_dir(e.path().join(CGROUP_PARENT));
                }
            }
        }
    }
}

/// Reads multiplexed frames until EOF: (stdout, stderr).
fn read_frames(s: &mut UnixStream) -> (Vec<u8>, Vec<u8>) {
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("read attach stream");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut rest = &all[..];
    while !rest.is_empty() {
        assert!(rest.len() >= 8, "truncated frame header");
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        assert_eq!(&rest[1..4], &[0, 0, 0]);
        let payload = &rest[8..8 + len];
        match rest[0] {
            1 => out.extend_from_slice(payload),
            2 => err.extend_from_slice(payload),
            other => panic!("bad stream byte {other}"),
        }
        rest = &rest[8 + len..];
    }
    (out, err)
}

fn read_ok(s: &mut UnixStream) {
    let mut buf = [0u8; 3];
    s.read_exact(&mut buf).expect("read attach reply");
    assert_eq!(&buf, b"ok\n");
}

fn assert_ready(line: &str) -> i32 {
    let pid = line.strip_prefix("ok ").and_then(|p| p.trim_end().parse().ok());
    assert!(line.ends_with('\n'), "{line:?}");
    pid.unwrap_or_else(|| panic!("not ready: {line:?}"))
}

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
        assert!(lines.iter().any(|l| l.starts_with(&want) && l.ends_with("Z\"}")), "{log}");
    }
    assert_eq!(std::fs::read_to_string(f.state("exit")).expect("exit file"), "3");
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
    assert_eq!(std::fs::read_to_string(f.state("exit")).expect("exit file"), "137");
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
    assert_eq!(std::fs::read_to_string(f.state("exit")).expect("exit file"), "0");
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
    assert!(line.contains("/nonexistent"), "runtime's message expected: {line:?}");
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
    assert!(line.starts_with("err usage: ") && line.ends_with('\n'), "{line:?}");
}


const CONFIG: &str = r#"{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": [@ARGS@],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]
    },
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "berth-test",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}
  ],
  "linux": {
    "cgroupsPath": "@CGROUP@",
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [
      {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
    ],
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"]
  }
}"#;

#[test]
fn slow_and_silent_clients_do_not_block_output() {
    if !is_root() {
        return;
    }
    // ~8 MB of output: far more than a socket buffer plus the per-client bound.
    let mut f = Fixture::new(&["sh", "-c", "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 8000000; printf tail"]);
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
    assert!(last.starts_with("{\"log\":\"01234567tail\",\"stream\":\"stdout\""), "{last}");
    assert_eq!(log.lines().count(), 216_216 + 1);
}
