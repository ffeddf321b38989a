//! ps, stop, kill, restart, rm, wait, rename, prune, inspect, logs.
use std::time::{Duration, Instant};

use berth_e2e::{both, wait_until, Cli, TestDaemon};

const SHORT: Duration = Duration::from_secs(10);

fn names(d: &TestDaemon, c: Cli, args: &[&str]) -> Vec<String> {
    let mut a = vec!["ps", "--format", "{{.Names}}"];
    a.extend_from_slice(args);
    let mut v = d.cli(c, &a).assert_ok().lines();
    v.sort();
    v
}

both! {
    fn ps_columns_and_filters(d, c) {
        let web = d.cli(c, &["run", "-d", "--name", "web", "--label", "role=web", "busybox", "sleep", "1000"]).assert_ok().out();
        assert_eq!(web.len(), 64, "run -d prints the full ID: {web}");
        d.cli(c, &["run", "--name", "ex3", "busybox", "sh", "-c", "exit 3"]).assert_code(3);
        let ex3 = d.cli(c, &["inspect", "-f", "{{.Id}}", "ex3"]).assert_ok().out();

        let ps = d.cli(c, &["ps"]);
        ps.assert_ok();
        let lines = ps.lines();
        assert_eq!(lines.len(), 2, "{ps:?}");
        for col in ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"] {
            assert!(lines[0].contains(col), "header lacks {col}: {ps:?}");
        }
        assert!(lines[1].starts_with(&web[..12]), "{ps:?}");
        assert!(lines[1].contains("busybox") && lines[1].contains("\"sleep 1000\"") && lines[1].contains("Up ") && lines[1].ends_with("web"), "{ps:?}");

        d.cli(c, &["ps", "-q"]).assert_ok().assert_stdout(&web[..12]);
        d.cli(c, &["ps", "-q", "--no-trunc"]).assert_ok().assert_stdout(&web);
        assert_eq!(d.cli(c, &["ps", "-aq"]).assert_ok().lines().len(), 2);
        d.cli(c, &["ps", "-lq"]).assert_ok().assert_stdout(&ex3[..12]);
        d.cli(c, &["ps", "-n", "1", "-q"]).assert_ok().assert_stdout(&ex3[..12]);
        assert_eq!(d.cli(c, &["ps", "-n", "2", "-q"]).assert_ok().lines(), vec![ex3[..12].to_string(), web[..12].to_string()]);

        assert_eq!(names(d, c, &["-a", "--filter", "status=exited"]), vec!["ex3"]);
        assert_eq!(names(d, c, &["-a", "--filter", "status=running"]), vec!["web"]);
        assert_eq!(names(d, c, &["-a", "--filter", "name=web"]), vec!["web"]);
        assert_eq!(names(d, c, &["-a", "--filter", "name=ex"]), vec!["ex3"]);
        assert_eq!(names(d, c, &["-a", "--filter", "label=role=web"]), vec!["web"]);
        assert_eq!(names(d, c, &["-a", "--filter", "label=role"]), vec!["web"]);
        assert_eq!(names(d, c, &["-a", "--filter", "ancestor=busybox"]), vec!["ex3", "web"]);
        assert_eq!(names(d, c, &["-a", "--filter", "exited=3"]), vec!["ex3"]);
        assert!(names(d, c, &["-a", "--filter", "exited=4"]).is_empty());

        let status = d.cli(c, &["ps", "-a", "--filter", "name=ex3", "--format", "{{.Status}}"]).assert_ok().out();
        assert!(status.starts_with("Exited (3) "), "{status}");
    }
}

both! {
    fn stop_kills_after_timeout(d, c) {
        d.cli(c, &["run", "-d", "--name", "sl", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "sl"]).assert_ok().assert_stdout("running");
        let t = Instant::now();
        d.cli(c, &["stop", "-t", "1", "sl"]).assert_ok().assert_stdout("sl");
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "stop -t 1 took {took:?}");
        d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "sl"]).assert_ok().assert_stdout("exited 137");
        // Stopping a stopped container is fine.
        d.cli(c, &["stop", "sl"]).assert_ok();
    }
}

both! {
    fn kill_waits_for_the_exit(d, c) {
        // dockerd answers a SIGKILL only once the exit is recorded, so the
        // very next command sees it; repeated to catch the race.
        for i in 0..5 {
            let name = format!("k{i}");
            d.cli(c, &["run", "-d", "--name", &name, "busybox", "sleep", "1000"]).assert_ok();
            d.cli(c, &["kill", &name]).assert_ok().assert_stdout(&name);
            d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", &name]).assert_ok().assert_stdout("exited 137");
            d.cli(c, &["rm", &name]).assert_ok();
        }
    }
}

