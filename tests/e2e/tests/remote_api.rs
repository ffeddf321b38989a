//! The remote API: berthd on a unix socket and TCP at once, TLS with client
//! verification (the docker CLI and berth with DOCKER_TLS_VERIFY and
//! DOCKER_CERT_PATH or flags), refusal of clients without a certificate
//! or with one another CA signed, TLS without verification, plain TCP
//! (warned on loopback, refused elsewhere), and the socket's group.

use berth_e2e::certs::{free_port, Certs};
use berth_e2e::{bin_dir, Cli, Setup, TestDaemon};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

/// A daemon with its unix socket and a TLS TCP listener on a free port;
/// the certificates are made in a directory of their own first, since the
/// daemon needs them at start.
fn tls_daemon(extra: &[&str]) -> (TestDaemon, Certs, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(tmp.path());
    let port = free_port();
    let host = format!("tcp://127.0.0.1:{port}");
    let mut args: Vec<String> = vec!["-H".into(), host.clone()];
    args.extend(extra.iter().map(|s| s.to_string()));
    for (flag, p) in [("--tlscacert", certs.ca()), ("--tlscert", certs.server_cert()), ("--tlskey", certs.server_key())] {
        args.push(flag.into());
        args.push(p.display().to_string());
    }
    let d = TestDaemon::start_with(Setup { args, config: None });
    (d, certs, host, tmp)
}

fn verify_env<'a>(host: &'a str, dir: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("DOCKER_HOST", host), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", dir)]
}

#[test]
fn tlsverify_serves_docker_and_berth_and_refuses_clients_without_a_good_certificate() {
    let (d, certs, host, _tmp) = tls_daemon(&["--tlsverify"]);
    let good = certs.client_dir().display().to_string();
    for c in [Cli::Docker, Cli::Berth] {
        let out = d.cli_with_env(c, &["run", "--rm", "busybox", "echo", "over-tls"], &verify_env(&host, &good));
        out.assert_ok().assert_stdout("over-tls");
    }
    // berth with the flags instead of the environment.
    let flags = [
        "-H", &host, "--tlsverify",
        "--tlscacert", &format!("{good}/ca.pem"), "--tlscert", &format!("{good}/cert.pem"), "--tlskey", &format!("{good}/key.pem"),
        "run", "--name", "via-flags", "busybox", "echo", "flags",
    ];
    d.berth(&flags).assert_ok().assert_stdout("flags");
    // The unix socket serves the same daemon at the same time.
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("via-flags");
    d.berth(&["rm", "via-flags"]).assert_ok();
    assert!(d.log().contains(&format!("API listening on 127.0.0.1:{} (TLS)", host.rsplit(':').next().unwrap_or(""))), "{}", d.log());

    // No client certificate: refused at the handshake (docker, berth, curl).
    let nocert = certs.nocert_dir().display().to_string();
    d.cli_with_env(Cli::Docker, &["version"], &verify_env(&host, &nocert)).assert_fail().assert_stderr_contains("tls: certificate required");
    d.cli_with_env(Cli::Berth, &["version"], &verify_env(&host, &nocert)).assert_fail().assert_stderr_contains("received fatal alert: CertificateRequired");
    let url = format!("https://127.0.0.1:{}/_ping", host.rsplit(':').next().unwrap_or(""));
    let curl = Command::new("curl").args(["-sS", "--max-time", "10", "--cacert"]).arg(certs.ca()).arg(&url).output().expect("curl");
    assert!(!curl.status.success(), "curl without a client certificate was served: {}", String::from_utf8_lossy(&curl.stdout));
    assert!(!String::from_utf8_lossy(&curl.stdout).contains("OK"));
    // With the good certificate curl is served: the refusal was the certificate.
    let ok = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(certs.ca())
        .arg("--cert")
        .arg(format!("{good}/cert.pem"))
        .arg("--key")
        .arg(format!("{good}/key.pem"))
        .arg(&url)
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "OK", "{}", String::from_utf8_lossy(&ok.stderr));
    // A certificate another CA signed: refused too, and nothing was created.
    let rogue = certs.rogue_dir().display().to_string();
    for c in [Cli::Docker, Cli::Berth] {
        d.cli_with_env(c, &["run", "--name", "rogue", "busybox", "true"], &verify_env(&host, &rogue)).assert_fail();
    }
    let curl = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(certs.ca())
        .arg("--cert")
        .arg(format!("{rogue}/cert.pem"))
        .arg("--key")
        .arg(format!("{rogue}/key.pem"))
        .arg(&url)
        .output()
        .expect("curl");
    assert!(!curl.status.success(), "a certificate from another CA was accepted");
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    // A client that does not trust the daemon's CA refuses the daemon.
    let other_ca = tempfile::tempdir().expect("tempdir");
    std::fs::copy(certs.path("otherca.pem"), other_ca.path().join("ca.pem")).expect("copy");
    std::fs::copy(format!("{good}/cert.pem"), other_ca.path().join("cert.pem")).expect("copy");
    std::fs::copy(format!("{good}/key.pem"), other_ca.path().join("key.pem")).expect("copy");
    let other = other_ca.path().display().to_string();
    d.cli_with_env(Cli::Berth, &["version"], &verify_env(&host, &other)).assert_fail();
    d.cli_with_env(Cli::Docker, &["version"], &verify_env(&host, &other)).assert_fail();
    d.stop();
}

