//! `berth compose` running the course's example apps for real against a
//! real berthd: services that talk by name, front/back network isolation
//! (by DNS and by IP), `restart: always` bringing a crashing service back,
//! secrets, a scaled service whose name answers with every replica, and
//! bad files refused with Compose's message before anything is created.
use berth_e2e::{Cli, ComposeProject, TestDaemon};
use std::time::Duration;

fn names(d: &TestDaemon) -> Vec<String> {
    let mut v = d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().lines();
    v.sort();
    v
}

/// The non-default networks (bridge, host and none are always there).
fn user_networks(d: &TestDaemon) -> Vec<String> {
    let mut v = d.docker(&["network", "ls", "--format", "{{.Name}}"]).assert_ok().lines();
    v.retain(|n| !matches!(n.as_str(), "bridge" | "host" | "none"));
    v.sort();
    v
}

fn volumes(d: &TestDaemon) -> Vec<String> {
    let mut v = d.docker(&["volume", "ls", "-q"]).assert_ok().lines();
    v.sort();
    v
}

fn ip_on(d: &TestDaemon, container: &str, network: &str) -> String {
    let f = format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
    let ip = d.docker(&["inspect", "-f", &f, container]).assert_ok().out();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{container} on {network}: {ip:?}");
    ip
}

/// The addresses busybox `nslookup NAME` printed, without the server's own.
fn answers(nslookup_stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = nslookup_stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Address:"))
        .map(|a| a.trim().to_string())
        .filter(|a| !a.starts_with("127.0.0.11"))
        .collect();
    v.sort();
    v
}

const TALK: &str = r#"services:
  server:
    image: busybox
    command: ["nc", "-ll", "-p", "7000", "-e", "echo", "pong-from-server"]
  client:
    image: busybox
    depends_on: [server]
    command:
      - sh
      - -c
      - |
        for i in $$(seq 100); do
          r=$$(nc -w2 server 7000 </dev/null)
          if [ -n "$$r" ]; then echo "got $$r"; exit 0; fi
          sleep 0.2
        done
        echo never-answered; exit 1
"#;

#[test]
fn two_services_talk_by_service_name() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("talk", TALK);
    let out = p.compose(&d, &["up", "--exit-code-from", "client"]);
    out.assert_ok();
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("got "))
        .unwrap_or_else(|| panic!("no reply seen:\n{}\n{}", out.stdout, out.stderr));
    assert!(line.starts_with("client-1 ") && line.ends_with("| got pong-from-server"), "{line}");

    // Both ways, while running: the server reaches the client by its name
    // too, and the container name answers as well as the service name.
    p.compose(&d, &["up", "-d"]).assert_ok();
    assert!(berth_e2e::wait_until(Duration::from_secs(20), || {
        d.docker(&["exec", "talk-server-1", "sh", "-c", "nc -w2 talk-server-1 7000 </dev/null"]).stdout.contains("pong-from-server")
    }));
    let server_ip = ip_on(&d, "talk-server-1", "talk_default");
    let out = d.docker(&["run", "--rm", "--network", "talk_default", "busybox", "nslookup", "server"]).assert_ok().stdout.clone();
    assert_eq!(answers(&out), [server_ip], "{out}");
    p.compose(&d, &["down", "-t", "0"]).assert_ok();
    assert!(names(&d).is_empty());
    assert!(user_networks(&d).is_empty(), "{:?}", user_networks(&d));
    d.stop();
}

const TIERS: &str = r#"services:
  front:
    image: busybox
    command: ["sleep", "1000"]
    networks: [front]
  api:
    image: busybox
    command: ["sleep", "1000"]
    networks: [front, back]
  db:
    image: busybox
    command: ["nc", "-ll", "-p", "5432", "-e", "echo", "db-here"]
    networks: [back]
networks:
  front: {}
  back: {}
"#;

