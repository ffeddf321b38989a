//! Root-only: runs busybox containers through the berth-oci binary with the
//! spec berth-runtime writes (Docker's caps, seccomp, masks, cgroup path),
//! and checks what the container got and that nothing is left behind.

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use berth_runtime::{build_spec, write_bundle, SpecInput};

const BIN: &str = env!("CARGO_BIN_EXE_berth-oci");
const BUSYBOX: &str = "/bin/busybox";

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    // CI runs as root with busybox-static installed: missing pieces fail, not skip.
    assert!(
        root && Path::new(BUSYBOX).exists(),
        "needs root and {BUSYBOX} (scripts/install-deps.sh)"
    );
    // Containers' inits are re-parented to us, so we can reap them and read
    // their exit status as the shim does.
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointers.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

struct Fixture {
    tmp: tempfile::TempDir,
    id: String,
}

impl Fixture {
    fn new(tag: &str, args: &[&str]) -> Fixture {
        Fixture::with_cwd(tag, args, "/")
    }

    fn with_cwd(tag: &str, args: &[&str], cwd: &str) -> Fixture {
        require_root();
        let tmp = tempfile::tempdir().expect("tempdir");
        let rootfs = tmp.path().join("bundle/rootfs");
        for d in ["bin", "etc", "proc", "sys", "dev", "tmp"] {
            std::fs::create_dir_all(rootfs.join(d)).expect("mkdir");
        }
        std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("copy busybox");
        for applet in ["sh", "cat", "grep", "sleep", "true", "ls", "pwd"] {
            symlink("busybox", rootfs.join("bin").join(applet)).expect("symlink");
        }
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
            .expect("passwd");
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").expect("group");
        std::fs::write(rootfs.join("etc/notexec"), "data\n").expect("notexec");
        // Executable bits but no format the kernel knows: fails at exec, after start.
        let bad = rootfs.join("bin/badformat");
        std::fs::write(&bad, "no shebang here\n").expect("badformat");
        std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        // Unique per fixture: tests run in parallel in one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{tag}-{}-{n}", std::process::id());
        let input = SpecInput {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec!["PATH=/bin".into()],
            hostname: "ocitest".into(),
            cwd: cwd.into(),
            rootfs,
            // A parent of its own, so parallel tests never remove each other's.
            cgroups_path: format!("/berth-oci-test-{id}/{id}"),
            ..SpecInput::default()
        };
        write_bundle(&tmp.path().join("bundle"), &build_spec(&input)).expect("bundle");
        Fixture { tmp, id }
    }

    /// The cgroup parent (the spec's cgroupsPath is `/<parent>/<id>`).
    fn parent(&self) -> String {
        format!("berth-oci-test-{}", self.id)
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// berth-oci with the shim's global flags.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root").arg(self.path("state"));
        c.arg("--log")
            .arg(self.path("log.json"))
            .args(["--log-format", "json"]);
        c.args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("spawn berth-oci")
    }

    /// `create` with a pipe as the container's stdout and stderr; returns the
    /// create status and our read end.
    fn create(&self) -> (std::process::ExitStatus, std::fs::File) {
        let (r, w) = std::io::pipe().expect("pipe");
        let w2 = w.try_clone().expect("dup");
        let st = self
            .cmd(&["create", "--bundle"])
            .arg(self.path("bundle"))
            .arg("--pid-file")
            .arg(self.path("init.pid"))
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(w)
            .stderr(w2)
            .status()
            .expect("spawn create");
        (st, std::fs::File::from(std::os::fd::OwnedFd::from(r)))
    }

    /// `create`, `start`, and the process's exit code and output once it ended.
    fn run_to_exit(&self) -> (i32, String) {
        let (st, mut out) = self.create();
        assert!(st.success(), "create: {}", self.last_log_error());
        let pid = self.pid();
        assert!(self.run(&["start", &self.id]).status.success());
        let mut text = String::new();
        out.read_to_string(&mut text).expect("read");
        (reap(pid), text)
    }

    fn pid(&self) -> i32 {
        std::fs::read_to_string(self.path("init.pid"))
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid")
    }

    fn last_log_error(&self) -> String {
        std::fs::read_to_string(self.path("log.json")).unwrap_or_default()
    }

    fn cgroups(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir("/sys/fs/cgroup")
            .map(|d| {
                d.flatten()
                    .map(|e| e.path().join(self.parent()).join(&self.id))
                    .collect()
            })
            .unwrap_or_default();
        v.push(
            Path::new("/sys/fs/cgroup")
                .join(self.parent())
                .join(&self.id),
        );
        v.into_iter().filter(|p| p.is_dir()).collect()
    }

