//! `berth compose` commands other than up/down and the lifecycle ones:
//! ps, ls, logs, exec, run, top, port, images, events, cp, wait, version,
//! build, pull. The project's containers are made here as Compose makes
//! them (names `PROJECT-SERVICE-N`, the `com.docker.compose.*` labels, the
//! `PROJECT_default` network), with `berth run`, so these tests do not
//! depend on `compose up`.
use berth_e2e::TestDaemon;
use std::time::Duration;

const PROJECT: &str = "cc";

const FILE: &str = r#"services:
  web:
    image: busybox
    command: ["sh", "-c", "echo web-out; echo web-err >&2; exec sleep 1000"]
    environment:
      GREETING: hello
  worker:
    image: busybox
  job:
    image: busybox
"#;

type Project = berth_e2e::ComposeProject;

/// Creates replica `n` of `service` as Compose would, running `cmd`.
fn replica(d: &TestDaemon, p: &Project, service: &str, n: u32, extra: &[&str], cmd: &[&str]) {
    let name = format!("{PROJECT}-{service}-{n}");
    let labels = [
        format!("com.docker.compose.project={PROJECT}"),
        format!("com.docker.compose.service={service}"),
        format!("com.docker.compose.container-number={n}"),
        "com.docker.compose.oneoff=False".to_string(),
        format!("com.docker.compose.project.config_files={}", p.file.display()),
        format!("com.docker.compose.project.working_dir={}", p.dir().display()),
    ];
    let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name, "--network".into(), format!("{PROJECT}_default")];
    for l in labels {
        args.push("-l".into());
        args.push(l);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("busybox".into());
    args.extend(cmd.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.berth(&args).assert_ok();
}

fn network(d: &TestDaemon) {
    d.berth(&[
        "network",
        "create",
        "--label",
        &format!("com.docker.compose.project={PROJECT}"),
        "--label",
        "com.docker.compose.network=default",
        &format!("{PROJECT}_default"),
    ])
    .assert_ok();
}

/// web ×2 (running, port 80 published on loopback), worker (exited 3).
fn web_and_worker(d: &TestDaemon, p: &Project) {
    network(d);
    let web = ["sh", "-c", "echo web-out; echo web-err >&2; exec sleep 1000"];
    for n in [1, 2] {
        replica(d, p, "web", n, &["-e", "GREETING=hello", "-p", "127.0.0.1::80"], &web);
    }
    replica(d, p, "worker", 1, &[], &["sh", "-c", "echo working; exit 3"]);
    d.berth(&["wait", "cc-worker-1"]).assert_ok().assert_stdout("3");
    // The web replicas have written their lines.
    assert!(berth_e2e::wait_until(Duration::from_secs(10), || d.berth(&["logs", "cc-web-2"]).stdout.contains("web-out")));
}

fn teardown(d: TestDaemon) {
    let ids = d.docker(&["ps", "-aq"]).lines();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        d.docker(&args).assert_ok();
    }
    d.berth(&["network", "rm", &format!("{PROJECT}_default")]).assert_ok();
    d.stop();
}

fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn ps_lists_the_project_as_compose_does() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, FILE);
    web_and_worker(&d, &p);
    let out = p.compose(&d, &["ps"]);
    out.assert_ok();
    let lines = out.lines();
    assert_eq!(squeeze(&lines[0]), "NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS", "{out:?}");
    assert_eq!(lines.len(), 3, "running containers only: {out:?}");
    assert!(lines[1].starts_with("cc-web-1 ") && lines[1].contains(" web ") && lines[1].contains(" Up "), "{out:?}");
    assert!(lines[1].contains("127.0.0.1:") && lines[1].contains("->80/tcp"), "{out:?}");
    assert!(lines[2].starts_with("cc-web-2 "), "{out:?}");

    let all = p.compose(&d, &["ps", "-a"]);
    all.assert_ok().assert_stdout_contains("cc-worker-1");
    assert!(all.lines()[3].contains("Exited (3)"), "{all:?}");

    let json = p.compose(&d, &["ps", "-a", "--format", "json"]);
    json.assert_ok();
    let rows: Vec<serde_json::Value> = json.lines().iter().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["Name"], "cc-web-1");
    assert_eq!(rows[0]["Service"], "web");
    assert_eq!(rows[0]["Project"], "cc");
    assert_eq!(rows[0]["State"], "running");
    assert_eq!(rows[0]["Publishers"][0]["TargetPort"], 80);
    assert_eq!(rows[2]["ExitCode"], 3);

    let q = p.compose(&d, &["ps", "-q"]);
    assert_eq!(q.lines().len(), 2);
    assert!(q.lines().iter().all(|l| l.len() == 64), "{q:?}");
    p.compose(&d, &["ps", "--services"]).assert_ok().assert_stdout("web");
    p.compose(&d, &["ps", "-a", "--services"]).assert_ok().assert_stdout("web\nworker");
    let exited = p.compose(&d, &["ps", "--status", "exited", "--format", "{{.Name}} {{.ExitCode}}"]);
    exited.assert_ok().assert_stdout("cc-worker-1 3");
    p.compose(&d, &["ps", "--filter", "status=running", "-q"]).assert_ok();
    p.compose(&d, &["ps", "--status", "sleeping"]).assert_fail().assert_stderr_contains("invalid filter 'status=sleeping'");
    p.compose(&d, &["ps", "nosuch"]).assert_fail().assert_stderr_contains("no such service: nosuch");
    p.compose(&d, &["ps", "worker", "-a", "--format", "{{.Name}}"]).assert_ok().assert_stdout("cc-worker-1");

    // ls: the projects, from the labels alone.
    let ls = d.berth(&["compose", "ls"]);
    ls.assert_ok();
    assert_eq!(squeeze(&ls.lines()[0]), "NAME STATUS CONFIG FILES");
    assert_eq!(squeeze(&ls.lines()[1]), format!("cc running(2) {}", p.file.display()));
    let lsa = d.berth(&["compose", "ls", "-a", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&lsa.out()).expect("ls json");
    assert_eq!(v[0]["Status"], "exited(1), running(2)");
    assert_eq!(v[0]["ConfigFiles"], p.file.display().to_string());
    d.berth(&["compose", "ls", "-q", "--filter", "name=cc"]).assert_ok().assert_stdout("cc");
    d.berth(&["compose", "ls", "-q", "--filter", "name=other"]).assert_ok().assert_stdout("");
    teardown(d);
}

