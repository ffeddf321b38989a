//! `TestDaemon`: a real berthd on private roots, its clients, and the
//! leak checks of `stop`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::image::{bin_dir, busybox_tar, runtime_args};
use crate::leaks::{cleanup_network, kill_containers, leaked_cgroups, user_bridges_in};
use crate::out::{run_cmd, Cli, Out};

/// How long the daemon gets to answer `/_ping` after it is spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT_DAEMON: AtomicUsize = AtomicUsize::new(0);

/// How a test wants its daemon started, beyond the harness's own settings.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Extra berthd flags.
    pub args: Vec<String>,
    /// When set, the harness's settings (debug, data-root, exec-root, its
    /// socket in hosts, pidfile, bridge) go into a daemon.json together
    /// with these keys, passed with --config-file, instead of as flags.
    pub config: Option<serde_json::Value>,
}

/// A daemon on private roots, plus the clients to drive it.
pub struct TestDaemon {
    pub(crate) dir: PathBuf,
    pub(crate) bin: PathBuf,
    setup: Setup,
    child: Mutex<Option<Child>>,
    /// Every full container ID the test has seen, for the cgroup leak check.
    ids: Mutex<BTreeSet<String>>,
    stopped: bool,
}

fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl TestDaemon {
    /// Starts a daemon on fresh roots and loads the busybox image.
    pub fn start() -> TestDaemon {
        TestDaemon::start_with(Setup::default())
    }

    /// As [`start`](Self::start), with extra flags or a configuration file.
    pub fn start_with(setup: Setup) -> TestDaemon {
        let tar = busybox_tar();
        let bin = bin_dir();
        let n = NEXT_DAEMON.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("berth-e2e-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        std::fs::create_dir_all(dir.join("docker-config")).expect("mkdir docker-config");
        let d = TestDaemon {
            dir,
            bin,
            setup,
            child: Mutex::new(None),
            ids: Mutex::new(BTreeSet::new()),
            stopped: false,
        };
        d.spawn_daemon();
        d.docker(&["load", "-i", &tar.display().to_string()]).assert_ok();
        d
    }

    /// The private temp directory (data/, exec/, sock, berthd.log).
    /// Where the berth binaries under test are.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn data_root(&self) -> PathBuf {
        self.dir.join("data")
    }
    pub fn exec_root(&self) -> PathBuf {
        self.dir.join("exec")
    }
    pub fn sock(&self) -> PathBuf {
        self.dir.join("sock")
    }
    /// `unix://<sock>`.
    /// This daemon's default bridge (`--bridge`), unique per daemon; it is
    /// also the tag in its netns, veth and iptables chain names.
    pub fn bridge(&self) -> String {
        let n = self.dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let n = n.rsplit('-').next().unwrap_or("0").to_string();
        format!("bt{:x}x{n}", std::process::id())
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    /// Everything berthd wrote to stderr so far (all runs).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("berthd.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn spawn_daemon(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("berthd.log"))
            .expect("open berthd.log");
        let _ = std::fs::remove_file(self.sock());
        let mut cmd = Command::new(self.bin.join("berthd"));
        // Docker Hub is a closed loopback port: no test reaches the internet.
        cmd.env("BERTH_DOCKER_HUB_HOST", "127.0.0.1:9");
        match &self.setup.config {
            Some(extra) => {
                // A restart keeps what the test has written since.
                if !self.config_path().exists() {
                    self.write_config(extra);
                }
                cmd.arg("--config-file").arg(self.config_path());
            }
            None => {
                cmd.arg("-D")
                    .arg("--data-root")
                    .arg(self.data_root())
                    .arg("--exec-root")
                    .arg(self.exec_root())
                    .arg("-H")
                    .arg(self.host())
                    .arg("--pidfile")
                    .arg(self.pidfile())
                    .arg("--bridge")
                    .arg(self.bridge());
            }
        }
        // A configuration file that chooses the runtime must not meet the flag.
        let chooses = self.setup.config.as_ref().is_some_and(|c| c.get("default-runtime").is_some());
        if !chooses {
            cmd.args(runtime_args());
        }
        let child = cmd
            .args(&self.setup.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn berthd: {e}"));
        *self.child.lock().expect("child lock") = Some(child);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok((200, body)) = self.try_api("GET", "/_ping", None) {
                if body == "OK" {
                    return;
                }
            }
            if let Some(status) = self.child.lock().expect("child lock").as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("berthd exited during start-up ({status})\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "berthd did not answer /_ping within {STARTUP_TIMEOUT:?}\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The daemon.json of a daemon started with [`Setup::config`].
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("daemon.json")
    }

    pub fn pidfile(&self) -> PathBuf {
        self.dir.join("berthd.pid")
    }

    /// Writes daemon.json: the harness's settings plus `extra` (an object;
    /// its keys win, and the harness's socket is kept in `hosts`).
    pub fn write_config(&self, extra: &serde_json::Value) {
        let mut cfg = serde_json::json!({
            "debug": true,
            "data-root": self.data_root(),
            "exec-root": self.exec_root(),
            "hosts": [self.host()],
            "pidfile": self.pidfile(),
            "bridge": self.bridge(),
        });
        if let (Some(base), Some(more)) = (cfg.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                base.insert(k.clone(), v.clone());
            }
            let own = serde_json::Value::String(self.host());
            if let Some(hosts) = base.get_mut("hosts").and_then(serde_json::Value::as_array_mut) {
                if !hosts.contains(&own) {
                    hosts.insert(0, own);
                }
            }
        }
        std::fs::write(self.config_path(), serde_json::to_vec_pretty(&cfg).expect("config json")).expect("write daemon.json");
    }

    /// Writes raw text as daemon.json (for a bad file).
    pub fn write_config_text(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write daemon.json");
    }

    /// Sends SIGHUP to berthd (reload the configuration file).
    pub fn sighup(&self) {
        let pid = self.daemon_pid();
        // SAFETY: kill(2) on the pid of the berthd we spawned and have not reaped.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) };
    }

    /// The PID of the running berthd.
    pub fn daemon_pid(&self) -> u32 {
        self.child.lock().expect("child lock").as_ref().map(Child::id).expect("berthd not running")
    }

    fn client(&self, cli: Cli) -> Command {
        let mut c = match cli {
            Cli::Berth => Command::new(self.bin.join("berth")),
            Cli::Docker => Command::new("docker"),
        };
        c.env("DOCKER_HOST", self.host())
            .env("BERTH_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION");
        c
    }

    fn record_ids(&self, out: &Out) {
        let mut ids = self.ids.lock().expect("ids lock");
        for tok in out.stdout.split_whitespace() {
            if is_full_id(tok) {
                ids.insert(tok.to_string());
            }
        }
    }

    /// Runs `cli` with `args` (no stdin).
    pub fn cli(&self, cli: Cli, args: &[&str]) -> Out {
        self.cli_stdin(cli, args, None)
    }

    fn cli_stdin(&self, cli: Cli, args: &[&str], input: Option<&[u8]>) -> Out {
        let mut c = self.client(cli);
        c.args(args);
        let out = run_cmd(c, format!("{} {}", cli.name(), args.join(" ")), input);
        self.record_ids(&out);
        out
    }

    /// Runs `cli args...` with extra environment (`DOCKER_HOST` and the TLS
    /// variables for a TCP listener: `DOCKER_HOST` then wins for berth too).
    pub fn cli_with_env(&self, cli: Cli, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut c = self.client(cli);
        if env.iter().any(|(k, _)| *k == "DOCKER_HOST") {
            c.env_remove("BERTH_HOST");
        }
        c.envs(env.iter().copied()).args(args);
        let out = run_cmd(c, format!("{} {}", cli.name(), args.join(" ")), None);
        self.record_ids(&out);
        out
    }

    /// Runs `berth args...`.
    pub fn berth(&self, args: &[&str]) -> Out {
        self.cli(Cli::Berth, args)
    }

    /// Runs `docker args...` against this daemon.
    pub fn docker(&self, args: &[&str]) -> Out {
        self.cli(Cli::Docker, args)
    }

    /// Runs `berth args...` with `input` on stdin.
    pub fn berth_stdin(&self, args: &[&str], input: &str) -> Out {
        self.cli_stdin(Cli::Berth, args, Some(input.as_bytes()))
    }

    /// Runs `docker args...` with `input` on stdin.
    pub fn docker_stdin(&self, args: &[&str], input: &str) -> Out {
        self.cli_stdin(Cli::Docker, args, Some(input.as_bytes()))
    }

    /// Runs `cli args...` with `input` on stdin.
    pub fn cli_with_stdin(&self, cli: Cli, args: &[&str], input: &str) -> Out {
        self.cli_stdin(cli, args, Some(input.as_bytes()))
    }

    /// Runs `cli args...` with raw `input` on stdin.
    pub fn cli_with_stdin_bytes(&self, cli: Cli, args: &[&str], input: &[u8]) -> Out {
        self.cli_stdin(cli, args, Some(input))
    }

    /// Records a container ID for the leak check (done automatically for
    /// 64-hex tokens printed by the clients).
    pub fn track(&self, id: &str) {
        self.ids.lock().expect("ids lock").insert(id.to_string());
    }

    /// Every full container ID seen or tracked so far.
    pub fn tracked(&self) -> Vec<String> {
        self.ids.lock().expect("ids lock").iter().cloned().collect()
    }

    /// One raw HTTP/1.1 request over the socket; returns (status, body).
    pub fn api(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let (status, _headers, body) = self
            .api_full(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log_tail()));
        (status, body)
    }

    fn try_api(&self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        self.api_full(method, path, body).map(|(s, _, b)| (s, b))
    }

    /// Like [`api`](Self::api) but also returns the raw header block.
    pub fn api_full(&self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String, String)> {
        let mut s = UnixStream::connect(self.sock())?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let body = body.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| std::io::Error::other(format!("no header end in {text:?}")))?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
        let chunked = head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
        let body = if chunked { dechunk(rest) } else { rest.to_string() };
        Ok((status, head.to_string(), body))
    }

    /// SIGKILLs berthd (containers and shims keep running).
    pub fn kill9(&self) {
        let mut guard = self.child.lock().expect("child lock");
        if let Some(mut c) = guard.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts berthd again on the same roots (after [`kill9`](Self::kill9)).
    pub fn restart(&self) {
        assert!(self.child.lock().expect("child lock").is_none(), "restart() while berthd runs");
        self.spawn_daemon();
    }

    fn container_ids_now(&self) -> Vec<String> {
        let out = self.docker(&["ps", "-aq", "--no-trunc"]);
        out.lines()
    }

    /// SIGTERMs berthd and waits; returns its exit status (None if it had to be killed).
    fn terminate(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.child.lock().expect("child lock");
        let mut child = guard.take()?;
        // SAFETY: kill(2) on the pid of the berthd we spawned and have not reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Removes every container, stops the daemon, checks nothing leaked
    /// and deletes the temp dir. Every test calls this at the end.
    pub fn stop(mut self) {
        let ids = self.container_ids_now();
        for id in &ids {
            self.track(id);
        }
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            self.docker(&args).assert_ok();
        }
        self.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
        let status = self.terminate();
        self.stopped = true;
        let mut problems = Vec::new();
        match status {
            None => problems.push("berthd did not exit within 15 s of SIGTERM".to_string()),
            Some(st) if !st.success() => problems.push(format!("berthd exited with {st} on SIGTERM")),
            Some(_) => {}
        }
        // Shims and container processes go away asynchronously after
        // `rm -f` returns; give them a moment before calling it a leak.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut procs = self.leaked_processes();
        while !procs.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            procs = self.leaked_processes();
        }
        problems.extend(procs.into_iter().map(|p| format!("process left: {p}")));
        let mounts = self.leaked_mounts();
        problems.extend(mounts.iter().map(|m| format!("mount left: {m}")));
        problems.extend(self.volume_inconsistencies());
        let ids: Vec<String> = self.ids.lock().expect("ids lock").iter().cloned().collect();
        problems.extend(leaked_cgroups(&ids).into_iter().map(|c| format!("cgroup left: {c}")));
        problems.extend(self.leaked_network().into_iter().map(|n| format!("network left: {n}")));
        if problems.is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            let log = self.log_tail();
            self.cleanup_mounts();
            panic!("leaks after stop:\n  {}\n--- berthd log tail ---\n{log}", problems.join("\n  "));
        }
    }

    /// The Linux bridges of this daemon's user networks (from its records).
    pub fn user_bridges(&self) -> Vec<String> {
        user_bridges_in(&self.data_root())
    }

    /// berthd's claim on this daemon's bridge name (its default --owner dir).
    fn bridge_claim(&self) -> PathBuf {
        Path::new("/run/berth").join(format!("bridge-{}.lock", self.bridge()))
    }

    /// This daemon's bridges, netns files and iptables rules still present.
    pub fn leaked_network(&self) -> Vec<String> {
        let tag = self.bridge();
        let mut found = Vec::new();
        if Path::new("/sys/class/net").join(&tag).exists() {
            found.push(format!("link {tag}"));
        }
        // The claim on the bridge name goes when the daemon lets go of it.
        let claim = self.bridge_claim();
        if claim.exists() {
            found.push(format!("claim {}", claim.display()));
        }
        for b in self.user_bridges() {
            if Path::new("/sys/class/net").join(&b).exists() {
                found.push(format!("link {b}"));
            }
        }
        if let Ok(rd) = std::fs::read_dir("/run/netns") {
            let prefix = format!("berth-{tag}-");
            found.extend(rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with(&prefix)).map(|n| format!("netns {n}")));
        }
        for cmd in ["iptables-save", "ip6tables-save"] {
            if let Ok(o) = Command::new(cmd).output() {
                found.extend(String::from_utf8_lossy(&o.stdout).lines().filter(|l| crate::leaks::mentions_chain_of(l, &tag)).map(|l| format!("{cmd} {l}")));
            }
        }
        found
    }

    /// Volume data directories without a record, and records without data
    /// (a half-done create or remove).
    pub fn volume_inconsistencies(&self) -> Vec<String> {
        let names = |dir: PathBuf, suffix: &str| -> BTreeSet<String> {
            std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(suffix)).map(String::from))
                        .filter(|n| !n.starts_with('.'))
                        .collect()
                })
                .unwrap_or_default()
        };
        let data = names(self.data_root().join("volumes"), "");
        let records = names(self.data_root().join("db/volumes"), ".json");
        let mut out: Vec<String> = data.difference(&records).map(|n| format!("volume data without record: {n}")).collect();
        out.extend(records.difference(&data).map(|n| format!("volume record without data: {n}")));
        out
    }

    fn needle(&self) -> String {
        format!("{}/", self.dir.display())
    }

    /// Mount points (from /proc/self/mountinfo) under the temp dir.
    pub fn leaked_mounts(&self) -> Vec<String> {
        let needle = self.needle();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&needle))
            .map(String::from)
            .collect()
    }

    /// Processes whose command line mentions the temp dir (shims, berthd).
    pub fn leaked_processes(&self) -> Vec<String> {
        let needle = self.needle();
        let me = std::process::id().to_string();
        let mut found = Vec::new();
        let Ok(rd) = std::fs::read_dir("/proc") else { return found };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
                continue;
            }
            let Ok(raw) = std::fs::read(e.path().join("cmdline")) else { continue };
            let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
            if cmd.contains(&needle) || cmd.trim_end().ends_with(self.dir.to_string_lossy().as_ref()) {
                found.push(format!("pid {name}: {}", cmd.trim_end()));
            }
        }
        found
    }

    /// Lazily unmounts whatever is left under the temp dir, deepest first,
    /// so that removing it cannot reach into an overlay.
    fn cleanup_mounts(&self) {
        let mut points: Vec<String> = self
            .leaked_mounts()
            .iter()
            .filter_map(|l| l.split(' ').nth(4).map(String::from))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            if let Ok(c) = std::ffi::CString::new(p) {
                // SAFETY: umount2 with a valid NUL-terminated path.
                unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, rest)) = s.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        s = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        // Best effort: remove containers through the daemon (so shims and
        // container processes go), then kill the berthd we spawned.
        let alive = self.child.lock().map(|g| g.is_some()).unwrap_or(false);
        if alive {
            let mut c = self.client(Cli::Docker);
            c.args(["ps", "-aq"]);
            if let Ok(o) = c.output() {
                let ids: Vec<String> = String::from_utf8_lossy(&o.stdout).split_whitespace().map(String::from).collect();
                if !ids.is_empty() {
                    let mut rm = self.client(Cli::Docker);
                    rm.args(["rm", "-f"]).args(&ids).stdout(Stdio::null()).stderr(Stdio::null());
                    let _ = rm.status();
                }
            }
        }
        if let Ok(mut g) = self.child.lock() {
            if let Some(mut c) = g.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        // What the daemon could not remove: thaw and kill the containers of
        // this test, which ends their shims, then drop their cgroups.
        let mut ids: Vec<String> = self.ids.lock().map(|g| g.iter().cloned().collect()).unwrap_or_default();
        if let Ok(rd) = std::fs::read_dir(self.data_root().join("db/containers")) {
            ids.extend(rd.flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(String::from)));
        }
        kill_containers(&ids);
        self.cleanup_mounts();
        for b in self.user_bridges() {
            let _ = Command::new("ip").args(["link", "del", &b]).output();
        }
        cleanup_network(&self.bridge());
        // A killed daemon could not let go of its bridge-name claim.
        let _ = std::fs::remove_file(self.bridge_claim());
        if self.leaked_mounts().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
