//! Debian's docker-compose 1.29 (Python, docker-py, old API versions, v1
//! names `project_service_1`) driving a real berthd through DOCKER_HOST:
//! a project with a built service, depends_on, two networks, a named
//! volume and `restart: always`, through its whole life; checked with the
//! real docker CLI and with `berth compose`.
use berth_e2e::{ComposeProject, Out, TestDaemon};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PROJECT: &str = "vone";

const FILE: &str = r#"version: '2.4'
services:
  db:
    build: ./db
    restart: always
    networks: [back]
    volumes: ["data:/data"]
  web:
    image: busybox
    depends_on: [db]
    networks: [front, back]
    command: ["sh", "-c", "echo web-up; exec sleep 1000"]
  edge:
    image: busybox
    networks: [front]
    command: ["sleep", "1000"]
networks:
  front: {}
  back: {}
volumes:
  data: {}
"#;

const DOCKERFILE: &str = r#"FROM busybox
RUN echo built-by-v1 > /built
CMD ["sh", "-c", "echo db-up; echo $(cat /built) >> /data/boots; while true; do echo pong-$(cat /built) | nc -l -p 7000; done"]
"#;

/// `docker-compose -f FILE -p NAME ARGS...` with stdin null, killed after 60 s.
/// exec and run go through the docker CLI, as by default (compose's own
/// API path attaches only after start, losing early output on any engine).
fn v1(d: &TestDaemon, p: &ComposeProject, args: &[&str]) -> Out {
    let f = p.file.display().to_string();
    let mut c = Command::new("docker-compose");
    c.args(["-f", f.as_str(), "-p", p.name.as_str()])
        .args(args)
        .current_dir(p.dir())
        .env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", d.dir().join("docker-config"))
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_API_VERSION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let label = format!("docker-compose {}", args.join(" "));
    let child = c.spawn().unwrap_or_else(|e| panic!("spawn {label}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let o = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(r) => r.unwrap_or_else(|e| panic!("wait {label}: {e}")),
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, not yet reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("{label} timed out after 60 s");
        }
    };
    Out {
        cmd: label,
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn project(name: &str, text: &str) -> ComposeProject {
    let p = ComposeProject::new(name, text);
    std::fs::create_dir_all(p.dir().join("db")).expect("mkdir db");
    std::fs::write(p.dir().join("db/Dockerfile"), DOCKERFILE).expect("write Dockerfile");
    p
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Names of the containers of `service` (all states), sorted.
fn replicas(d: &TestDaemon, service: &str) -> Vec<String> {
    let f = format!("label=com.docker.compose.service={service}");
    sorted(d.docker(&["ps", "-a", "--filter", &f, "--format", "{{.Names}}"]).assert_ok().lines())
}

fn state(d: &TestDaemon, name: &str) -> String {
    d.docker(&["inspect", "-f", "{{.State.Status}}", name]).assert_ok().out()
}

/// Asks db for its pong from web's container through the `back` network.
fn web_reaches_db(d: &TestDaemon, p: &ComposeProject) -> bool {
    let o = v1(d, p, &["exec", "-T", "web", "nc", "-w", "3", "db", "7000"]);
    o.code == 0 && o.stdout.contains("pong-built-by-v1")
}

#[test]
fn a_built_multi_network_project_through_its_whole_life() {
    let d = TestDaemon::start();
    let p = project(PROJECT, FILE);
    let up = v1(&d, &p, &["up", "-d"]);
    up.assert_ok();
    assert!(up.stderr.contains("Creating vone_db_1") && up.stderr.contains("Creating vone_web_1"), "{up:?}");
    // A second up finds every container matching its config hash.
    let ids = |d: &TestDaemon| sorted(d.docker(&["ps", "-q", "--no-trunc"]).assert_ok().lines());
    let first = ids(&d);
    let again = v1(&d, &p, &["up", "-d"]).assert_ok().stderr.clone();
    for n in ["vone_db_1", "vone_web_1", "vone_edge_1"] {
        assert!(again.contains(&format!("{n} is up-to-date")), "{n} recreated:\n{again}");
    }
    assert_eq!(ids(&d), first);

    // What the real docker CLI sees.
    let names = sorted(d.docker(&["ps", "--format", "{{.Names}}"]).assert_ok().lines());
    assert_eq!(names, ["vone_db_1", "vone_edge_1", "vone_web_1"]);
    d.docker(&["image", "inspect", "-f", "{{.Id}}", "vone_db"]).assert_ok();
    let nets = sorted(d.docker(&["network", "ls", "--filter", "label=com.docker.compose.project=vone", "--format", "{{.Name}}"]).assert_ok().lines());
    assert_eq!(nets, ["vone_back", "vone_front"]);
    d.docker(&["volume", "ls", "-q", "--filter", "name=vone_data"]).assert_ok().assert_stdout("vone_data");
    d.docker(&["inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", "vone_db_1"]).assert_ok().assert_stdout("always");
    let web_nets = d.docker(&["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "vone_web_1"]).assert_ok().out();
    assert_eq!(web_nets, "vone_back vone_front");
    let mounts = d.docker(&["inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}}{{end}}", "vone_db_1"]).assert_ok().out();
    assert_eq!(mounts, "volume:vone_data:/data");

    // What berth compose sees of the v1 project.
    let bc = ComposeProject::new(PROJECT, FILE);
    let ps = bc.compose(&d, &["ps", "--format", "{{.Name}} {{.Service}} {{.State}}"]).assert_ok().lines();
    assert_eq!(sorted(ps), ["vone_db_1 db running", "vone_edge_1 edge running", "vone_web_1 web running"]);

    // Services reach each other by name, only over a shared network.
    assert!(berth_e2e::wait_until(Duration::from_secs(20), || web_reaches_db(&d, &p)), "web never reached db");
    bc.compose(&d, &["exec", "web", "nc", "-w", "3", "db", "7000"]).assert_ok().assert_stdout("pong-built-by-v1");
    let edge = v1(&d, &p, &["exec", "-T", "edge", "nslookup", "db"]);
    assert_ne!(edge.code, 0, "edge shares no network with db yet resolved it: {edge:?}");
    v1(&d, &p, &["exec", "-T", "edge", "ping", "-c", "1", "-W", "3", "web"]).assert_ok();

    // ps, logs, exec, run --rm.
    let ps = v1(&d, &p, &["ps"]).assert_ok().stdout.clone();
    for n in ["vone_db_1", "vone_web_1", "vone_edge_1"] {
        assert!(ps.lines().any(|l| l.starts_with(n) && l.contains("Up")), "{n} not Up in:\n{ps}");
    }
    let logs = v1(&d, &p, &["logs", "--no-color", "db", "web"]).assert_ok().stdout.clone();
    assert!(logs.contains("db-up") && logs.contains("web-up"), "{logs}");
    v1(&d, &p, &["exec", "-T", "db", "cat", "/data/boots"]).assert_ok().assert_stdout("built-by-v1");
    let run = v1(&d, &p, &["run", "--rm", "web", "sh", "-c", "nc -w 3 db 7000; echo ran-$HOSTNAME >&2; exit 7"]);
    run.assert_code(7).assert_stdout("pong-built-by-v1").assert_stderr_contains("ran-");
    assert_eq!(replicas(&d, "web"), ["vone_web_1"], "run --rm left its container");

    // Scale up and back down.
    v1(&d, &p, &["up", "-d", "--scale", "web=3"]).assert_ok();
    assert_eq!(replicas(&d, "web"), ["vone_web_1", "vone_web_2", "vone_web_3"]);
    for n in ["vone_web_2", "vone_web_3"] {
        assert_eq!(state(&d, n), "running");
    }
    v1(&d, &p, &["exec", "-T", "--index=3", "web", "nc", "-w", "3", "db", "7000"]).assert_ok().assert_stdout("pong-built-by-v1");
    v1(&d, &p, &["up", "-d", "-t", "1", "--scale", "web=1"]).assert_ok();
    assert_eq!(replicas(&d, "web"), ["vone_web_1"]);

    // restart, stop, start.
    let started = |n: &str| d.docker(&["inspect", "-f", "{{.State.StartedAt}}", n]).assert_ok().out();
    let before = started("vone_db_1");
    v1(&d, &p, &["restart", "-t", "1", "db"]).assert_ok();
    assert_ne!(started("vone_db_1"), before, "restart did not restart db");
    assert_eq!(state(&d, "vone_db_1"), "running");
    v1(&d, &p, &["stop", "-t", "1"]).assert_ok();
    for n in ["vone_db_1", "vone_web_1", "vone_edge_1"] {
        assert_eq!(state(&d, n), "exited", "{n} after stop");
    }
    v1(&d, &p, &["start"]).assert_ok();
    for n in ["vone_db_1", "vone_web_1", "vone_edge_1"] {
        assert_eq!(state(&d, n), "running", "{n} after start");
    }
    assert!(berth_e2e::wait_until(Duration::from_secs(20), || web_reaches_db(&d, &p)), "web lost db after start");
    // The named volume outlived the restarts: one line per db boot.
    let boots = v1(&d, &p, &["exec", "-T", "db", "cat", "/data/boots"]).assert_ok().lines();
    assert_eq!(boots.len(), 3, "{boots:?}");

    // down -v --rmi local leaves nothing.
    v1(&d, &p, &["down", "-v", "--rmi", "local", "-t", "1"]).assert_ok();
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.docker(&["network", "ls", "-q", "--filter", "name=vone_"]).assert_ok().assert_stdout("");
    d.docker(&["volume", "ls", "-q"]).assert_ok().assert_stdout("");
    d.docker(&["image", "inspect", "vone_db"]).assert_fail();
    let images = d.docker(&["images", "--format", "{{.Repository}}"]).assert_ok().lines();
    assert_eq!(images, ["busybox"]);
    bc.compose(&d, &["ps", "-a", "-q"]).assert_ok().assert_stdout("");
    d.stop();
}

#[test]
fn restart_always_brings_back_a_crashing_service() {
    let d = TestDaemon::start();
    let p = project(
        "vcrash",
        "version: '2.4'\nservices:\n  flaky:\n    image: busybox\n    restart: always\n    command: [\"sh\", \"-c\", \"echo boot-$$(date +%s%N); sleep 0.2; exit 3\"]\n",
    );
    v1(&d, &p, &["up", "-d"]).assert_ok();
    // Between two runs it is `restarting`, never `exited`, and `ps` without
    // -a (what docker-compose stop acts on) always lists it (berthd showed
    // it exited for a moment after each crash; six crashes caught that).
    let listed = "/containers/json?filters=%7B%22name%22%3A%5B%22vcrash_flaky_1%22%5D%7D";
    let (mut polls, mut gaps) = (0, Vec::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let count = loop {
        let (_, list) = d.api("GET", listed, None);
        let (_, body) = d.api("GET", "/containers/vcrash_flaky_1/json", None);
        let v: serde_json::Value = serde_json::from_str(&body).expect("inspect json");
        let status = v["State"]["Status"].as_str().unwrap_or("").to_string();
        polls += 1;
        if status == "exited" || !list.contains("vcrash_flaky_1") {
            gaps.push(format!("{status} listed={}", list.contains("vcrash_flaky_1")));
        }
        let count = v["RestartCount"].as_i64().unwrap_or(0);
        if count >= 6 || std::time::Instant::now() > deadline {
            break count;
        }
    };
    assert!(count >= 6, "restart count stuck at {count}");
    assert!(gaps.is_empty(), "{} of {polls} polls saw it out of ps: {gaps:?}", gaps.len());
    let boots = v1(&d, &p, &["logs", "--no-color", "flaky"]).assert_ok().stdout.matches("boot-").count();
    assert!(boots >= 7, "only {boots} boots logged");
    d.docker(&["inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", "vcrash_flaky_1"]).assert_ok().assert_stdout("always");
    // Running again after a crash, as docker-compose ps and berth compose see it.
    assert!(berth_e2e::wait_until(Duration::from_secs(15), || state(&d, "vcrash_flaky_1") == "running"));
    let bc = ComposeProject::new("vcrash", "services:\n  flaky:\n    image: busybox\n");
    let ps = bc.compose(&d, &["ps", "-a", "--format", "{{.Name}} {{.Service}}"]).assert_ok().out();
    assert_eq!(ps, "vcrash_flaky_1 flaky");
    v1(&d, &p, &["ps"]).assert_ok().assert_stdout_contains("vcrash_flaky_1");
    // stop wins over the policy: it stays down.
    v1(&d, &p, &["stop", "-t", "1"]).assert_ok();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(state(&d, "vcrash_flaky_1"), "exited");
    v1(&d, &p, &["down", "-t", "1"]).assert_ok();
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.docker(&["network", "ls", "-q", "--filter", "name=vcrash_"]).assert_ok().assert_stdout("");
    d.stop();
}
