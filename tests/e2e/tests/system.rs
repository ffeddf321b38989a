//! Version, info, ping and API version negotiation.
use berth_e2e::{both, TestDaemon};

both! {
    fn version(d, c) {
        let out = d.cli(c, &["version"]);
        out.assert_ok();
        // The Server section must report the daemon's API version.
        let server = out.stdout.split("Server").nth(1).unwrap_or_else(|| panic!("no Server section\n{}", out.stdout));
        assert!(
            server.lines().any(|l| l.trim_start().starts_with("API version:") && l.contains("1.50")),
            "server API version is not 1.50:\n{}",
            out.stdout
        );
        d.cli(c, &["version", "--format", "{{.Server.APIVersion}}"]).assert_ok().assert_stdout("1.50");
    }
}

both! {
    fn info(d, c) {
        let out = d.cli(c, &["info"]);
        out.assert_ok();
        out.assert_stdout_contains("Containers: 0");
        out.assert_stdout_contains("Images: 1");
        d.cli(c, &["info", "--format", "{{.Images}}"]).assert_ok().assert_stdout("1");
    }
}

#[test]
fn ping_reports_api_version() {
    let d = TestDaemon::start();
    let (status, head, body) = d.api_full("GET", "/_ping", None).expect("ping");
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, "OK");
    assert!(
        head.lines().any(|l| l.to_ascii_lowercase().starts_with("api-version:") && l.contains("1.50")),
        "no API-Version header:\n{head}"
    );
    let (status, _, _) = d.api_full("HEAD", "/_ping", None).expect("head ping");
    assert_eq!(status, 200);
    d.stop();
}

