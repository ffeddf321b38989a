//! `exec` without a terminal: exit codes, options, detached execs, errors.
use berth_e2e::both;

both! {
    fn exec_exit_codes_and_output(d, c) {
        d.cli(c, &["run", "-d", "--name", "x1", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["exec", "x1", "sh", "-c", "exit 5"]).assert_code(5);
        d.cli(c, &["exec", "x1", "true"]).assert_ok().assert_stdout("");
        let out = d.cli(c, &["exec", "x1", "sh", "-c", "echo to-out; echo to-err >&2"]);
        out.assert_ok().assert_stdout("to-out").assert_stderr_contains("to-err");
        assert!(!out.stdout.contains("to-err"), "{out:?}");
        // dockerd records 126 for an exec that cannot start, even a missing
        // command (a container's own missing command is 127).
        d.cli(c, &["exec", "x1", "nosuchcommand"])
            .assert_code(126)
            .assert_stdout_contains("OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuchcommand\": executable file not found in $PATH: unknown");
        d.cli(c, &["exec", "x1", "/etc"]).assert_code(126);
        d.cli(c, &["exec", "x1", "sh", "-c", "kill -9 $$"]).assert_code(137);
    }
}

both! {
    fn exec_env_workdir_user_privileged(d, c) {
        d.cli(c, &["run", "-d", "--name", "x2", "-e", "FROM_RUN=1", "-w", "/tmp", "busybox", "sleep", "1000"]).assert_ok();
        let out = d.cli(c, &["exec", "-e", "A=b c", "x2", "env"]);
        out.assert_ok();
        let lines = out.lines();
        for want in ["A=b c", "FROM_RUN=1", "HOSTNAME="] {
            assert!(lines.iter().any(|l| l.starts_with(want)), "{want}: {out:?}");
        }
        d.cli(c, &["exec", "x2", "pwd"]).assert_ok().assert_stdout("/tmp");
        d.cli(c, &["exec", "-w", "/etc", "x2", "pwd"]).assert_ok().assert_stdout("/etc");
        d.cli(c, &["exec", "-u", "daemon", "x2", "id", "-u"]).assert_ok().assert_stdout("1");
        d.cli(c, &["exec", "-u", "2:3", "x2", "id", "-g"]).assert_ok().assert_stdout("3");
        // dockerd resolves the user after the hijack: the error comes in the
        // stream (stdout) and the exec's exit code is 126.
        d.cli(c, &["exec", "-u", "nosuchuser", "x2", "true"])
            .assert_code(126)
            .assert_stdout("unable to find user nosuchuser: no matching entries in passwd file");
        d.cli(c, &["exec", "-u", "daemon:nosuchgroup", "x2", "true"])
            .assert_code(126)
            .assert_stdout("unable to find group nosuchgroup: no matching entries in group file");
        // Detached, the start itself answers the error.
        d.cli(c, &["exec", "-d", "-u", "nosuchuser", "x2", "true"])
            .assert_fail()
            .assert_stderr_contains("unable to find user nosuchuser: no matching entries in passwd file");
        // CAP_SYS_ADMIN (bit 21) only with --privileged.
        let caps = |extra: &[&str]| {
            let mut args = vec!["exec"];
            args.extend_from_slice(extra);
            args.extend(["x2", "sh", "-c", "grep CapEff /proc/self/status"]);
            let out = d.cli(c, &args);
            out.assert_ok();
            let hex = out.out().rsplit('\t').next().unwrap_or("").to_string();
            u64::from_str_radix(hex.trim(), 16).unwrap_or(0)
        };
        assert_eq!(caps(&[]) & (1 << 21), 0);
        assert_ne!(caps(&["--privileged"]) & (1 << 21), 0);
    }
}

both! {
    fn exec_runs_under_the_containers_seccomp_filter(d, c) {
        d.cli(c, &["run", "-d", "--name", "xs", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["exec", "xs", "grep", "Seccomp:", "/proc/self/status"]).assert_ok().assert_stdout("Seccomp:\t2");
        // Even with every capability, the container's profile (made for an
        // unprivileged container) refuses unshare(CLONE_NEWNS), as Docker's does.
        let out = d.cli(c, &["exec", "--privileged", "xs", "unshare", "-m", "true"]);
        out.assert_fail().assert_stderr_contains("Operation not permitted");
        // The same exec in a privileged container (no filter) is allowed.
        d.cli(c, &["run", "-d", "--privileged", "--name", "xp", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["exec", "xp", "unshare", "-m", "true"]).assert_ok();
    }
}

both! {
    fn exec_stdin_and_detached(d, c) {
        d.cli(c, &["run", "-d", "--name", "x3", "busybox", "sleep", "1000"]).assert_ok();
        d.cli_with_stdin(c, &["exec", "-i", "x3", "sh", "-c", "cat; echo done"], "piped\n")
            .assert_ok()
            .assert_stdout("piped\ndone");
        d.cli(c, &["exec", "-d", "x3", "sh", "-c", "sleep 1; touch /tmp/marker"]).assert_ok().assert_stdout("");
        let ids = d.docker(&["inspect", "-f", "{{json .ExecIDs}}", "x3"]).assert_ok().out();
        assert!(ids.starts_with("[\""), "a running exec is listed: {ids}");
        assert!(berth_e2e::wait_until(std::time::Duration::from_secs(10), || {
            d.cli(c, &["exec", "x3", "test", "-e", "/tmp/marker"]).code == 0
        }));
        assert!(berth_e2e::wait_until(std::time::Duration::from_secs(5), || {
            d.docker(&["inspect", "-f", "{{json .ExecIDs}}", "x3"]).out() == "null"
        }));
    }
}

both! {
    fn exec_into_stopped_container_fails(d, c) {
        d.cli(c, &["create", "--name", "x4", "busybox", "true"]).assert_ok();
        let id = d.docker(&["inspect", "-f", "{{.Id}}", "x4"]).assert_ok().out();
        d.cli(c, &["exec", "x4", "true"])
            .assert_fail()
            .assert_stderr_contains(&format!("container {id} is not running"));
        d.cli(c, &["start", "-a", "x4"]).assert_ok();
        d.cli(c, &["exec", "x4", "true"]).assert_fail().assert_stderr_contains("is not running");
        d.cli(c, &["exec", "nosuch", "true"]).assert_fail().assert_stderr_contains("No such container: nosuch");
    }
}

#[test]
fn exec_api_bad_input() {
    let d = berth_e2e::TestDaemon::start();
    d.docker(&["run", "-d", "--name", "b1", "busybox", "sleep", "1000"]).assert_ok();
    let (s, body) = d.api("POST", "/containers/b1/exec", Some(r#"{"Cmd":[]}"#));
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("No exec command specified"), "{body}");
    let (s, _) = d.api("POST", "/containers/b1/exec", Some(r#"{"Cmd":5}"#));
    assert_eq!(s, 400);
    let (s, _) = d.api("POST", "/containers/b1/exec", Some(r#"{"Cmd":["true"],"DetachKeys":"ctrl-"}"#));
    assert_eq!(s, 400);
    let (s, _) = d.api("POST", "/containers/nosuch/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(s, 404);
    let (s, body) = d.api("POST", "/exec/nosuch/start", Some(r#"{"Detach":true}"#));
    assert_eq!(s, 404, "{body}");
    assert!(body.contains("No such exec instance"), "{body}");
    let (s, _) = d.api("GET", "/exec/nosuch/json", None);
    assert_eq!(s, 404);
    let (s, body) = d.api("POST", "/containers/b1/exec", Some(r#"{"Cmd":["sh","-c","exit 9"]}"#));
    assert_eq!(s, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let id = v["Id"].as_str().expect("Id").to_string();
    let (s, body) = d.api("GET", &format!("/exec/{id}/json"), None);
    assert_eq!(s, 200);
    assert!(body.contains("\"ExitCode\":null") && body.contains("\"Running\":false"), "{body}");
    let (s, _) = d.api("POST", &format!("/exec/{id}/resize?h=abc&w=1"), None);
    assert_eq!(s, 400);
    let (s, _) = d.api("POST", &format!("/exec/{id}/start"), Some(r#"{"Detach":true}"#));
    assert_eq!(s, 200);
    assert!(berth_e2e::wait_until(std::time::Duration::from_secs(10), || {
        d.api("GET", &format!("/exec/{id}/json"), None).1.contains("\"ExitCode\":9")
    }));
    let (s, body) = d.api("POST", &format!("/exec/{id}/start"), Some(r#"{"Detach":true}"#));
    assert_eq!(s, 409, "an exec runs once: {body}");
    // Resize and attach: bad values are 400, a stopped container 409.
    let (s, _) = d.api("POST", "/containers/b1/resize?h=x&w=10", None);
    assert_eq!(s, 400);
    let (s, _) = d.api("POST", "/containers/b1/resize?h=-1&w=10", None);
    assert_eq!(s, 400);
    let (s, _) = d.api("POST", "/containers/b1/resize?h=10&w=10", None);
    assert_eq!(s, 200, "no terminal: nothing to do");
    let (s, _) = d.api("POST", "/containers/b1/attach?stream=1&stdout=1&detachKeys=ctrl-%3F", None);
    assert_eq!(s, 400);
    d.docker(&["kill", "b1"]).assert_ok();
    d.docker(&["wait", "b1"]).assert_ok();
    let (s, _) = d.api("POST", "/containers/b1/resize?h=10&w=10", None);
    assert_eq!(s, 409);
    let (s, body) = d.api("POST", "/containers/b1/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(s, 409, "{body}");
    d.stop();
}

both! {
    fn execs_leave_no_files_in_the_runtime_dir(d, c) {
        let id = d.cli(c, &["run", "-d", "busybox", "sleep", "60"]).assert_ok().out();
        let dir = d.exec_root().join("runtime").join(&id);
        let per_exec = || -> Vec<String> {
            std::fs::read_dir(&dir)
                .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("tenant-")).collect())
                .unwrap_or_default()
        };
        for _ in 0..5 {
            d.cli(c, &["exec", &id, "true"]).assert_ok();
        }
        d.cli(c, &["exec", "-t", &id, "true"]).assert_ok();
        d.cli(c, &["exec", &id, "sh", "-c", "exit 3"]).assert_code(3);
        d.cli(c, &["exec", &id, "nosuchprogram"]).assert_code(126);
        d.cli(c, &["exec", "-d", &id, "sleep", "1"]).assert_ok();
        assert!(dir.join("state.json").exists(), "no runtime state in {}", dir.display());
        assert_eq!(per_exec(), Vec::<String>::new(), "files left in {}", dir.display());
        d.cli(c, &["rm", "-f", &id]).assert_ok();
    }
}

#[test]
fn exec_inspect_has_docker_fields() {
    // Clients read ProcessConfig.tty to know whether an exec's output is
    // raw (tty) or multiplexed, so every field dockerd reports is there
    // from create on.
    let d = berth_e2e::TestDaemon::start();
    d.docker(&["run", "-d", "--name", "pc", "busybox", "sleep", "1000"]).assert_ok();
    let cid = d.docker(&["inspect", "-f", "{{.Id}}", "pc"]).assert_ok().out();
    let body = r#"{"Cmd":["sh","-c","exit 3"],"Tty":true,"User":"nobody","AttachStdout":true,"AttachStderr":true,"DetachKeys":"ctrl-x"}"#;
    let (s, body) = d.api("POST", "/containers/pc/exec", Some(body));
    assert_eq!(s, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let id = v["Id"].as_str().expect("Id").to_string();
    let inspect = || -> serde_json::Value {
        let (s, body) = d.api("GET", &format!("/exec/{id}/json"), None);
        assert_eq!(s, 200, "{body}");
        serde_json::from_str(&body).expect("json")
    };
    let v = inspect();
    assert_eq!(
        v["ProcessConfig"],
        serde_json::json!({"tty": true, "entrypoint": "sh", "arguments": ["-c", "exit 3"], "privileged": false, "user": "nobody"}),
        "{v}"
    );
    assert_eq!(v["ID"], id.as_str());
    assert_eq!(v["ContainerID"], cid.as_str());
    assert_eq!(v["Running"], false);
    assert!(v["ExitCode"].is_null(), "{v}");
    assert_eq!(v["CanRemove"], false);
    assert_eq!(v["DetachKeys"], "ctrl-x");
    assert_eq!((v["OpenStdin"].clone(), v["OpenStdout"].clone(), v["OpenStderr"].clone()), (false.into(), true.into(), true.into()));
    assert_eq!(v["Pid"], 0);
    let (s, body) = d.api("POST", &format!("/exec/{id}/start"), Some(r#"{"Detach":true,"Tty":true}"#));
    assert_eq!(s, 200, "{body}");
    assert!(berth_e2e::wait_until(std::time::Duration::from_secs(10), || inspect()["ExitCode"] == 3));
    let v = inspect();
    assert_eq!(v["Running"], false);
    assert_eq!(v["ProcessConfig"]["tty"], true);
    d.stop();
}

#[test]
fn exec_output_framing_follows_the_start_request() {
    // As in dockerd: the create request's Tty gives the process a terminal,
    // the start request's Tty alone decides raw or multiplexed output
    // (docker-py's exec_start(tty=False) on a tty exec expects frames).
    let d = berth_e2e::TestDaemon::start();
    d.docker(&["run", "-d", "--name", "fr", "busybox", "sleep", "1000"]).assert_ok();
    let run = |create_tty: bool, start_tty: bool| -> String {
        let body = format!(
            r#"{{"Cmd":["sh","-c","if [ -t 1 ]; then echo tty; else echo notty; fi"],"Tty":{create_tty},"AttachStdout":true,"AttachStderr":true}}"#
        );
        let (s, body) = d.api("POST", "/containers/fr/exec", Some(&body));
        assert_eq!(s, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        let id = v["Id"].as_str().expect("Id").to_string();
        hijack(&d, &format!("/exec/{id}/start"), &format!(r#"{{"Detach":false,"Tty":{start_tty}}}"#)).1
    };
    let framed = run(true, false);
    assert!(framed.starts_with("\u{1}\0\0\0\0\0\0\u{5}tty\r\n"), "{framed:?}");
    let raw = run(false, true);
    assert_eq!(raw, "notty\n");
    assert_eq!(run(true, true), "tty\r\n");
    assert_eq!(run(false, false), "\u{1}\0\0\0\0\0\0\u{6}notty\n");
    d.stop();
}

/// A hijacked request as docker-py sends it (`Upgrade: tcp`); returns the
/// 101 response's headers and what follows them, up to the server's close.
fn hijack(d: &berth_e2e::TestDaemon, path: &str, body: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(d.sock()).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("timeout");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no header end: {text:?}"));
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    (head.to_string(), rest.to_string())
}

#[test]
fn stream_content_type_follows_the_api_version() {
    // dockerd announces a non-tty stream as multiplexed from API 1.42 and as
    // raw before.
    let d = berth_e2e::TestDaemon::start();
    d.docker(&["run", "-d", "--name", "ct", "busybox", "sleep", "1000"]).assert_ok();
    for (v, want) in [("1.41", "application/vnd.docker.raw-stream"), ("1.43", "application/vnd.docker.multiplexed-stream")] {
        let (s, body) = d.api("POST", &format!("/v{v}/containers/ct/exec"), Some(r#"{"Cmd":["true"],"AttachStdout":true}"#));
        assert_eq!(s, 201, "{body}");
        let v2: serde_json::Value = serde_json::from_str(&body).expect("json");
        let id = v2["Id"].as_str().expect("Id").to_string();
        let (head, _) = hijack(&d, &format!("/v{v}/exec/{id}/start"), r#"{"Detach":false,"Tty":false}"#);
        assert!(head.to_ascii_lowercase().contains(&format!("content-type: {want}")), "{v}: {head}");
    }
    d.stop();
}
