//! The daemon's registry settings: `RegistryConfig` in `GET /info` (and
//! both CLIs' `info`), `POST /auth` answering 401 for refused credentials,
//! and TLS verification of a registry that is not insecure: refused with an
//! unknown CA, trusted with `certs.d/HOST:PORT/ca.crt`, or marked insecure.
use std::net::ToSocketAddrs;
use std::process::Command;

use berth_e2e::berth_registry::Registry as BerthRegistry;
use berth_e2e::certs::Certs;
use berth_e2e::Setup;
use berth_e2e::registry::Registry;
use berth_e2e::{busybox_tar, Cli, TestDaemon};
use serde_json::json;

#[test]
fn info_shows_the_registry_config() {
    let d = TestDaemon::start_with(Setup {
        args: vec![],
        config: Some(json!({
            "insecure-registries": ["10.0.0.0/8", "reg.local:5000", "flag.local:5000"],
            "registry-mirrors": ["https://m.local:5000"],
        })),
    });
    let (code, body) = d.api("GET", "/info", None);
    assert_eq!(code, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).expect("info json");
    let rc = &info["RegistryConfig"];
    assert_eq!(rc["InsecureRegistryCIDRs"], json!(["10.0.0.0/8", "::1/128", "127.0.0.0/8"]), "{rc}");
    assert_eq!(rc["Mirrors"], json!(["https://m.local:5000/"]), "{rc}");
    assert_eq!(rc["IndexConfigs"]["docker.io"], json!({"Name": "docker.io", "Mirrors": ["https://m.local:5000/"], "Secure": true, "Official": true}));
    for name in ["reg.local:5000", "flag.local:5000"] {
        assert_eq!(rc["IndexConfigs"][name], json!({"Name": name, "Mirrors": [], "Secure": false, "Official": false}), "{rc}");
    }
    assert_eq!(rc["IndexConfigs"].as_object().map(|m| m.len()), Some(3), "{rc}");
    for cli in Cli::BOTH {
        let out = d.cli(cli, &["info"]).assert_ok().out();
        for line in ["Insecure Registries:", "  reg.local:5000", "  flag.local:5000", "  10.0.0.0/8", "  ::1/128", "  127.0.0.0/8", "Registry Mirrors:", "  https://m.local:5000/"] {
            assert!(out.lines().any(|l| l.trim_end() == line || l.trim_end() == format!(" {line}")), "{cli:?}: no {line:?} in\n{out}");
        }
    }
    // SIGHUP reloads them from the file.
    d.write_config(&json!({ "insecure-registries": ["192.168.0.0/16", "flag.local:5000"] }));
    d.sighup();
    let reloaded = berth_e2e::wait_until(std::time::Duration::from_secs(10), || {
        let (_, body) = d.api("GET", "/info", None);
        serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|i| i["RegistryConfig"]["InsecureRegistryCIDRs"] == json!(["192.168.0.0/16", "::1/128", "127.0.0.0/8"]))
    });
    assert!(reloaded, "{}", d.api("GET", "/info", None).1);
    let (_, body) = d.api("GET", "/info", None);
    let rc = serde_json::from_str::<serde_json::Value>(&body).expect("json")["RegistryConfig"].clone();
    assert_eq!(rc["Mirrors"], json!([]), "{rc}");
    assert!(rc["IndexConfigs"].get("reg.local:5000").is_none() && rc["IndexConfigs"].get("flag.local:5000").is_some(), "{rc}");
    d.stop();
}

#[test]
fn refused_login_is_401() {
    let reg = Registry::start(Some(("frank", "right")));
    let d = TestDaemon::start();
    let bad = json!({"username": "frank", "password": "wrong", "serveraddress": reg.host()}).to_string();
    let (code, body) = d.api("POST", "/auth", Some(&bad));
    assert_eq!(code, 401, "{body}");
    let msg: serde_json::Value = serde_json::from_str(&body).expect("error json");
    assert_eq!(msg["message"], json!(format!("login attempt to http://{}/v2/ failed with status: 401 Unauthorized", reg.host())));
    let good = json!({"username": "frank", "password": "right", "serveraddress": reg.host()}).to_string();
    let (code, body) = d.api("POST", "/auth", Some(&good));
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("Login Succeeded"), "{body}");
    // Nothing listens there: not a credentials problem, so not a 401.
    let port = berth_e2e::certs::free_port();
    let down = json!({"username": "frank", "password": "right", "serveraddress": format!("127.0.0.1:{port}")}).to_string();
    let (code, body) = d.api("POST", "/auth", Some(&down));
    assert_eq!(code, 500, "{body}");
    // A body that is not JSON is the client's mistake.
    let (code, _) = d.api("POST", "/auth", Some("{nope"));
    assert_eq!(code, 400);
    d.stop();
}

/// The machine's host name, which must resolve to loopback: a registry
/// name that is neither `localhost` nor a loopback address, so berth
/// verifies its certificate.
fn loopback_name() -> String {
    let o = Command::new("hostname").output().expect("hostname");
    let name = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let loopback = (name.as_str(), 0).to_socket_addrs().is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()));
    assert!(loopback && !name.is_empty() && name != "localhost", "this test needs the host name ({name:?}) to resolve to loopback only (/etc/hosts)");
    name
}

