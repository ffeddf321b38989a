//! Health checks: transitions, `ps` status, inspect, events, image HEALTHCHECK.

use std::time::Duration;

use berth_e2e::{both, wait_until, Cli, TestDaemon};

fn health(d: &TestDaemon, c: Cli, name: &str) -> String {
    d.cli(c, &["inspect", "-f", "{{.State.Health.Status}}", name]).out()
}

both! {
    fn health_transitions(d, c) {
        let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Healthy while /tmp/ok exists; the test removes it to make it fail.
        d.cli(c, &["run", "-d", "--name", "hc", "--health-cmd", "test -e /tmp/ok && echo fine", "--health-interval", "200ms",
                   "--health-retries", "2", "busybox", "sh", "-c", "touch /tmp/ok; sleep 1000"]).assert_ok();
        assert!(wait_until(Duration::from_secs(10), || health(d, c, "hc") == "healthy"), "{}", health(d, c, "hc"));
        let ps = d.cli(c, &["ps", "--format", "{{.Status}}"]).assert_ok().out();
        assert!(ps.ends_with("(healthy)"), "{ps}");
        d.cli(c, &["ps", "--filter", "health=healthy", "--format", "{{.Names}}"]).assert_ok().assert_stdout("hc");
        let log = d.cli(c, &["inspect", "-f", "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "hc"]).assert_ok().out();
        assert_eq!(log, "0 fine");
        d.cli(c, &["exec", "hc", "rm", "/tmp/ok"]).assert_ok();
        assert!(wait_until(Duration::from_secs(10), || health(d, c, "hc") == "unhealthy"), "{}", health(d, c, "hc"));
        let streak = d.cli(c, &["inspect", "-f", "{{.State.Health.FailingStreak}}", "hc"]).assert_ok().out();
        assert!(streak.parse::<i64>().unwrap_or(0) >= 2, "{streak}");
        d.cli(c, &["ps", "--filter", "health=unhealthy", "-q"]).assert_ok().lines().len().eq(&1).then_some(()).expect("unhealthy filter");
        let since = t0.to_string();
        let until = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + 1).to_string();
        let events = d.cli(c, &["events", "--since", &since, "--until", &until, "--filter", "event=health_status", "--format", "{{.Action}}"]);
        assert!(events.out().contains("health_status: healthy") && events.out().contains("health_status: unhealthy"), "{events:?}");
    }
}

both! {
    fn no_healthcheck_and_timeouts(d, c) {
        d.cli(c, &["run", "-d", "--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "200ms", "--health-timeout", "100ms",
                   "--health-retries", "1", "busybox", "sleep", "1000"]).assert_ok();
        assert!(wait_until(Duration::from_secs(10), || health(d, c, "slow") == "unhealthy"));
        let out = d.cli(c, &["inspect", "-f", "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "slow"]).assert_ok().out();
        assert!(out.starts_with("-1 Health check exceeded timeout"), "{out}");
        d.cli(c, &["run", "-d", "--name", "none", "--no-healthcheck", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{json .State.Health}}", "none"]).assert_ok().assert_stdout("null");
        d.cli(c, &["run", "--no-healthcheck", "--health-cmd", "true", "busybox", "true"]).assert_code(125);
    }
}

both! {
    fn image_healthcheck_is_used(d, c) {
        let tar = d.dir().join("hc-image.tar");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-busybox-image.sh");
        let made = std::process::Command::new(&script)
            .arg(&tar)
            .arg("withhc:1")
            .arg(r#""Healthcheck":{"Test":["CMD-SHELL","test -e /bin/sh"],"Interval":300000000,"Retries":2}"#)
            .output()
            .expect("run make-busybox-image.sh");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        d.cli(c, &["load", "-i", &tar.to_string_lossy()]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "img", "withhc:1", "sleep", "1000"]).assert_ok();
        assert!(wait_until(Duration::from_secs(10), || health(d, c, "img") == "healthy"));
        // --health-interval overrides the image's interval, keeps its test.
        d.cli(c, &["run", "-d", "--name", "over", "--health-interval", "5m", "withhc:1", "sleep", "1000"]).assert_ok();
        let hc: serde_json::Value = serde_json::from_str(&d.cli(c, &["inspect", "-f", "{{json .Config.Healthcheck}}", "over"]).assert_ok().out()).expect("json");
        assert_eq!(hc["Test"], serde_json::json!(["CMD-SHELL", "test -e /bin/sh"]));
        assert_eq!(hc["Interval"], 300_000_000_000i64);
        // --no-healthcheck disables the image's.
        d.cli(c, &["run", "-d", "--name", "off", "--no-healthcheck", "withhc:1", "sleep", "1000"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{json .State.Health}}", "off"]).assert_ok().assert_stdout("null");
    }
}
