//! pause/unpause, top, stats.

use berth_e2e::{both, Cli, TestDaemon};

fn status(d: &TestDaemon, c: Cli, name: &str) -> String {
    d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", name]).assert_ok().out()
}

both! {
    fn pause_freezes_and_unpause_thaws(d, c) {
        let id = d.cli(c, &["run", "-d", "--name", "pz", "busybox", "sh", "-c", "while :; do :; done"]).assert_ok().out();
        d.cli(c, &["pause", "pz"]).assert_ok().assert_stdout("pz");
        assert_eq!(status(d, c, "pz"), "paused true");
        let state = std::fs::read_to_string(format!("/sys/fs/cgroup/freezer/berth/{id}/freezer.state")).unwrap_or_default();
        assert_eq!(state.trim(), "FROZEN");
        let ps = d.cli(c, &["ps", "--format", "{{.Status}}"]).assert_ok().out();
        assert!(ps.ends_with("(Paused)"), "{ps}");
        d.cli(c, &["pause", "pz"]).assert_fail().assert_stderr_contains("is already paused");
        d.cli(c, &["unpause", "pz"]).assert_ok().assert_stdout("pz");
        assert_eq!(status(d, c, "pz"), "running false");
        d.cli(c, &["unpause", "pz"]).assert_fail().assert_stderr_contains("is not paused");
        // A paused container can still be stopped and removed.
        d.cli(c, &["pause", "pz"]).assert_ok();
        d.cli(c, &["rm", "-f", "pz"]).assert_ok();
        d.cli(c, &["run", "--name", "done", "busybox", "true"]).assert_ok();
        d.cli(c, &["pause", "done"]).assert_fail().assert_stderr_contains("is not running");
    }
}

both! {
    fn top_lists_the_containers_processes(d, c) {
        d.cli(c, &["run", "-d", "--name", "tp", "busybox", "sh", "-c", "sleep 1000 & sleep 2000"]).assert_ok();
        // `start` returns once the runtime has let the init go; its exec of
        // the command (and the shell's fork) may still be in flight.
        berth_e2e::wait_until(std::time::Duration::from_secs(5), || {
            let o = d.cli(c, &["top", "tp"]).out();
            o.contains("sleep 1000") && o.contains("sleep 2000")
        });
        let out = d.cli(c, &["top", "tp"]).assert_ok().lines();
        assert!(out[0].contains("PID") && out[0].contains("CMD"), "{out:?}");
        let body = out[1..].join("\n");
        // (busybox sh execs its last command, so the shell becomes `sleep 2000`)
        assert!(body.contains("sleep 1000") && body.contains("sleep 2000"), "{out:?}");
        assert_eq!(out.len(), 3, "only the container's processes: {out:?}");
        let custom = d.cli(c, &["top", "tp", "-o", "pid,comm"]).assert_ok().lines();
        assert!(custom[0].contains("PID") && custom[0].contains("COMMAND"), "{custom:?}");
        d.cli(c, &["run", "--name", "gone", "busybox", "true"]).assert_ok();
        d.cli(c, &["top", "gone"]).assert_fail().assert_stderr_contains("is not running");
    }
}

both! {
    fn stats_report_usage_and_limits(d, c) {
        d.cli(c, &["run", "-d", "--name", "sx", "-m", "64m", "busybox", "sh", "-c", "while :; do :; done"]).assert_ok();
        let out = d.cli(c, &["stats", "--no-stream"]).assert_ok().lines();
        for col in ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"] {
            assert!(out[0].contains(col), "{out:?}");
        }
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[1].contains("sx") && out[1].contains(" / 64MiB"), "{out:?}");
        let row = d.cli(c, &["stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}", "sx"]).assert_ok().out();
        let f: Vec<&str> = row.split(' ').collect();
        assert_eq!(f[0], "sx");
        let cpu: f64 = f[1].trim_end_matches('%').parse().unwrap_or(-1.0);
        assert!(cpu > 10.0, "a busy loop shows CPU use: {row}");
        assert_eq!(f[2], "1");
    }
}
