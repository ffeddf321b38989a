//! Hostile or wrong API input gets Docker's status codes and messages.
use berth_e2e::{both, TestDaemon};

fn message(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body}"));
    v["message"].as_str().unwrap_or_else(|| panic!("no message in {body}")).to_string()
}

#[test]
fn malformed_json_is_400() {
    let d = TestDaemon::start();
    for body in ["{not json", "[1,2,3]", "{\"Image\": 5}", "", "{\"Image\":\"busybox\",\"Cmd\":\"oops\"}x"] {
        let (status, resp) = d.api("POST", "/v1.50/containers/create", Some(body));
        assert_eq!(status, 400, "body {body:?} -> {resp}");
        assert!(!message(&resp).is_empty());
    }
    let (status, resp) = d.api("POST", "/v1.50/containers/create", Some(&"[".repeat(100_000)));
    assert_eq!(status, 400, "deep nesting -> {resp}");
    // The daemon survived all of it.
    let (status, _) = d.api("GET", "/_ping", None);
    assert_eq!(status, 200);
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.stop();
}

#[test]
fn unknown_objects_are_404() {
    let d = TestDaemon::start();
    let (status, resp) = d.api("GET", "/v1.50/containers/x/json", None);
    assert_eq!(status, 404, "{resp}");
    assert_eq!(message(&resp), "No such container: x");
    for (m, p) in [("POST", "/v1.50/containers/x/start"), ("POST", "/v1.50/containers/x/stop"), ("DELETE", "/v1.50/containers/x"), ("POST", "/v1.50/containers/x/wait")] {
        let (status, resp) = d.api(m, p, None);
        assert_eq!(status, 404, "{m} {p}: {resp}");
        assert_eq!(message(&resp), "No such container: x", "{m} {p}");
    }
    let (status, resp) = d.api("POST", "/v1.50/containers/create", Some(r#"{"Image":"nosuchimage"}"#));
    assert_eq!(status, 404, "{resp}");
    assert!(message(&resp).contains("No such image: nosuchimage"), "{resp}");
    let (status, resp) = d.api("GET", "/v1.50/images/nosuchimage/json", None);
    assert_eq!(status, 404, "{resp}");
    assert!(message(&resp).contains("No such image: nosuchimage"), "{resp}");
    let (status, resp) = d.api("GET", "/v1.50/no/such/route", None);
    assert_eq!(status, 404, "{resp}");
    d.stop();
}

#[test]
fn invalid_name_is_400() {
    let d = TestDaemon::start();
    for name in ["bad%2Fname", "-leading", "sp%20ace", "%2E"] {
        let (status, resp) = d.api("POST", &format!("/v1.50/containers/create?name={name}"), Some(r#"{"Image":"busybox"}"#));
        assert_eq!(status, 400, "name {name}: {resp}");
        assert!(message(&resp).contains("Invalid container name"), "{resp}");
    }
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.stop();
}

both! {
    fn cli_errors_for_unknown_objects(d, c) {
        d.cli(c, &["rm", "x"]).assert_code(1).assert_stderr_contains("No such container: x");
        d.cli(c, &["start", "x"]).assert_code(1).assert_stderr_contains("No such container: x");
        d.cli(c, &["logs", "x"]).assert_code(1).assert_stderr_contains("No such container: x");
        d.cli(c, &["inspect", "x"]).assert_code(1).assert_stderr_contains("No such object: x");
        d.cli(c, &["create", "--name", "bad/name", "busybox"]).assert_code(1).assert_stderr_contains("Invalid container name");
    }
}

/// Percent-encodes a query value (filters are JSON: braces and quotes).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn huge_or_bad_times_are_400_not_a_crash() {
    let d = TestDaemon::start();
    d.docker(&["create", "--name", "keep", "busybox", "true"]).assert_ok();
    let huge = "99999999999999999999h";
    for path in [
        format!("/v1.50/events?since={huge}"),
        format!("/v1.50/events?since=1&until={huge}"),
        "/v1.50/events?since=5.12345678%C3%A9".to_string(),
        format!("/v1.50/containers/keep/logs?stdout=1&since={huge}"),
        "/v1.50/containers/keep/logs?stdout=1&until=-99999999999999999999".to_string(),
    ] {
        let (status, resp) = d.api("GET", &path, None);
        assert_eq!(status, 400, "{path}: {resp}");
        assert!(message(&resp).starts_with("invalid value for"), "{path}: {resp}");
    }
    for path in ["/v1.50/containers/prune", "/v1.50/images/prune", "/v1.50/networks/prune"] {
        let q = format!("{path}?filters={}", enc(&format!(r#"{{"until":["{huge}"]}}"#)));
        let (status, resp) = d.api("POST", &q, None);
        assert_eq!(status, 400, "{q}: {resp}");
        assert_eq!(message(&resp), format!("invalid filter 'until={huge}'"), "{q}");
    }
    let (status, _) = d.api("GET", "/_ping", None);
    assert_eq!(status, 200);
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("keep\n");
    d.docker(&["rm", "keep"]).assert_ok();
    d.stop();
}

#[test]
fn malformed_filters_are_400_and_prune_nothing() {
    let d = TestDaemon::start();
    d.docker(&["create", "--name", "keep", "--label", "a=b", "busybox", "true"]).assert_ok();
    d.docker(&["network", "create", "keepnet"]).assert_ok();
    d.docker(&["volume", "create", "keepvol"]).assert_ok();
    let endpoints = [
        ("POST", "/v1.50/containers/prune"),
        ("POST", "/v1.50/networks/prune"),
        ("POST", "/v1.50/volumes/prune?all=1"),
        ("POST", "/v1.50/images/prune"),
        ("GET", "/v1.50/containers/json?all=1"),
        ("GET", "/v1.50/images/json"),
        ("GET", "/v1.50/networks"),
        ("GET", "/v1.50/volumes"),
        ("GET", "/v1.50/events?since=1&until=2"),
    ];
    for (m, p) in endpoints {
        let sep = if p.contains('?') { '&' } else { '?' };
        for bad in [r#"{"label":[1]}"#, r#"{"label":[null]}"#, r#"{"label":[{"a":"b"}]}"#, r#"{"label":{"a":1}}"#, r#"{"label":"a"}"#, "notjson"] {
            let path = format!("{p}{sep}filters={}", enc(bad));
            let (status, resp) = d.api(m, &path, None);
            assert_eq!(status, 400, "{m} {p} {bad}: {resp}");
            assert_eq!(message(&resp), "invalid filter", "{m} {p} {bad}");
        }
        let path = format!("{p}{sep}filters={}", enc(r#"{"nosuchkey":["x"]}"#));
        let (status, resp) = d.api(m, &path, None);
        assert_eq!(status, 400, "{m} {p}: {resp}");
        assert_eq!(message(&resp), "invalid filter 'nosuchkey'", "{m} {p}");
    }
    // Nothing was pruned, and the daemon still answers.
    let (status, _) = d.api("GET", "/_ping", None);
    assert_eq!(status, 200);
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("keep\n");
    d.docker(&["network", "inspect", "keepnet"]).assert_ok();
    d.docker(&["volume", "inspect", "keepvol"]).assert_ok();
    // A well-formed label filter still prunes what it names.
    let (status, resp) = d.api("POST", &format!("/v1.50/containers/prune?filters={}", enc(r#"{"label":["a=c"]}"#)), None);
    assert_eq!(status, 200, "{resp}");
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("keep\n");
    let (status, resp) = d.api("POST", &format!("/v1.50/containers/prune?filters={}", enc(r#"{"label":["a=b"]}"#)), None);
    assert_eq!(status, 200, "{resp}");
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.docker(&["network", "rm", "keepnet"]).assert_ok();
    d.docker(&["volume", "rm", "keepvol"]).assert_ok();
    d.stop();
}

#[test]
fn unsupported_api_versions_are_400_with_dockerds_words() {
    let d = TestDaemon::start();
    for (v, want) in [
        ("99", "client version 99 is too new. Maximum supported API version is 1.50"),
        ("1.51", "client version 1.51 is too new. Maximum supported API version is 1.50"),
        ("1.10", "client version 1.10 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"),
    ] {
        let (status, resp) = d.api("GET", &format!("/v{v}/_ping"), None);
        assert_eq!(status, 400, "v{v}: {resp}");
        assert_eq!(message(&resp), want);
    }
    for v in ["1.24", "1.50", "1.43"] {
        let (status, resp) = d.api("GET", &format!("/v{v}/_ping"), None);
        assert_eq!((status, resp.as_str()), (200, "OK"), "v{v}");
    }
    d.stop();
}

#[test]
fn create_refuses_bad_values_with_400() {
    let d = TestDaemon::start();
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpus = format!("Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available");
    let ports = |b: &str| format!(r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{{"PortBindings":{b}}}}}"#);
    let host = |h: &str| format!(r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{h}}}"#);
    let cases = [
        (ports(r#"{"80/tcp":[{"HostPort":"65536"}]}"#), r#"invalid port specification: "65536""#.to_string()),
        (ports(r#"{"80/tcp":[{"HostPort":"-1"}]}"#), r#"invalid port specification: "-1""#.to_string()),
        (ports(r#"{"80/tcp":[{"HostPort":"abc"}]}"#), r#"invalid port specification: "abc""#.to_string()),
        (ports(r#"{"80/tcp":[{"HostPort":"9000-8000"}]}"#), r#"invalid port specification: "9000-8000""#.to_string()),
        (ports(r#"{"0/tcp":[{"HostPort":"8080"}]}"#), r#"invalid port specification: "0""#.to_string()),
        (ports(r#"{"80/foo":[{"HostPort":"8080"}]}"#), "invalid proto: foo".to_string()),
        (ports(r#"{"80/tcp":[{"HostIp":"999.1.1.1","HostPort":"8080"}]}"#), "invalid host IP: 999.1.1.1".to_string()),
        (host(r#"{"Memory":-1}"#), "Minimum memory limit allowed is 6MB".to_string()),
        (host(r#"{"ShmSize":-1}"#), "SHM size can not be less than 0".to_string()),
        (host(r#"{"CpuPeriod":-1}"#), "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)".to_string()),
        (host(r#"{"BlkioWeight":5000}"#), "Range of blkio weight is from 10 to 1000".to_string()),
        (host(r#"{"OomScoreAdj":5000}"#), "Invalid value 5000, range for oom score adj is [-1000, 1000]".to_string()),
        (host(r#"{"NanoCpus":4611686018427387904}"#), cpus),
    ];
    for (body, want) in &cases {
        let (status, resp) = d.api("POST", "/v1.50/containers/create", Some(body));
        assert_eq!(status, 400, "{body}: {resp}");
        assert_eq!(&message(&resp), want, "{body}");
    }
    // Same checks on update, against a container that exists.
    d.docker(&["create", "--name", "upd", "busybox", "true"]).assert_ok();
    for (body, want) in [(r#"{"Memory":-1}"#, "Minimum memory limit allowed is 6MB"), (r#"{"CpuPeriod":-1}"#, "CPU cfs period can not be")] {
        let (status, resp) = d.api("POST", "/v1.50/containers/upd/update", Some(body));
        assert_eq!(status, 400, "{body}: {resp}");
        assert!(message(&resp).starts_with(want), "{body}: {resp}");
    }
    // A huge memory limit is legal and must not overflow the swap limit.
    let (status, resp) = d.api("POST", "/v1.50/containers/create?name=big", Some(&host(r#"{"Memory":9223372036854775807}"#)));
    assert_eq!(status, 201, "{resp}");
    let (status, _) = d.api("GET", "/_ping", None);
    assert_eq!(status, 200);
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("big\nupd\n");
    d.docker(&["rm", "upd", "big"]).assert_ok();
    d.stop();
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    let after_comm = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after_comm.split(' ').collect();
    // Fields 14 and 15 of stat; after the comm they are the 12th and 13th.
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

#[test]
fn out_of_fds_backs_off_instead_of_spinning() {
    let d = TestDaemon::start();
    let pid = d.daemon_pid();
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count() as u64;
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: prlimit reading berthd's limit into `old`, a valid rlimit.
    assert_eq!(unsafe { libc::prlimit(pid as libc::pid_t, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) }, 0);
    // Only the soft limit moves: raising a hard limit needs CAP_SYS_RESOURCE.
    let set_nofile = |n: u64| {
        let lim = libc::rlimit { rlim_cur: n, rlim_max: old.rlim_max };
        // SAFETY: prlimit on berthd's pid with a valid rlimit and no old-limit pointer.
        let rc = unsafe { libc::prlimit(pid as libc::pid_t, libc::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    };
    // A few fds of headroom, then more connections than that: every
    // further accept fails with EMFILE while they stay queued.
    set_nofile(open_fds + 4);
    let conns: Vec<_> = (0..16).filter_map(|_| std::os::unix::net::UnixStream::connect(d.sock()).ok()).collect();
    assert!(conns.len() > 8, "only {} connections", conns.len());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (log0, cpu0) = (d.log().len(), cpu_ticks(pid));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (log1, cpu1) = (d.log().len(), cpu_ticks(pid));
    // Spinning was a whole core (~200 ticks in 2 s) and megabytes of log.
    assert!(cpu1 - cpu0 < 40, "berthd used {} ticks in 2 s with fds exhausted", cpu1 - cpu0);
    assert!(log1 - log0 < 2_000, "berthd logged {} bytes in 2 s with fds exhausted", log1 - log0);
    assert!(d.log().contains("accept: Too many open files"), "{}", d.log());
    drop(conns);
    set_nofile(old.rlim_cur);
    // Recovers within the back-off's ceiling.
    let ok = berth_e2e::wait_until(std::time::Duration::from_secs(5), || d.api_full("GET", "/_ping", None).is_ok_and(|(s, _, _)| s == 200));
    assert!(ok, "no /_ping after fds came back");
    d.stop();
}

#[test]
fn oversized_bodies_are_413() {
    let d = TestDaemon::start();
    d.docker(&["create", "--name", "keep", "busybox", "true"]).assert_ok();
    // A body over the endpoint's bound, declared by Content-Length.
    // The rest of the body is read and dropped, so the client, still
    // writing, gets the answer rather than a reset connection.
    let big = format!(r#"{{"Image":"busybox","Env":["X={}"]}}"#, "x".repeat(5 << 20));
    let (status, resp) = d.api("POST", "/v1.50/containers/create", Some(&big));
    assert_eq!(status, 413, "{}", &resp[..resp.len().min(200)]);
    assert_eq!(message(&resp), "request body too large: this endpoint accepts at most 4194304 bytes");
    let (status, resp) = d.api("POST", "/v1.50/containers/keep/update", Some(&format!(r#"{{"x":"{}"}}"#, "y".repeat(100_000))));
    assert_eq!(status, 413, "{resp}");
    assert_eq!(message(&resp), "request body too large: this endpoint accepts at most 65536 bytes");
    // The same sent chunked (no declared length): cut off once over the bound.
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(d.sock()).unwrap();
    s.write_all(b"POST /v1.50/containers/keep/update HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let chunk = "z".repeat(16 << 10);
    for _ in 0..8 {
        if s.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes()).is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 413"), "{}", &out[..out.len().min(300)]);
    // A body just under the bound is read and judged on its content.
    let (status, resp) = d.api("POST", "/v1.50/containers/keep/update", Some(&format!(r#"{{"x":"{}"}}"#, "y".repeat(60_000))));
    assert_eq!(status, 200, "{resp}");
    let (status, _) = d.api("GET", "/_ping", None);
    assert_eq!(status, 200);
    d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().assert_stdout("keep\n");
    d.docker(&["rm", "keep"]).assert_ok();
    d.stop();
}
