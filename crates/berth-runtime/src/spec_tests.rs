//! Spec assertions, bundle writing, and (as root) a real run under runc.

use super::*;
use crate::caps::caps_mask;

fn input() -> SpecInput {
    SpecInput {
        args: vec!["sh".into(), "-c".into(), "echo hi".into()],
        env: vec!["PATH=/bin".into()],
        cwd: String::new(),
        user: ResolvedUser {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![10],
        },
        hostname: "abc123".into(),
        rootfs: PathBuf::from("/var/lib/berth/containers/abc/rootfs"),
        cgroups_path: "/berth/abc".into(),
        etc_files: vec![(
            PathBuf::from("/var/lib/berth/containers/abc/hostname"),
            "/etc/hostname".into(),
        )],
        annotations: vec![("org.example".into(), "1".into())],
        ..SpecInput::default()
    }
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn default_spec_matches_docker() {
    let spec = build_spec(&input());
    assert_eq!(spec["ociVersion"], "1.0.2");
    let p = &spec["process"];
    assert_eq!(p["terminal"], false);
    assert_eq!(p["cwd"], "/");
    assert_eq!(
        p["user"],
        json!({"uid": 1000, "gid": 1000, "additionalGids": [10]})
    );
    assert_eq!(strs(&p["args"]), ["sh", "-c", "echo hi"]);
    assert!(p.get("rlimits").is_none(), "rlimits must be left alone");
    assert_eq!(p["oomScoreAdj"], 0);
    assert_eq!(p["noNewPrivileges"], false);
    for set in ["bounding", "effective", "permitted"] {
        assert_eq!(
            caps_mask(&strs(&p["capabilities"][set])),
            0xa80425fb,
            "{set}"
        );
    }
    assert!(p["capabilities"].get("inheritable").is_none());
    assert!(p["capabilities"].get("ambient").is_none());
    assert_eq!(
        spec["root"],
        json!({"path": "/var/lib/berth/containers/abc/rootfs", "readonly": false})
    );
    assert_eq!(spec["hostname"], "abc123");
    assert_eq!(spec["annotations"], json!({"org.example": "1"}));

    let linux = &spec["linux"];
    assert_eq!(linux["cgroupsPath"], "/berth/abc");
    let ns: Vec<&str> = linux["namespaces"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ns, ["mount", "network", "uts", "pid", "ipc"]);
    assert!(linux["namespaces"]
        .as_array()
        .is_some_and(|a| a.iter().all(|n| n.get("path").is_none())));
    assert_eq!(strs(&linux["maskedPaths"]), MASKED_PATHS);
    assert_eq!(strs(&linux["readonlyPaths"]), READONLY_PATHS);
    assert_eq!(linux["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(
        linux["resources"]["devices"][0],
        json!({"allow": false, "access": "rwm"})
    );
}

#[test]
fn mounts_in_dockers_order_then_etc_files() {
    let spec = build_spec(&input());
    let mounts = spec["mounts"].as_array().expect("mounts");
    let dests: Vec<&str> = mounts
        .iter()
        .filter_map(|m| m["destination"].as_str())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/sys/fs/cgroup",
            "/dev/mqueue",
            "/dev/shm",
            "/etc/hostname"
        ]
    );
    assert_eq!(
        strs(&mounts[1]["options"]),
        ["nosuid", "strictatime", "mode=755", "size=65536k"]
    );
    assert_eq!(
        strs(&mounts[2]["options"]),
        [
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5"
        ]
    );
    assert_eq!(mounts[4]["type"], "cgroup");
    assert!(strs(&mounts[4]["options"]).contains(&"ro"));
    assert_eq!(
        strs(&mounts[6]["options"]),
        ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]
    );
    assert_eq!(
        mounts[7],
        json!({"destination": "/etc/hostname", "type": "bind",
               "source": "/var/lib/berth/containers/abc/hostname", "options": ["rbind", "rprivate"]})
    );
}

#[test]
fn init_prefixes_args_and_binds_read_only() {
    let spec = build_spec(&SpecInput {
        init: Some(PathBuf::from("/usr/libexec/tini-static")),
        ..input()
    });
    assert_eq!(
        strs(&spec["process"]["args"]),
        ["/sbin/docker-init", "--", "sh", "-c", "echo hi"]
    );
    let last = spec["mounts"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last,
        json!({"destination": "/sbin/docker-init", "type": "bind",
               "source": "/usr/libexec/tini-static", "options": ["bind", "ro"]})
    );
}

