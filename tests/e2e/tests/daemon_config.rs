//! daemon.json: every key berthd reads is honoured (observed through the
//! docker CLI and berth), the errors at start are dockerd's, and SIGHUP
//! reloads what dockerd reloads while a bad file leaves things as they were.

use berth_e2e::certs::free_port;
use berth_e2e::{bin_dir, wait_until, Cli, Setup, TestDaemon};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);

fn berth_oci() -> String {
    bin_dir().join("berth-oci").display().to_string()
}

#[test]
fn every_key_is_honoured() {
    let port = free_port();
    let tcp = format!("tcp://127.0.0.1:{port}");
    let d = TestDaemon::start_with(Setup {
        args: vec![],
        config: Some(json!({
            "hosts": [tcp],
            "tls": false,
            "log-driver": "json-file",
            "log-opts": {"max-size": "1k", "max-file": "2"},
            "runtimes": {"alt": {"path": berth_oci()}},
            "default-runtime": "alt",
            "default-address-pools": [{"base": "10.213.0.0/16", "size": 24}],
            "bip": "10.214.7.1/24",
            "storage-driver": "overlay2",
            "live-restore": true,
            "insecure-registries": [],
            "registry-mirrors": [],
        })),
    });
    // hosts: the harness's socket and the TCP listener, both served.
    let env = [("DOCKER_HOST", tcp.as_str())];
    d.cli_with_env(Cli::Docker, &["run", "--name", "via-tcp", "busybox", "echo", "tcp"], &env).assert_ok().assert_stdout("tcp");
    d.cli_with_env(Cli::Berth, &["rm", "via-tcp"], &env).assert_ok();
    // debug: requests are logged.
    assert!(d.log().contains("GET /"), "no debug lines in the log");
    // data-root, exec-root, pidfile.
    d.docker(&["info", "--format", "{{.DockerRootDir}} {{.Debug}} {{.LoggingDriver}} {{.DefaultRuntime}} {{.Driver}} {{.LiveRestoreEnabled}}"])
        .assert_ok()
        .assert_stdout(&format!("{} true json-file alt overlay2 true", d.data_root().display()));
    assert!(d.data_root().join("db").is_dir() && d.exec_root().is_dir());
    let pid = std::fs::read_to_string(d.pidfile()).expect("pidfile");
    assert_eq!(pid.trim(), d.daemon_pid().to_string());
    // runtimes and default-runtime.
    d.docker(&["info", "--format", "{{(index .Runtimes \"alt\").Path}}"]).assert_ok().assert_stdout(&berth_oci());
    for c in [Cli::Docker, Cli::Berth] {
        d.cli(c, &["run", "--name", "rt", "busybox", "echo", "ok"]).assert_ok().assert_stdout("ok");
        d.cli(c, &["inspect", "-f", "{{.HostConfig.Runtime}}", "rt"]).assert_ok().assert_stdout("alt");
        d.cli(c, &["rm", "rt"]).assert_ok();
    }
    // log-driver and log-opts: the defaults of a container created without
    // a log configuration, shown by inspect and rotating as asked.
    d.berth(&["run", "--name", "logs", "busybox", "sh", "-c", "for i in $(seq 1 40); do echo line-$i-padding-padding; done"]).assert_ok();
    d.docker(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", "logs"])
        .assert_ok()
        .assert_stdout(r#"{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}"#);
    let log = d.docker(&["inspect", "-f", "{{.LogPath}}", "logs"]).out();
    assert!(std::path::Path::new(&format!("{log}.1")).exists() && !std::path::Path::new(&format!("{log}.2")).exists());
    // A container's own options for the same driver win, the rest are the daemon's.
    d.docker(&["create", "--name", "own", "--log-opt", "max-size=5k", "busybox"]).assert_ok();
    d.docker(&["inspect", "-f", "{{json .HostConfig.LogConfig.Config}}", "own"]).assert_ok().assert_stdout(r#"{"max-file":"2","max-size":"5k"}"#);
    d.docker(&["create", "--name", "none", "--log-driver", "none", "busybox"]).assert_ok();
    d.docker(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", "none"]).assert_ok().assert_stdout(r#"{"Type":"none","Config":{}}"#);
    d.docker(&["rm", "logs", "own", "none"]).assert_ok();
    // bip and default-address-pools.
    d.docker(&["network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}"])
        .assert_ok()
        .assert_stdout("10.214.7.0/24 10.214.7.1");
    d.docker(&["network", "create", "pooled"]).assert_ok();
    d.berth(&["network", "inspect", "pooled", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}"]).assert_ok().assert_stdout("10.213.0.0/24");
    d.docker(&["network", "rm", "pooled"]).assert_ok();
    d.stop();
}

/// Runs berthd with `args` and the configuration file `text` on throw-away
/// roots, expecting it to refuse to start; returns its stderr.
fn refused(args: &[&str], text: Option<&str>) -> (String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("daemon.json");
    if let Some(t) = text {
        std::fs::write(&file, t).expect("write daemon.json");
    }
    let out = Command::new(bin_dir().join("berthd"))
        .args(["--config-file", &file.display().to_string()])
        .args(["--exec-root", &tmp.path().join("exec").display().to_string()])
        .args(args)
        .output()
        .expect("run berthd");
    assert!(!out.status.success(), "berthd started with {args:?} and {text:?}");
    assert!(!tmp.path().join("exec").exists(), "berthd created its exec root before refusing");
    (String::from_utf8_lossy(&out.stderr).into_owned(), file.display().to_string())
}

#[test]
fn bad_files_and_conflicts_are_refused_as_dockerd_words_them() {
    // (flags, file, message, whether it is an error about the file itself)
    let cases: &[(&[&str], Option<&str>, &str, bool)] = &[
        (&[], Some(r#"{"debug": true, "bogus": 1, "iptables": false}"#), "the following directives don't match any configuration option: bogus, iptables", true),
        (&["-D"], Some(r#"{"debug": false}"#), "the following directives are specified both as a flag and in the configuration file: debug: (from flag: true, from file: false)", true),
        (&["--log-driver", "none"], Some(r#"{"log-driver": "json-file"}"#), "log-driver: (from flag: none, from file: json-file)", true),
        (&["-H", "unix:///tmp/x.sock"], Some(r#"{"hosts": ["unix:///tmp/y.sock"]}"#), "hosts: (from flag: [unix:///tmp/x.sock], from file: [unix:///tmp/y.sock])", true),
        (&[], Some("{nope"), "invalid JSON: ", true),
        (&[], Some(r#"{"debug": "yes"}"#), "invalid JSON: ", true),
        (&[], Some(r#"{"storage-driver": "btrfs"}"#), "berth supports only the overlay2 storage driver, not btrfs", true),
        (&["-s", "vfs"], Some("{}"), "berth supports only the overlay2 storage driver, not vfs", false),
        (&[], Some(r#"{"insecure-registries": ["http://r:5000"]}"#), "insecure registry http://r:5000 should not contain '://'", true),
        (&["--registry-mirror", "m"], Some("{}"), "invalid mirror: \"m\" is not a valid URI", false),
        (&["--registry-certs-dir", "/nonexistent/certs.d"], Some("{}"), "registry-certs-dir /nonexistent/certs.d: not a directory", false),
        (&[], Some(r#"{"live-restore": false}"#), "berth does not support live-restore=false yet", true),
        (&[], Some(r#"{"runtimes": {"x": {"path": "/x", "runtimeArgs": ["--debug"]}}}"#), "berth does not support runtimes.x.runtimeArgs yet", true),
        (&[], Some(r#"{"log-opts": {"max-size": "lots"}}"#), "failed to set log opts: invalid size: 'lots'", false),
        (&[], Some(r#"{"log-driver": "bogus"}"#), "failed to set log opts: logger: no log driver named 'bogus' is registered", false),
        (&[], Some(r#"{"default-address-pools": [{"base": "10.0.0.0/16", "size": 8}]}"#), "invalid pool size 8", false),
        (&[], None, ": open ", true),
    ];
    for (args, text, want, about_file) in cases {
        let (err, file) = refused(args, *text);
        let prefix = format!("unable to configure the berth daemon with file {file}: ");
        assert_eq!(err.contains(&prefix), *about_file, "{args:?} {text:?}: {err}");
        assert!(err.contains(want), "{args:?} {text:?}: want {want:?} in {err}");
    }
}

#[test]
fn sighup_reloads_what_dockerd_reloads() {
    let d = TestDaemon::start_with(Setup { args: vec![], config: Some(json!({"debug": false})) });
    let info = |f: &str| d.docker(&["info", "--format", f]).out();
    assert_eq!(info("{{.Debug}}"), "false");
    let before = d.docker(&["version", "--format", "{{.Server.Version}}"]).out();
    assert!(!before.is_empty());
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.as_secs()).unwrap_or(0);
    let t0 = now();
    // debug and runtimes are applied; log-driver waits for a restart.
    d.write_config(&json!({"debug": true, "runtimes": {"alt": {"path": berth_oci()}}, "log-driver": "none"}));
    d.sighup();
    assert!(wait_until(SHORT, || info("{{.Debug}}") == "true"), "debug not reloaded\n{}", d.log());
    assert_eq!(info("{{(index .Runtimes \"alt\").Path}}"), berth_oci());
    for c in [Cli::Docker, Cli::Berth] {
        d.cli(c, &["run", "--rm", "--runtime", "alt", "busybox", "echo", "alt"]).assert_ok().assert_stdout("alt");
    }
    let path = d.config_path().display().to_string();
    let log = d.log();
    assert!(log.contains(&format!("reloaded configuration from {path}: debug=true, default-runtime=")), "{log}");
    assert!(log.contains(&format!("configuration changed in {path} for log-driver: this takes effect when berthd restarts")), "{log}");
    d.docker(&["create", "--name", "still-json", "busybox"]).assert_ok();
    d.docker(&["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "still-json"]).assert_ok().assert_stdout("json-file");
    // Events up to a second from now (a later --until would wait for it).
    let until = now() + 1;
    d.docker(&["events", "--since", &t0.to_string(), "--until", &until.to_string(), "--filter", "type=daemon", "--format", "{{.Type}} {{.Action}}"])
        .assert_ok()
        .assert_stdout("daemon reload");
    // A file that cannot be used is logged and changes nothing.
    for bad in ["{not json", r#"{"debug": false, "bogus": true}"#, r#"{"debug": false, "storage-driver": "zfs"}"#, r#"{"debug": false, "default-runtime": "no-such-runtime"}"#] {
        let n = d.log().matches("error reloading the configuration, keeping the running one").count();
        d.write_config_text(bad);
        d.sighup();
        assert!(
            wait_until(SHORT, || d.log().matches("error reloading the configuration, keeping the running one").count() > n),
            "bad file {bad:?} not reported\n{}",
            d.log()
        );
        assert_eq!(info("{{.Debug}}"), "true", "{bad}");
        assert_eq!(info("{{(index .Runtimes \"alt\").Path}}"), berth_oci(), "{bad}");
    }
    assert!(d.log().contains(&format!("unable to configure the berth daemon with file {path}: invalid JSON")));
    // After a restart the new log driver is the default.
    d.docker(&["rm", "still-json"]).assert_ok();
    d.write_config(&json!({"debug": true, "log-driver": "none"}));
    d.kill9();
    d.restart();
    d.docker(&["create", "--name", "quiet", "busybox"]).assert_ok();
    d.docker(&["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "quiet"]).assert_ok().assert_stdout("none");
    d.docker(&["info", "--format", "{{.LoggingDriver}}"]).assert_ok().assert_stdout("none");
    d.docker(&["rm", "quiet"]).assert_ok();
    d.stop();
}

/// `log-driver: local` from daemon.json: containers without a log
/// configuration get it (with dockerd's defaults), `logs` reads it, and
/// the daemon's options apply to it.
#[test]
fn daemon_wide_local_log_driver() {
    let d = TestDaemon::start_with(Setup {
        args: vec![],
        config: Some(json!({"log-driver": "local", "log-opts": {"max-size": "1k", "max-file": "3"}})),
    });
    d.docker(&["info", "--format", "{{.LoggingDriver}}"]).assert_ok().assert_stdout("local");
    for c in [Cli::Docker, Cli::Berth] {
        d.cli(c, &["run", "--name", "dl", "busybox", "sh", "-c", "for i in $(seq 1 40); do echo d-$i; done"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}}", "dl"])
            .assert_ok()
            .assert_stdout(r#"local {"max-file":"3","max-size":"1k"}"#);
        let id = d.cli(c, &["inspect", "-f", "{{.Id}}", "dl"]).out();
        let log = d.data_root().join("containers").join(&id).join("local-logs").join("container.log.1.gz");
        assert!(wait_until(SHORT, || log.exists()), "{log:?}");
        d.cli(c, &["logs", "--tail", "1", "dl"]).assert_ok().assert_stdout("d-40");
        d.cli(c, &["rm", "dl"]).assert_ok();
    }
    d.stop();
}

