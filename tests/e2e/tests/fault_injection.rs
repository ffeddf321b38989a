//! Fault injection: berthd is SIGKILLed at random points of a stream of
//! create/run/start/stop/rm/commit/exec/volume/network create/rm requests, restarted
//! on the same roots, and checked: every record loads (nothing
//! quarantined), no shim, mount, netns, veth, iptables rule, bridge or
//! cgroup is left without a running container or network that owns it,
//! and every running container is still managed. Driven by a seeded RNG:
//! the seed is printed, and `BERTH_FAULT_SEED=<seed>` replays a run.
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use berth_e2e::{leaked_cgroups, wait_until, Cli, TestDaemon};

/// How many times berthd is killed.
const KILLS: usize = 30;
/// Containers kept running at most between rounds (more are removed).
const MAX_RUNNING: usize = 6;
/// User networks at most at once.
const MAX_NETWORKS: usize = 3;
const SETTLE: Duration = Duration::from_secs(10);

/// xorshift64*: small, and the same sequence for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            v.get(self.below(v.len() as u64) as usize)
        }
    }
}

/// What the workers made (names may no longer exist).
#[derive(Default)]
struct Made {
    containers: Vec<String>,
    networks: Vec<String>,
    network_ids: BTreeSet<String>,
    next: usize,
    /// How many more networks the workers may create this round.
    net_budget: usize,
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One request of the stream; failures are expected (the daemon dies,
/// names are gone) and ignored.
fn one_op(d: &TestDaemon, rng: &mut Rng, made: &Mutex<Made>) {
    let c = if rng.below(2) == 0 { Cli::Docker } else { Cli::Berth };
    let (name, container, network) = {
        let mut m = made.lock().expect("made");
        m.next += 1;
        let n = m.next;
        let container = rng.pick(&m.containers).cloned();
        let network = rng.pick(&m.networks).cloned();
        (format!("f{n}"), container, network)
    };
    let remember = |name: &str| made.lock().expect("made").containers.push(name.to_string());
    match rng.below(12) {
        0 => {
            if d.cli(c, &["create", "--name", &name, "busybox", "sleep", "1000"]).code == 0 {
                remember(&name);
            }
        }
        1 | 2 => {
            let mut args = vec!["run", "-d", "--name", &name];
            if let Some(n) = network.as_deref().filter(|_| rng.below(2) == 0) {
                args.extend(["--network", n]);
            }
            args.extend(["busybox", "sleep", "1000"]);
            if d.cli(c, &args).code == 0 {
                remember(&name);
            }
        }
        3 => {
            if let Some(x) = &container {
                d.cli(c, &["start", x]);
            }
        }
        4 => {
            if let Some(x) = &container {
                d.cli(c, &["stop", "-t", "0", x]);
            }
        }
        5 => {
            if let Some(x) = &container {
                d.cli(c, &["rm", "-f", x]);
            }
        }
        6 => {
            if let Some(x) = &container {
                d.cli(c, &["commit", x, &format!("img-{name}")]);
            }
        }
        7 => {
            {
                let mut m = made.lock().expect("made");
                if m.net_budget == 0 {
                    return;
                }
                m.net_budget -= 1;
            }
            let out = d.cli(c, &["network", "create", &format!("net-{name}")]);
            if out.code == 0 {
                let mut m = made.lock().expect("made");
                m.networks.push(format!("net-{name}"));
                if is_id(out.stdout.trim()) {
                    m.network_ids.insert(out.stdout.trim().to_string());
                }
            }
        }
        8 => {
            if let Some(n) = &network {
                d.cli(c, &["network", "rm", n]);
            }
        }
        9 => {
            if let Some(x) = &container {
                d.cli(c, &["exec", x, "true"]);
            }
        }
        10 => {
            let vol = format!("vol-{}", rng.below(4));
            if rng.below(2) == 0 {
                d.cli(c, &["volume", "create", &vol]);
            } else {
                d.cli(c, &["volume", "rm", &vol]);
            }
        }
        _ => {
            // A container with an anonymous and a named volume.
            let vol = format!("vol-{}:/named", rng.below(4));
            if d.cli(c, &["run", "-d", "--name", &name, "-v", "/anon", "-v", &vol, "busybox", "sleep", "1000"]).code == 0 {
                remember(&name);
            }
        }
    }
}

fn list(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default()
}

/// IDs under the exec root and the container directory, so the cgroup
/// check covers containers whose create never answered.
fn track_all(d: &TestDaemon) {
    for dir in [d.exec_root().join("shims"), d.exec_root().join("runtime"), d.data_root().join("containers")] {
        for id in list(&dir).into_iter().filter(|n| is_id(n)) {
            d.track(&id);
        }
    }
}

/// The shim processes of this daemon: (pid, container id).
fn shims(d: &TestDaemon) -> Vec<(String, String)> {
    d.leaked_processes()
        .into_iter()
        .filter(|p| p.contains("berth-shim"))
        .filter_map(|p| {
            let pid = p.strip_prefix("pid ")?.split(':').next()?.to_string();
            let id = p.split_whitespace().skip_while(|w| *w != "--id").nth(1)?.to_string();
            Some((pid, id))
        })
        .collect()
}

/// What must hold after every restart. Returns the problems found.
fn invariants(d: &TestDaemon, made: &Mutex<Made>) -> Vec<String> {
    let mut bad = Vec::new();
    let q = list(&d.data_root().join("quarantine"));
    if !q.is_empty() {
        bad.push(format!("quarantined: {q:?}"));
    }
    bad.extend(d.volume_inconsistencies());
    let all = d.docker(&["ps", "-aq", "--no-trunc"]).assert_ok().lines();
    let running: BTreeSet<String> = d.docker(&["ps", "-q", "--no-trunc"]).assert_ok().lines().into_iter().collect();
    if !all.is_empty() {
        let mut args = vec!["inspect", "-f", "{{.Id}}"];
        args.extend(all.iter().map(String::as_str));
        d.docker(&args).assert_ok();
    }
    let tag = d.bridge();
    // Leftovers go away asynchronously (a shim's runtime delete, veth teardown).
    let check = |bad: &mut Vec<String>| {
        for (pid, id) in shims(d) {
            if !running.contains(&id) {
                bad.push(format!("shim {pid} of {id}, which is not running"));
            }
        }
        let dir = format!("{}/", d.dir().display());
        for l in d.leaked_mounts() {
            let point = l.split(' ').nth(4).unwrap_or("");
            let owner = point.strip_prefix(&dir).and_then(|p| p.split('/').nth(2)).unwrap_or("");
            if !running.contains(owner) {
                bad.push(format!("mount {point} of no running container"));
            }
        }
        let prefix = format!("berth-{tag}-");
        for ns in list(Path::new("/run/netns")).into_iter().filter(|n| n.starts_with(&prefix)) {
            let id12 = &ns[prefix.len()..];
            if !running.iter().any(|r| r.starts_with(id12)) {
                bad.push(format!("netns {ns} of no running container"));
            }
        }
        let mut bridges = d.user_bridges();
        bridges.push(tag.clone());
        let veths: usize = bridges.iter().map(|b| list(&Path::new("/sys/class/net").join(b).join("brif")).len()).sum();
        let endpoints: usize = running
            .iter()
            .map(|id| d.docker(&["inspect", "-f", "{{len .NetworkSettings.Networks}}", id]).out().parse::<usize>().unwrap_or(0))
            .sum();
        if veths != endpoints {
            bad.push(format!("{veths} veths on this daemon's bridges for {endpoints} endpoints of running containers"));
        }
        let live_nets: BTreeSet<String> = d.docker(&["network", "ls", "-q", "--no-trunc"]).assert_ok().lines().into_iter().collect();
        let rules = std::process::Command::new("iptables-save").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        for id in made.lock().expect("made").network_ids.iter().filter(|id| !live_nets.contains(*id)) {
            let br = format!("br-{}", &id[..12]);
            if Path::new("/sys/class/net").join(&br).exists() {
                bad.push(format!("bridge {br} of a removed network"));
            }
            if rules.lines().any(|l| l.contains(&br)) {
                bad.push(format!("iptables rules of removed network {br}"));
            }
        }
        let stopped: Vec<String> = d.tracked().into_iter().filter(|id| !running.contains(id)).collect();
        for cg in leaked_cgroups(&stopped) {
            bad.push(format!("cgroup {cg} of a container not running"));
        }
    };
    let mut found = Vec::new();
    let settled = wait_until(SETTLE, || {
        found.clear();
        check(&mut found);
        found.is_empty()
    });
    if !settled {
        bad.extend(found);
    }
    bad
}

#[test]
fn random_daemon_kills_leave_consistent_state() {
    let seed = std::env::var("BERTH_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.as_nanos() as u64).unwrap_or(1) | 1);
    println!("fault injection seed: {seed} (replay with BERTH_FAULT_SEED={seed})");
    let mut rng = Rng(seed);
    let d = TestDaemon::start();
    let cleanup = RemoveAllOnPanic(&d);
    let made = Mutex::new(Made::default());
    for round in 0..KILLS {
        // Address pools are a host-wide resource: few user networks at once.
        let user_nets = d.docker(&["network", "ls", "-q"]).assert_ok().lines().len().saturating_sub(3);
        made.lock().expect("made").net_budget = MAX_NETWORKS.saturating_sub(user_nets);
        let dead = AtomicBool::new(false);
        let seeds = [rng.next() | 1, rng.next() | 1];
        let delay = Duration::from_millis(30 + rng.below(600));
        std::thread::scope(|s| {
            for w in seeds {
                let (d, made, dead) = (&d, &made, &dead);
                s.spawn(move || {
                    let mut r = Rng(w);
                    while !dead.load(Ordering::SeqCst) {
                        one_op(d, &mut r, made);
                    }
                });
            }
            std::thread::sleep(delay);
            track_all(&d);
            d.kill9();
            dead.store(true, Ordering::SeqCst);
        });
        track_all(&d);
        d.restart();
        let bad = invariants(&d, &made);
        assert!(bad.is_empty(), "seed {seed}, round {round} (kill after {delay:?}):\n  {}\n--- berthd log ---\n{}", bad.join("\n  "), tail(&d.log(), 60));
        // Running containers are still managed: stop one, remove one, and
        // keep the number running bounded.
        let running = d.docker(&["ps", "-q"]).assert_ok().lines();
        if let Some(x) = rng.pick(&running) {
            must(&d, seed, round, &["stop", "-t", "0", x]);
            d.docker(&["inspect", "-f", "{{.State.Running}}", x]).assert_ok().assert_stdout("false");
        }
        let running = d.docker(&["ps", "-q"]).assert_ok().lines();
        for x in running.iter().skip(MAX_RUNNING) {
            must(&d, seed, round, &["rm", "-f", x]);
        }
    }
    // Everything removed leaves nothing behind (checked by stop()).
    let all = d.docker(&["ps", "-aq"]).assert_ok().lines();
    if !all.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(all.iter().map(String::as_str));
        d.docker(&args).assert_ok();
    }
    // Including networks whose create answer the kill cut off.
    for n in d.docker(&["network", "ls", "--format", "{{.Name}}"]).assert_ok().lines() {
        if !["bridge", "host", "none"].contains(&n.as_str()) {
            must(&d, seed, KILLS, &["network", "rm", &n]);
        }
    }
    for v in d.docker(&["volume", "ls", "-q"]).assert_ok().lines() {
        must(&d, seed, KILLS, &["volume", "rm", &v]);
    }
    let leftover_nets = d.docker(&["network", "ls", "--format", "{{.Name}}"]).assert_ok().lines();
    assert_eq!(leftover_nets.len(), 3, "{leftover_nets:?}");
    drop(cleanup);
    d.stop();
}

/// A request that must work; on failure, the seed, the state of the
/// object it named, its shims and berthd's log about it.
fn must(d: &TestDaemon, seed: u64, round: usize, args: &[&str]) {
    let out = d.docker(args);
    if out.code == 0 {
        return;
    }
    let target = args.last().copied().unwrap_or("");
    let state = d.docker(&["inspect", "-f", "{{json .State}}", target]).stdout;
    let log: Vec<String> = d
        .log()
        .lines()
        .filter(|l| !l.starts_with("berthd: GET ") && !l.starts_with("berthd: HEAD ") || l.contains(target))
        .map(String::from)
        .collect();
    panic!(
        "seed {seed}, round {round}: {args:?} failed: {}\nstate: {state}\nshims: {:?}\n--- berthd log (no GET/HEAD) ---\n{}",
        out.stderr,
        shims(d),
        log[log.len().saturating_sub(150)..].join("\n")
    );
}

/// Best-effort clean-up when the test fails: the harness's own clean-up
/// does not know user networks, whose bridges would stay on the host.
struct RemoveAllOnPanic<'a>(&'a TestDaemon);

impl Drop for RemoveAllOnPanic<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let d = self.0;
        // A second panic must not escape a destructor that runs during unwinding.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if d.docker(&["version"]).code != 0 {
                d.kill9();
                d.restart();
            }
            let all = d.docker(&["ps", "-aq"]).lines();
            for x in &all {
                d.docker(&["rm", "-f", x]);
            }
            for n in d.docker(&["network", "ls", "--format", "{{.Name}}"]).lines() {
                if !["bridge", "host", "none"].contains(&n.as_str()) {
                    d.docker(&["network", "rm", &n]);
                }
            }
        }));
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
