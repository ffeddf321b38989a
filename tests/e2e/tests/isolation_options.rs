//! `run` flags that change what separates a container from the host, each
//! observed from inside the container (status masks, namespace links,
//! device nodes, /proc/sys), through berth and the docker CLI.
use berth_e2e::{both, Cli, TestDaemon};

fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap_or_else(|e| panic!("readlink /proc/self/ns/{kind}: {e}"))
        .to_string_lossy()
        .into_owned()
}

fn ps_is_empty(d: &TestDaemon, c: Cli) {
    d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
}

both! {
    fn capabilities_add_and_drop(d, c) {
        d.cli(c, &["run", "--rm", "--cap-drop", "ALL", "busybox", "grep", "CapEff", "/proc/self/status"])
            .assert_ok()
            .assert_stdout("CapEff:\t0000000000000000");
        // Docker's default set, plus NET_ADMIN (bit 12), minus CHOWN (bit 0); case and prefix as users write them.
        d.cli(c, &["run", "--rm", "--cap-add", "net_admin", "--cap-drop", "CAP_CHOWN", "busybox", "grep", "CapEff", "/proc/self/status"])
            .assert_ok()
            .assert_stdout("CapEff:\t00000000a80435fa");
        // NET_ADMIN does what it says: the container may take its loopback down.
        d.cli(c, &["run", "--rm", "--cap-add", "NET_ADMIN", "busybox", "ip", "link", "set", "lo", "down"]).assert_ok();
        d.cli(c, &["run", "--rm", "busybox", "ip", "link", "set", "lo", "down"]).assert_fail();
        // Only CHOWN left: chown works, mknod (CAP_MKNOD) does not.
        d.cli(c, &["run", "--rm", "--cap-drop", "all", "--cap-add", "chown", "busybox", "sh", "-c", "chown 1 /tmp && mknod /tmp/n c 1 3"])
            .assert_fail()
            .assert_stderr_contains("Operation not permitted");
        // An exec keeps the container's set.
        d.cli(c, &["run", "-d", "--name", "capped", "--cap-drop", "ALL", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["exec", "capped", "grep", "CapEff", "/proc/self/status"]).assert_ok().assert_stdout("CapEff:\t0000000000000000");
        d.cli(c, &["rm", "-f", "capped"]).assert_ok();
        d.cli(c, &["run", "--rm", "--cap-add", "CAP_BOGUS", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("unknown capability: \"CAP_BOGUS\"");
        ps_is_empty(d, c);
    }
}

both! {
    fn seccomp_and_no_new_privileges(d, c) {
        d.cli(c, &["run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "grep", "Seccomp:", "/proc/self/status"])
            .assert_ok()
            .assert_stdout("Seccomp:\t0");
        d.cli(c, &["run", "--rm", "--security-opt", "seccomp=builtin", "busybox", "grep", "Seccomp:", "/proc/self/status"])
            .assert_ok()
            .assert_stdout("Seccomp:\t2");
        d.cli(c, &["run", "--rm", "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status"])
            .assert_ok()
            .assert_stdout("NoNewPrivs:\t1");
        d.cli(c, &["run", "-d", "--name", "nnp", "--security-opt", "no-new-privileges=true", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["exec", "nnp", "grep", "NoNewPrivs", "/proc/self/status"]).assert_ok().assert_stdout("NoNewPrivs:\t1");
        d.cli(c, &["rm", "-f", "nnp"]).assert_ok();
        // A profile of the user's own: everything allowed but mkdir, which fails with EACCES.
        let profile = d.dir().join("no-mkdir.json");
        std::fs::write(&profile, r#"{"defaultAction":"SCMP_ACT_ALLOW","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]},{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#)
            .expect("write profile");
        let opt = format!("seccomp={}", profile.display());
        d.cli(c, &["run", "--rm", "--security-opt", &opt, "busybox", "sh", "-c", "touch /tmp/f && grep Seccomp: /proc/self/status && mkdir /tmp/d"])
            .assert_fail()
            .assert_stdout_contains("Seccomp:\t2")
            .assert_stderr_contains("Permission denied");
        for (bad, says) in [
            ("apparmor=docker-default", "AppArmor"),
            ("label=type:svirt_apache_t", "SELinux"),
            ("bogus=1", "invalid --security-opt 2: \"bogus=1\""),
        ] {
            d.cli(c, &["run", "--rm", "--security-opt", bad, "busybox", "true"]).assert_fail().assert_stderr_contains(says);
        }
        // Accepted because they describe what berth does anyway.
        d.cli(c, &["run", "--rm", "--security-opt", "apparmor=unconfined", "--security-opt", "label=disable", "busybox", "true"]).assert_ok();
        // systempaths=unconfined: /proc/kcore is no longer masked, /proc/sys writable by root... of its own namespace.
        d.cli(c, &["run", "--rm", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", "mount | grep -c ' /proc/kcore '"])
            .assert_stdout("0");
        ps_is_empty(d, c);
    }
}

both! {
    fn pid_uts_and_cgroup_namespaces(d, c) {
        d.cli(c, &["run", "--rm", "--pid", "host", "busybox", "readlink", "/proc/self/ns/pid"]).assert_ok().assert_stdout(&host_ns("pid"));
        let own = d.cli(c, &["run", "--rm", "busybox", "readlink", "/proc/self/ns/pid"]);
        own.assert_ok();
        assert_ne!(own.out(), host_ns("pid"));
        d.cli(c, &["run", "-d", "--name", "donor", "busybox", "sleep", "60"]).assert_ok();
        let donor = d.cli(c, &["exec", "donor", "readlink", "/proc/self/ns/pid"]);
        donor.assert_ok();
        // Joining another container's pid namespace: its sleep is visible as pid 1.
        d.cli(c, &["run", "--rm", "--pid", "container:donor", "busybox", "sh", "-c", "readlink /proc/self/ns/pid; cat /proc/1/comm"])
            .assert_ok()
            .assert_stdout(&format!("{}\nsleep", donor.out()));
        d.cli(c, &["stop", "-t", "0", "donor"]).assert_ok();
        d.cli(c, &["run", "--rm", "--pid", "container:donor", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("non running container");
        d.cli(c, &["rm", "donor"]).assert_ok();
        let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
        d.cli(c, &["run", "--rm", "--uts", "host", "busybox", "hostname"]).assert_ok().assert_stdout(host_name.trim());
        d.cli(c, &["run", "--rm", "--uts", "host", "--hostname", "x", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("conflicting options: hostname and the UTS mode");
        d.cli(c, &["run", "--rm", "--domainname", "example.org", "busybox", "cat", "/proc/sys/kernel/domainname"])
            .assert_ok()
            .assert_stdout("example.org");
        let private = d.cli(c, &["run", "--rm", "--cgroupns", "private", "busybox", "readlink", "/proc/self/ns/cgroup"]);
        private.assert_ok();
        assert_ne!(private.out(), host_ns("cgroup"));
        d.cli(c, &["run", "--rm", "--cgroupns", "host", "busybox", "readlink", "/proc/self/ns/cgroup"]).assert_ok().assert_stdout(&host_ns("cgroup"));
        d.cli(c, &["run", "--rm", "--pid", "bogus", "busybox", "true"]).assert_fail();
        ps_is_empty(d, c);
    }
}

both! {
    fn ipc_modes(d, c) {
        d.cli(c, &["run", "--rm", "--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc"]).assert_ok().assert_stdout(&host_ns("ipc"));
        d.cli(c, &["run", "--rm", "--ipc", "none", "busybox", "ls", "/dev/shm"]).assert_fail();
        d.cli(c, &["run", "-d", "--name", "shared", "--ipc", "shareable", "busybox", "sh", "-c", "echo secret > /dev/shm/x; sleep 60"]).assert_ok();
        assert!(berth_e2e::wait_until(std::time::Duration::from_secs(10), || {
            d.cli(c, &["exec", "shared", "cat", "/dev/shm/x"]).out() == "secret"
        }));
        let ns = d.cli(c, &["exec", "shared", "readlink", "/proc/self/ns/ipc"]);
        ns.assert_ok();
        // The joiner sees the donor's IPC namespace and its /dev/shm.
        d.cli(c, &["run", "--rm", "--ipc", "container:shared", "busybox", "sh", "-c", "readlink /proc/self/ns/ipc; cat /dev/shm/x"])
            .assert_ok()
            .assert_stdout(&format!("{}\nsecret", ns.out()));
        d.cli(c, &["inspect", "-f", "{{.HostConfig.IpcMode}}", "shared"]).assert_ok().assert_stdout("shareable");
        d.cli(c, &["run", "-d", "--name", "private", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.IpcMode}}", "private"]).assert_ok().assert_stdout("private");
        d.cli(c, &["run", "--rm", "--ipc", "container:private", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("non-shareable IPC");
        d.cli(c, &["rm", "-f", "shared", "private"]).assert_ok();
        // The shareable container's /dev/shm went with it.
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        assert!(!mounts.contains(&format!("{}/", d.data_root().display())), "mounts left under the data root:\n{mounts}");
    }
}

both! {
    fn devices_and_cgroup_rules(d, c) {
        d.cli(c, &["run", "--rm", "--device", "/dev/null:/dev/mynull:rw", "busybox", "sh", "-c", "stat -c '%t:%T %F' /dev/mynull; echo x > /dev/mynull && echo wrote"])
            .assert_ok()
            .assert_stdout("1:3 character special file\nwrote");
        // /dev/fuse (10:229) is not among the default devices: the node and
        // the cgroup's permission come only from --device, with its mode.
        d.cli(c, &["run", "--rm", "--device", "/dev/fuse", "busybox", "sh", "-c", "exec 3<>/dev/fuse && echo opened"])
            .assert_ok()
            .assert_stdout("opened");
        d.cli(c, &["run", "--rm", "--device", "/dev/fuse:/dev/fuse:r", "busybox", "sh", "-c", "exec 3</dev/fuse && echo read && exec 4<>/dev/fuse"])
            .assert_fail()
            .assert_stdout("read")
            .assert_stderr_contains("Operation not permitted");
        // A node the container makes itself may not be opened...
        d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "mknod /tmp/f c 10 229 && exec 3<>/tmp/f"])
            .assert_fail()
            .assert_stderr_contains("Operation not permitted");
        // ...unless a device cgroup rule allows it.
        d.cli(c, &["run", "--rm", "--device-cgroup-rule", "c 10:229 rw", "busybox", "sh", "-c", "mknod /tmp/f c 10 229 && exec 3<>/tmp/f && echo opened"])
            .assert_ok()
            .assert_stdout("opened");
        d.cli(c, &["run", "--rm", "--device", "/dev/berth-no-such-device", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("error gathering device information while adding custom device \"/dev/berth-no-such-device\"");
        d.cli(c, &["run", "--rm", "--device-cgroup-rule", "z 1:5 r", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("invalid device cgroup");
        ps_is_empty(d, c);
    }
}

both! {
    fn sysctls_groups_and_oom_score(d, c) {
        d.cli(c, &["run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=123456", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax"])
            .assert_ok()
            .assert_stdout("1\n123456");
        d.cli(c, &["run", "--rm", "--sysctl", "vm.swappiness=1", "busybox", "true"]).assert_fail().assert_stderr_contains("vm.swappiness");
        d.cli(c, &["run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("not allowed in host network namespace");
        d.cli(c, &["run", "--rm", "--group-add", "wheel", "--group-add", "1234", "busybox", "id", "-G"]).assert_ok().assert_stdout("0 10 1234");
        d.cli(c, &["run", "-d", "--name", "grouped", "--group-add", "1234", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["exec", "grouped", "id", "-G"]).assert_ok().assert_stdout("0 10 1234");
        d.cli(c, &["rm", "-f", "grouped"]).assert_ok();
        d.cli(c, &["run", "--rm", "--group-add", "nosuchgroup", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("unable to find group nosuchgroup");
        d.cli(c, &["run", "--rm", "--oom-score-adj", "500", "busybox", "cat", "/proc/self/oom_score_adj"]).assert_ok().assert_stdout("500");
        d.cli(c, &["run", "--rm", "--oom-score-adj", "5000", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("range for oom score adj is [-1000, 1000]");
        // --rm removed the containers whose start failed.
        assert!(berth_e2e::wait_until(std::time::Duration::from_secs(10), || d.cli(c, &["ps", "-aq"]).out().is_empty()));
    }
}

both! {
    fn cgroup_parent_and_runtime(d, c) {
        let parent = format!("berth-e2e-parent-{}-{}", std::process::id(), c.name());
        let out = d.cli(c, &["run", "--rm", "--cgroup-parent", &parent, "busybox", "cat", "/proc/self/cgroup"]);
        out.assert_ok().assert_stdout_contains(&format!(":/{parent}/"));
        // The runtime removed the container's cgroup; the parent is ours to remove, as with dockerd.
        for entry in std::fs::read_dir("/sys/fs/cgroup").expect("cgroup root").flatten() {
            let dir = entry.path().join(&parent);
            if dir.is_dir() {
                std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("rmdir {}: {e} (a container cgroup left inside?)", dir.display()));
            }
        }
        d.cli(c, &["run", "--rm", "--runtime", "runc", "busybox", "echo", "on runc"]).assert_ok().assert_stdout("on runc");
        d.cli(c, &["create", "--name", "rc", "--runtime", "runc", "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.Runtime}}", "rc"]).assert_ok().assert_stdout("runc");
        d.cli(c, &["rm", "rc"]).assert_ok();
        d.cli(c, &["run", "--rm", "--runtime", "nope", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("unknown or invalid runtime name: nope");
        ps_is_empty(d, c);
    }
}

both! {
    fn unsupported_log_settings_are_refused(d, c) {
        d.cli(c, &["run", "--rm", "--log-driver", "syslog", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("berth does not support the syslog log driver yet");
        d.cli(c, &["run", "--rm", "--log-driver", "nosuch", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("logger: no log driver named 'nosuch' is registered");
        d.cli(c, &["run", "--rm", "--log-opt", "labels=a", "busybox", "true"])
            .assert_fail()
            .assert_stderr_contains("berth does not support log option labels yet");
        ps_is_empty(d, c);
    }
}

#[test]
fn unsupported_fields_are_refused_by_name() {
    let d = TestDaemon::start();
    let cases = [
        (r#""HostConfig":{"BlkioWeight":300}"#, "HostConfig.BlkioWeight"),
        (r#""HostConfig":{"UsernsMode":"private"}"#, "HostConfig.UsernsMode"),
        (r#""HostConfig":{"DeviceRequests":[{"Count":-1,"Capabilities":[["gpu"]]}]}"#, "HostConfig.DeviceRequests"),
        (r#""HostConfig":{"StorageOpt":{"size":"1G"}}"#, "HostConfig.StorageOpt"),
        (r#""NetworkDisabled":true"#, "Config.NetworkDisabled"),
        (r#""NetworkingConfig":{"EndpointsConfig":{"bridge":{"GwPriority":5}}}"#, "NetworkingConfig.EndpointsConfig[bridge].GwPriority"),
    ];
    for (fields, name) in cases {
        let body = format!(r#"{{"Image":"busybox","Cmd":["true"],{fields}}}"#);
        let (status, resp) = d.api("POST", "/v1.50/containers/create", Some(&body));
        assert_eq!(status, 400, "{body} -> {resp}");
        assert!(resp.contains(&format!("berth does not support {name}")) || resp.contains(name), "{body} -> {resp}");
        assert!(resp.contains("berth does not support"), "{body} -> {resp}");
    }
    // What the clients send when nothing is asked for passes.
    let body = r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"BlkioWeight":0,"MemorySwappiness":-1,"UsernsMode":"","Isolation":"","VolumeDriver":"","DeviceRequests":null,"Sysctls":{"net.ipv4.ip_forward":null}}}"#;
    let (status, resp) = d.api("POST", "/v1.50/containers/create?name=ok", Some(body));
    assert_eq!(status, 201, "{resp}");
    // Annotations reach the OCI bundle the runtime reads.
    let body = r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"Annotations":{"org.example.team":"berth"}}}"#;
    let (status, resp) = d.api("POST", "/v1.50/containers/create?name=annotated", Some(body));
    assert_eq!(status, 201, "{resp}");
    d.docker(&["start", "-a", "annotated"]).assert_ok();
    let id = d.docker(&["inspect", "-f", "{{.Id}}", "annotated"]).assert_ok().out();
    let bundle = std::fs::read_to_string(d.data_root().join("containers").join(&id).join("config.json")).expect("bundle");
    let spec: serde_json::Value = serde_json::from_str(&bundle).expect("bundle json");
    assert_eq!(spec["annotations"]["org.example.team"], "berth", "{bundle}");
    d.docker(&["rm", "annotated"]).assert_ok();
    // A JSON null in a string map reads as "" (docker-compose sends them).
    d.docker(&["inspect", "-f", "{{json .HostConfig.Sysctls}}", "ok"]).assert_ok().assert_stdout(r#"{"net.ipv4.ip_forward":""}"#);
    d.docker(&["rm", "ok"]).assert_ok();
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    let (status, _) = d.api("GET", "/_ping", None);
    assert_eq!(status, 200);
    d.stop();
}
