//! Log drivers: json-file rotation by `max-size`/`max-file` (read back
//! across the rotated files, also while following), `compress` (rotated
//! files gzipped as dockerd names them), `local`, and `none`.
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
        // As dockerd: no log file, and none shown.
        d.cli(c, &["inspect", "-f", "[{{.LogPath}}]", "quiet"]).assert_ok().assert_stdout("[]");
        let id = d.cli(c, &["inspect", "-f", "{{.Id}}", "quiet"]).out();
        assert!(!d.data_root().join("containers").join(&id).join(format!("{id}-json.log")).exists());
        d.cli(c, &["rm", "quiet"]).assert_ok();
        // As in dockerd, max-file without max-size is taken (nothing rotates).
        d.cli(c, &["run", "--rm", "--log-opt", "max-file=2", "busybox", "echo", "kept"]).assert_ok().assert_stdout("kept");
        for (flags, says) in [
            // Values are the logger's to read, at start, in dockerd's words.
            (vec!["--log-opt", "max-file=0", "--log-opt", "max-size=1k"], "failed to initialize logging driver: max-file cannot be less than 1"),
            (vec!["--log-opt", "max-size=lots"], "failed to initialize logging driver: invalid size: 'lots'"),
            (vec!["--log-opt", "max-size=-1"], "failed to initialize logging driver: invalid size: '-1'"),
            (vec!["--log-opt", "max-size=0"], "failed to initialize logging driver: max-size must be a positive number"),
            (vec!["--log-opt", "max-size=1q"], "failed to initialize logging driver: invalid suffix: 'q'"),
            (vec!["--log-opt", "max-file=-2"], "failed to initialize logging driver: max-file cannot be less than 1"),
            (vec!["--log-opt", "compress=true", "--log-opt", "max-size=1k"], "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"),
            (vec!["--log-opt", "compress=yes", "--log-opt", "max-size=1k", "--log-opt", "max-file=2"], "failed to initialize logging driver: strconv.ParseBool: parsing \"yes\": invalid syntax"),
            (vec!["--log-opt", "tag=x"], "berth does not support log option tag yet"),
            (vec!["--log-driver", "local", "--log-opt", "max-size=-1"], "failed to initialize logging driver: invalid value for max-size: -1: invalid size: '-1'"),
            (vec!["--log-driver", "local", "--log-opt", "max-file=1"], "failed to initialize logging driver: compression cannot be enabled when max file count is 1"),
            (vec!["--log-driver", "local", "--log-opt", "max-file=x", "--log-opt", "compress=false"], "failed to initialize logging driver: invalid value for max-file: x: strconv.Atoi: parsing \"x\": invalid syntax"),
            (vec!["--log-driver", "local", "--log-opt", "tag=x"], "unknown log opt 'tag' for log driver local"),
            (vec!["--log-driver", "none", "--log-opt", "max-size=1k"], "invalid logging opts for driver none"),
        ] {
            let mut args = vec!["run", "--rm"];
            args.extend(flags);
            args.extend(["busybox", "true"]);
            d.cli(c, &args).assert_fail().assert_stderr_contains(says);
        }
        assert!(wait_until(Duration::from_secs(5), || d.cli(c, &["ps", "-aq"]).out().is_empty()));
    }
}

/// The `n` rotated files must be `<log>.1.gz` .. `<log>.n.gz`, each a
/// whole gzip of json lines, with nothing uncompressed left beside them.
fn assert_gzipped(log: &str, n: u32) {
    use std::io::Read;
    for i in 1..=n {
        let gz = format!("{log}.{i}.gz");
        // The shim compresses in the background: the last one may still be under way.
        assert!(wait_until(Duration::from_secs(10), || std::path::Path::new(&gz).exists() && !std::path::Path::new(&format!("{log}.{i}")).exists()), "{gz} missing");
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&gz).expect("gz")).read_to_string(&mut text).unwrap_or_else(|e| panic!("{gz}: {e}"));
        assert!(text.lines().all(|l| l.starts_with("{\"log\":")) && !text.is_empty(), "{gz}: {text}");
    }
    assert!(!std::path::Path::new(&format!("{log}.{}.gz", n + 1)).exists(), "more than max-file files kept");
}

