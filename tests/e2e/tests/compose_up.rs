//! `berth compose up` and `down` against a real berthd: what they create
//! (Compose v2's names and labels, seen through the docker CLI), when they
//! recreate, scaling, orphans, `depends_on` conditions, attached mode with
//! its exit codes, `--wait`, `build:` services, and refusals that leave
//! nothing behind.
use berth_e2e::{ComposeProject, TestDaemon};
use std::time::Duration;

const APP: &str = r#"services:
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo web-up; sleep 1000 & wait"]
    depends_on: [db]
    networks: [front, back]
    ports: ["127.0.0.1::80"]
    labels:
      tier: web
  db:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    volumes: ["data:/data"]
    networks:
      back:
        aliases: [database]
networks:
  front: {}
  back: {}
volumes:
  data: {}
"#;

fn id(d: &TestDaemon, name: &str) -> String {
    d.docker(&["inspect", "-f", "{{.Id}}", name]).assert_ok().out()
}

fn names(d: &TestDaemon, all: bool) -> Vec<String> {
    let mut args = vec!["ps", "--format", "{{.Names}}"];
    if all {
        args.push("-a");
    }
    let mut v = d.docker(&args).assert_ok().lines();
    v.sort();
    v
}

fn networks(d: &TestDaemon, project: &str) -> Vec<String> {
    let mut v: Vec<String> = d.docker(&["network", "ls", "--format", "{{.Name}}"]).assert_ok().lines();
    v.retain(|n| n.starts_with(&format!("{project}_")));
    v.sort();
    v
}

fn volumes(d: &TestDaemon) -> Vec<String> {
    let mut v = d.docker(&["volume", "ls", "-q"]).assert_ok().lines();
    v.sort();
    v
}