#[test]
fn front_and_back_networks_isolate_the_db() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("tiers", TIERS);
    p.compose(&d, &["up", "-d"]).assert_ok();
    assert_eq!(user_networks(&d), ["tiers_back", "tiers_front"]);
    let db_ip = ip_on(&d, "tiers-db-1", "tiers_back");
    let api_front = ip_on(&d, "tiers-api-1", "tiers_front");
    ip_on(&d, "tiers-api-1", "tiers_back");
    ip_on(&d, "tiers-front-1", "tiers_front");
    let attached = |c: &str| {
        let f = "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}";
        d.docker(&["inspect", "-f", f, c]).assert_ok().out()
    };
    assert_eq!(attached("tiers-front-1"), "tiers_front");
    assert_eq!(attached("tiers-db-1"), "tiers_back");
    assert_eq!(attached("tiers-api-1"), "tiers_back tiers_front");

    // By DNS: api resolves db to its address on back; front resolves api
    // (on the network they share) but not db.
    let out = d.docker(&["exec", "tiers-api-1", "nslookup", "db"]);
    out.assert_ok();
    assert_eq!(answers(&out.stdout), std::slice::from_ref(&db_ip), "{}", out.stdout);
    let out = d.docker(&["exec", "tiers-front-1", "nslookup", "api"]);
    out.assert_ok();
    assert_eq!(answers(&out.stdout), [api_front], "{}", out.stdout);
    let out = d.docker(&["exec", "tiers-front-1", "nslookup", "db"]);
    out.assert_fail();
    assert!(answers(&out.stdout).is_empty(), "front resolved db: {}", out.stdout);
    d.docker(&["exec", "tiers-front-1", "ping", "-c1", "-W2", "db"]).assert_fail();

    // By IP: api reaches db's address on back (ping and TCP); front does not.
    d.docker(&["exec", "tiers-api-1", "ping", "-c1", "-W2", &db_ip]).assert_ok();
    let tcp = format!("nc -w2 {db_ip} 5432 </dev/null");
    assert!(berth_e2e::wait_until(Duration::from_secs(20), || {
        d.docker(&["exec", "tiers-api-1", "sh", "-c", &tcp]).stdout.contains("db-here")
    }), "api could not reach db:5432");
    d.docker(&["exec", "tiers-api-1", "sh", "-c", "nc -w2 db 5432 </dev/null"]).assert_ok().assert_stdout("db-here");
    let out = d.docker(&["exec", "tiers-front-1", "ping", "-c1", "-W2", &db_ip]);
    out.assert_fail();
    assert!(out.stdout.contains("0 packets received"), "{}", out.stdout);
    let out = d.docker(&["exec", "tiers-front-1", "sh", "-c", &tcp]);
    assert!(!out.stdout.contains("db-here"), "front reached db over TCP: {out:?}");
    p.compose(&d, &["down", "-t", "0"]).assert_ok();
    assert!(names(&d).is_empty());
    assert!(user_networks(&d).is_empty(), "{:?}", user_networks(&d));
    d.stop();
}

#[test]
fn restart_always_brings_a_crashing_service_back() {
    let d = TestDaemon::start();
    let p = ComposeProject::new(
        "crash",
        "services:\n  flaky:\n    image: busybox\n    restart: always\n    command: [\"sh\", \"-c\", \"echo started; sleep 1; exit 3\"]\n",
    );
    p.compose(&d, &["up", "-d"]).assert_ok();
    let policy = d.docker(&["inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", "crash-flaky-1"]).assert_ok().out();
    assert_eq!(policy, "always");
    let state = || {
        let s = d.docker(&["inspect", "-f", "{{.RestartCount}} {{.State.Running}} {{.State.ExitCode}}", "crash-flaky-1"]).assert_ok().out();
        let mut it = s.split(' ');
        let n: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or_else(|| panic!("{s}"));
        (n, it.next() == Some("true"), s)
    };
    // It crashed (exit 3), was started again, more than once, and runs.
    let mut last = String::new();
    let back = berth_e2e::wait_until(Duration::from_secs(40), || {
        let (n, running, s) = state();
        last = s;
        n >= 2 && running
    });
    assert!(back, "never came back running after two restarts: {last}");
    let out = p.compose(&d, &["logs", "flaky"]).assert_ok().stdout.clone();
    assert!(out.matches("started").count() >= 2, "{out}");
    p.compose(&d, &["ps", "--format", "{{.Name}}"]).assert_ok().assert_stdout("crash-flaky-1");
    // The same container: compose did not make a new one.
    assert_eq!(names(&d), ["crash-flaky-1"]);
    p.compose(&d, &["down", "-t", "0"]).assert_ok();
    assert!(names(&d).is_empty());
    d.stop();
}

