//! `berth registry serve --token-auth`: Docker Hub's Bearer flow served by
//! berth's own registry (challenge, `/token`, scoped grants), driven with
//! curl, skopeo, and both CLIs through berthd — including the two-scope
//! token a cross-repository mount needs.
use std::process::Command;

use berth_e2e::berth_registry::{curl, skopeo, Registry};
use berth_e2e::registry::{no_image, three_layer_archive};
use berth_e2e::{busybox_tar, bin_dir, Cli, TestDaemon};

fn htpasswd(dir: &std::path::Path, user: &str, pw: &str) -> String {
    let o = Command::new("htpasswd").args(["-Bbn", user, pw]).output().expect("htpasswd");
    assert!(o.status.success());
    let f = dir.join("htpasswd");
    std::fs::write(&f, &o.stdout).expect("write");
    f.display().to_string()
}

fn token(reg: &Registry, query: &str, creds: Option<&str>) -> berth_e2e::berth_registry::Http {
    let mut args = vec![];
    if let Some(c) = creds {
        args.extend(["-u", c]);
    }
    curl(&args, &reg.url(&format!("/token?{query}")))
}

#[test]
fn bearer_challenge_and_token_endpoint() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hp = htpasswd(tmp.path(), "gina", "pw");
    let reg = Registry::start(&tmp.path().join("data"), &["--htpasswd", &hp, "--token-auth"]);
    let r = curl(&[], &reg.url("/v2/"));
    assert_eq!(r.status, 401);
    assert_eq!(r.header("WWW-Authenticate").as_deref(), Some(format!("Bearer realm=\"{}\",service=\"berth-registry\"", reg.url("/token")).as_str()));
    let r = curl(&[], &reg.url("/v2/x/tags/list"));
    assert_eq!(r.status, 401);
    assert!(r.header("WWW-Authenticate").is_some_and(|h| h.contains("scope=\"repository:x:pull\"")), "{:?}", r.headers);

    // Anonymous: a token, but one that grants nothing here.
    let anon = token(&reg, "service=berth-registry&scope=repository:x:pull", None);
    assert_eq!(anon.status, 200, "{}", anon.body);
    let t = anon.json()["token"].as_str().expect("token").to_string();
    assert_eq!(anon.json()["expires_in"], 300);
    let r = curl(&["-H", &format!("Authorization: Bearer {t}")], &reg.url("/v2/x/tags/list"));
    assert_eq!(r.status, 401);
    assert!(r.header("WWW-Authenticate").is_some_and(|h| h.contains("error=\"insufficient_scope\"")), "{:?}", r.headers);
    // The base endpoint takes any good token.
    assert_eq!(curl(&["-H", &format!("Authorization: Bearer {t}")], &reg.url("/v2/")).status, 200);

    // A user: pull and push, and the catalog.
    let user = token(&reg, "service=berth-registry&scope=repository:x:pull,push&scope=registry:catalog:*", Some("gina:pw"));
    assert_eq!(user.status, 200, "{}", user.body);
    let ut = user.json()["access_token"].as_str().expect("token").to_string();
    let r = curl(&["-H", &format!("Authorization: Bearer {ut}")], &reg.url("/v2/_catalog"));
    assert_eq!(r.status, 200, "{}", r.body);
    // Not for another repository than it names.
    let r = curl(&["-H", &format!("Authorization: Bearer {ut}")], &reg.url("/v2/y/tags/list"));
    assert_eq!(r.status, 401);

    // Bad input: wrong password, unknown service, junk scope, forged or cut tokens.
    assert_eq!(token(&reg, "service=berth-registry&scope=repository:x:pull", Some("gina:nope")).status, 401);
    assert_eq!(token(&reg, "service=berth-registry&scope=repository:x:pull", Some("nobody:pw")).status, 401);
    assert_eq!(token(&reg, "service=elsewhere&scope=repository:x:pull", None).status, 401);
    let bad = token(&reg, "service=berth-registry&scope=repository", Some("gina:pw"));
    assert_eq!((bad.status, bad.code()), (400, "SCOPE_INVALID".to_string()));
    let parts: Vec<&str> = ut.split('.').collect();
    for forged in [format!("{}.{}.{}", parts[0], parts[1], &parts[2][1..]), format!("{}.{}.{}", parts[0], anon_body(&t), parts[2]), "junk".to_string()] {
        let r = curl(&["-H", &format!("Authorization: Bearer {forged}")], &reg.url("/v2/_catalog"));
        assert_eq!(r.status, 401, "{forged}");
    }
    // Basic credentials are not accepted in place of a token.
    assert_eq!(curl(&["-u", "gina:pw"], &reg.url("/v2/_catalog")).status, 401);
    // Nothing was stored by any of this.
    assert!(std::fs::read_dir(tmp.path().join("data/repositories")).map(|r| r.count() == 0).unwrap_or(true));
}