#[test]
fn unknown_api_version_is_400() {
    let d = TestDaemon::start();
    let (status, body) = d.api("GET", "/v1.99/info", None);
    assert_eq!(status, 400, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    // A supported older version is accepted.
    let (status, body) = d.api("GET", "/v1.41/info", None);
    assert_eq!(status, 200, "{body}");
    d.stop();
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// `system df` through the docker CLI
/// and the raw API, with `type=` and its version gate.
#[test]
fn system_df() {
    let d = TestDaemon::start();
    d.docker(&["run", "--name", "big", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=1024"]).assert_ok();
    d.docker(&["volume", "create", "data"]).assert_ok();
    d.docker(&["run", "--rm", "-v", "data:/data", "busybox", "dd", "if=/dev/zero", "of=/data/f", "bs=1024", "count=512"]).assert_ok();
    d.docker(&["run", "-d", "--name", "live", "-v", "data:/data", "busybox", "sleep", "1000"]).assert_ok();

    let (status, body) = d.api("GET", "/system/df", None);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert!(v["LayersSize"].as_i64().is_some_and(|n| n > 0), "{v}");
    assert_eq!(v["Images"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["Images"][0]["Containers"], 2, "{v}");
    assert_eq!(v["Images"][0]["SharedSize"], 0, "one image shares nothing: {v}");
    let containers = v["Containers"].as_array().expect("Containers");
    let big = containers.iter().find(|c| c["Names"][0] == "/big").expect("big");
    assert!(big["SizeRw"].as_i64().is_some_and(|n| n >= 1024 * 1024), "{big}");
    assert!(big["SizeRootFs"].as_i64() > big["SizeRw"].as_i64(), "{big}");
    assert_eq!(v["Volumes"][0]["Name"], "data");
    assert_eq!(v["Volumes"][0]["UsageData"]["RefCount"], 1, "{v}");
    assert!(v["Volumes"][0]["UsageData"]["Size"].as_i64().is_some_and(|n| n >= 512 * 1024), "{v}");
    assert_eq!(v["BuildCache"], serde_json::json!([]));

    // type= picks parts from API 1.42; older clients get everything.
    let v = json(&d.api("GET", "/v1.43/system/df?type=volume&type=image", None).1);
    assert!(v["Containers"].is_null() && v["BuildCache"].is_null(), "{v}");
    assert!(v["Volumes"].is_array() && v["Images"].is_array(), "{v}");
    let v = json(&d.api("GET", "/v1.41/system/df?type=volume", None).1);
    assert!(v["Containers"].is_array() && v["Images"].is_array(), "{v}");
    let (status, body) = d.api("GET", "/v1.43/system/df?type=disk", None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown object type: disk"), "{body}");

    let out = d.docker(&["system", "df"]);
    out.assert_ok();
    let lines = out.lines();
    for (i, col) in ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"].iter().enumerate() {
        assert!(lines[0].split_whitespace().nth(i) == Some(col), "{lines:?}");
    }
    let row = |name: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} row: {lines:?}"));
        l[name.len()..].split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(row("Images")[..2], ["1", "1"], "{lines:?}");
    assert_eq!(row("Containers")[..2], ["2", "1"], "{lines:?}");
    assert!(row("Containers")[2].ends_with("MB"), "{lines:?}");
    assert_eq!(row("Local Volumes")[..2], ["1", "1"], "{lines:?}");
    assert_eq!(row("Build Cache")[..2], ["0", "0"], "{lines:?}");

    let out = d.docker(&["system", "df", "-v"]);
    out.assert_ok();
    for section in ["Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B"] {
        out.assert_stdout_contains(section);
    }
    assert!(out.stdout.lines().any(|l| l.starts_with("busybox") && l.trim_end().ends_with('2')), "{}", out.stdout);
    assert!(out.stdout.lines().any(|l| l.starts_with("data ") && l.split_whitespace().nth(1) == Some("1")), "{}", out.stdout);
    d.docker(&["rm", "-f", "live"]).assert_ok();
    d.stop();
}

both! {
    fn container_prune_reports_reclaimed_space(d, c) {
        d.cli(c, &["run", "--name", "big", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=2048"]).assert_ok();
        let out = d.cli(c, &["container", "prune", "-f"]);
        out.assert_ok();
        // 2 MiB written (plus the few files the runtime creates).
        let line = out.stdout.lines().find(|l| l.starts_with("Total reclaimed space:")).unwrap_or_else(|| panic!("{}", out.stdout)).to_string();
        let mb: f64 = line.trim_start_matches("Total reclaimed space:").trim().trim_end_matches("MB").parse().unwrap_or_else(|_| panic!("{line}"));
        assert!((2.0..2.3).contains(&mb), "{line}");
    }
}

fn sh(cmd: &str) -> String {
    let o = std::process::Command::new("sh").arg("-c").arg(cmd).output().expect("sh");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

both! {
    fn info_and_version_describe_this_host(d, c) {
        let machine = sh("uname -m");
        let go_arch = match machine.as_str() {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        d.cli(c, &["info", "--format", "{{.Architecture}}|{{.KernelVersion}}|{{.NCPU}}|{{.OSType}}"])
            .assert_ok()
            .assert_stdout(&format!("{machine}|{}|{}|linux", sh("uname -r"), sh("nproc")));
        let mem_kb: i64 = sh("awk '/^MemTotal:/ {print $2}' /proc/meminfo").parse().expect("meminfo");
        d.cli(c, &["info", "--format", "{{.MemTotal}}"]).assert_ok().assert_stdout(&(mem_kb * 1024).to_string());
        d.cli(c, &["info", "--format", "{{.OperatingSystem}}"]).assert_ok().assert_stdout(&sh(". /etc/os-release; echo \"$PRETTY_NAME\""));
        d.cli(c, &["version", "--format", "{{.Server.Arch}}|{{.Server.KernelVersion}}"])
            .assert_ok()
            .assert_stdout(&format!("{go_arch}|{}", sh("uname -r")));
        // overlay2's status names the data root's filesystem as dockerd does.
        let fs = match sh(&format!("stat -f -c %T {}", d.data_root().display())).as_str() {
            "ext2/ext3" | "ext4" => "extfs".to_string(),
            other => other.to_string(),
        };
        let status = d.cli(c, &["info", "--format", "{{json .DriverStatus}}"]).assert_ok().out();
        assert!(status.starts_with(&format!(r#"[["Backing Filesystem","{fs}"],["Supports d_type","true"]"#)), "{status}");
    }
}

/// Swarm and plugin endpoints answer as dockerd does on a node outside a
/// swarm (the berth CLI has no node/plugin commands yet).
#[test]
fn not_in_a_swarm() {
    let d = TestDaemon::start();
    let manager_msg = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
    d.docker(&["node", "ls"]).assert_fail().assert_stderr_contains(manager_msg);
    d.docker(&["service", "ls"]).assert_fail().assert_stderr_contains(manager_msg);
    d.docker(&["secret", "ls"]).assert_fail().assert_stderr_contains(manager_msg);
    d.docker(&["plugin", "ls", "-q"]).assert_ok().assert_stdout("");
    d.docker(&["plugin", "inspect", "nosuch"]).assert_fail().assert_stderr_contains("plugin \"nosuch\" not found");
    d.docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).assert_ok().assert_stdout("inactive");
    for path in ["/v1.43/nodes", "/v1.43/services", "/v1.43/tasks", "/v1.43/secrets", "/v1.43/configs", "/v1.43/swarm"] {
        let (status, body) = d.api("GET", path, None);
        assert_eq!(status, 503, "{path}: {body}");
        assert!(body.contains("This node is not a swarm manager."), "{path}: {body}");
    }
    // Leaving with force: dockerd's 503, which docker-py's leave_swarm(force=True) takes as done.
    let (status, body) = d.api("POST", "/v1.43/swarm/leave?force=true", None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("This node is not part of a swarm"), "{body}");
    let (status, body) = d.api("POST", "/v1.43/swarm/init", Some("{}"));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("does not support swarm mode"), "{body}");
    let (status, body) = d.api("GET", "/v1.43/plugins", None);
    assert_eq!((status, body.trim()), (200, "[]"));
    d.stop();
}

#[test]
fn berth_system_df_matches_docker() {
    let d = TestDaemon::start();
    d.docker(&["run", "--name", "big", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=300"]).assert_ok();
    d.docker(&["run", "-d", "--name", "live", "-v", "data:/data", "busybox", "sleep", "1000"]).assert_ok();
    d.docker(&["volume", "create", "idle"]).assert_ok();
    let docker = d.docker(&["system", "df"]).assert_ok().stdout.clone();
    d.berth(&["system", "df"]).assert_ok().assert_stdout(docker.trim_end());
    let f = ["system", "df", "--format", "{{.Type}}:{{.TotalCount}}:{{.Active}}"];
    let docker = d.docker(&f).assert_ok().stdout.clone();
    d.berth(&f).assert_ok().assert_stdout(docker.trim_end());
    d.berth(&["system", "info", "--format", "{{.Images}}"]).assert_ok().assert_stdout("1");
    d.docker(&["rm", "-f", "live"]).assert_ok();
    d.stop();
}

/// Stopped containers, an unused network and an anonymous volume: what
/// `system prune --volumes` should remove.
fn prune_fixture(d: &TestDaemon) {
    d.docker(&["run", "--name", "big", "-v", "/anon", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=300"]).assert_ok();
    d.docker(&["run", "--name", "small", "busybox", "true"]).assert_ok();
    d.docker(&["run", "-d", "--name", "live", "busybox", "sleep", "1000"]).assert_ok();
    d.docker(&["network", "create", "unused"]).assert_ok();
    d.docker(&["volume", "create", "named"]).assert_ok();
}

/// Full IDs differ between daemons; everything else must not.
fn without_ids(s: &str) -> String {
    s.split_whitespace()
        .map(|w| if w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()) { "<id>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn berth_system_prune_matches_docker() {
    let mut outputs = Vec::new();
    for cli in [berth_e2e::Cli::Docker, berth_e2e::Cli::Berth] {
        let d = TestDaemon::start();
        prune_fixture(&d);
        let stopped = d.docker(&["ps", "-aq", "--no-trunc", "--filter", "status=exited"]).assert_ok().lines();
        let out = d.cli(cli, &["system", "prune", "-f", "--volumes"]);
        out.assert_ok();
        for id in &stopped {
            out.assert_stdout_contains(id);
        }
        out.assert_stdout_contains("Deleted Networks:\nunused\n");
        assert!(out.stdout.lines().last().is_some_and(|l| l.starts_with("Total reclaimed space: ")), "{}", out.stdout);
        // The running container, its image and the named volume stay.
        d.docker(&["ps", "-aq"]).assert_ok().assert_stdout(&d.docker(&["ps", "-q"]).out());
        d.docker(&["volume", "ls", "-q"]).assert_ok().assert_stdout("named");
        d.docker(&["image", "inspect", "busybox"]).assert_ok();
        outputs.push(without_ids(&out.stdout));
        d.docker(&["rm", "-f", "live"]).assert_ok();
        d.stop();
    }
    assert_eq!(outputs[0], outputs[1], "docker vs berth");
}

#[test]
fn berth_system_prune_asks_first() {
    let d = TestDaemon::start();
    prune_fixture(&d);
    for args in [&["system", "prune"][..], &["system", "prune", "-a", "--volumes", "--filter", "label=x"]] {
        let docker = d.docker_stdin(args, "n\n").assert_ok().stdout.clone();
        let berth = d.berth_stdin(args, "n\n");
        berth.assert_ok();
        assert_eq!(berth.stdout, docker, "{args:?}");
        assert!(berth.stdout.ends_with("Are you sure you want to continue? [y/N] "), "{}", berth.stdout);
    }
    // Nothing went.
    assert_eq!(d.docker(&["ps", "-aq"]).lines().len(), 3);
    d.docker(&["network", "inspect", "unused"]).assert_ok();
    assert_eq!(d.docker(&["volume", "ls", "-q"]).lines().len(), 2);
    d.docker(&["rm", "-f", "live"]).assert_ok();
    d.stop();
}

#[test]
fn berth_system_df_verbose_matches_docker() {
    let d = TestDaemon::start();
    prune_fixture(&d);
    d.docker(&["tag", "busybox", "other:tag"]).assert_ok();
    // The CREATED columns count seconds: retry if a second ticks between the two runs.
    let mut last = (String::new(), String::new());
    for _ in 0..3 {
        let docker = d.docker(&["system", "df", "-v"]).assert_ok().stdout.clone();
        let berth = d.berth(&["system", "df", "-v"]).assert_ok().stdout.clone();
        if docker == berth {
            last = (docker, berth);
            break;
        }
        last = (docker, berth);
    }
    assert_eq!(last.1, last.0, "berth vs docker");
    for section in ["Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B"] {
        assert!(last.1.contains(section), "{}", last.1);
    }
    d.docker(&["rm", "-f", "live"]).assert_ok();
    d.stop();
}
