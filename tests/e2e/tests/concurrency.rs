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