fn anon_body(t: &str) -> String {
    t.split('.').nth(1).unwrap_or_default().to_string()
}

#[test]
fn bad_token_settings_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| Command::new(bin_dir().join("berth")).args(["registry", "serve", "--addr", "127.0.0.1:1", "--data-root"]).arg(tmp.path()).args(args).output().expect("berth");
    let o = run(&["--token-auth"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--htpasswd"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["--chunk-min-length", "0"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--chunk-min-length"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["--anonymous-pull"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--token-auth"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn docker_and_berth_through_the_token_flow() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hp = htpasswd(tmp.path(), "gina", "pw");
    let reg = Registry::start(&tmp.path().join("data"), &["--htpasswd", &hp, "--token-auth", "--access-log"]);
    // skopeo speaks the flow too.
    let (ok, _, err) = skopeo(&["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "gina:pw", &format!("docker-archive:{}", busybox_tar().display()), &format!("docker://{}/skopeo:1", reg.host())]);
    assert!(ok, "{err}");
    let d = TestDaemon::start();
    let cfg = tempfile::tempdir().expect("tempdir");
    let cfg_s = cfg.path().display().to_string();
    let env = [("DOCKER_CONFIG", cfg_s.as_str())];
    for cli in Cli::BOTH {
        d.cli_with_env(cli, &["login", "-u", "gina", "-p", "wrong", &reg.host()], &env).assert_code(1);
        d.cli_with_env(cli, &["login", "-u", "gina", "-p", "pw", &reg.host()], &env).assert_ok().assert_stdout_contains("Login Succeeded");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let o = d.docker(&["load", "-i", &three_layer_archive(dir.path(), "token").display().to_string()]);
    let id = o.out().lines().find_map(|l| l.strip_prefix("Loaded image ID: ").map(str::to_string)).expect("image id");
    let a = format!("{}/team/a:v1", reg.host());
    d.berth(&["tag", &id, &a]).assert_ok();
    let o = d.cli_with_env(Cli::Berth, &["push", &a], &env);
    o.assert_ok();
    assert_eq!(o.out().matches("Pushed").count(), 3, "{}", o.out());
    // Mounting from team/a into team/b needs one token for both: it works.
    let b = format!("{}/team/b:v1", reg.host());
    d.docker(&["tag", &id, &b]).assert_ok();
    let o = d.cli_with_env(Cli::Docker, &["push", &b], &env);
    o.assert_ok();
    assert_eq!(o.out().matches("Mounted from team/a").count(), 3, "{}", o.out());
    assert!(reg.log().lines().any(|l| l.starts_with("POST /v2/team/b/blobs/uploads/") && l.ends_with(" 201")), "{}", reg.log());
    // Logged in, a fresh daemon pulls it; without credentials it may not.
    let fresh = TestDaemon::start();
    for cli in Cli::BOTH {
        fresh.cli(cli, &["pull", &a]).assert_code(1);
        no_image(&fresh, &a);
        fresh.cli_with_env(cli, &["pull", &a], &env).assert_ok();
        fresh.docker(&["image", "inspect", "-f", "{{.Id}}", &a]).assert_ok().assert_stdout(&id);
        fresh.docker(&["rmi", &a]).assert_ok();
    }
}

#[test]
fn anonymous_pull_but_not_push() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hp = htpasswd(tmp.path(), "hal", "pw");
    let reg = Registry::start(&tmp.path().join("data"), &["--htpasswd", &hp, "--token-auth", "--anonymous-pull"]);
    let (ok, _, err) = skopeo(&["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "hal:pw", &format!("docker-archive:{}", busybox_tar().display()), &format!("docker://{}/open:1", reg.host())]);
    assert!(ok, "{err}");
    let d = TestDaemon::start();
    let name = format!("{}/open:1", reg.host());
    for cli in Cli::BOTH {
        d.cli(cli, &["pull", &name]).assert_ok();
        let other = format!("{}/mine-{}:1", reg.host(), cli.name());
        d.cli(cli, &["tag", &name, &other]).assert_ok();
        d.cli(cli, &["push", &other]).assert_code(1);
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
    for repo in ["mine-berth", "mine-docker"] {
        let t = token(&reg, &format!("service=berth-registry&scope=repository:{repo}:pull"), Some("hal:pw")).json()["token"].as_str().expect("token").to_string();
        let r = curl(&["-H", &format!("Authorization: Bearer {t}")], &reg.url(&format!("/v2/{repo}/tags/list")));
        assert_eq!(r.status, 404, "an anonymous push left something: {}", r.body);
    }
}

/// Docker's `identitytoken`: a login through the token flow asks for
/// offline access and gets a refresh token, which both CLIs keep instead of
/// the password; pulls and pushes then trade it for access tokens with an
/// OAuth `POST` to the realm, as dockerd does.
#[test]
fn identity_token_replaces_the_password() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hp = htpasswd(tmp.path(), "ida", "secret-pw");
    let reg = Registry::start(&tmp.path().join("data"), &["--htpasswd", &hp, "--token-auth", "--access-log"]);
    // The token server's OAuth side, by hand: password grant with offline access, then refresh.
    let post = |form: &str| curl(&["-X", "POST", "-H", "Content-Type: application/x-www-form-urlencoded", "--data", form], &reg.url("/token"));
    let r = post("grant_type=password&username=ida&password=secret-pw&access_type=offline&client_id=docker&service=berth-registry&scope=repository:x:pull");
    assert_eq!(r.status, 200, "{}", r.body);
    let refresh = r.json()["refresh_token"].as_str().expect("refresh token").to_string();
    let r = post(&format!("grant_type=refresh_token&refresh_token={refresh}&client_id=docker&service=berth-registry&scope=repository:x:pull+registry:catalog:*"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["scope"], "repository:x:pull registry:catalog:*");
    // The refresh token is no access token, and a wrong one or a wrong grant is refused.
    assert_eq!(curl(&["-H", &format!("Authorization: Bearer {refresh}")], &reg.url("/v2/")).status, 401);
    assert_eq!(post("grant_type=refresh_token&refresh_token=junk&service=berth-registry").status, 401);
    assert_eq!(post("grant_type=password&username=ida&password=nope&service=berth-registry").status, 401);
    let r = post("grant_type=client_credentials&service=berth-registry");
    assert_eq!((r.status, r.json()["error"].as_str()), (400, Some("unsupported_grant_type")));

    let d = TestDaemon::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let o = d.docker(&["load", "-i", &three_layer_archive(dir.path(), "idtoken").display().to_string()]);
    let id = o.out().lines().find_map(|l| l.strip_prefix("Loaded image ID: ").map(str::to_string)).expect("image id");
    // Kept by this name while the pushed names come and go.
    d.berth(&["tag", &id, "idtoken-keep:1"]).assert_ok();
    for cli in Cli::BOTH {
        let cfg = tempfile::tempdir().expect("tempdir");
        let cfg_s = cfg.path().display().to_string();
        let env = [("DOCKER_CONFIG", cfg_s.as_str())];
        d.cli_with_env(cli, &["login", "-u", "ida", "-p", "secret-pw", &reg.host()], &env).assert_ok().assert_stdout_contains("Login Succeeded");
        // Stored: the user and the identity token, not the password.
        let text = std::fs::read_to_string(cfg.path().join("config.json")).expect("config.json");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let entry = &v["auths"][reg.host()];
        assert!(entry["identitytoken"].as_str().is_some_and(|t| t.len() > 20), "{cli:?}: {text}");
        assert!(!text.contains("secret-pw") && !text.contains(&base64_of("ida:secret-pw")), "{cli:?} stored the password: {text}");
        let token_posts = || reg.log().lines().filter(|l| l.starts_with("POST /token") && l.ends_with(" 200")).count();
        let before = token_posts();
        let name = format!("{}/id/{}:v1", reg.host(), cli.name());
        d.berth(&["tag", &id, &name]).assert_ok();
        d.cli_with_env(cli, &["push", &name], &env).assert_ok();
        d.berth(&["rmi", &name]).assert_ok();
        let fresh = TestDaemon::start();
        fresh.cli_with_env(cli, &["pull", &name], &env).assert_ok();
        fresh.docker(&["image", "inspect", "-f", "{{.Id}}", &name]).assert_ok().assert_stdout(&id);
        let posts = token_posts() - before;
        assert!(posts >= 2, "{cli:?}: the push and the pull traded the identity token: {}", reg.log());
        fresh.stop();
        // A refresh token the server does not know: the pull fails, saying why, and leaves nothing.
        let damaged = text.replace(entry["identitytoken"].as_str().unwrap_or_default(), "not-a-token");
        std::fs::write(cfg.path().join("config.json"), damaged).expect("write");
        let other = TestDaemon::start();
        let o = other.cli_with_env(cli, &["pull", &name], &env);
        o.assert_code(1);
        assert!(format!("{}{}", o.stdout, o.stderr).contains("identity token was refused"), "{cli:?}: {}{}", o.stdout, o.stderr);
        no_image(&other, &name);
        other.stop();
    }
    d.stop();
}

fn base64_of(s: &str) -> String {
    let o = Command::new("base64").arg("-w0").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().and_then(|mut c| {
        use std::io::Write;
        c.stdin.take().map(|mut i| i.write_all(s.as_bytes()));
        c.wait_with_output()
    });
    o.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}
