//! Registries with htpasswd (bcrypt) and TLS: login/logout, credentials
//! from the docker config file, and push then pull back by digest.
use std::process::Command;

use berth_e2e::registry::{base64_std, curl, no_image, three_layer_archive, Registry};
use berth_e2e::{busybox_tar, Cli, TestDaemon};

#[test]
fn basic_auth_registry() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    reg.push(busybox_tar(), "private:latest", Some("alice:s3cret"));
    let d = TestDaemon::start();
    let name = format!("{}/private", reg.host());
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_code(1).assert_stderr_contains("no basic auth credentials");
    }
    no_image(&d, &name);
    // The docker CLI sends X-Registry-Auth from its config file.
    let cfg = tempfile::tempdir().expect("tempdir");
    let auth = base64_std(b"alice:s3cret");
    std::fs::write(cfg.path().join("config.json"), format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}", reg.host())).expect("config");
    let o = d.cli_with_env(Cli::Docker, &["pull", &name], &[("DOCKER_CONFIG", &cfg.path().display().to_string())]);
    o.assert_ok();
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    let bad = base64_std(b"alice:wrong");
    std::fs::write(cfg.path().join("config.json"), format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{bad}\"}}}}}}", reg.host())).expect("config");
    d.docker(&["rmi", &name]).assert_ok();
    let o = d.cli_with_env(Cli::Docker, &["pull", &name], &[("DOCKER_CONFIG", &cfg.path().display().to_string())]);
    o.assert_code(1);
    no_image(&d, &name);
}

#[test]
fn login_then_pull_with_both_clis() {
    let reg = Registry::start(Some(("bob", "hunter2")));
    reg.push(busybox_tar(), "secret:latest", Some("bob:hunter2"));
    let d = TestDaemon::start();
    let name = format!("{}/secret", reg.host());
    for cli in Cli::BOTH {
        let cfg = tempfile::tempdir().expect("tempdir");
        let env_cfg = cfg.path().display().to_string();
        let env = [("DOCKER_CONFIG", env_cfg.as_str())];
        let o = d.cli_with_env(cli, &["login", "-u", "bob", "-p", "wrong", &reg.host()], &env);
        o.assert_code(1).assert_stderr_contains("401 Unauthorized");
        assert!(!cfg.path().join("config.json").exists() || !std::fs::read_to_string(cfg.path().join("config.json")).unwrap_or_default().contains(&reg.host()));
        let o = d.cli_with_env(cli, &["login", "-u", "bob", "-p", "hunter2", &reg.host()], &env);
        o.assert_ok().assert_stdout_contains("Login Succeeded");
        let stored = std::fs::read_to_string(cfg.path().join("config.json")).expect("config.json");
        assert!(stored.contains(&reg.host()) && stored.contains(&base64_std(b"bob:hunter2")), "{stored}");
        let o = d.cli_with_env(cli, &["pull", &name], &env);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        d.cli(cli, &["rmi", &name]).assert_ok();
        d.cli_with_env(cli, &["logout", &reg.host()], &env).assert_ok().assert_stdout_contains(&format!("Removing login credentials for {}", reg.host()));
        d.cli_with_env(cli, &["pull", &name], &env).assert_code(1).assert_stderr_contains("no basic auth credentials");
    }
}

#[test]
fn push_then_pull_gives_the_same_image() {
    let reg = Registry::start(Some(("carol", "pw")));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TestDaemon::start();
    d.docker(&["load", "-i", &three_layer_archive(dir.path(), "pushed").display().to_string()]).assert_ok();
    let id = d.docker(&["images", "-q", "--no-trunc"]).assert_ok().out();
    let local = id.lines().map(str::to_string).collect::<Vec<_>>();
    let cfg = tempfile::tempdir().expect("tempdir");
    let env_cfg = cfg.path().display().to_string();
    let env = [("DOCKER_CONFIG", env_cfg.as_str())];
    for (cli, repo) in [(Cli::Berth, "viaberth"), (Cli::Docker, "viadocker")] {
        d.cli_with_env(cli, &["login", "-u", "carol", "-p", "pw", &reg.host()], &env).assert_ok();
        let name = format!("{}/{repo}:v1", reg.host());
        // The image with /one (not plain busybox): the one that is not the harness's.
        let source = local.iter().find(|i| d.docker(&["run", "--rm", i.as_str(), "cat", "/one"]).code == 0).expect("loaded image").clone();
        d.cli(cli, &["tag", &source, &name]).assert_ok();
        let o = d.cli_with_env(cli, &["push", &name], &env);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains(&format!("The push refers to repository [{}/{repo}]", reg.host())), "{out}");
        // The second repository gets the first one's layers by cross-repository mount.
        let want = if repo == "viaberth" { "Pushed" } else { "Mounted from viaberth" };
        assert_eq!(out.matches(want).count(), 3, "{out}");
        let digest = reg.manifest_digest(repo, "v1", Some("carol:pw"));
        assert!(out.contains(&format!("v1: digest: {digest} size: ")), "{out}");
        // A second push finds every layer there.
        let again = d.cli_with_env(cli, &["push", &name], &env);
        again.assert_ok();
        assert_eq!(again.out().matches("Layer already exists").count(), 3, "{}", again.out());
        assert!(again.out().contains(&format!("v1: digest: {digest} size: ")), "{}", again.out());
        // Pulled back by digest into a fresh daemon: the same image ID.
        let fresh = TestDaemon::start();
        let by_digest = format!("{}/{repo}@{digest}", reg.host());
        fresh.cli_with_env(cli, &["pull", &by_digest], &env).assert_ok();
        let pulled = fresh.docker(&["image", "inspect", "-f", "{{.Id}}", &by_digest]).assert_ok().out();
        assert_eq!(pulled, source);
        fresh.docker(&["run", "--rm", &by_digest, "cat", "/one"]).assert_ok().assert_stdout("one pushed");
    }
    // Not logged in: the registry refuses.
    let o = d.docker(&["push", &format!("{}/viadocker:v1", reg.host())]);
    o.assert_code(1).assert_stderr_contains("no basic auth credentials");
}