#[test]
fn logs_are_prefixed_per_container() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, FILE);
    web_and_worker(&d, &p);
    let out = p.compose(&d, &["logs", "web"]);
    out.assert_ok();
    // Padded to the longest name plus one; stderr lines to stderr.
    assert!(out.stdout.contains("web-1  | web-out\n") && out.stdout.contains("web-2  | web-out\n"), "{out:?}");
    out.assert_stderr_contains("web-1  | web-err");
    assert!(!out.stdout.contains("web-err") && !out.stdout.contains('\x1b'), "no color off a terminal: {out:?}");

    let all = p.compose(&d, &["logs"]);
    all.assert_ok().assert_stdout_contains("web-1     | web-out").assert_stdout_contains("worker-1  | working");
    p.compose(&d, &["logs", "--index", "2", "web"]).assert_ok().assert_stdout("web-2  | web-out");
    p.compose(&d, &["logs", "--index", "3", "web"]).assert_fail().assert_stderr_contains("service \"web\" has no container #3");
    p.compose(&d, &["logs", "--no-log-prefix", "worker"]).assert_ok().assert_stdout("working");
    let ts = p.compose(&d, &["logs", "-t", "worker"]);
    let line = ts.out();
    assert!(line.starts_with("worker-1  | 20") && line.ends_with("Z working"), "{ts:?}");
    let color = p.compose(&d, &["--ansi", "always", "logs", "worker"]);
    color.assert_ok().assert_stdout_contains("\x1b[36mworker-1  | \x1b[0mworking");
    p.compose(&d, &["--ansi", "always", "logs", "--no-color", "worker"]).assert_ok().assert_stdout("worker-1  | working");
    p.compose(&d, &["logs", "--tail", "0", "web"]).assert_ok().assert_stdout("");
    p.compose(&d, &["logs", "--since", "1h", "--until", "2000-01-01T00:00:00Z", "worker"]).assert_ok().assert_stdout("");
    // -f returns once the followed container has stopped.
    p.compose(&d, &["logs", "-f", "worker"]).assert_ok().assert_stdout("worker-1  | working");
    p.compose(&d, &["logs", "nosuch"]).assert_fail().assert_stderr_contains("no such service: nosuch");

    // -f follows a replica that starts while it runs, until all have stopped.
    replica(&d, &p, "job", 1, &[], &["sh", "-c", "sleep 3; echo one-done"]);
    let follower = std::process::Command::new(d.bin_dir().join("berth"))
        .args(["compose", "-f", &p.file.display().to_string(), "-p", PROJECT, "logs", "-f", "job"])
        .env("BERTH_HOST", d.host())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn logs -f");
    std::thread::sleep(Duration::from_millis(1000));
    replica(&d, &p, "job", 2, &[], &["sh", "-c", "echo two-started"]);
    let out = follower.wait_with_output().expect("logs -f");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("job-2  | two-started\n") && text.contains("job-1  | one-done\n"), "{text}");
    teardown(d);
}

#[test]
fn top_port_images_wait() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, FILE);
    web_and_worker(&d, &p);
    let top = p.compose(&d, &["top", "web"]);
    top.assert_ok();
    let lines = top.lines();
    assert_eq!(lines[0], "cc-web-1");
    assert!(lines[1].contains("PID") && lines[1].contains("CMD"), "{top:?}");
    assert!(lines.iter().any(|l| l.contains("sleep 1000")), "{top:?}");
    assert!(lines.iter().any(|l| l == "cc-web-2"), "{top:?}");

    let port = p.compose(&d, &["port", "web", "80"]);
    port.assert_ok();
    assert!(port.out().starts_with("127.0.0.1:"), "{port:?}");
    let second = p.compose(&d, &["port", "--index", "2", "web", "80"]);
    assert!(second.out().starts_with("127.0.0.1:") && second.out() != port.out(), "{second:?}");
    p.compose(&d, &["port", "web", "81"]).assert_fail().assert_stderr_contains("no port 81/tcp for container cc-web-1");
    p.compose(&d, &["port", "--index", "3", "web", "80"]).assert_fail().assert_stderr_contains("service \"web\" is not running container #3");

    let images = p.compose(&d, &["images"]);
    images.assert_ok();
    assert_eq!(squeeze(&images.lines()[0]), "CONTAINER REPOSITORY TAG PLATFORM IMAGE ID SIZE CREATED");
    assert!(images.lines()[1].starts_with("cc-web-1 ") && images.lines()[1].contains("busybox"), "{images:?}");
    assert_eq!(images.lines().len(), 4, "{images:?}");
    let q = p.compose(&d, &["images", "-q"]);
    assert_eq!(q.lines().len(), 1, "one image: {q:?}");
    let id = d.docker(&["image", "inspect", "-f", "{{.Id}}", "busybox"]).out();
    assert_eq!(format!("sha256:{}", q.out()), id);

    // wait: the first container's exit code.
    replica(&d, &p, "job", 1, &[], &["sh", "-c", "sleep 1; exit 4"]);
    p.compose(&d, &["wait", "job"]).assert_code(4);
    teardown(d);
}