#[test]
fn tls_is_verified_unless_trusted_or_insecure() {
    let host = loopback_name();
    let tmp = tempfile::tempdir().expect("tempdir");
    let certs_dir = tmp.path().join("certs");
    std::fs::create_dir_all(&certs_dir).expect("mkdir");
    let certs = Certs::generate(&certs_dir);
    let (cert, key) = certs.server_for(&host);
    let (cert_s, key_s) = (cert.display().to_string(), key.display().to_string());
    let reg = BerthRegistry::start(&tmp.path().join("data"), &["--tls-cert", &cert_s, "--tls-key", &key_s]);
    let registry = format!("{host}:{}", reg.port);
    // skopeo trusts the CA through a directory of *.crt.
    let skopeo_certs = tmp.path().join("skopeo-certs");
    std::fs::create_dir_all(&skopeo_certs).expect("mkdir");
    std::fs::copy(certs.ca(), skopeo_certs.join("ca.crt")).expect("copy ca");
    let o = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-cert-dir"])
        .arg(&skopeo_certs)
        .arg(format!("docker-archive:{}", busybox_tar().display()))
        .arg(format!("docker://{registry}/verified:1"))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let certs_d = tmp.path().join("certs.d");
    std::fs::create_dir_all(&certs_d).expect("mkdir certs.d");
    let d = TestDaemon::start_with(Setup { args: vec!["--registry-certs-dir".into(), certs_d.display().to_string()], config: Some(json!({})) });
    let name = format!("{registry}/verified:1");
    // An unknown CA: refused, nothing stored.
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_code(1).assert_stderr_contains("certificate signed by unknown authority");
        berth_e2e::registry::no_image(&d, &name);
    }
    // The CA in certs.d/HOST:PORT/ca.crt: trusted.
    std::fs::create_dir_all(certs_d.join(&registry)).expect("mkdir");
    std::fs::copy(certs.ca(), certs_d.join(&registry).join("ca.crt")).expect("copy ca");
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
    // A CA file that is not PEM: the error names it.
    std::fs::write(certs_d.join(&registry).join("ca.crt"), b"not a certificate").expect("damage");
    let o = d.berth(&["pull", &name]);
    o.assert_code(1).assert_stderr_contains("ca.crt");
    berth_e2e::registry::no_image(&d, &name);
    std::fs::remove_dir_all(certs_d.join(&registry)).expect("rm");
    // Marked insecure (daemon.json, reloaded): no verification.
    d.write_config(&json!({ "insecure-registries": [registry.clone()] }));
    d.sighup();
    let ok = berth_e2e::wait_until(std::time::Duration::from_secs(10), || d.docker(&["pull", &name]).code == 0);
    assert!(ok, "pull from an insecure registry failed: {}", d.docker(&["pull", &name]).out());
    d.stop();
}

#[test]
fn client_certificates_from_certs_d() {
    let host = loopback_name();
    let tmp = tempfile::tempdir().expect("tempdir");
    let certs_dir = tmp.path().join("certs");
    std::fs::create_dir_all(&certs_dir).expect("mkdir");
    let certs = Certs::generate(&certs_dir);
    let (cert, key) = certs.server_for(&host);
    let reg = Registry::start_mutual_tls(&cert, &key, &certs.ca());
    let registry = format!("{host}:{}", reg.port);
    // skopeo reads the same layout: ca.crt, client.cert, client.key.
    let skopeo_certs = tmp.path().join("skopeo-certs");
    std::fs::create_dir_all(&skopeo_certs).expect("mkdir");
    std::fs::copy(certs.ca(), skopeo_certs.join("ca.crt")).expect("ca");
    std::fs::copy(certs.path("client-cert.pem"), skopeo_certs.join("client.cert")).expect("cert");
    std::fs::copy(certs.path("client-key.pem"), skopeo_certs.join("client.key")).expect("key");
    let o = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-cert-dir"])
        .arg(&skopeo_certs)
        .arg(format!("docker-archive:{}", busybox_tar().display()))
        .arg(format!("docker://{registry}/mtls:1"))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let certs_d = tmp.path().join("certs.d");
    let mine = certs_d.join(&registry);
    std::fs::create_dir_all(&mine).expect("mkdir");
    std::fs::copy(certs.ca(), mine.join("ca.crt")).expect("ca");
    let d = TestDaemon::start_with(Setup { args: vec!["--registry-certs-dir".into(), certs_d.display().to_string()], config: None });
    let name = format!("{registry}/mtls:1");
    // The registry wants a client certificate and gets none.
    d.berth(&["pull", &name]).assert_code(1);
    berth_e2e::registry::no_image(&d, &name);
    // A certificate without its key: the error names the missing file.
    std::fs::copy(certs.path("client-cert.pem"), mine.join("client.cert")).expect("cert");
    d.berth(&["pull", &name]).assert_code(1).assert_stderr_contains("client.key");
    berth_e2e::registry::no_image(&d, &name);
    // Another CA's client certificate: refused by the registry.
    std::fs::copy(certs.path("rogue-cert.pem"), mine.join("client.cert")).expect("cert");
    std::fs::copy(certs.path("rogue-key.pem"), mine.join("client.key")).expect("key");
    d.docker(&["pull", &name]).assert_code(1);
    berth_e2e::registry::no_image(&d, &name);
    // The right pair: both CLIs pull.
    std::fs::copy(certs.path("client-cert.pem"), mine.join("client.cert")).expect("cert");
    std::fs::copy(certs.path("client-key.pem"), mine.join("client.key")).expect("key");
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
    d.stop();
}