#[test]
fn tls_without_verification_as_dockerd() {
    // dockerd since 20.10: --tls alone still requires client certificates;
    // --tlsverify=false serves TLS to any client.
    let (d, certs, host, _tmp) = tls_daemon(&["--tls", "--tlsverify=false"]);
    // A cert path with the CA only: no client certificate is sent.
    let nocert = certs.nocert_dir().display().to_string();
    let env = [("DOCKER_HOST", host.as_str()), ("DOCKER_CERT_PATH", nocert.as_str())];
    d.cli_with_env(Cli::Docker, &["--tls", "run", "--rm", "busybox", "echo", "tls-only"], &env).assert_ok().assert_stdout("tls-only");
    d.cli_with_env(Cli::Berth, &["--tls", "run", "--rm", "busybox", "echo", "tls-only"], &env).assert_ok().assert_stdout("tls-only");
    // Plain HTTP on the TLS port is not served.
    d.cli_with_env(Cli::Docker, &["version"], &env).assert_fail();
    // The daemon's certificate still checks out against the CA.
    let good = certs.client_dir().display().to_string();
    d.cli_with_env(Cli::Docker, &["version", "--format", "{{.Server.Os}}"], &verify_env(&host, &good)).assert_ok().assert_stdout("linux");
    assert!(d.log().contains("binding to IP address without --tlsverify is insecure"), "{}", d.log());
    d.stop();

    let (d, certs, host, _tmp) = tls_daemon(&["--tls"]);
    let nocert = certs.nocert_dir().display().to_string();
    let env = [("DOCKER_HOST", host.as_str()), ("DOCKER_CERT_PATH", nocert.as_str())];
    d.cli_with_env(Cli::Docker, &["--tls", "version"], &env).assert_fail().assert_stderr_contains("tls: certificate required");
    d.cli_with_env(Cli::Berth, &["--tls", "version"], &env).assert_fail().assert_stderr_contains("CertificateRequired");
    d.stop();
}

#[test]
fn plain_tcp_on_loopback_is_served_with_a_warning() {
    let port = free_port();
    let host = format!("tcp://127.0.0.1:{port}");
    let d = TestDaemon::start_with(Setup { args: vec!["-H".into(), host.clone()], config: None });
    for c in [Cli::Docker, Cli::Berth] {
        d.cli_with_env(c, &["run", "--rm", "busybox", "echo", "plain"], &[("DOCKER_HOST", host.as_str())]).assert_ok().assert_stdout("plain");
    }
    let log = d.log();
    assert!(log.contains(&format!("binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network. host=\"{host}\"")), "{log}");
    d.stop();
}