both! {
    fn json_file_compress_gzips_rotated_files_and_logs_reads_them(d, c) {
        d.cli(c, &["run", "--name", "gz", "--log-opt", "max-size=1k", "--log-opt", "max-file=4", "--log-opt", "compress=true",
            "busybox", "sh", "-c", "for i in $(seq 1 60); do echo line-$i; done; echo oops >&2"])
            .assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"compress\"}}", "gz"])
            .assert_ok()
            .assert_stdout("json-file true");
        let log = d.cli(c, &["inspect", "-f", "{{.LogPath}}", "gz"]).out();
        assert_gzipped(&log, 3);
        // Every kept line, in order, ending with the last; across the .gz files.
        let out = d.cli(c, &["logs", "gz"]);
        out.assert_ok().assert_stderr_contains("oops");
        let lines = out.lines();
        let first: usize = lines[0].trim_start_matches("line-").parse().expect("line number");
        assert!(first > 1 && first < 40, "{lines:?}");
        let want: Vec<String> = (first..=60).map(|i| format!("line-{i}")).collect();
        assert_eq!(lines, want, "lines missing or out of order");
        // --tail (the stderr line is one of the 25) reaches into the compressed
        // files; --since/--until filter them.
        let tail = d.cli(c, &["logs", "--tail", "25", "gz"]);
        tail.assert_ok();
        assert_eq!(tail.lines(), (37..=60).map(|i| format!("line-{i}")).collect::<Vec<_>>());
        d.cli(c, &["logs", "--until", "2000-01-01T00:00:00Z", "gz"]).assert_ok().assert_stdout("");
        let since = d.cli(c, &["logs", "--since", "2000-01-01T00:00:00Z", "gz"]);
        assert_eq!(since.lines(), want);
        let stamped = d.cli(c, &["logs", "-t", "--tail", "30", "gz"]).lines();
        assert!(stamped.iter().all(|l| l.starts_with("20")), "{stamped:?}");
        d.cli(c, &["rm", "gz"]).assert_ok();
        // A follower reads on while files rotate and get compressed under it.
        d.cli(c, &["run", "-d", "--name", "fgz", "--log-opt", "max-size=1k", "--log-opt", "max-file=5", "--log-opt", "compress=true",
            "busybox", "sh", "-c", "sleep 1; for i in $(seq 1 40); do echo f-$i; sleep 0.02; done"])
            .assert_ok();
        let out = d.cli(c, &["logs", "-f", "fgz"]);
        out.assert_ok();
        assert_eq!(out.lines(), (1..=40).map(|i| format!("f-{i}")).collect::<Vec<_>>());
        d.cli(c, &["rm", "fgz"]).assert_ok();
    }
}

both! {
    fn local_driver_with_defaults_and_options(d, c) {
        // dockerd's defaults: nothing rotates at 20 MB; logs reads it all.
        d.cli(c, &["run", "--name", "loc", "--log-driver", "local", "busybox", "sh", "-c", "echo out; echo err >&2"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}} [{{.LogPath}}]", "loc"])
            .assert_ok()
            .assert_stdout("local {} []");
        let out = d.cli(c, &["logs", "loc"]);
        out.assert_ok().assert_stdout("out").assert_stderr_contains("err");
        d.cli(c, &["logs", "--tail", "1", "loc"]).assert_ok().assert_stderr_contains("err");
        let dir = d.data_root().join("containers").join(d.cli(c, &["inspect", "-f", "{{.Id}}", "loc"]).out()).join("local-logs");
        assert!(dir.join("container.log").is_file(), "{dir:?}");
        d.cli(c, &["rm", "loc"]).assert_ok();
        // Its own options: rotated files compressed by default, read back in order.
        d.cli(c, &["run", "--name", "loc2", "--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
            "busybox", "sh", "-c", "for i in $(seq 1 40); do echo l-$i; done"])
            .assert_ok();
        let id = d.cli(c, &["inspect", "-f", "{{.Id}}", "loc2"]).out();
        let log = d.data_root().join("containers").join(&id).join("local-logs").join("container.log");
        assert_gzipped(&log.display().to_string(), 2);
        let lines = d.cli(c, &["logs", "loc2"]).lines();
        let first: usize = lines[0].trim_start_matches("l-").parse().expect("line number");
        assert_eq!(lines, (first..=40).map(|i| format!("l-{i}")).collect::<Vec<_>>());
        d.cli(c, &["logs", "--tail", "2", "loc2"]).assert_ok().assert_stdout("l-39\nl-40");
        d.cli(c, &["rm", "loc2"]).assert_ok();
        // compress=false keeps plain rotated files.
        d.cli(c, &["run", "--name", "loc3", "--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--log-opt", "compress=false",
            "busybox", "sh", "-c", "for i in $(seq 1 40); do echo p-$i; done"])
            .assert_ok();
        let id = d.cli(c, &["inspect", "-f", "{{.Id}}", "loc3"]).out();
        let log = d.data_root().join("containers").join(&id).join("local-logs").join("container.log");
        assert!(std::path::Path::new(&format!("{}.1", log.display())).is_file());
        assert!(!std::path::Path::new(&format!("{}.1.gz", log.display())).exists());
        d.cli(c, &["logs", "--tail", "1", "loc3"]).assert_ok().assert_stdout("p-40");
        d.cli(c, &["rm", "loc3"]).assert_ok();
    }
}