#[test]
fn up_creates_the_project_reconverges_and_down_removes_it() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("cu", APP);
    p.compose(&d, &["up", "-d"]).assert_ok();
    assert_eq!(names(&d, true), ["cu-db-1", "cu-web-1"]);
    assert_eq!(names(&d, false), ["cu-db-1", "cu-web-1"], "both running");
    assert_eq!(networks(&d, "cu"), ["cu_back", "cu_front"]);
    assert_eq!(volumes(&d), ["cu_data"]);
    // Compose's labels, as docker-compose and Docker Desktop read them.
    let labels = |what: &str, name: &str, key: &str| {
        d.docker(&[what, "inspect", "-f", &format!("{{{{index .Config.Labels \"{key}\"}}}}"), name]).assert_ok().out()
    };
    assert_eq!(labels("container", "cu-web-1", "com.docker.compose.project"), "cu");
    assert_eq!(labels("container", "cu-web-1", "com.docker.compose.service"), "web");
    assert_eq!(labels("container", "cu-web-1", "com.docker.compose.container-number"), "1");
    assert_eq!(labels("container", "cu-web-1", "com.docker.compose.oneoff"), "False");
    assert_eq!(labels("container", "cu-web-1", "tier"), "web");
    let netlabel = d.docker(&["network", "inspect", "-f", "{{index .Labels \"com.docker.compose.network\"}}", "cu_back"]).assert_ok().out();
    assert_eq!(netlabel, "back");
    let vollabel = d.docker(&["volume", "inspect", "-f", "{{index .Labels \"com.docker.compose.volume\"}}", "cu_data"]).assert_ok().out();
    assert_eq!(vollabel, "data");
    // Service names and aliases resolve on the networks the services share.
    d.docker(&["exec", "cu-web-1", "ping", "-c1", "-W2", "db"]).assert_ok();
    d.docker(&["exec", "cu-web-1", "ping", "-c1", "-W2", "database"]).assert_ok();
    // The published port got a host port on loopback.
    let port = d.docker(&["port", "cu-web-1", "80"]).assert_ok().out();
    assert!(port.starts_with("127.0.0.1:"), "{port}");
    p.compose(&d, &["port", "web", "80"]).assert_ok().assert_stdout(&port);
    assert!(berth_e2e::wait_until(Duration::from_secs(10), || p.compose(&d, &["logs", "web"]).stdout.contains("web-up")));

    // Nothing changed: nothing is recreated.
    let (web, db) = (id(&d, "cu-web-1"), id(&d, "cu-db-1"));
    p.compose(&d, &["up", "-d"]).assert_ok();
    assert_eq!((id(&d, "cu-web-1"), id(&d, "cu-db-1")), (web.clone(), db.clone()));

    // One service's configuration changed: only that service is recreated.
    p.rewrite(&APP.replace("    labels:\n      tier: web\n", "    labels:\n      tier: web\n    environment: [CHANGED=1]\n"));
    p.compose(&d, &["up", "-d"]).assert_ok();
    let web2 = id(&d, "cu-web-1");
    assert_ne!(web2, web, "web recreated");
    assert_eq!(id(&d, "cu-db-1"), db, "db kept");
    d.docker(&["exec", "cu-web-1", "sh", "-c", "echo $CHANGED"]).assert_ok().assert_stdout("1");
    p.compose(&d, &["up", "-d", "--force-recreate", "--no-deps", "web"]).assert_ok();
    assert_ne!(id(&d, "cu-web-1"), web2, "forced");
    assert_eq!(id(&d, "cu-db-1"), db, "--no-deps leaves db alone");

    // Scale up and back down: the highest numbers go first.
    p.compose(&d, &["up", "-d", "--scale", "web=3"]).assert_ok();
    assert_eq!(names(&d, false), ["cu-db-1", "cu-web-1", "cu-web-2", "cu-web-3"]);
    p.compose(&d, &["ps", "-q", "web"]).assert_ok();
    assert_eq!(p.compose(&d, &["ps", "-q", "web"]).lines().len(), 3);
    p.compose(&d, &["up", "-d", "--scale", "web=1"]).assert_ok();
    assert_eq!(names(&d, true), ["cu-db-1", "cu-web-1"]);

    // Data in the named volume outlives down; down -v removes it.
    d.docker(&["exec", "cu-db-1", "sh", "-c", "echo kept > /data/f"]).assert_ok();
    p.compose(&d, &["down"]).assert_ok();
    assert!(names(&d, true).is_empty(), "containers removed");
    assert!(networks(&d, "cu").is_empty(), "networks removed");
    assert_eq!(volumes(&d), ["cu_data"], "named volume kept");
    p.compose(&d, &["up", "-d", "db"]).assert_ok();
    assert_eq!(names(&d, true), ["cu-db-1"], "a subset of services");
    d.docker(&["exec", "cu-db-1", "cat", "/data/f"]).assert_ok().assert_stdout("kept");
    p.compose(&d, &["down", "-v", "-t", "0"]).assert_ok();
    assert!(names(&d, true).is_empty());
    assert!(volumes(&d).is_empty(), "down -v removed the volume");
    assert!(networks(&d, "cu").is_empty());
    d.stop();
}

const CONDITIONS: &str = r#"services:
  seed:
    image: busybox
    command: ["sh", "-c", "echo seeded > /shared/seed"]
    volumes: ["shared:/shared"]
  db:
    image: busybox
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 20
  app:
    image: busybox
    command: ["sh", "-c", "cat /shared/seed; exit 4"]
    volumes: ["shared:/shared"]
    depends_on:
      seed:
        condition: service_completed_successfully
      db:
        condition: service_healthy
volumes:
  shared: {}
"#;

#[test]
fn attached_up_waits_for_conditions_and_returns_the_exit_code() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("cw", CONDITIONS);
    let out = p.compose(&d, &["up", "--exit-code-from", "app"]);
    assert_eq!(out.code, 4, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    // The seed ran to completion before app started, and db was healthy.
    let line = out.stdout.lines().find(|l| l.contains("seeded")).unwrap_or_else(|| panic!("no app output:\n{}", out.stdout));
    // Compose v2 prefixes attached output with SERVICE-N, padded.
    assert!(line.starts_with("app-1 ") && line.ends_with(" | seeded"), "{line}");
    let health = d.docker(&["inspect", "-f", "{{.State.Health.Status}}", "cw-db-1"]).assert_ok().out();
    assert_eq!(health, "healthy");
    // --exit-code-from implies --abort-on-container-exit: db was stopped.
    let db = d.docker(&["inspect", "-f", "{{.State.Running}}", "cw-db-1"]).assert_ok().out();
    assert_eq!(db, "false");
    p.compose(&d, &["down", "-v"]).assert_ok();

    // A failed dependency stops up before the dependent starts.
    let failing = CONDITIONS.replace("echo seeded > /shared/seed", "exit 7");
    p.rewrite(&failing);
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_fail();
    assert!(out.stderr.contains("service \"seed\" didn't complete successfully: exit 7"), "{}", out.stderr);
    // app never ran: the failed up took it back; seed ran and stays, with
    // its exit code, as do the volume and network it uses.
    assert_eq!(names(&d, true), ["cw-db-1", "cw-seed-1"]);
    let seed = d.docker(&["inspect", "-f", "{{.State.ExitCode}}", "cw-seed-1"]).assert_ok().out();
    assert_eq!(seed, "7");
    assert_eq!(volumes(&d), ["cw_shared"]);
    p.compose(&d, &["down", "-v"]).assert_ok();
    assert!(names(&d, true).is_empty());
    assert!(volumes(&d).is_empty());
    d.stop();
}

