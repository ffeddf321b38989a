//! Containers survive a SIGKILLed daemon; a restarted daemon picks them up.
use std::time::Duration;

use berth_e2e::{both, wait_until};

const SHORT: Duration = Duration::from_secs(10);

fn tick_count(logs: &str) -> usize {
    logs.lines().filter(|l| l.starts_with("tick ")).count()
}

both! {
    fn survive_daemon_kill(d, c) {
        let tick = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done";
        let ticker = d.cli(c, &["run", "-d", "--name", "ticker", "busybox", "sh", "-c", tick]).assert_ok().out();
        let seven = d.cli(c, &["run", "-d", "--name", "seven", "busybox", "sh", "-c", "sleep 1; exit 7"]).assert_ok().out();
        assert!(wait_until(SHORT, || tick_count(&d.cli(c, &["logs", "ticker"]).stdout) >= 2));

        d.kill9();
        // Let `seven` exit while no daemon is running: its shim records the status.
        let exit_file = d.exec_root().join("shims").join(&seven).join("exit");
        assert!(wait_until(SHORT, || exit_file.exists()), "{} never appeared", exit_file.display());
        d.restart();

        let running = d.cli(c, &["ps", "--format", "{{.Names}} {{.Status}}"]).assert_ok().lines();
        assert_eq!(running.len(), 1, "{running:?}");
        assert!(running[0].starts_with("ticker Up"), "{running:?}");
        let status = d.cli(c, &["ps", "-a", "--filter", "name=seven", "--format", "{{.Status}}"]).assert_ok().out();
        assert!(status.starts_with("Exited (7)"), "{status}");
        d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "seven"]).assert_ok().assert_stdout("exited 7");
        d.cli(c, &["wait", "seven"]).assert_ok().assert_stdout("7");

        // Logs keep flowing, including what was written while the daemon was down.
        let n = tick_count(&d.cli(c, &["logs", "ticker"]).assert_ok().stdout);
        assert!(n >= 10, "ticks while daemon was down were lost: {n}");
        assert!(wait_until(SHORT, || tick_count(&d.cli(c, &["logs", "ticker"]).stdout) > n + 3), "logs stopped after restart");
        let logs = d.cli(c, &["logs", "ticker"]).stdout.clone();
        for (i, line) in logs.lines().enumerate() {
            assert_eq!(line, format!("tick {i}"), "gap or garbage in logs");
        }

        d.cli(c, &["stop", "-t", "1", "ticker"]).assert_ok().assert_stdout("ticker");
        d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", &ticker]).assert_ok().assert_stdout("exited 137");
        // A second restart with nothing running is clean too.
        d.kill9();
        d.restart();
        d.cli(c, &["ps", "-aq"]).assert_ok();
        d.cli(c, &["run", "--rm", "busybox", "echo", "after"]).assert_ok().assert_stdout("after");
    }
}