const SECRETS: &str = r#"services:
  app:
    image: busybox
    command: ["sleep", "1000"]
    secrets:
      - token
      - source: api_key
        target: key
secrets:
  token:
    file: ./token.txt
  api_key:
    environment: API_KEY
"#;

#[test]
fn file_and_environment_secrets_are_readable_at_run_secrets() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("sec", SECRETS);
    std::fs::write(p.dir().join("token.txt"), "s3cret-from-file\n").expect("token.txt");
    std::fs::write(p.dir().join(".env"), "API_KEY=k3y-from-env\n").expect(".env");
    p.compose(&d, &["up", "-d"]).assert_ok();
    d.docker(&["exec", "sec-app-1", "cat", "/run/secrets/token"]).assert_ok().assert_stdout("s3cret-from-file");
    d.docker(&["exec", "sec-app-1", "cat", "/run/secrets/key"]).assert_ok().assert_stdout("k3y-from-env");
    p.compose(&d, &["exec", "-T", "app", "cat", "/run/secrets/token"]).assert_ok().assert_stdout("s3cret-from-file");
    // The file secret is mounted read-only: the app cannot change it.
    let out = d.docker(&["exec", "sec-app-1", "sh", "-c", "echo changed > /run/secrets/token"]);
    out.assert_fail();
    assert_eq!(std::fs::read_to_string(p.dir().join("token.txt")).expect("read"), "s3cret-from-file\n");
    // The secret is not in the container's environment.
    let env = d.docker(&["exec", "sec-app-1", "env"]).assert_ok().stdout.clone();
    assert!(!env.contains("k3y-from-env") && !env.contains("s3cret"), "{env}");
    p.compose(&d, &["down", "-t", "0"]).assert_ok();

    // An environment secret whose variable is unset is refused, naming it,
    // before anything is created.
    std::fs::remove_file(p.dir().join(".env")).expect("rm .env");
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_fail();
    assert!(
        out.stderr.contains("environment variable \"API_KEY\" required by secret \"api_key\" is not set"),
        "{}",
        out.stderr
    );
    assert!(names(&d).is_empty(), "{:?}", names(&d));
    assert!(user_networks(&d).is_empty(), "{:?}", user_networks(&d));
    // A missing secret file is refused too.
    std::fs::remove_file(p.dir().join("token.txt")).expect("rm token");
    let out = d.cli_with_env(
        Cli::Berth,
        &["compose", "-f", &p.file.display().to_string(), "-p", "sec", "up", "-d"],
        &[("API_KEY", "x")],
    );
    out.assert_fail();
    let want = format!("service \"app\": secret \"token\": file {} does not exist", p.dir().join("token.txt").display());
    assert!(out.stderr.contains(&want), "want {want:?} in:\n{}", out.stderr);
    assert!(names(&d).is_empty(), "{:?}", names(&d));
    assert!(user_networks(&d).is_empty(), "{:?}", user_networks(&d));
    d.stop();
}

const SCALED: &str = r#"services:
  worker:
    image: busybox
    command: ["sleep", "1000"]
  probe:
    image: busybox
    command: ["sleep", "1000"]
"#;

#[test]
fn scaled_service_name_answers_with_every_replica() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("sc", SCALED);
    p.compose(&d, &["up", "-d", "--scale", "worker=3"]).assert_ok();
    assert_eq!(names(&d), ["sc-probe-1", "sc-worker-1", "sc-worker-2", "sc-worker-3"]);
    let mut ips: Vec<String> = (1..=3).map(|i| ip_on(&d, &format!("sc-worker-{i}"), "sc_default")).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 3, "{ips:?}");
    let out = d.docker(&["exec", "sc-probe-1", "nslookup", "worker"]);
    out.assert_ok();
    assert_eq!(answers(&out.stdout), ips, "{}", out.stdout);
    // Each replica also answers to its own container name, and is reachable.
    for i in 1..=3 {
        let out = d.docker(&["exec", "sc-probe-1", "nslookup", &format!("sc-worker-{i}")]);
        out.assert_ok();
        assert_eq!(answers(&out.stdout).len(), 1, "{}", out.stdout);
        assert!(ips.contains(&answers(&out.stdout)[0]));
    }
    for ip in &ips {
        d.docker(&["exec", "sc-probe-1", "ping", "-c1", "-W2", ip]).assert_ok();
    }
    // Scaled down to one: the name answers with that one only.
    p.compose(&d, &["up", "-d", "--scale", "worker=1"]).assert_ok();
    let one = ip_on(&d, "sc-worker-1", "sc_default");
    let out = d.docker(&["exec", "sc-probe-1", "nslookup", "worker"]);
    out.assert_ok();
    assert_eq!(answers(&out.stdout), [one], "{}", out.stdout);
    p.compose(&d, &["down", "-t", "0"]).assert_ok();
    assert!(names(&d).is_empty());
    d.stop();
}

