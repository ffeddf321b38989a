//! Many clients at once.
use berth_e2e::both;

both! {
    fn parallel_runs(d, c) {
        let outs: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..20)
                .map(|n| s.spawn(move || (n, d.cli(c, &["run", "--rm", "busybox", "echo", &n.to_string()]))))
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        for (n, out) in outs {
            out.assert_ok().assert_stdout(&n.to_string());
        }
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}

both! {
    fn parallel_create_same_name(d, c) {
        let outs: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..10)
                .map(|_| s.spawn(move || d.cli(c, &["create", "--name", "same", "busybox"])))
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let ok: Vec<_> = outs.iter().filter(|o| o.code == 0).collect();
        assert_eq!(ok.len(), 1, "{outs:#?}");
        for o in outs.iter().filter(|o| o.code != 0) {
            o.assert_stderr_contains("is already in use by container");
        }
        d.cli(c, &["ps", "-aq", "--no-trunc"]).assert_ok().assert_stdout(ok[0].stdout.trim());
    }
}

/// 50 `run --rm` at once on one user network (both clients, alternating)
/// all succeed and leave nothing behind; then `GET /containers/json`
/// keeps answering while 20 containers with published ports start.
/// (The latency itself is measured by bench/, never asserted here.)
#[test]
fn user_network_runs_in_parallel_and_the_list_answers_meanwhile() {
    use berth_e2e::Cli;
    let d = berth_e2e::TestDaemon::start();
    d.docker(&["network", "create", "parnet"]).assert_ok();
    let outs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|n| {
                let d = &d;
                let c = if n % 2 == 0 { Cli::Docker } else { Cli::Berth };
                s.spawn(move || (n, d.cli(c, &["run", "--rm", "--network", "parnet", "busybox", "echo", &n.to_string()])))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    for (n, out) in outs {
        out.assert_ok().assert_stdout(&n.to_string());
    }
    d.docker(&["ps", "-aq"]).assert_ok().assert_stdout("");
    d.docker(&["network", "inspect", "-f", "{{len .Containers}}", "parnet"]).assert_ok().assert_stdout("0");

    let done = std::sync::atomic::AtomicBool::new(false);
    let (starts, answers) = std::thread::scope(|s| {
        let lister = s.spawn(|| {
            let mut answers = vec![];
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                answers.push(d.api("GET", "/containers/json", None));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            answers
        });
        let handles: Vec<_> = (0..20)
            .map(|n| {
                let d = &d;
                s.spawn(move || d.docker(&["run", "-d", "--name", &format!("pub{n}"), "--network", "parnet", "-p", "127.0.0.1::80", "busybox", "sleep", "60"]))
            })
            .collect();
        let starts: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (starts, lister.join().expect("lister"))
    });
    for out in &starts {
        out.assert_ok();
    }
    assert!(!answers.is_empty(), "the list was never asked");
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    // All 20 run, each with its own host port.
    let ports = d.docker(&["ps", "--format", "{{.Ports}}"]).assert_ok().out();
    let mut seen: Vec<&str> = ports.lines().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 20, "{ports}");
    assert!(seen.iter().all(|p| p.starts_with("127.0.0.1:") && p.ends_with("->80/tcp")), "{ports}");
    let names: Vec<String> = (0..20).map(|n| format!("pub{n}")).collect();
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    d.docker(&rm).assert_ok();
    d.docker(&["network", "rm", "parnet"]).assert_ok();
    d.stop();
}