#[test]
fn wait_returns_healthy_and_orphans_are_removed_on_request() {
    let d = TestDaemon::start();
    let two = "services:\n  api:\n    image: busybox\n    command: [\"sh\", \"-c\", \"sleep 1; touch /tmp/ok; exec sleep 1000\"]\n    healthcheck:\n      test: [\"CMD\", \"test\", \"-f\", \"/tmp/ok\"]\n      interval: 1s\n  extra:\n    image: busybox\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 1000 & wait\"]\n";
    let p = ComposeProject::new("co", two);
    p.compose(&d, &["up", "-d", "--wait"]).assert_ok();
    let health = d.docker(&["inspect", "-f", "{{.State.Health.Status}}", "co-api-1"]).assert_ok().out();
    assert_eq!(health, "healthy", "--wait returned before the service was healthy");
    // A service that never turns healthy: --wait-timeout ends the wait.
    let never = "services:\n  slow:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    healthcheck:\n      test: [\"CMD\", \"false\"]\n      interval: 30s\n";
    let q = ComposeProject::new("cw2", never);
    let out = q.compose(&d, &["up", "-d", "--wait", "--wait-timeout", "1"]);
    out.assert_fail();
    assert!(out.stderr.contains("application not healthy after 1s"), "{}", out.stderr);
    q.compose(&d, &["down", "-t", "0"]).assert_ok();

    // extra is no longer in the file: an orphan, kept and named until asked.
    p.rewrite(&two[..two.find("  extra:").expect("extra")]);
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_ok();
    assert!(out.stderr.contains("Found orphan containers ([co-extra-1])"), "{}", out.stderr);
    assert_eq!(names(&d, true), ["co-api-1", "co-extra-1"]);
    p.compose(&d, &["up", "-d", "--remove-orphans"]).assert_ok();
    assert_eq!(names(&d, true), ["co-api-1"]);
    p.compose(&d, &["down", "-t", "0"]).assert_ok();
    d.stop();
}

#[test]
fn recreate_keeps_anonymous_volumes_unless_renewed() {
    let d = TestDaemon::start();
    let file = "services:\n  db:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    volumes: [\"/data\"]\n";
    let p = ComposeProject::new("ca", file);
    p.compose(&d, &["up", "-d"]).assert_ok();
    d.docker(&["exec", "ca-db-1", "sh", "-c", "echo kept > /data/f"]).assert_ok();
    let vols = volumes(&d);
    assert_eq!(vols.len(), 1, "{vols:?}");
    // A changed configuration recreates db with the same anonymous volume.
    p.rewrite(&file.replace("[\"sleep\", \"1000\"]", "[\"sleep\", \"1001\"]"));
    let old = id(&d, "ca-db-1");
    p.compose(&d, &["up", "-d"]).assert_ok();
    assert_ne!(id(&d, "ca-db-1"), old, "recreated");
    d.docker(&["exec", "ca-db-1", "cat", "/data/f"]).assert_ok().assert_stdout("kept");
    assert_eq!(volumes(&d), vols, "the same volume, nothing new");
    // -V: a fresh one; the old one is left as Compose leaves it.
    p.compose(&d, &["up", "-d", "--force-recreate", "-V"]).assert_ok();
    d.docker(&["exec", "ca-db-1", "test", "-e", "/data/f"]).assert_fail();
    assert_eq!(volumes(&d).len(), 2);
    p.compose(&d, &["down", "-v"]).assert_ok();
    assert_eq!(volumes(&d), vols, "down -v removes the container's own anonymous volume only");
    d.docker(&["volume", "rm", &vols[0]]).assert_ok();
    d.stop();
}

