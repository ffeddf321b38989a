//! Engine semantics docker-py's suite relies on: request field names
//! matched without regard to case, `attach` with `logs`/`stream`, commit of
//! a container that is just exiting, `MemorySwappiness`, `VolumeDriver`.
use berth_e2e::{both, wait_until, TestDaemon};
use std::time::Duration;

/// Body fields are matched to their names ignoring case, as Go decodes
/// them (docker-py sends an exec's `detachKeys` in camel case).
#[test]
fn body_field_names_ignore_case() {
    let d = TestDaemon::start();
    let (s, body) = d.api(
        "POST",
        "/containers/create?name=cf1",
        Some(r#"{"image":"busybox","cmd":["sleep","1000"],"labels":{"image":"kept"},"hostConfig":{"memory":33554432}}"#),
    );
    assert_eq!(s, 201, "{body}");
    d.docker(&["start", "cf1"]).assert_ok();
    d.docker(&["inspect", "-f", "{{.Config.Image}} {{.HostConfig.Memory}} {{.Config.Labels}}", "cf1"])
        .assert_ok()
        .assert_stdout("busybox 33554432 map[image:kept]");
    // The limit is real, not only recorded (cgroup v1 hosts show it so).
    if std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() {
        d.docker(&["exec", "cf1", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).assert_ok().assert_stdout("33554432");
    }
    let (s, body) = d.api("POST", "/containers/cf1/exec", Some(r#"{"cmd":["true"],"detachKeys":"ctrl-x","attachStdout":true}"#));
    assert_eq!(s, 201, "{body}");
    let id = body.split('"').nth(3).expect("exec id").to_string();
    let (_, inspect) = d.api("GET", &format!("/exec/{id}/json"), None);
    assert!(inspect.contains(r#""DetachKeys":"ctrl-x""#), "{inspect}");
    // A bad value is still refused, and a bad detach sequence too.
    let (s, _) = d.api("POST", "/containers/cf1/exec", Some(r#"{"cmd":5}"#));
    assert_eq!(s, 400);
    let (s, _) = d.api("POST", "/containers/cf1/exec", Some(r#"{"cmd":["true"],"detachkeys":"ctrl-?"}"#));
    assert_eq!(s, 400);
    d.stop();
}

/// An attach request as the clients send it (asking for the upgrade);
/// returns everything the daemon sends until it closes the stream.
fn attach(d: &TestDaemon, query: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(d.sock()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let req = format!(
        "POST /containers/at1/attach?{query} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("the stream ends by itself");
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.starts_with("HTTP/1.1 101"), "{text:?}");
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

/// `attach?logs=1&stream=0` replays the log and ends, even for a container
/// that has exited; `stream=0` without `logs` ends at once.
#[test]
fn attach_replays_logs_without_streaming() {
    let d = TestDaemon::start();
    d.docker(&["run", "--name", "at1", "busybox", "sh", "-c", "echo hello; echo oops >&2"]).assert_ok();
    let body = attach(&d, "logs=1&stream=0&stdout=1&stderr=1");
    // Framed: stream byte, three zeros, big-endian length, payload.
    assert!(body.contains("\u{1}\0\0\0\0\0\0\u{6}hello\n"), "{body:?}");
    assert!(body.contains("\u{2}\0\0\0\0\0\0\u{5}oops\n"), "{body:?}");
    let body = attach(&d, "logs=1&stream=0&stdout=1");
    assert!(body.contains("hello") && !body.contains("oops"), "{body:?}");
    assert_eq!(attach(&d, "stream=0&stdout=1&stderr=1"), "");
    // The clients' own attach (stream=1) still follows a running container.
    d.docker(&["start", "-a", "at1"]).assert_ok().assert_stdout("hello");
    d.stop();
}

both! {
    /// A commit right after a short-lived container's exit (the exit not
    /// yet recorded when the commit pauses it) commits the stopped container.
    fn commit_as_the_container_exits(d, c) {
        for i in 0..5 {
            let name = format!("cx{i}");
            d.cli(c, &["run", "-d", "--name", &name, "busybox", "sh", "-c", "echo data > /made"]).assert_ok();
            let tag = format!("cx:{i}");
            // Running, exiting or exited: the commit succeeds either way.
            d.cli(c, &["commit", &name, &tag]).assert_ok();
            d.cli(c, &["wait", &name]).assert_ok().assert_stdout("0");
            d.cli(c, &["commit", &name, &tag]).assert_ok();
            d.cli(c, &["run", "--rm", &tag, "cat", "/made"]).assert_ok().assert_stdout("data");
            // Before API 1.45 image inspect names the committed container, as dockerd's does.
            let id = d.cli(c, &["inspect", "-f", "{{.Id}}", &name]).assert_ok().out();
            let (s, body) = d.api("GET", &format!("/v1.41/images/cx:{i}/json"), None);
            assert_eq!(s, 200, "{body}");
            assert!(body.contains(&format!(r#""Container":"{id}""#)), "{body}");
            assert!(body.contains(r#""ContainerConfig":{"#) && body.contains("echo data > /made"), "{body}");
            let parent = d.cli(c, &["image", "inspect", "-f", "{{.Id}}", "busybox"]).assert_ok().out();
            d.cli(c, &["image", "inspect", "-f", "{{.Parent}}", &tag]).assert_ok().assert_stdout(&parent);
            d.cli(c, &["rm", "-f", &name]).assert_ok();
            d.cli(c, &["rmi", &tag]).assert_ok();
        }
        // Pausing what is not running is still a 409, not a 500.
        d.cli(c, &["create", "--name", "cxp", "busybox", "true"]).assert_ok();
        d.cli(c, &["pause", "cxp"]).assert_fail().assert_stderr_contains("is not running");
    }
}

both! {
    /// `--memory-swappiness` reaches the memory cgroup (v1); on cgroup v2,
    /// which has no such knob, create warns and drops it, as dockerd does.
    fn memory_swappiness_is_applied(d, c) {
        let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.swappiness").exists();
        let out = d.cli(c, &["run", "-d", "--name", "sw1", "--memory-swappiness", "40", "busybox", "sleep", "1000"]);
        out.assert_ok();
        if v1 {
            d.cli(c, &["inspect", "-f", "{{.HostConfig.MemorySwappiness}}", "sw1"]).assert_ok().assert_stdout("40");
            d.cli(c, &["exec", "sw1", "cat", "/sys/fs/cgroup/memory/memory.swappiness"]).assert_ok().assert_stdout("40");
        } else {
            out.assert_stderr_contains("Memory swappiness discarded");
        }
        // Unset: the cgroup keeps the kernel's default (the parent's value).
        d.cli(c, &["run", "-d", "--name", "sw2", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{json .HostConfig.MemorySwappiness}}", "sw2"]).assert_ok();
        // Out of range: the clients refuse it, and so does the daemon.
        d.cli(c, &["run", "--rm", "--memory-swappiness", "101", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("alid memory swappiness range is 0-100");
        let (s, body) = d.api("POST", "/containers/create", Some(r#"{"Image":"busybox","HostConfig":{"MemorySwappiness":-5}}"#));
        assert_eq!((s, body.trim()), (400, r#"{"message":"Invalid value: -5, valid memory swappiness range is 0-100"}"#));
        assert_eq!(d.cli(c, &["ps", "-aq"]).lines().len(), 2, "nothing made by the refused creates");
    }
}

both! {
    /// `--volume-driver` names the driver of the volumes the container
    /// creates: `local` works, another is looked up only when a volume is
    /// made (as in dockerd), and fails as a missing plugin.
    fn volume_driver_as_dockerd(d, c) {
        d.cli(c, &["create", "--name", "vd1", "--volume-driver", "foo", "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.VolumeDriver}}", "vd1"]).assert_ok().assert_stdout("foo");
        let vols = d.cli(c, &["volume", "ls", "-q"]).assert_ok().out();
        d.cli(c, &["create", "--name", "vd2", "--volume-driver", "foo", "-v", "/data", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("error looking up volume plugin foo: plugin \"foo\" not found");
        d.cli(c, &["create", "--name", "vd3", "--volume-driver", "foo", "-v", "named:/data", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("create named: error looking up volume plugin foo");
        d.cli(c, &["volume", "ls", "-q"]).assert_ok().assert_stdout(&vols);
        d.cli(c, &["inspect", "vd2"]).assert_fail();
        // An existing volume keeps its (local) driver.
        d.cli(c, &["volume", "create", "have"]).assert_ok();
        d.cli(c, &["run", "--rm", "--volume-driver", "foo", "-v", "have:/data", "busybox", "sh", "-c", "echo ok > /data/f"]).assert_ok();
        d.cli(c, &["run", "--rm", "--volume-driver", "local", "-v", "/data", "-v", "have:/h", "busybox", "cat", "/h/f"])
            .assert_ok()
            .assert_stdout("ok");
        assert!(wait_until(Duration::from_secs(5), || d.cli(c, &["ps", "-aq"]).lines().len() == 1));
    }
}