#[test]
fn exec_run_and_cp() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, FILE);
    web_and_worker(&d, &p);
    // exec: env, exit code, replicas, options.
    p.compose(&d, &["exec", "web", "sh", "-c", "echo $GREETING"]).assert_ok().assert_stdout("hello");
    p.compose(&d, &["exec", "-e", "X=1", "web", "sh", "-c", "echo $X"]).assert_ok().assert_stdout("1");
    p.compose(&d, &["exec", "web", "sh", "-c", "exit 7"]).assert_code(7);
    let id2 = d.docker(&["inspect", "-f", "{{.Id}}", "cc-web-2"]).out();
    p.compose(&d, &["exec", "-T", "--index", "2", "web", "hostname"]).assert_ok().assert_stdout(&id2[..12]);
    p.compose(&d, &["exec", "-w", "/etc", "-u", "daemon", "web", "sh", "-c", "pwd; id -u"]).assert_ok().assert_stdout("/etc\n1");
    p.compose(&d, &["exec", "worker", "true"]).assert_fail().assert_stderr_contains("service \"worker\" is not running");
    p.compose(&d, &["exec", "nosuch", "true"]).assert_fail().assert_stderr_contains("no such service: nosuch");

    // run: a one-off container with the service's environment, the run's
    // overrides, the command's exit code; --rm leaves nothing.
    p.compose(&d, &["run", "--rm", "-e", "A=b", "web", "sh", "-c", "echo $A $GREETING"]).assert_ok().assert_stdout("b hello");
    p.compose(&d, &["run", "--rm", "web", "sh", "-c", "exit 9"]).assert_code(9);
    p.compose(&d, &["run", "--rm", "--entrypoint", "echo", "web", "via-entrypoint"]).assert_ok().assert_stdout("via-entrypoint");
    d.docker(&["ps", "-aq", "--filter", "label=com.docker.compose.oneoff=True"]).assert_ok().assert_stdout("");
    let detached = p.compose(&d, &["run", "-d", "-l", "extra=1", "web", "sleep", "1000"]);
    detached.assert_ok();
    let id = detached.out();
    let name = d.docker(&["inspect", "-f", "{{.Name}}", &id]).out();
    assert!(name.starts_with("/cc-web-run-") && name.len() == "/cc-web-run-".len() + 12, "{name}");
    let labels = d.docker(&["inspect", "-f", "{{index .Config.Labels \"com.docker.compose.oneoff\"}} {{index .Config.Labels \"extra\"}} {{.HostConfig.PortBindings}}", &id]).out();
    assert_eq!(labels, "True 1 map[]", "one-off label, -l, no published ports");
    let ps = p.compose(&d, &["ps", "--format", "{{.Name}}"]);
    assert!(ps.stdout.contains(&name[1..]), "ps shows one-off containers: {ps:?}");
    p.compose(&d, &["run", "--rm", "--name", "custom-run", "web", "cat", "/etc/hostname"]).assert_ok();
    p.compose(&d, &["run", "--rm", "nosuch"]).assert_fail().assert_stderr_contains("no such service: nosuch");
    // In a project not up yet, run makes the network first.
    let f = p.file.display().to_string();
    d.berth(&["compose", "-f", &f, "-p", "other", "run", "--rm", "--no-deps", "web", "true"]).assert_ok();
    d.docker(&["network", "inspect", "-f", "{{index .Labels \"com.docker.compose.network\"}}", "other_default"]).assert_ok().assert_stdout("default");
    d.berth(&["compose", "-f", &f, "-p", "other", "down"]).assert_ok();

    // cp: into every replica, and back out of one.
    let local = p.dir().join("in.txt");
    std::fs::write(&local, "round trip\n").expect("write");
    p.compose(&d, &["cp", &local.display().to_string(), "web:/tmp/in.txt"]).assert_ok();
    p.compose(&d, &["exec", "--index", "2", "web", "cat", "/tmp/in.txt"]).assert_ok().assert_stdout("round trip");
    let back = p.dir().join("out.txt");
    p.compose(&d, &["cp", "--index", "2", "web:/tmp/in.txt", &back.display().to_string()]).assert_ok();
    assert_eq!(std::fs::read_to_string(&back).expect("read back"), "round trip\n");
    p.compose(&d, &["cp", "web:/nonexistent", &back.display().to_string()]).assert_fail();
    teardown(d);
}