both! {
    fn kill_with_signal(d, c) {
        let script = "trap 'echo got-usr1; exit 5' USR1; echo ready; while true; do sleep 0.1; done";
        d.cli(c, &["run", "-d", "--name", "trapper", "busybox", "sh", "-c", script]).assert_ok();
        assert!(wait_until(SHORT, || d.cli(c, &["logs", "trapper"]).stdout.contains("ready")), "trap never installed");
        d.cli(c, &["kill", "-s", "USR1", "trapper"]).assert_ok().assert_stdout("trapper");
        d.cli(c, &["wait", "trapper"]).assert_ok().assert_stdout("5");
        d.cli(c, &["logs", "trapper"]).assert_ok().assert_stdout("ready\ngot-usr1");
        // kill of a container that is not running is an error.
        d.cli(c, &["kill", "trapper"]).assert_fail().assert_stderr_contains("is not running");
    }
}

both! {
    fn restart(d, c) {
        d.cli(c, &["run", "-d", "--name", "rs", "busybox", "sh", "-c", "echo started; exec sleep 1000"]).assert_ok();
        assert!(wait_until(SHORT, || d.cli(c, &["logs", "rs"]).stdout.contains("started")));
        let started1 = d.cli(c, &["inspect", "-f", "{{.State.StartedAt}}", "rs"]).assert_ok().out();
        d.cli(c, &["restart", "-t", "1", "rs"]).assert_ok().assert_stdout("rs");
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "rs"]).assert_ok().assert_stdout("running");
        let started2 = d.cli(c, &["inspect", "-f", "{{.State.StartedAt}}", "rs"]).assert_ok().out();
        assert_ne!(started1, started2);
        assert!(wait_until(SHORT, || d.cli(c, &["logs", "rs"]).stdout == "started\nstarted\n"), "{:?}", d.cli(c, &["logs", "rs"]));
        // restart also starts a stopped container
        d.cli(c, &["run", "--name", "once", "busybox", "true"]).assert_ok();
        d.cli(c, &["restart", "once"]).assert_ok();
        d.cli(c, &["wait", "once"]).assert_ok().assert_stdout("0");
    }
}

