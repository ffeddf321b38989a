//! Crashes: a shim killed with SIGKILL, and berthd killed while containers
//! start. Nothing of a container may outlive its management: berthd kills
//! and cleans what a dead shim leaves (exit 137, restart policy applies),
//! and start-up settles half-started containers so they can be started or
//! removed without leaks (checked by `TestDaemon::stop`).
use std::path::Path;
use std::time::Duration;

use berth_e2e::{both, wait_until, Cli, TestDaemon};

const SHORT: Duration = Duration::from_secs(15);

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("pid in {}: {e}", path.display()))
}

/// Exists and is not a zombie.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').and_then(|(_, r)| r.trim_start().chars().next()))
        .is_some_and(|c| c != 'Z' && c != 'X')
}

fn kill9(pid: i32) {
    // SAFETY: kill(2) of a shim pid this test's own daemon started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// The shim and init pids of a running container.
fn shim_and_init(d: &TestDaemon, id: &str) -> (i32, i32) {
    let dir = d.exec_root().join("shims").join(id);
    (read_pid(&dir.join("shim.pid")), read_pid(&dir.join("init.pid")))
}

/// The container's events so far, as "action exitCode".
fn events(d: &TestDaemon, c: Cli, name: &str) -> Vec<String> {
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.as_secs() + 1).unwrap_or(0).to_string();
    let filter = format!("container={name}");
    let fmt = "{{.Action}} {{.Actor.Attributes.exitCode}}";
    d.cli(c, &["events", "--since", "0", "--until", &until, "--filter", &filter, "--format", fmt]).assert_ok().lines()
}

fn inspect(d: &TestDaemon, c: Cli, fmt: &str, name: &str) -> String {
    d.cli(c, &["inspect", "-f", fmt, name]).assert_ok().out()
}

both! {
    fn killed_shim_kills_its_container(d, c) {
        let id = d.cli(c, &["run", "-d", "--name", "victim", "busybox", "sleep", "1000"]).assert_ok().out();
        let (shim, init) = shim_and_init(d, &id);
        kill9(shim);
        assert!(
            wait_until(SHORT, || inspect(d, c, "{{.State.Status}} {{.State.ExitCode}}", "victim") == "exited 137"),
            "victim: {}",
            inspect(d, c, "{{.State.Status}} {{.State.ExitCode}}", "victim")
        );
        assert!(wait_until(SHORT, || !alive(init)), "the container's init {init} outlived its shim");
        assert!(!d.exec_root().join("runtime").join(&id).exists(), "runtime state left");
        assert!(!d.exec_root().join("shims").join(&id).exists(), "shim dir left");
        let events = events(d, c, "victim");
        assert!(events.iter().any(|l| l == "die 137"), "{events:?}");
        // It can run again, and be removed without leaks (checked at stop).
        d.cli(c, &["start", "victim"]).assert_ok();
        d.cli(c, &["exec", "victim", "true"]).assert_ok();
        d.cli(c, &["rm", "-f", "victim"]).assert_ok();
    }
}

both! {
    fn killed_shim_of_restart_always_restarts(d, c) {
        let id = d.cli(c, &["run", "-d", "--restart", "always", "--name", "phoenix", "busybox", "sleep", "1000"]).assert_ok().out();
        let (shim, init) = shim_and_init(d, &id);
        kill9(shim);
        assert!(
            wait_until(SHORT, || inspect(d, c, "{{.State.Status}} {{.RestartCount}}", "phoenix") == "running 1"),
            "phoenix: {}",
            inspect(d, c, "{{.State.Status}} {{.RestartCount}}", "phoenix")
        );
        assert!(wait_until(SHORT, || !alive(init)), "the first run's init {init} outlived its shim");
        let pid: i32 = inspect(d, c, "{{.State.Pid}}", "phoenix").parse().expect("pid");
        assert_ne!(pid, init);
        d.cli(c, &["exec", "phoenix", "true"]).assert_ok();
        let events = events(d, c, "phoenix");
        assert!(events.iter().any(|l| l == "die 137"), "{events:?}");
        assert_eq!(events.iter().filter(|l| l.starts_with("start")).count(), 2, "{events:?}");
        d.cli(c, &["rm", "-f", "phoenix"]).assert_ok();
    }
}

both! {
    fn removing_a_container_whose_shim_was_killed_leaves_nothing(d, c) {
        let id = d.cli(c, &["run", "-d", "--name", "gone", "busybox", "sleep", "1000"]).assert_ok().out();
        let (shim, init) = shim_and_init(d, &id);
        // berthd down while the shim dies: start-up finds the container
        // running without a shim.
        d.kill9();
        kill9(shim);
        assert!(wait_until(SHORT, || !alive(shim)));
        assert!(alive(init), "the init should outlive its shim until berthd acts");
        d.restart();
        d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "gone"]).assert_ok().assert_stdout("exited 137");
        assert!(wait_until(SHORT, || !alive(init)), "init {init} left running");
        d.cli(c, &["rm", "-f", "gone"]).assert_ok();
    }
}