#[test]
fn build_tags_project_service_and_pull_skips_builds() {
    let d = TestDaemon::start();
    let file = r#"services:
  app:
    build:
      context: ./app
      args:
        MSG: from-file
      labels:
        com.example.built: "yes"
  inline:
    image: localhost/cc-inline:v1
    build:
      context: ./app
      dockerfile_inline: |
        FROM busybox
        RUN echo inline > /built
  bad:
    image: 127.0.0.1:1/nothing:here
"#;
    let p = Project::new(PROJECT, file);
    std::fs::create_dir(p.dir().join("app")).expect("mkdir app");
    std::fs::write(p.dir().join("app/Dockerfile"), "FROM busybox\nARG MSG\nRUN echo $MSG > /built\n").expect("Dockerfile");
    p.compose(&d, &["build", "-q", "app", "inline"]).assert_ok().assert_stdout("");
    d.docker(&["run", "--rm", "cc-app", "cat", "/built"]).assert_ok().assert_stdout("from-file");
    d.docker(&["run", "--rm", "localhost/cc-inline:v1", "cat", "/built"]).assert_ok().assert_stdout("inline");
    d.docker(&["image", "inspect", "-f", "{{index .Config.Labels \"com.example.built\"}}", "cc-app"]).assert_ok().assert_stdout("yes");
    let out = p.compose(&d, &["build", "--build-arg", "MSG=from-flag", "app"]);
    out.assert_ok().assert_stdout_contains(" : RUN echo $MSG > /built");
    d.docker(&["run", "--rm", "cc-app", "cat", "/built"]).assert_ok().assert_stdout("from-flag");
    p.compose(&d, &["build", "nosuch"]).assert_fail().assert_stderr_contains("no such service: nosuch");
    // A service without build: has nothing to build.
    p.compose(&d, &["build", "bad"]).assert_ok();

    // pull: build-only services are skipped, a buildable one's failure is
    // a warning, any other failure an error (unless ignored).
    let pull = p.compose(&d, &["pull", "app", "inline"]);
    pull.assert_ok().assert_stderr_contains("inline Warning");
    let bad = p.compose(&d, &["pull"]);
    bad.assert_fail().assert_stderr_contains("bad Error");
    p.compose(&d, &["pull", "--ignore-pull-failures"]).assert_ok();
    p.compose(&d, &["pull", "--ignore-buildable", "--ignore-pull-failures", "-q"]).assert_ok();
    d.stop();
}

#[test]
fn events_follow_the_project() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, FILE);
    network(&d);
    replica(&d, &p, "web", 1, &[], &["sleep", "1000"]);
    let mut child = std::process::Command::new(d.bin_dir().join("berth"))
        .args(["compose", "-f", &p.file.display().to_string(), "-p", PROJECT, "events", "--json"])
        .env("BERTH_HOST", d.host())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn events");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Events of another project are not shown; this project's are.
    std::thread::sleep(Duration::from_millis(500));
    d.berth(&["run", "--rm", "-l", "com.docker.compose.project=zz", "busybox", "true"]).assert_ok();
    d.berth(&["kill", "cc-web-1"]).assert_ok();
    let mut got = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let v: serde_json::Value = serde_json::from_str(&line).expect("event json");
        let action = v["action"].as_str().unwrap_or("").to_string();
        got.push(v);
        if action == "die" {
            break;
        }
    }
    // SAFETY: kill(2) on the child spawned above, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
    assert!(got.iter().any(|e| e["action"] == "kill" && e["service"] == "web" && e["attributes"]["name"] == "cc-web-1"), "{got:?}");
    assert!(got.iter().all(|e| e["type"] == "container" && e["attributes"].get("com.docker.compose.project").is_none()), "{got:?}");
    assert!(got.last().is_some_and(|e| e["action"] == "die"), "{got:?}");
    teardown(d);
}