    fn state(&self) -> serde_json::Value {
        let out = self.run(&["state", &self.id]);
        assert!(out.status.success(), "state: {}", self.last_log_error());
        serde_json::from_slice(&out.stdout).expect("state json")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.run(&["delete", "--force", &self.id]);
        for c in self.cgroups() {
            let _ = std::fs::remove_dir(c);
        }
        if let Ok(d) = std::fs::read_dir("/sys/fs/cgroup") {
            for c in d.flatten() {
                let _ = std::fs::remove_dir(c.path().join(self.parent()));
            }
        }
    }
}

fn spec_list(key: &str) -> Vec<String> {
    let spec = build_spec(&SpecInput::default());
    spec["linux"][key]
        .as_array()
        .expect("list in spec")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn berth_runtime_masked() -> Vec<String> {
    spec_list("maskedPaths")
}

fn berth_runtime_readonly() -> Vec<String> {
    spec_list("readonlyPaths")
}

/// Waits for our re-parented child `pid`; its exit code, or 128+signal.
fn reap(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: waitpid with a valid status pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid, "waitpid: {}", std::io::Error::last_os_error());
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

#[test]
fn runs_with_dockers_confinement_and_cleans_up() {
    let f = Fixture::new(
        "full",
        &["sh", "-c", "grep -e CapEff -e Seccomp: /proc/self/status; cat /proc/self/cgroup; cat /proc/kcore; ls /proc/acpi; echo 1 > /sys/fs/cgroup/pids/pids.max || echo cgroup-ro; echo done"],
    );
    let (st, mut out) = f.create();
    assert!(st.success(), "create failed: {}", f.last_log_error());
    let pid = f.pid();
    assert_eq!(f.state()["status"], "created");
    assert_eq!(f.state()["pid"], pid);

    // Cgroup: spec's cgroupsPath under every v1 controller, with the init in it.
    assert!(!f.cgroups().is_empty());
    let bundle = std::fs::canonicalize(f.path("bundle")).expect("bundle");
    assert_eq!(f.state()["bundle"], bundle.to_string_lossy().as_ref());
    for ctl in [
        "cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio",
    ] {
        let dir = Path::new("/sys/fs/cgroup")
            .join(ctl)
            .join(f.parent())
            .join(&f.id);
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "init not in {}: {procs:?}",
            dir.display()
        );
    }
    // Masked and read-only paths, seen from the host before the program runs.
    let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).expect("mountinfo");
    // Docker's lists, where this kernel has the path at all.
    let present = |p: &&String| Path::new(p.as_str()).exists();
    for p in berth_runtime_masked().iter().filter(present) {
        assert!(
            mountinfo
                .lines()
                .any(|l| l.split(' ').nth(4) == Some(p.as_str())),
            "{p} not masked:\n{mountinfo}"
        );
    }
    for p in berth_runtime_readonly().iter().filter(present) {
        let line = mountinfo
            .lines()
            .find(|l| l.split(' ').nth(4) == Some(p.as_str()));
        assert!(
            line.is_some_and(|l| l.split(' ').nth(5).is_some_and(|o| o.starts_with("ro"))),
            "{p} not read-only:\n{mountinfo}"
        );
    }

    // Every hierarchy in the cgroup mount is read-only; the tmpfs holding
    // them is private and writable, as with runc. (The last line for a
    // mount point is the one the container sees.)
    let mut top = std::collections::BTreeMap::new();
    for l in mountinfo.lines() {
        if let Some(m) = l
            .split(' ')
            .nth(4)
            .filter(|m| m.starts_with("/sys/fs/cgroup/"))
        {
            top.insert(m, l);
        }
    }
    assert!(!top.is_empty(), "{mountinfo}");
    for l in top.values() {
        assert!(
            l.split(' ').nth(5).is_some_and(|o| o.starts_with("ro")),
            "writable cgroup mount: {l}"
        );
    }

    let st = f.run(&["start", &f.id]);
    assert!(st.status.success(), "start: {}", f.last_log_error());
    let mut text = String::new();
    out.read_to_string(&mut text).expect("read output");
    assert_eq!(reap(pid), 0, "output: {text}");
    assert!(text.contains("CapEff:\t00000000a80425fb"), "{text}");
    assert!(text.contains("Seccomp:\t2"), "{text}");
    assert!(
        text.contains(&format!("memory:/{}/{}", f.parent(), f.id)),
        "{text}"
    );
    assert!(text.contains("cgroup-ro"), "{text}");
    assert!(text.ends_with("done\n"), "{text}");
    assert_eq!(f.state()["status"], "stopped");

    let del = f.run(&["delete", &f.id]);
    assert!(del.status.success(), "delete: {}", f.last_log_error());
    assert!(f.cgroups().is_empty(), "cgroups left: {:?}", f.cgroups());
    assert!(!f.path("state").join(&f.id).exists());
    assert!(!f.run(&["state", &f.id]).status.success());
}