#[test]
fn tls_registry_on_loopback() {
    // Loopback registries are insecure by default (as in dockerd): https is
    // tried first, with any certificate, and used when the registry speaks it.
    let reg = Registry::start_with(Some(("dave", "pw")), true);
    let o = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "dave:pw"])
        .arg(format!("docker-archive:{}", busybox_tar().display()))
        .arg(format!("docker://{}/tls:1", reg.host()))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plain = curl(&[&format!("http://{}/v2/", reg.host())]);
    assert!(plain.starts_with("HTTP/1.0 400") || plain.contains("HTTPS"), "the registry answers plain http: {plain}");
    let d = TestDaemon::start();
    let cfg = tempfile::tempdir().expect("tempdir");
    let env_cfg = cfg.path().display().to_string();
    let env = [("DOCKER_CONFIG", env_cfg.as_str())];
    for cli in Cli::BOTH {
        d.cli_with_env(cli, &["login", "-u", "dave", "-p", "pw", &reg.host()], &env).assert_ok();
        let name = format!("{}/tls:1", reg.host());
        let o = d.cli_with_env(cli, &["pull", &name], &env);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
}

#[test]
fn credential_helper_keeps_the_secret() {
    let reg = Registry::start(Some(("erin", "pw2")));
    reg.push(busybox_tar(), "helped:latest", Some("erin:pw2"));
    let d = TestDaemon::start();
    let name = format!("{}/helped", reg.host());
    let tmp = tempfile::tempdir().expect("tempdir");
    // A helper that keeps one credential in a file beside itself.
    let helper = tmp.path().join("docker-credential-berthtest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nd=$(dirname \"$0\")\ncase \"$1\" in\n  store) cat > \"$d/stored.json\" ;;\n  get) read -r server; if [ -f \"$d/stored.json\" ]; then cat \"$d/stored.json\"; else echo 'credentials not found in native keychain'; exit 1; fi ;;\n  erase) rm -f \"$d/stored.json\" ;;\nesac\n",
    )
    .expect("write helper");
    std::process::Command::new("chmod").arg("755").arg(&helper).status().expect("chmod");
    let cfg = tmp.path().join("cfg");
    std::fs::create_dir_all(&cfg).expect("cfg dir");
    std::fs::write(cfg.join("config.json"), r#"{"credsStore": "berthtest"}"#).expect("config");
    let path = format!("{}:{}", tmp.path().display(), std::env::var("PATH").unwrap_or_default());
    let cfg_s = cfg.display().to_string();
    let env = [("DOCKER_CONFIG", cfg_s.as_str()), ("PATH", path.as_str())];
    d.cli_with_env(Cli::Berth, &["login", "-u", "erin", "-p", "pw2", &reg.host()], &env).assert_ok().assert_stdout_contains("Login Succeeded");
    let stored = std::fs::read_to_string(tmp.path().join("stored.json")).expect("the helper stored it");
    assert!(stored.contains("\"Secret\":\"pw2\""), "{stored}");
    let file = std::fs::read_to_string(cfg.join("config.json")).expect("config");
    assert!(!file.contains("pw2") && !file.contains(&base64_std(b"erin:pw2")), "secret in the config file: {file}");
    for cli in Cli::BOTH {
        let o = d.cli_with_env(cli, &["pull", &name], &env);
        o.assert_ok();
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
    d.cli_with_env(Cli::Berth, &["logout", &reg.host()], &env).assert_ok();
    assert!(!tmp.path().join("stored.json").exists(), "logout left the secret with the helper");
    d.cli_with_env(Cli::Berth, &["pull", &name], &env).assert_code(1).assert_stderr_contains("no basic auth credentials");
}