/// Runs berthd with `args` on throw-away roots (and an empty configuration
/// file), expecting it to refuse to start.
fn berthd_refuses(args: &[&str]) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("daemon.json"), "{}").expect("write daemon.json");
    let out = Command::new(bin_dir().join("berthd"))
        .args(["--data-root", &tmp.path().join("data").display().to_string()])
        .args(["--exec-root", &tmp.path().join("exec").display().to_string()])
        .args(["--config-file", &tmp.path().join("daemon.json").display().to_string()])
        .args(args)
        .output()
        .expect("run berthd");
    assert!(!out.status.success(), "berthd started with {args:?}");
    assert!(!tmp.path().join("data").exists(), "berthd created its data root before refusing");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn plain_tcp_off_loopback_is_refused_and_bad_hosts_too() {
    let port = free_port();
    let host = format!("tcp://0.0.0.0:{port}");
    let err = berthd_refuses(&["-H", &host]);
    assert!(
        err.contains(&format!("refusing to listen on {host} without TLS: binding to an IP address without --tlsverify is insecure"))
            && err.contains("explicitly specifying '--tls=false' or '--tlsverify=false'"),
        "{err}"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "something listens on {port}");
    let err = berthd_refuses(&["-H", "fd://"]);
    assert!(err.contains("berthd does not support fd:// hosts (socket activation) yet"), "{err}");
    let err = berthd_refuses(&["-H", "tcp://127.0.0.1:99999"]);
    assert!(err.contains("invalid bind address format: tcp://127.0.0.1:99999"), "{err}");
    let err = berthd_refuses(&["-H", "tcp://127.0.0.1:1", "--tlsverify", "--tlscacert", "/nonexistent/ca.pem", "--tlscert", "/nonexistent/c.pem", "--tlskey", "/nonexistent/k.pem"]);
    assert!(err.contains("could not read certificate /nonexistent/c.pem"), "{err}");
    let err = berthd_refuses(&["--group", "no-such-group-berth-e2e"]);
    assert!(err.contains("group no-such-group-berth-e2e not found"), "{err}");
}

#[test]
fn group_owns_the_socket() {
    let name = format!("bte2e{}", std::process::id());
    let add = Command::new("groupadd").arg(&name).output().expect("groupadd");
    assert!(add.status.success(), "groupadd: {}", String::from_utf8_lossy(&add.stderr));
    let gid: u32 = std::fs::read_to_string("/etc/group")
        .expect("/etc/group")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:x:")).and_then(|r| r.split(':').next()).and_then(|g| g.parse().ok()))
        .expect("new group's gid");
    let d = TestDaemon::start_with(Setup { args: vec!["--group".into(), name.clone()], config: None });
    let meta = std::fs::metadata(d.sock()).expect("stat socket");
    let (sock_gid, mode) = (meta.gid(), meta.permissions().mode() & 0o777);
    d.docker(&["version"]).assert_ok();
    d.stop();
    let del = Command::new("groupdel").arg(&name).output().expect("groupdel");
    assert!(del.status.success(), "groupdel: {}", String::from_utf8_lossy(&del.stderr));
    assert_eq!((sock_gid, mode), (gid, 0o660));
    // Without --group (and no `berth` group here): root's group.
    let has_berth = std::fs::read_to_string("/etc/group").unwrap_or_default().lines().any(|l| l.starts_with("berth:"));
    let d = TestDaemon::start();
    let meta = std::fs::metadata(d.sock()).expect("stat socket");
    if !has_berth {
        assert_eq!(meta.gid(), 0);
    }
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    d.stop();
}

#[test]
fn tls_from_the_configuration_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(tmp.path());
    let host = format!("tcp://127.0.0.1:{}", free_port());
    let d = TestDaemon::start_with(Setup {
        args: vec![],
        config: Some(serde_json::json!({
            "hosts": [host],
            "tlsverify": true,
            "tlscacert": certs.ca(),
            "tlscert": certs.server_cert(),
            "tlskey": certs.server_key(),
        })),
    });
    let good = certs.client_dir().display().to_string();
    let nocert = certs.nocert_dir().display().to_string();
    d.cli_with_env(Cli::Docker, &["run", "--rm", "busybox", "echo", "file-tls"], &verify_env(&host, &good)).assert_ok().assert_stdout("file-tls");
    d.cli_with_env(Cli::Berth, &["ps", "-a"], &verify_env(&host, &good)).assert_ok();
    d.cli_with_env(Cli::Docker, &["version"], &verify_env(&host, &nocert)).assert_fail().assert_stderr_contains("tls: certificate required");
    d.stop();
}