#[test]
fn privileged_drops_confinement() {
    let spec = build_spec(&SpecInput {
        privileged: true,
        readonly_rootfs: true,
        ..input()
    });
    let linux = &spec["linux"];
    assert!(linux.get("seccomp").is_none());
    assert!(linux.get("maskedPaths").is_none());
    assert!(linux.get("readonlyPaths").is_none());
    assert_eq!(
        linux["resources"]["devices"],
        json!([{"allow": true, "access": "rwm"}])
    );
    let caps = strs(&spec["process"]["capabilities"]["bounding"]);
    assert!(
        caps.len() > 14 && caps.contains(&"CAP_SYS_ADMIN"),
        "{caps:?}"
    );
    assert_eq!(spec["root"]["readonly"], true);
}

#[test]
fn empty_optional_fields_are_omitted() {
    let spec = build_spec(&SpecInput {
        annotations: vec![],
        user: ResolvedUser::default(),
        ..input()
    });
    assert!(spec.get("annotations").is_none());
    assert_eq!(spec["process"]["user"], json!({"uid": 0, "gid": 0}));
    let spec = build_spec(&SpecInput {
        cwd: "/work".into(),
        shm_size: 1024,
        ..input()
    });
    assert_eq!(spec["process"]["cwd"], "/work");
    assert!(strs(&spec["mounts"][6]["options"]).contains(&"size=1024"));
}

#[test]
fn write_bundle_is_atomic_and_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    let spec = build_spec(&input());
    write_bundle(&bundle, &spec).expect("write bundle");
    let text = std::fs::read_to_string(bundle.join("config.json")).expect("read config");
    let back: Value = serde_json::from_str(&text).expect("parse config");
    assert_eq!(back, spec);
    assert!(!bundle.join(".config.json.tmp").exists());
    // Overwriting works and the error path names the file.
    write_bundle(&bundle, &json!({})).expect("rewrite");
    let err = write_bundle(Path::new("/proc/no/such/dir"), &spec).expect_err("bad dir");
    assert!(err.to_string().contains("/proc/no/such/dir"), "{err}");
}

#[test]
fn terminal_and_console_size() {
    let spec = build_spec(&input());
    assert_eq!(spec["process"]["terminal"], false);
    assert!(spec["process"].get("consoleSize").is_none());
    let spec = build_spec(&SpecInput { tty: true, console_size: Some((30, 100)), ..input() });
    assert_eq!(spec["process"]["terminal"], true);
    assert_eq!(spec["process"]["consoleSize"], json!({"height": 30, "width": 100}));
    // A size without a terminal means nothing.
    let spec = build_spec(&SpecInput { console_size: Some((30, 100)), ..input() });
    assert!(spec["process"].get("consoleSize").is_none());
}

#[test]
fn exec_process() {
    let p = crate::build_exec_process(&crate::ExecInput {
        args: vec!["sh".into()],
        env: vec!["A=1".into()],
        cwd: String::new(),
        user: ResolvedUser { uid: 1, gid: 2, additional_gids: vec![3] },
        tty: true,
        console_size: Some((24, 80)),
        privileged: false,
        capabilities: None,
        no_new_privileges: false,
        rlimits: vec![],
    });
    assert_eq!(p["cwd"], "/");
    assert!(p.get("rlimits").is_none(), "no --ulimit: the runtime's limits");
    assert_eq!(p["terminal"], true);
    assert_eq!(p["consoleSize"], json!({"height": 24, "width": 80}));
    assert_eq!(p["user"], json!({"uid": 1, "gid": 2, "additionalGids": [3]}));
    assert!(!strs(&p["capabilities"]["bounding"]).contains(&"CAP_SYS_ADMIN"));
    let p = crate::build_exec_process(&crate::ExecInput { privileged: true, ..Default::default() });
    assert!(strs(&p["capabilities"]["bounding"]).contains(&"CAP_SYS_ADMIN"));
    assert_eq!(p["terminal"], false);
    // An exec keeps the container's capabilities (even none) and no-new-privileges.
    let p = crate::build_exec_process(&crate::ExecInput {
        capabilities: Some(vec![]),
        no_new_privileges: true,
        ..Default::default()
    });
    assert!(strs(&p["capabilities"]["bounding"]).is_empty());
    assert_eq!(p["noNewPrivileges"], true);
    // ... and its --ulimit values.
    let nofile = json!({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048});
    let p = crate::build_exec_process(&crate::ExecInput { rlimits: vec![nofile.clone()], ..Default::default() });
    assert_eq!(p["rlimits"], json!([nofile]));
}