#[test]
fn version_names_berth_and_the_compose_version() {
    let out = std::process::Command::new(berth_e2e::bin_dir().join("berth")).args(["compose", "version"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success());
    assert!(text.starts_with("Docker Compose version v2.") && text.contains("(berth compose "), "{text}");
    let short = std::process::Command::new(berth_e2e::bin_dir().join("berth")).args(["compose", "version", "--short"]).output().expect("run");
    let short = String::from_utf8_lossy(&short.stdout).trim().to_string();
    assert!(text.contains(&format!("v{short} ")), "{text} / {short}");
    let json = std::process::Command::new(berth_e2e::bin_dir().join("berth")).args(["compose", "version", "-f", "json"]).output().expect("run");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["version"], format!("v{short}"));
}

#[test]
fn push_then_pull_through_a_registry() {
    let d = TestDaemon::start();
    let data = tempfile::tempdir().expect("tempdir");
    let reg = berth_e2e::berth_registry::Registry::start(&data.path().join("reg"), &[]);
    let image = format!("{}/cc/app:v1", reg.host());
    let file = format!("services:\n  app:\n    image: {image}\n    build:\n      context: .\n      dockerfile_inline: \"FROM busybox\\nRUN echo pushed > /built\\n\"\n  plain:\n    image: busybox\n");
    let p = Project::new(PROJECT, &file);
    p.compose(&d, &["build", "-q"]).assert_ok();
    // Only services that are built and named are pushed.
    let push = p.compose(&d, &["push"]);
    push.assert_ok().assert_stderr_contains("app Pushed");
    assert!(!push.stderr.contains("plain"), "{push:?}");
    d.docker(&["rmi", &image]).assert_ok();
    p.compose(&d, &["pull", "app"]).assert_ok().assert_stderr_contains("app Pulled");
    // On a terminal (forced here), Compose's block: title with done/total.
    let tty = p.compose(&d, &["--progress", "tty", "pull", "app"]);
    tty.assert_ok().assert_stderr_contains("[+] Pulling 1/1");
    assert!(tty.stderr.contains("✔") && tty.stderr.contains(" app  Pulled"), "{}", tty.stderr);
    d.docker(&["run", "--rm", &image, "cat", "/built"]).assert_ok().assert_stdout("pushed");
    reg.stop();
    d.stop();
}

#[test]
fn run_starts_dependencies_and_wait_takes_the_project_down() {
    let d = TestDaemon::start();
    let file = r#"services:
  db:
    image: busybox
    command: ["sleep", "1000"]
  client:
    image: busybox
    depends_on: [db]
    secrets: [token, filed]
  job:
    image: busybox
    command: ["sh", "-c", "sleep 1; exit 5"]
    profiles: [jobs]
secrets:
  token:
    environment: TOKEN_VALUE
  filed:
    file: ./filed.txt
"#;
    let p = Project::new(PROJECT, file);
    std::fs::write(p.dir().join("filed.txt"), "from-file").expect("write secret");
    // Secrets: one copied in from the environment, one bind-mounted.
    let f = p.file.display().to_string();
    let args = ["compose", "-f", f.as_str(), "-p", PROJECT, "run", "--rm", "--no-deps", "client", "sh", "-c", "cat /run/secrets/token; echo; cat /run/secrets/filed"];
    d.cli_with_env(berth_e2e::Cli::Berth, &args, &[("TOKEN_VALUE", "from-env")]).assert_ok().assert_stdout("from-env\nfrom-file");
    p.compose(&d, &["ps", "-a", "-q"]).assert_ok().assert_stdout("");
    // Without --no-deps the dependency is up first, and reachable by name.
    let args = ["compose", "-f", f.as_str(), "-p", PROJECT, "run", "--rm", "client", "ping", "-c", "1", "-W", "5", "db"];
    d.cli_with_env(berth_e2e::Cli::Berth, &args, &[("TOKEN_VALUE", "x")]).assert_ok();
    p.compose(&d, &["ps", "--format", "{{.Name}} {{.State}}"]).assert_ok().assert_stdout("cc-db-1 running");
    // `wait` exits with the first container's code; --down-project then
    // removes the project.
    p.compose(&d, &["--profile", "jobs", "up", "-d", "job"]).assert_ok();
    p.compose(&d, &["--profile", "jobs", "wait", "--down-project", "job"]).assert_code(5);
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.docker(&["network", "ls", "-q", "--filter", "name=cc_default"]).assert_ok().assert_stdout("");
    d.stop();
}

