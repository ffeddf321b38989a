//! The local plugin store: `plugin create` from a context directory, `ls`
//! (with filters), `inspect`, `rm`; what would run or fetch a plugin is
//! refused and changes nothing. The berth CLI has no `plugin` command, so
//! this drives the docker CLI and the API.
use berth_e2e::TestDaemon;

fn context(d: &TestDaemon) -> String {
    let dir = d.dir().join("dummy-plugin");
    std::fs::create_dir_all(dir.join("rootfs/dummy")).expect("mkdir");
    std::fs::write(dir.join("rootfs/dummy/file.txt"), "x").expect("write");
    std::fs::write(
        dir.join("config.json"),
        r#"{"description":"Dummy plugin","entrypoint":["/dummy"],"network":{"type":"host"},
           "interface":{"types":["docker.volumedriver/1.0"],"socket":"dummy.sock"},
           "env":[{"name":"DEBUG","settable":["value"],"value":"0"}]}"#,
    )
    .expect("write");
    dir.display().to_string()
}

#[test]
fn plugin_create_list_inspect_remove() {
    let d = TestDaemon::start();
    let ctx = context(&d);
    d.docker(&["plugin", "create", "sdk/dummy", &ctx]).assert_ok().assert_stdout("sdk/dummy");
    d.docker(&["plugin", "ls", "--format", "{{.Name}} {{.Enabled}} {{.Description}}"])
        .assert_ok()
        .assert_stdout("sdk/dummy:latest false Dummy plugin");
    assert_eq!(d.docker(&["plugin", "ls", "-q", "--filter", "capability=volumedriver"]).lines().len(), 1);
    assert_eq!(d.docker(&["plugin", "ls", "-q", "--filter", "capability=networkdriver"]).out(), "");
    assert_eq!(d.docker(&["plugin", "ls", "-q", "--filter", "enabled=true"]).out(), "");
    d.docker(&["plugin", "inspect", "-f", "{{.Config.Entrypoint}} {{.Settings.Env}} {{.Config.Interface.Socket}}", "sdk/dummy"])
        .assert_ok()
        .assert_stdout("[/dummy] [DEBUG=0] dummy.sock");
    let (s, body) = d.api("GET", "/plugins/sdk/dummy:latest/json", None);
    assert_eq!(s, 200);
    assert!(body.contains(r#""Types":["docker.volumedriver/1.0"]"#), "{body}");
    // The rootfs is kept in the store.
    let id = d.docker(&["plugin", "inspect", "-f", "{{.Id}}", "sdk/dummy"]).assert_ok().out();
    assert!(d.data_root().join("plugins").join(&id).join("rootfs/dummy/file.txt").is_file());
    d.docker(&["plugin", "create", "sdk/dummy", &ctx]).assert_fail().assert_stderr_contains("already exists");
    // Refusals name what berth cannot do, and leave the plugin as it was.
    d.docker(&["plugin", "enable", "sdk/dummy"]).assert_fail().assert_stderr_contains("berth does not support running plugins yet");
    d.docker(&["plugin", "disable", "sdk/dummy"]).assert_fail().assert_stderr_contains("is already disabled");
    d.docker(&["plugin", "install", "--grant-all-permissions", "vieux/sshfs"])
        .assert_fail()
        .assert_stderr_contains("berth does not support plugin install yet");
    d.docker(&["plugin", "enable", "nosuch"]).assert_fail().assert_stderr_contains("not found");
    d.docker(&["plugin", "ls", "-q"]).assert_ok().assert_stdout(&id[..12]);
    // Survives a restart.
    d.kill9();
    d.restart();
    d.docker(&["plugin", "ls", "-q"]).assert_ok().assert_stdout(&id[..12]);
    d.docker(&["plugin", "rm", "sdk/dummy"]).assert_ok();
    d.docker(&["plugin", "inspect", "sdk/dummy"]).assert_fail().assert_stderr_contains("plugin \"sdk/dummy\" not found");
    assert!(!d.data_root().join("plugins").join(&id).exists());
    assert_eq!(d.docker(&["plugin", "ls", "-q"]).out(), "");
    d.stop();
}

/// A context tar made of `files` (path, content); directories are implied.
fn tar_of(files: &[(&str, &str)]) -> String {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data.as_bytes()).expect("append");
    }
    String::from_utf8(b.into_inner().expect("tar")).expect("ASCII tar")
}

/// The CLI checks a context's config.json itself; the daemon checks it
/// again for any client.
#[test]
fn bad_plugin_contexts_are_refused() {
    let d = TestDaemon::start();
    for (files, says) in [
        (vec![("rootfs/a", "x")], "no config.json"),
        (vec![("config.json", "{"), ("rootfs/a", "x")], "invalid plugin config.json"),
        (vec![("config.json", r#"{"interface":{"types":["nodot"]}}"#), ("rootfs/a", "x")], "not a valid plugin interface type"),
        (vec![("config.json", "{}")], "no rootfs directory"),
    ] {
        let (s, body) = d.api("POST", "/plugins/create?name=sdk/bad", Some(&tar_of(&files)));
        assert_eq!(s, 400, "{files:?}: {body}");
        assert!(body.contains(says), "{files:?}: {body}");
    }
    let (s, body) = d.api("POST", "/plugins/create?name=sdk/bad", Some("not a tar archive"));
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("invalid plugin context"), "{body}");
    let (s, body) = d.api("POST", "/plugins/create?name=Bad%20Name", Some(&tar_of(&[("config.json", "{}"), ("rootfs/a", "x")])));
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("invalid reference format"), "{body}");
    let (s, _) = d.api("POST", "/plugins/create?name=sdk/ok", Some(&tar_of(&[("config.json", "{}"), ("rootfs/a", "x")])));
    assert_eq!(s, 204);
    let (s, body) = d.api("POST", "/plugins/create?name=sdk/ok", Some(&tar_of(&[("config.json", "{}"), ("rootfs/a", "x")])));
    assert_eq!(s, 409, "{body}");
    d.docker(&["plugin", "ls", "--format", "{{.Name}}"]).assert_ok().assert_stdout("sdk/ok:latest");
    d.docker(&["plugin", "rm", "sdk/ok"]).assert_ok();
    assert_eq!(std::fs::read_dir(d.data_root().join("plugins")).expect("store").count(), 0);
    d.stop();
}