fn create_fails_with(args: &[&str], words: &str) {
    let f = Fixture::new("bad", args);
    let (st, mut out) = f.create();
    assert!(!st.success());
    let log = f.last_log_error();
    let last = log.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).expect("log line is JSON");
    assert_eq!(v["level"], "error");
    let msg = v["msg"].as_str().unwrap_or_default();
    assert!(msg.contains(words), "{msg}");
    // runc also says it on stderr (the container's stderr here).
    let mut text = String::new();
    out.read_to_string(&mut text).expect("read");
    assert!(text.contains(words), "{text}");
    assert!(f.cgroups().is_empty(), "cgroups left: {:?}", f.cgroups());
    assert!(!f.path("state").join(&f.id).exists(), "state left");
}

#[test]
fn missing_program_is_reported_like_runc() {
    create_fails_with(
        &["nosuchcommand"],
        r#"exec: "nosuchcommand": executable file not found in $PATH"#,
    );
    create_fails_with(&["/nosuch"], "no such file or directory");
}

#[test]
fn unrunnable_program_is_reported_like_runc() {
    create_fails_with(
        &["/etc/notexec"],
        r#"exec: "/etc/notexec": permission denied"#,
    );
    create_fails_with(&["/etc"], "is a directory");
}

#[test]
fn kill_and_forced_delete() {
    let f = Fixture::new("kill", &["sleep", "100"]);
    let (st, _out) = f.create();
    assert!(st.success(), "create: {}", f.last_log_error());
    let pid = f.pid();
    assert!(f.run(&["start", &f.id]).status.success());
    assert_eq!(f.state()["status"], "running");
    // A signal it survives leaves it running.
    assert!(f.run(&["kill", &f.id, "WINCH"]).status.success());
    assert_eq!(f.state()["status"], "running");
    let del = f.run(&["delete", &f.id]);
    assert!(
        !del.status.success(),
        "delete of a running container needs --force"
    );
    assert!(f.run(&["kill", &f.id, "9"]).status.success());
    assert_eq!(reap(pid), 128 + libc::SIGKILL);
    assert!(
        f.run(&["delete", &f.id]).status.success(),
        "{}",
        f.last_log_error()
    );
    assert!(f.cgroups().is_empty());

    // A created, never started container goes with delete --force.
    let g = Fixture::new("created", &["true"]);
    let (st, _out) = g.create();
    assert!(st.success(), "create: {}", g.last_log_error());
    let pid = g.pid();
    assert!(
        g.run(&["delete", "--force", &g.id]).status.success(),
        "{}",
        g.last_log_error()
    );
    assert_eq!(reap(pid), 128 + libc::SIGKILL);
    assert!(g.cgroups().is_empty());
    assert!(
        g.run(&["delete", "--force", &g.id]).status.success(),
        "forced delete of nothing"
    );
}

#[test]
fn bad_command_lines_log_an_error() {
    let f = Fixture::new("cli", &["true"]);
    for args in [
        &["start", "../x"][..],
        &["kill", &f.id, "NOPE"],
        &["frob"],
        &["state", "missing"],
    ] {
        let out = f.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
    let log = f.last_log_error();
    assert_eq!(log.lines().count(), 4, "{log}");
    assert!(
        log.lines()
            .all(|l| l.starts_with(r#"{"level":"error","msg":"#)),
        "{log}"
    );
}

#[test]
fn missing_cwd_is_created_as_runc_does() {
    let f = Fixture::with_cwd("cwd", &["pwd"], "/does/not/exist");
    let (code, text) = f.run_to_exit();
    assert_eq!(code, 0, "{text}");
    assert_eq!(text, "/does/not/exist\n");
}

#[test]
fn exec_failure_after_start_is_told_on_stderr() {
    let f = Fixture::new("enoexec", &["badformat"]);
    let (code, text) = f.run_to_exit();
    assert_eq!(code, 1, "{text}");
    assert_eq!(text, "exec /bin/badformat: exec format error\n");
}