#[test]
fn exec_and_run_get_a_tty_under_a_terminal() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, FILE);
    web_and_worker(&d, &p);
    let f = p.file.display().to_string();
    let base = ["compose", "-f", f.as_str(), "-p", PROJECT];
    let args: Vec<&str> = base.iter().copied().chain(["exec", "web", "sh"]).collect();
    let t = berth_e2e::Tmux::start(&d, "exec", 100, 30, berth_e2e::Cli::Berth, &args);
    t.expect_prompt();
    t.line("tty; stty size");
    t.expect_line("30 100");
    t.line("exit 4");
    assert_eq!(t.exit_code(), 4);
    drop(t);

    let args: Vec<&str> = base.iter().copied().chain(["run", "--rm", "web", "sh"]).collect();
    let t = berth_e2e::Tmux::start(&d, "run", 90, 20, berth_e2e::Cli::Berth, &args);
    t.expect_prompt();
    t.line("echo $GREETING-$((1+1))");
    t.expect_line("hello-2");
    t.line("exit");
    assert_eq!(t.exit_code(), 0);
    drop(t);
    assert!(berth_e2e::wait_until(Duration::from_secs(10), || d
        .docker(&["ps", "-aq", "--filter", "label=com.docker.compose.oneoff=True"])
        .out()
        .is_empty()));
    teardown(d);
}

#[test]
fn sees_a_project_docker_compose_1_29_made() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, "version: '2.4'\nservices:\n  web:\n    image: busybox\n    command: [\"sh\", \"-c\", \"echo v1-made; exec sleep 1000\"]\n");
    let f = p.file.display().to_string();
    let up = std::process::Command::new("docker-compose")
        .args(["-f", &f, "-p", PROJECT, "up", "-d"])
        .env("DOCKER_HOST", d.host())
        .output()
        .expect("docker-compose");
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    p.compose(&d, &["ps", "--format", "{{.Name}} {{.Service}} {{.State}}"]).assert_ok().assert_stdout("cc_web_1 web running");
    assert!(berth_e2e::wait_until(Duration::from_secs(10), || p.compose(&d, &["logs"]).stdout.contains("cc_web_1  | v1-made")));
    p.compose(&d, &["exec", "web", "echo", "in-v1"]).assert_ok().assert_stdout("in-v1");
    d.berth(&["compose", "ls", "-q"]).assert_ok().assert_stdout("cc");
    let down = std::process::Command::new("docker-compose")
        .args(["-f", &f, "-p", PROJECT, "down"])
        .env("DOCKER_HOST", d.host())
        .output()
        .expect("docker-compose");
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    d.stop();
}

#[test]
fn docker_compose_1_29_run_rm_against_berthd() {
    let d = TestDaemon::start();
    let p = Project::new(PROJECT, "version: '2.4'\nservices:\n  web:\n    image: busybox\n    environment: [FROM_FILE=yes]\n");
    let f = p.file.display().to_string();
    let v1 = |args: &[&str]| {
        std::process::Command::new("docker-compose")
            .args(["-f", &f, "-p", PROJECT])
            .args(args)
            .env("DOCKER_HOST", d.host())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("docker-compose")
    };
    let out = v1(&["run", "--rm", "web", "sh", "-c", "echo hi $FROM_FILE; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hi yes");
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    let down = v1(&["down"]);
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    d.stop();
}