/// A valid part every bad file carries, so a half-done `up` would show:
/// a service, a network and a named volume.
const GOOD_PART: &str = r#"  db:
    image: busybox
    command: ["sleep", "1000"]
    networks: [back]
    volumes: ["data:/data"]
networks:
  back: {}
volumes:
  data: {}
"#;

fn refused(d: &TestDaemon, p: &ComposeProject, web: &str, want: &str) {
    p.rewrite(&format!("services:\n  web:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n{web}{GOOD_PART}"));
    let out = p.compose(d, &["up", "-d"]);
    out.assert_fail();
    assert!(out.stderr.contains(want), "want {want:?} in:\n{}", out.stderr);
    assert!(names(d).is_empty(), "{want}: containers left {:?}", names(d));
    assert!(user_networks(d).is_empty(), "{want}: networks left {:?}", user_networks(d));
    assert!(volumes(d).is_empty(), "{want}: volumes left {:?}", volumes(d));
}

#[test]
fn bad_files_are_refused_clearly_and_create_nothing() {
    let d = TestDaemon::start();
    let p = ComposeProject::new("bad", "services: {}\n");
    refused(&d, &p, "    networks: [back, nosuch]\n",
        "service \"web\" refers to undefined network nosuch: invalid compose project");
    refused(&d, &p, "    volumes: [\"nosuch:/x\"]\n",
        "service \"web\" refers to undefined volume nosuch: invalid compose project");
    refused(&d, &p, "    secrets: [nosuch]\n",
        "service \"web\" refers to undefined secret nosuch: invalid compose project");
    refused(&d, &p, "    depends_on: [db, nosuch]\n",
        "service \"web\" depends on undefined service \"nosuch\": invalid compose project");
    refused(&d, &p, "    environment:\n      - X=${X:?must be set}\n",
        "error while interpolating services.web.environment.[]: required variable X is missing a value: must be set");
    d.stop();
}

#[test]
fn a_host_port_already_taken_fails_up_clearly() {
    let d = TestDaemon::start();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let p = ComposeProject::new(
        "port",
        &format!("services:\n  web:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    ports: [\"127.0.0.1:{port}:80\"]\n"),
    );
    let out = p.compose(&d, &["up", "-d"]);
    out.assert_fail();
    let want = format!("127.0.0.1:{port}");
    assert!(out.stderr.contains(&want), "want {want:?} in:\n{}", out.stderr);
    assert!(out.stderr.contains("address already in use"), "{}", out.stderr);
    // The failed up takes back what it made and never ran: the container
    // that could not start and the network made for it.
    assert!(names(&d).is_empty(), "{:?}", names(&d));
    assert!(user_networks(&d).is_empty(), "{:?}", user_networks(&d));
    assert!(d.docker(&["volume", "ls", "-q"]).assert_ok().out().is_empty());
    // Once the port is free, the same up brings the service up on it.
    drop(taken);
    p.compose(&d, &["up", "-d"]).assert_ok();
    let running = d.docker(&["inspect", "-f", "{{.State.Running}}", "port-web-1"]).assert_ok().out();
    assert_eq!(running, "true");
    d.docker(&["port", "port-web-1", "80"]).assert_ok().assert_stdout(&want);
    p.compose(&d, &["down", "-t", "0"]).assert_ok();
    assert!(names(&d).is_empty());
    assert!(user_networks(&d).is_empty());
    d.stop();
}
