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