/// IDs under the exec root (shims and runtime states), so the leak check
/// at stop also covers containers whose record was never written.
fn track_exec_root(d: &TestDaemon) {
    for sub in ["shims", "runtime"] {
        if let Ok(rd) = std::fs::read_dir(d.exec_root().join(sub)) {
            for e in rd.flatten() {
                d.track(&e.file_name().to_string_lossy());
            }
        }
    }
}

both! {
    fn daemon_killed_during_runs_leaves_startable_containers(d, c) {
        // Different delays hit different points of create and start.
        for (round, delay_ms) in [60u64, 120, 200, 300].into_iter().enumerate() {
            std::thread::scope(|s| {
                for i in 0..10 {
                    let name = format!("r{round}x{i}");
                    s.spawn(move || d.cli(c, &["run", "-d", "--name", &name, "busybox", "sleep", "1000"]));
                }
                std::thread::sleep(Duration::from_millis(delay_ms));
                track_exec_root(d);
                d.kill9();
            });
            track_exec_root(d);
            d.restart();
            let rows = d.cli(c, &["ps", "-a", "--format", "{{.Names}} {{.State}}"]).assert_ok().lines();
            for row in &rows {
                let (name, state) = row.split_once(' ').expect("name state");
                match state {
                    "running" => {}
                    "created" | "exited" => {
                        d.cli(c, &["start", name]).assert_ok();
                    }
                    other => panic!("{name} is {other} after a restart: {rows:?}"),
                }
                d.cli(c, &["exec", name, "true"]).assert_ok();
            }
            // Every shim under the exec root belongs to a running container.
            let running = d.cli(c, &["ps", "-q", "--no-trunc"]).assert_ok().lines();
            let shims: Vec<String> = std::fs::read_dir(d.exec_root().join("shims"))
                .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            for s in &shims {
                assert!(running.contains(s), "shim dir {s} of no running container (running: {running:?})");
            }
            let all = d.cli(c, &["ps", "-aq"]).assert_ok().lines();
            let mut rm = vec!["rm", "-f"];
            rm.extend(all.iter().map(String::as_str));
            if !all.is_empty() {
                d.cli(c, &rm).assert_ok();
            }
        }
    }
}

fn runtime(d: &TestDaemon, args: &[&str]) {
    let root = d.exec_root().join("runtime");
    let o = std::process::Command::new(d.bin_dir().join("berth-oci"))
        .arg("--root")
        .arg(&root)
        .args(args)
        .output()
        .expect("run berth-oci");
    assert!(o.status.success(), "berth-oci {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

both! {
    fn pause_state_cut_by_a_crash_follows_the_runtime(d, c) {
        // berthd dies between the runtime's resume and the record's write:
        // the record says paused, the container runs.
        let a = d.cli(c, &["run", "-d", "--name", "thawed", "busybox", "sleep", "1000"]).assert_ok().out();
        d.cli(c, &["pause", "thawed"]).assert_ok();
        d.kill9();
        runtime(d, &["resume", &a]);
        d.restart();
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "thawed"]).assert_ok().assert_stdout("running");
        d.cli(c, &["exec", "thawed", "true"]).assert_ok();
        // ...and between the runtime's pause and the record's write.
        let b = d.cli(c, &["run", "-d", "--name", "frozen", "busybox", "sleep", "1000"]).assert_ok().out();
        d.kill9();
        runtime(d, &["pause", &b]);
        d.restart();
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "frozen"]).assert_ok().assert_stdout("paused");
        d.cli(c, &["unpause", "frozen"]).assert_ok();
        d.cli(c, &["exec", "frozen", "true"]).assert_ok();
        d.cli(c, &["rm", "-f", "thawed", "frozen"]).assert_ok();
    }
}

/// A container its shim cannot kill (frozen behind berthd's back) is
/// killed through the runtime when SIGKILL brings no exit: `rm -f` still
/// removes it and leaves nothing (about 30 s, the SIGKILL grace).
#[test]
fn rm_force_kills_what_the_shim_cannot() {
    let d = TestDaemon::start();
    let id = d.docker(&["run", "-d", "--name", "frozen", "busybox", "sleep", "1000"]).assert_ok().out();
    let (_, init) = shim_and_init(&d, &id);
    runtime(&d, &["pause", &id]);
    d.docker(&["rm", "-f", "frozen"]).assert_ok();
    assert!(!alive(init), "init {init} left");
    assert!(!d.exec_root().join("runtime").join(&id).exists(), "runtime state left");
    d.stop();
}
