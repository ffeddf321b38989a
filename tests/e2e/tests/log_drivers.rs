//! Log drivers: json-file rotation by `max-size`/`max-file` (read back
//! across the rotated files, also while following) and `none`.
use berth_e2e::{both, wait_until};
use std::time::Duration;

both! {
    fn json_file_rotates_and_logs_reads_every_file(d, c) {
        // 40 lines of ~80 bytes each: far more than 3 files of 1 KiB hold.
        d.cli(c, &["run", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox", "sh", "-c", "for i in $(seq 1 40); do echo line-$i; done"])
            .assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}", "rot"])
            .assert_ok()
            .assert_stdout("json-file 1k");
        let log = d.cli(c, &["inspect", "-f", "{{.LogPath}}", "rot"]).out();
        for n in 1..=2 {
            let meta = std::fs::metadata(format!("{log}.{n}")).unwrap_or_else(|e| panic!("{log}.{n}: {e}"));
            assert!(meta.len() <= 1024, "{log}.{n} is {} bytes", meta.len());
        }
        assert!(!std::path::Path::new(&format!("{log}.3")).exists(), "more than max-file files kept");
        // logs shows what the kept files hold, oldest first, ending with the last line.
        let out = d.cli(c, &["logs", "rot"]);
        out.assert_ok();
        let lines = out.lines();
        assert!(lines.len() >= 20 && lines.len() < 40, "{lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some("line-40"));
        let first: usize = lines[0].trim_start_matches("line-").parse().expect("line number");
        let want: Vec<String> = (first..=40).map(|i| format!("line-{i}")).collect();
        assert_eq!(lines, want, "lines missing or out of order");
        d.cli(c, &["rm", "rot"]).assert_ok();
        // A follower keeps reading across rotations.
        d.cli(c, &["run", "-d", "--name", "fol", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox", "sh", "-c", "sleep 1; for i in $(seq 1 30); do echo f-$i; sleep 0.02; done"])
            .assert_ok();
        let out = d.cli(c, &["logs", "-f", "fol"]);
        out.assert_ok();
        let got = out.lines();
        let want: Vec<String> = (1..=30).map(|i| format!("f-{i}")).collect();
        assert_eq!(got, want);
        d.cli(c, &["rm", "fol"]).assert_ok();
        // max-file 1 (the default): the file is cut, never grows past max-size.
        d.cli(c, &["run", "--name", "one", "--log-opt", "max-size=1k", "busybox", "sh", "-c", "for i in $(seq 1 40); do echo x-$i; done"]).assert_ok();
        let log = d.cli(c, &["inspect", "-f", "{{.LogPath}}", "one"]).out();
        assert!(std::fs::metadata(&log).expect("log").len() <= 1024);
        d.cli(c, &["logs", "one"]).assert_ok().assert_stdout_contains("x-40");
        d.cli(c, &["rm", "one"]).assert_ok();
    }
}

both! {
    fn none_driver_keeps_nothing(d, c) {
        d.cli(c, &["run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "hello"]).assert_ok().assert_stdout("hello");
        d.cli(c, &["logs", "quiet"])
            .assert_fail()
            .assert_stderr_contains("configured logging driver does not support reading");
        let log = d.cli(c, &["inspect", "-f", "{{.LogPath}}", "quiet"]).out();
        assert!(log.is_empty() || !std::path::Path::new(&log).exists() || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) == 0);
        d.cli(c, &["rm", "quiet"]).assert_ok();
        // As in dockerd, max-file without max-size is taken (nothing rotates).
        d.cli(c, &["run", "--rm", "--log-opt", "max-file=2", "busybox", "echo", "kept"]).assert_ok().assert_stdout("kept");
        for (flags, says) in [
            // Values are the logger's to read, at start, in dockerd's words.
            (vec!["--log-opt", "max-file=0", "--log-opt", "max-size=1k"], "failed to initialize logging driver: max-file cannot be less than 1"),
            (vec!["--log-opt", "max-size=lots"], "failed to initialize logging driver: invalid size: 'lots'"),
            (vec!["--log-opt", "compress=true", "--log-opt", "max-size=1k"], "berth does not support log option compress yet"),
            (vec!["--log-driver", "none", "--log-opt", "max-size=1k"], "driver none"),
        ] {
            let mut args = vec!["run", "--rm"];
            args.extend(flags);
            args.extend(["busybox", "true"]);
            d.cli(c, &args).assert_fail().assert_stderr_contains(says);
        }
        assert!(wait_until(Duration::from_secs(5), || d.cli(c, &["ps", "-aq"]).out().is_empty()));
    }
}
