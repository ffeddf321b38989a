//! Restart policies, with Docker's back-off, kept across daemon restarts.

use std::time::Duration;

use berth_e2e::{both, wait_until, Cli, TestDaemon};

fn inspect(d: &TestDaemon, c: Cli, fmt: &str, name: &str) -> String {
    d.cli(c, &["inspect", "-f", fmt, name]).assert_ok().out()
}

both! {
    fn on_failure_retries_then_gives_up(d, c) {
        d.cli(c, &["run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"]).assert_ok();
        let done = wait_until(Duration::from_secs(20), || {
            inspect(d, c, "{{.RestartCount}} {{.State.Status}}", "flaky") == "2 exited"
        });
        assert!(done, "restart count/status: {}", inspect(d, c, "{{.RestartCount}} {{.State.Status}}", "flaky"));
        assert_eq!(inspect(d, c, "{{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "flaky"), "3 on-failure 2");
        // A clean exit is not a failure.
        d.cli(c, &["run", "--name", "fine", "--restart", "on-failure", "busybox", "true"]).assert_ok();
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(inspect(d, c, "{{.RestartCount}} {{.State.Status}}", "fine"), "0 exited");
    }
}

both! {
    fn always_restarts_until_stopped(d, c) {
        d.cli(c, &["run", "-d", "--name", "loop", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2"]).assert_ok();
        assert!(wait_until(Duration::from_secs(20), || inspect(d, c, "{{.RestartCount}}", "loop").parse::<i64>().unwrap_or(0) >= 2));
        d.cli(c, &["stop", "-t", "1", "loop"]).assert_ok();
        let count = inspect(d, c, "{{.RestartCount}}", "loop");
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(inspect(d, c, "{{.State.Status}}", "loop"), "exited");
        assert_eq!(inspect(d, c, "{{.RestartCount}}", "loop"), count, "a stopped container must stay stopped");
    }
}

both! {
    fn policies_apply_when_the_daemon_starts(d, c) {
        d.cli(c, &["run", "-d", "--name", "al", "--restart", "always", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "us", "--restart", "unless-stopped", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "no", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["stop", "-t", "0", "al", "us", "no"]).assert_ok();
        d.kill9();
        d.restart();
        assert_eq!(inspect(d, c, "{{.State.Status}}", "al"), "running", "always comes back even after a manual stop");
        assert_eq!(inspect(d, c, "{{.State.Status}}", "us"), "exited", "unless-stopped stays stopped");
        assert_eq!(inspect(d, c, "{{.State.Status}}", "no"), "exited");
    }
}

both! {
    fn bad_restart_policies(d, c) {
        d.cli(c, &["run", "--restart", "sometimes", "busybox", "true"]).assert_code(125);
        d.cli(c, &["run", "--restart", "always", "--rm", "busybox", "true"]).assert_code(125);
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}
