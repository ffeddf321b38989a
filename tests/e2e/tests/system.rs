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