/// Runs `berth compose up` (attached) until `ready`, then sends it SIGINT
/// as a terminal's Ctrl-C would; whether it got ready, and its output.
/// Fails the test when up does not return within 30 s of the interrupt.
fn interrupted_up(d: &TestDaemon, p: &ComposeProject, ready: impl FnMut() -> bool) -> (bool, std::process::Output) {
    let mut child = std::process::Command::new(d.bin_dir().join("berth"))
        .env("BERTH_HOST", d.host())
        .args(["compose", "-f", &p.file.display().to_string(), "-p", &p.name, "up"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn berth compose up");
    let got_ready = berth_e2e::wait_until(Duration::from_secs(30), ready);
    // Let the attached printer pass the lines on before the interrupt.
    std::thread::sleep(Duration::from_millis(500));
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on the child spawned above, not yet reaped.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let exited = berth_e2e::wait_until(Duration::from_secs(30), || child.try_wait().ok().flatten().is_some());
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("wait");
    assert!(exited, "up did not return after Ctrl-C");
    (got_ready, out)
}

#[test]
fn ctrl_c_stops_an_attached_project_without_removing_it() {
    let d = TestDaemon::start();
    let svc = "    image: busybox\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; echo ready; sleep 1000 & wait\"]\n";
    let p = ComposeProject::new("ci", &format!("services:\n  web:\n{svc}  db:\n{svc}"));
    let (up, out) = interrupted_up(&d, &p, || {
        names(&d, false) == ["ci-db-1", "ci-web-1"]
            && ["ci-db-1", "ci-web-1"].iter().all(|c| d.docker(&["logs", c]).stdout.contains("ready"))
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(up, "the project did not come up");
    assert!(stdout.contains("web-1  | ready") && stdout.contains("db-1   | ready"), "{stdout}");
    let both = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(both.contains("Gracefully stopping... (press Ctrl+C again to force)"), "{both}");
    assert!(names(&d, false).is_empty(), "stopped");
    assert_eq!(names(&d, true), ["ci-db-1", "ci-web-1"], "not removed");
    p.compose(&d, &["down"]).assert_ok();
    d.stop();
}

#[test]
fn lifecycle_commands_act_on_the_project_and_kill_reaches_orphans_on_request() {
    let d = TestDaemon::start();
    let svc = "    image: busybox\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 1000 & wait\"]\n";
    let both = format!("services:\n  web:\n{svc}  db:\n{svc}");
    let p = ComposeProject::new("cl", &both);
    let state = |c: &str| d.docker(&["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", c]).assert_ok().out();
    p.compose(&d, &["up", "-d"]).assert_ok();
    p.compose(&d, &["pause"]).assert_ok();
    assert_eq!((state("cl-web-1"), state("cl-db-1")), ("paused 0".into(), "paused 0".into()));
    p.compose(&d, &["unpause", "web"]).assert_ok();
    assert_eq!((state("cl-web-1"), state("cl-db-1")), ("running 0".into(), "paused 0".into()));
    p.compose(&d, &["unpause"]).assert_ok();
    p.compose(&d, &["stop", "web"]).assert_ok();
    assert_eq!((state("cl-web-1"), state("cl-db-1")), ("exited 0".into(), "running 0".into()));
    p.compose(&d, &["start"]).assert_ok();
    assert_eq!(state("cl-web-1"), "running 0");
    let started = |c: &str| d.docker(&["inspect", "-f", "{{.State.StartedAt}}", c]).assert_ok().out();
    let before = started("cl-db-1");
    p.compose(&d, &["restart", "db"]).assert_ok();
    assert_ne!(started("cl-db-1"), before, "restarted");
    p.compose(&d, &["kill", "web"]).assert_ok();
    assert_eq!(state("cl-web-1"), "exited 137");
    p.compose(&d, &["rm", "-f"]).assert_ok();
    assert_eq!(names(&d, true), ["cl-db-1"], "rm removes the stopped container only");
    // db left the file: kill spares it unless --remove-orphans.
    p.compose(&d, &["up", "-d"]).assert_ok();
    p.rewrite(&format!("services:\n  web:\n{svc}"));
    p.compose(&d, &["kill"]).assert_ok();
    assert_eq!((state("cl-web-1"), state("cl-db-1")), ("exited 137".into(), "running 0".into()));
    p.compose(&d, &["kill", "--remove-orphans", "-s", "SIGTERM"]).assert_ok();
    assert!(berth_e2e::wait_until(Duration::from_secs(10), || state("cl-db-1") == "exited 0"), "{}", state("cl-db-1"));
    p.compose(&d, &["down", "--remove-orphans"]).assert_ok();
    assert!(names(&d, true).is_empty());
    d.stop();
}

#[test]
fn up_pulls_missing_images_from_a_registry() {
    let d = TestDaemon::start();
    let data = tempfile::tempdir().expect("tempdir");
    let reg = berth_e2e::berth_registry::Registry::start(&data.path().join("reg"), &[]);
    let (one, two) = (format!("{}/cp/one:v1", reg.host()), format!("{}/cp/two:v1", reg.host()));
    for img in [&one, &two] {
        d.docker(&["tag", "busybox", img]).assert_ok();
        d.docker(&["push", img]).assert_ok();
        d.docker(&["rmi", img]).assert_ok();
    }
    let file = format!("services:\n  one:\n    image: {one}\n    command: [\"sleep\", \"1000\"]\n  two:\n    image: {two}\n    command: [\"sleep\", \"1000\"]\n    pull_policy: missing\n");
    let p = ComposeProject::new("cp", &file);
    // Not present and not allowed to pull: refused, nothing made.
    let out = p.compose(&d, &["up", "-d", "--pull", "never"]);
    out.assert_fail();
    assert!(out.stderr.contains("not found and the pull policy does not allow pulling it"), "{}", out.stderr);
    assert!(names(&d, true).is_empty());
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_ok();
    let lines: Vec<String> = out.stderr.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for svc in ["one", "two"] {
        assert!(lines.contains(&format!("{svc} Pulled")), "{}", out.stderr);
    }
    assert_eq!(names(&d, false), ["cp-one-1", "cp-two-1"]);
    p.compose(&d, &["down"]).assert_ok();
    reg.stop();
    d.stop();
}

#[test]
fn ctrl_c_while_waiting_for_a_dependency_stops_what_runs() {
    let d = TestDaemon::start();
    // db's first check comes after a minute: api waits for it meanwhile.
    let file = "services:\n  db:\n    image: busybox\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 1000 & wait\"]\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 60s\n  api:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    depends_on:\n      db:\n        condition: service_healthy\n";
    let p = ComposeProject::new("cx", file);
    let (waiting, out) = interrupted_up(&d, &p, || names(&d, false) == ["cx-db-1"] && names(&d, true) == ["cx-api-1", "cx-db-1"]);
    assert!(waiting, "up did not get to waiting for db");
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Gracefully stopping... (press Ctrl+C again to force)"), "{stderr}");
    assert!(names(&d, false).is_empty(), "db stopped");
    let api = d.docker(&["inspect", "-f", "{{.State.Status}}", "cx-api-1"]).assert_ok().out();
    assert_eq!(api, "created", "api never started");
    p.compose(&d, &["down"]).assert_ok();
    d.stop();
}

#[test]
fn a_build_service_is_built_tagged_and_removed_with_rmi_local() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("cb", "services:\n  app:\n    build: .\n    command: [\"cat\", \"/built\"]\n");
    std::fs::write(p.dir().join("Dockerfile"), "FROM busybox\nRUN echo built-here > /built\n").expect("Dockerfile");
    let out = p.compose(&d, &["up"]);
    out.assert_ok();
    assert!(out.stdout.lines().any(|l| l.starts_with("app-1 ") && l.ends_with("| built-here")), "{}", out.stdout);
    // Compose v2 names a built image PROJECT-SERVICE.
    d.docker(&["image", "inspect", "cb-app"]).assert_ok();
    // A second up does not rebuild; --build does, from the cache.
    let before = d.docker(&["image", "inspect", "-f", "{{.Id}}", "cb-app"]).assert_ok().out();
    p.compose(&d, &["up", "-d", "--build"]).assert_ok();
    assert_eq!(d.docker(&["image", "inspect", "-f", "{{.Id}}", "cb-app"]).assert_ok().out(), before, "cached build, same image");
    p.compose(&d, &["down", "--rmi", "local"]).assert_ok();
    d.docker(&["image", "inspect", "cb-app"]).assert_fail();
    d.docker(&["image", "inspect", "busybox"]).assert_ok();
    d.stop();
}

#[test]
fn refused_requests_create_nothing() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("cr", APP);
    let out = p.compose(&d, &["up", "-d", "nosuch"]);
    out.assert_fail();
    assert!(out.stderr.contains("no such service: nosuch"), "{}", out.stderr);
    let out = p.compose(&d, &["up", "-d", "--scale", "web=x"]);
    out.assert_fail();
    assert!(out.stderr.contains("invalid --scale option \"web=x\". Should be SERVICE=NUM"), "{}", out.stderr);
    let out = p.compose(&d, &["up", "-d", "--build", "--no-build"]);
    out.assert_fail();
    assert!(out.stderr.contains("--build and --no-build are incompatible"), "{}", out.stderr);
    p.rewrite("services:\n  web:\n    image: busybox\n    restart: sometimes\n");
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_fail();
    assert!(out.stderr.contains("sometimes"), "{}", out.stderr);
    p.rewrite("services:\n  web:\n    image: no-such-image-here:1\n    pull_policy: never\n");
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_fail();
    assert!(out.stderr.to_lowercase().contains("no-such-image-here"), "{}", out.stderr);
    assert!(names(&d, true).is_empty(), "no container was made");
    assert!(volumes(&d).is_empty(), "no volume was made");
    assert!(networks(&d, "cr").is_empty(), "the failed up took its network back");
    p.compose(&d, &["down"]).assert_ok();
    d.stop();
}

#[test]
fn independent_builds_run_together_and_a_dependent_build_after() {
    let d = TestDaemon::start();
    let inline = |text: &str| format!("    build:\n      context: .\n      dockerfile_inline: \"{text}\"\n");
    let meet = |me: &str, other: &str| {
        format!("FROM busybox\\nRUN --mount=type=cache,id=meet,target=/m touch /m/{me}; i=0; until [ -e /m/{other} ]; do i=$$((i+1)); [ $$i -lt 300 ] || exit 9; sleep 0.1; done; echo built-{me} > /{me}\\n")
    };
    let file = format!(
        "services:\n  a:\n{}  b:\n{}  c:\n{}    depends_on: [a]\n",
        // a and b meet in a shared cache mount: each goes on only once the
        // other's RUN has started, so built one after the other they fail.
        inline(&meet("a", "b")),
        inline(&meet("b", "a")),
        // c builds on a's image: it must wait for it, as Compose orders builds.
        inline("FROM cpb-a\\nRUN cat /a > /c\\n"),
    );
    let p = ComposeProject::new("cpb", &file);
    let out = p.compose(&d, &["build"]);
    out.assert_ok();
    // Each build's lines stay together: one FROM step per tagged image.
    let mut steps = 0;
    for line in out.stdout.lines() {
        if line.starts_with("Step 1/") {
            steps += 1;
            assert_eq!(steps, 1, "two builds' lines interleaved:\n{}", out.stdout);
        }
        if line.starts_with("Successfully tagged") {
            assert_eq!(steps, 1, "{}", out.stdout);
            steps = 0;
        }
    }
    assert_eq!(out.stdout.matches("Successfully tagged").count(), 3, "{}", out.stdout);
    d.docker(&["run", "--rm", "cpb-c", "cat", "/c"]).assert_ok().assert_stdout("built-a");
    d.docker(&["run", "--rm", "cpb-b", "cat", "/b"]).assert_ok().assert_stdout("built-b");
    // A failing build among parallel ones: its output and the error.
    p.rewrite(&file.replace("echo built-b > /b", "echo failing-b; exit 3"));
    let out = p.compose(&d, &["build", "--no-cache", "a", "b"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.contains("failing-b"), "{}", out.stdout);
    assert!(out.stderr.contains("failed to build service \"b\""), "{}", out.stderr);
    d.stop();
}