#[test]
fn isolation_options_reach_the_spec() {
    use crate::{Device, DeviceRule, Namespaces, NsMode, SeccompSpec, ShmMount};
    let spec = build_spec(&SpecInput {
        capabilities: vec!["CAP_CHOWN".into()],
        seccomp: SeccompSpec::Unconfined,
        no_new_privileges: true,
        masked_paths: Some(vec![]),
        readonly_paths: Some(vec![]),
        namespaces: Namespaces { pid: NsMode::Host, ipc: NsMode::Join("/proc/9/ns/ipc".into()), uts: NsMode::Host, cgroup: NsMode::Private },
        shm: ShmMount::None,
        devices: vec![Device { path: "/dev/x".into(), kind: 'c', major: 1, minor: 3, file_mode: 0o666, uid: 0, gid: 0, access: "rw".into() }],
        device_rules: vec![DeviceRule { kind: 'b', major: Some(8), minor: None, access: "r".into() }],
        sysctls: [("net.ipv4.ip_forward".to_string(), "1".to_string())].into(),
        oom_score_adj: 500,
        domainname: "example.org".into(),
        ..input()
    });
    assert_eq!(strs(&spec["process"]["capabilities"]["effective"]), ["CAP_CHOWN"]);
    assert!(spec["linux"].get("seccomp").is_none());
    assert_eq!(spec["process"]["noNewPrivileges"], true);
    assert_eq!(spec["process"]["oomScoreAdj"], 500);
    assert_eq!(spec["linux"]["maskedPaths"], json!([]));
    let ns: Vec<&str> = spec["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(ns, ["mount", "network", "ipc", "cgroup"]);
    // The host's UTS namespace: no hostname or domainname for the runtime to set.
    assert!(spec.get("hostname").is_none() && spec.get("domainname").is_none());
    assert!(!spec["mounts"].as_array().unwrap().iter().any(|m| m["destination"] == "/dev/shm"));
    assert_eq!(spec["linux"]["devices"][0]["path"], "/dev/x");
    let rules = spec["linux"]["resources"]["devices"].as_array().unwrap();
    assert!(rules.contains(&json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"})));
    assert!(rules.contains(&json!({"allow": true, "type": "b", "major": 8, "access": "r"})));
    assert_eq!(spec["linux"]["sysctl"]["net.ipv4.ip_forward"], "1");
    let named = build_spec(&SpecInput { domainname: "example.org".into(), ..input() });
    assert_eq!(named["domainname"], "example.org");
}

#[path = "runc_test.rs"]
mod runc_test;

#[test]
fn network_namespace_path_and_host() {
    let spec = build_spec(&SpecInput { netns_path: Some(PathBuf::from("/run/netns/x")), ..input() });
    let ns = spec["linux"]["namespaces"].as_array().cloned().unwrap_or_default();
    assert!(ns.iter().any(|n| n["type"] == "network" && n["path"] == "/run/netns/x"), "{ns:?}");
    let spec = build_spec(&SpecInput { host_network: true, ..input() });
    let ns = spec["linux"]["namespaces"].as_array().cloned().unwrap_or_default();
    assert!(!ns.iter().any(|n| n["type"] == "network"), "{ns:?}");
}

#[test]
fn user_mounts_before_etc_files_and_replace_them() {
    use crate::{Mount, MountKind};
    let mut i = input();
    i.mounts = vec![
        Mount {
            destination: "/data".into(),
            readonly: false,
            kind: MountKind::Bind { source: "/v/_data".into(), propagation: String::new(), recursive: true },
        },
        Mount {
            destination: "/etc/hostname".into(),
            readonly: true,
            kind: MountKind::Bind { source: "/h".into(), propagation: String::new(), recursive: true },
        },
    ];
    let spec = build_spec(&i);
    let mounts = spec["mounts"].as_array().expect("mounts");
    let dests: Vec<&str> = mounts.iter().filter_map(|m| m["destination"].as_str()).collect();
    assert_eq!(&dests[7..], ["/data", "/etc/hostname"]);
    assert_eq!(mounts[8]["source"], "/h");
}