both! {
    fn rm_running_and_force(d, c) {
        d.cli(c, &["run", "-d", "--name", "busy", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["rm", "busy"]).assert_fail().assert_stderr_contains("You cannot remove a running container");
        d.cli(c, &["inspect", "-f", "{{.State.Running}}", "busy"]).assert_ok().assert_stdout("true");
        d.cli(c, &["rm", "-f", "busy"]).assert_ok().assert_stdout("busy");
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
        d.cli(c, &["rm", "busy"]).assert_code(1).assert_stderr_contains("No such container: busy");
    }
}

both! {
    fn wait_prints_exit_code(d, c) {
        let id = d.cli(c, &["run", "-d", "busybox", "sh", "-c", "sleep 0.3; exit 4"]).assert_ok().out();
        d.cli(c, &["wait", &id]).assert_ok().assert_stdout("4");
        // Waiting on an exited container returns at once.
        d.cli(c, &["wait", &id[..12]]).assert_ok().assert_stdout("4");
        d.cli(c, &["run", "--name", "zz", "busybox", "true"]).assert_ok();
        d.cli(c, &["wait", "zz", &id]).assert_ok().assert_stdout("0\n4");
    }
}

both! {
    fn rename(d, c) {
        let id = d.cli(c, &["create", "--name", "aa", "busybox"]).assert_ok().out();
        d.cli(c, &["rename", "aa", "bb"]).assert_ok();
        assert_eq!(names(d, c, &["-a"]), vec!["bb"]);
        d.cli(c, &["inspect", "-f", "{{.Name}}", &id]).assert_ok().assert_stdout("/bb");
        d.cli(c, &["inspect", "aa"]).assert_fail();
        d.cli(c, &["create", "--name", "aa", "busybox"]).assert_ok();
        d.cli(c, &["rename", "aa", "bb"]).assert_fail().assert_stderr_contains("is already in use");
    }
}

both! {
    fn container_prune(d, c) {
        let done = d.cli(c, &["create", "busybox", "true"]).assert_ok().out();
        d.cli(c, &["start", "-a", &done]).assert_ok();
        let keep = d.cli(c, &["run", "-d", "busybox", "sleep", "1000"]).assert_ok().out();
        let out = d.cli(c, &["container", "prune", "-f"]);
        out.assert_ok().assert_stdout_contains("Deleted Containers:").assert_stdout_contains(&done);
        d.cli(c, &["ps", "-aq", "--no-trunc"]).assert_ok().assert_stdout(&keep);
    }
}

both! {
    fn inspect_states_and_prefixes(d, c) {
        let id = d.cli(c, &["create", "--name", "st", "busybox", "sh", "-c", "exit 0"]).assert_ok().out();
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "st"]).assert_ok().assert_stdout("created");
        d.cli(c, &["start", "-a", &id[..12]]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", &id[..6]]).assert_ok().assert_stdout("exited");
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", &id]).assert_ok().assert_stdout("exited");
        d.cli(c, &["container", "inspect", "-f", "{{.Name}} {{.Config.Image}} {{json .Config.Cmd}}", "st"])
            .assert_ok()
            .assert_stdout(r#"/st busybox ["sh","-c","exit 0"]"#);
        let json = d.cli(c, &["inspect", "st"]).assert_ok().stdout.clone();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(v[0]["Id"], id.as_str());
        assert_eq!(v[0]["State"]["ExitCode"], 0);
    }
}

both! {
    fn logs(d, c) {
        // Gaps between lines so each gets its own timestamp (lines written
        // in one burst may share one, in Docker too).
        d.cli(c, &["run", "--name", "lg", "busybox", "sh", "-c", "echo 1; sleep 0.1; echo 2; sleep 0.1; echo 3"]).assert_ok();
        d.cli(c, &["logs", "lg"]).assert_ok().assert_stdout("1\n2\n3");
        d.cli(c, &["logs", "--tail", "2", "lg"]).assert_ok().assert_stdout("2\n3");
        d.cli(c, &["logs", "--tail", "0", "lg"]).assert_ok().assert_stdout("");
        let stamped = d.cli(c, &["logs", "-t", "lg"]).assert_ok().lines();
        assert_eq!(stamped.len(), 3, "{stamped:?}");
        for (i, line) in stamped.iter().enumerate() {
            let (ts, msg) = line.split_once(' ').unwrap_or_else(|| panic!("no timestamp: {line}"));
            assert_eq!(msg, (i + 1).to_string());
            assert!(ts.len() >= 20 && ts.as_bytes()[4] == b'-' && ts.contains('T') && ts.ends_with('Z'), "not RFC 3339: {ts}");
        }
        // --since is inclusive of the given time.
        let ts2 = stamped[1].split(' ').next().unwrap_or_default();
        d.cli(c, &["logs", "--since", ts2, "lg"]).assert_ok().assert_stdout("2\n3");
        d.cli(c, &["logs", "--since", "2000-01-01T00:00:00Z", "lg"]).assert_ok().assert_stdout("1\n2\n3");
        d.cli(c, &["logs", "--since", "2100-01-01T00:00:00Z", "lg"]).assert_ok().assert_stdout("");
        // stderr lines come back on stderr.
        d.cli(c, &["run", "--name", "errs", "busybox", "sh", "-c", "echo o; echo e >&2"]).assert_ok();
        let out = d.cli(c, &["logs", "errs"]);
        out.assert_ok().assert_stdout("o");
        assert_eq!(out.stderr.trim(), "e");
    }
}

both! {
    fn logs_follow_ends_with_container(d, c) {
        d.cli(c, &["run", "-d", "--name", "fol", "busybox", "sh", "-c", "echo a; sleep 1; echo b"]).assert_ok();
        let t = Instant::now();
        d.cli(c, &["logs", "-f", "fol"]).assert_ok().assert_stdout("a\nb");
        assert!(t.elapsed() < Duration::from_secs(10));
        d.cli(c, &["inspect", "-f", "{{.State.Status}}", "fol"]).assert_ok().assert_stdout("exited");
        // -f on an exited container returns at once.
        d.cli(c, &["logs", "-f", "--tail", "1", "fol"]).assert_ok().assert_stdout("b");
    }
}

both! {
    fn ps_network_publish_expose_filters(d, c) {
        d.cli(c, &["network", "create", "psnet"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "onnet", "--network", "psnet", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "pub", "-p", "127.0.0.1::80", "--expose", "53/udp", "busybox", "sleep", "1000"]).assert_ok();
        assert_eq!(names(d, c, &["--filter", "network=psnet"]), vec!["onnet"]);
        assert_eq!(names(d, c, &["--filter", "network=bridge"]), vec!["pub"]);
        assert_eq!(names(d, c, &["--filter", "publish=80"]), vec!["pub"]);
        assert!(names(d, c, &["--filter", "publish=80/udp"]).is_empty());
        assert_eq!(names(d, c, &["--filter", "expose=53/udp"]), vec!["pub"]);
        assert_eq!(names(d, c, &["--filter", "expose=80"]), vec!["pub"]);
        assert!(names(d, c, &["--filter", "expose=53"]).is_empty());
        d.cli(c, &["rm", "-f", "onnet", "pub"]).assert_ok();
        d.cli(c, &["network", "rm", "psnet"]).assert_ok();
    }
}

both! {
    fn ps_and_inspect_sizes(d, c) {
        d.cli(c, &["run", "--name", "sz", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1000", "count=1000"]).assert_ok();
        let size = d.cli(c, &["ps", "-a", "-s", "--format", "{{.Size}}"]).assert_ok().out();
        assert!(size.starts_with("1MB"), "{size}");
        let rw: i64 = d.cli(c, &["inspect", "-s", "-f", "{{.SizeRw}}", "sz"]).assert_ok().out().parse().expect("SizeRw");
        assert!((1_000_000..1_100_000).contains(&rw), "{rw}");
    }
}
